"""Evaluations of sessions: results of a session, paper entry, poster, results of a programme."""

from django.urls import path

from tablee.activities import views_evaluations as views

app_name = "evaluations"

urlpatterns = [
    path("programme/<uuid:programme>/", views.results, name="results"),
    path("<uuid:pt>/seances/<uuid:pk>/", views.session_evaluations, name="session"),
    path("<uuid:pt>/seances/<uuid:pk>/papier/", views.paper_entry, name="paper_entry"),
    path("<uuid:pt>/seances/<uuid:pk>/affiche/", views.poster, name="poster"),
]
