from django.urls import path

from tablee.directory import views_data

app_name = "directory_data"
urlpatterns = [
    path("importer/", views_data.import_start, name="import"),
    path("importer/<uuid:pk>/colonnes/", views_data.import_mapping, name="import_mapping"),
    path("importer/<uuid:pk>/", views_data.import_preview, name="import_preview"),
    path("importer/<uuid:pk>/appliquer/", views_data.import_apply, name="import_apply"),
    path("exporter/", views_data.export, name="export"),
]
