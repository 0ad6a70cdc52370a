"""Public evaluation questionnaire of a session (phone, QR code)."""

from django.urls import path  # noqa: F401

app_name = "evaluation_public"

urlpatterns = []
