"""Co-construction sessions and proposals of a programme territory."""

from django.urls import path  # noqa: F401

app_name = "consultation"

urlpatterns = []
