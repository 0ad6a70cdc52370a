"""Registrations, waiting list, attendance, attendance sheets and certificates."""

from django.urls import path  # noqa: F401

app_name = "attendance"

urlpatterns = []
