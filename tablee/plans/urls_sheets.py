"""The action plan as a spreadsheet: XLSX export and import, and the PAT PDF."""

from django.urls import path  # noqa: F401

app_name = "plan_sheets"

urlpatterns = []
