"""The action plan of a programme territory: axes, actions, validation, steering."""

from django.urls import path  # noqa: F401

app_name = "plans"

urlpatterns = []
