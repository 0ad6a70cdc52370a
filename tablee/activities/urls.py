"""Workshops and trainings: one URL module per area, each with its own namespace."""

from django.urls import include, path

urlpatterns = [
    path("", include("tablee.activities.urls_sessions")),
    path("presences/", include("tablee.activities.urls_attendance")),
    path("evaluations/", include("tablee.activities.urls_evaluations")),
    path("import/", include("tablee.activities.urls_imports")),
]
