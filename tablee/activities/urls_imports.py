"""Import of the history of sessions (CSV or XLSX) with a column-mapping step."""

from django.urls import path  # noqa: F401

app_name = "session_imports"

urlpatterns = []
