from django.urls import path

from tablee.directory import views_public as views

app_name = "public_directory"
urlpatterns = [
    path("", views.structure_list, name="list"),
    path("carte/", views.structure_map, name="map"),
    path("carte/donnees/", views.map_data, name="map_data"),
    path("<uuid:pk>/", views.structure_detail, name="detail"),
]
