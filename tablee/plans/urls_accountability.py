"""Public accountability page per territory: « Vous avez dit, nous avons fait »."""

from django.urls import path  # noqa: F401

app_name = "accountability"

urlpatterns = []
