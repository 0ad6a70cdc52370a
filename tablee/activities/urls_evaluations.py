"""Evaluations of sessions and import of the history of sessions."""

from django.urls import path  # noqa: F401

app_name = "evaluations"

urlpatterns = []
