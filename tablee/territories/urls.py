from django.urls import path

from tablee.territories import views

app_name = "territories"
urlpatterns = [
    path("", views.programme_list, name="programme_list"),
    path("nouveau/", views.programme_create, name="programme_create"),
    path("<uuid:pk>/", views.programme_detail, name="programme_detail"),
    path("<uuid:pk>/modifier/", views.programme_edit, name="programme_edit"),
    path("<uuid:pk>/objectifs/", views.programme_targets, name="programme_targets"),
    path(
        "<uuid:pk>/territoires/ajouter/",
        views.programme_territory_add,
        name="programme_territory_add",
    ),
    path("territoires/<uuid:pk>/", views.territory_detail, name="territory_detail"),
    path("territoires/<uuid:pk>/modifier/", views.territory_edit, name="territory_edit"),
    path("territoires/<uuid:pk>/retirer/", views.territory_remove, name="territory_remove"),
]
