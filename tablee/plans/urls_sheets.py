"""The action plan as a spreadsheet: XLSX export and import, and the PAT PDF."""

from django.urls import path

from tablee.plans import views_sheets as views

app_name = "plan_sheets"

urlpatterns = [
    path("<uuid:pt>/export/", views.export, name="export"),
    path("<uuid:pt>/import/", views.import_upload, name="import"),
    path("<uuid:pt>/import/apercu/", views.import_preview, name="import_preview"),
    path("<uuid:pt>/import/confirmer/", views.import_confirm, name="import_confirm"),
    path("<uuid:pt>/import/annuler/", views.import_cancel, name="import_cancel"),
    path("<uuid:pt>/volet-justice-sociale-pat/", views.pat_pdf, name="pat_pdf"),
]
