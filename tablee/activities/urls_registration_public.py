"""Public registration, cancellation and self check-in links."""

from django.urls import path  # noqa: F401

app_name = "registration_public"

urlpatterns = []
