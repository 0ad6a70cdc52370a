"""Import of the history of sessions (CSV or XLSX) with a column-mapping step."""

from django.urls import path

from tablee.activities import views_imports as views

app_name = "session_imports"

urlpatterns = [
    path("<uuid:programme>/", views.upload, name="upload"),
    path("<uuid:programme>/<str:token>/colonnes/", views.mapping, name="mapping"),
    path("<uuid:programme>/<str:token>/apercu/", views.preview, name="preview"),
    path("<uuid:programme>/<str:token>/importer/", views.apply, name="apply"),
    path("<uuid:programme>/<str:token>/abandonner/", views.cancel, name="cancel"),
]
