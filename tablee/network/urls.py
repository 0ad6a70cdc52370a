"""The network of links between structures."""

from django.urls import path  # noqa: F401

app_name = "network"

urlpatterns = []
