"""Registrations, waiting list, attendance, attendance sheets and certificates."""

from django.urls import path

from tablee.activities import views_attendance as views

app_name = "attendance"

urlpatterns = [
    path("<uuid:pt>/seances/<uuid:pk>/", views.session_page, name="session"),
    path(
        "<uuid:pt>/seances/<uuid:pk>/inscriptions/<uuid:registration>/annuler/",
        views.registration_cancel,
        name="registration_cancel",
    ),
    path(
        "<uuid:pt>/seances/<uuid:pk>/lien-inscription/",
        views.registration_link,
        name="registration_link",
    ),
    path("<uuid:pt>/seances/<uuid:pk>/accueil/", views.door, name="door"),
    path(
        "<uuid:pt>/seances/<uuid:pk>/accueil/<uuid:registration>/",
        views.attendance_toggle,
        name="toggle",
    ),
    path("<uuid:pt>/seances/<uuid:pk>/accueil/sans-inscription/", views.walk_in, name="walk_in"),
    path(
        "<uuid:pt>/seances/<uuid:pk>/presences/<uuid:attendance>/retirer/",
        views.attendance_delete,
        name="attendance_delete",
    ),
    path("<uuid:pt>/seances/<uuid:pk>/comptage/", views.headcounts, name="headcounts"),
    path("<uuid:pt>/seances/<uuid:pk>/emargement.pdf", views.sheet_pdf, name="sheet_pdf"),
    path(
        "<uuid:pt>/seances/<uuid:pk>/emargement-signe/",
        views.signed_sheet,
        name="signed_sheet",
    ),
    path(
        "<uuid:pt>/seances/<uuid:pk>/emargement-signe/deposer/",
        views.signed_sheet_upload,
        name="signed_sheet_upload",
    ),
    path(
        "<uuid:pt>/seances/<uuid:pk>/attestations/<uuid:attendance>.pdf",
        views.certificate,
        name="certificate",
    ),
    path(
        "<uuid:pt>/seances/<uuid:pk>/attestations.zip",
        views.certificates_zip,
        name="certificates_zip",
    ),
]
