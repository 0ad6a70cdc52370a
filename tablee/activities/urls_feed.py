"""iCal feeds per territory (secret address, no login)."""

from django.urls import path  # noqa: F401

app_name = "calendar_feed"

urlpatterns = []
