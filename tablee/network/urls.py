"""The network of links between structures."""

from django.urls import path

from tablee.network import views

app_name = "network"

urlpatterns = [
    path("<uuid:pt>/", views.territory, name="territory"),
    path("programme/<uuid:programme>/", views.programme, name="programme"),
    path("<uuid:pt>/liens/nouveau/", views.link_create, name="link_create"),
    path("<uuid:pt>/liens/<uuid:pk>/modifier/", views.link_edit, name="link_edit"),
    path("<uuid:pt>/liens/<uuid:pk>/fin/", views.link_end, name="link_end"),
    path("<uuid:pt>/liens/<uuid:pk>/supprimer/", views.link_delete, name="link_delete"),
    path("<uuid:pt>/recalculer/", views.refresh, name="refresh"),
    path("<uuid:pt>/export/<slug:fmt>/", views.export, name="export"),
]
