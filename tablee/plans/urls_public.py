"""Public proposal link (no account): people concerned propose."""

from django.urls import path  # noqa: F401

app_name = "proposals_public"

urlpatterns = []
