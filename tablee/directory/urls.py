from django.urls import path

from tablee.directory import views

app_name = "directory"
urlpatterns = [
    path("", views.structure_list, name="list"),
    path("carte/", views.structure_map, name="map"),
    path("carte/donnees/", views.map_data, name="map_data"),
    path("nouvelle/", views.structure_create, name="create"),
    path("communes/", views.commune_suggestions, name="commune_suggestions"),
    path("<uuid:pk>/", views.structure_detail, name="detail"),
    path("<uuid:pk>/modifier/", views.structure_edit, name="edit"),
    path("<uuid:pk>/services/nouveau/", views.service_create, name="service_create"),
    path("<uuid:pk>/contacts/nouveau/", views.contact_create, name="contact_create"),
    path("services/<uuid:pk>/modifier/", views.service_edit, name="service_edit"),
    path("services/<uuid:pk>/supprimer/", views.service_delete, name="service_delete"),
    path("services/<uuid:pk>/arrets/", views.service_stops, name="service_stops"),
    path("arrets/<int:pk>/retirer/", views.service_stop_remove, name="service_stop_remove"),
    path("contacts/<uuid:pk>/modifier/", views.contact_edit, name="contact_edit"),
    path("contacts/<uuid:pk>/supprimer/", views.contact_delete, name="contact_delete"),
]
