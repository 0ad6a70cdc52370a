"""Dashboards, funder reports, final evaluation and full export."""

from django.urls import path

from tablee.reports import views

app_name = "reports"

urlpatterns = [
    path(
        "programmes/<uuid:programme>/tableau-de-bord/",
        views.programme_dashboard,
        name="programme_dashboard",
    ),
    path(
        "territoires/<uuid:pt>/tableau-de-bord/",
        views.territory_dashboard,
        name="territory_dashboard",
    ),
    path("programmes/<uuid:programme>/", views.report_list, name="report_list"),
    path("programmes/<uuid:programme>/nouveau/", views.report_create, name="report_create"),
    path("programmes/<uuid:programme>/<uuid:pk>/", views.report_detail, name="report_detail"),
    path("programmes/<uuid:programme>/<uuid:pk>/modifier/", views.report_edit, name="report_edit"),
    path(
        "programmes/<uuid:programme>/<uuid:pk>/sections/<slug:section>/",
        views.section_edit,
        name="section_edit",
    ),
    path(
        "programmes/<uuid:programme>/<uuid:pk>/telecharger/<slug:fmt>/",
        views.report_download,
        name="report_download",
    ),
    path(
        "programmes/<uuid:programme>/<uuid:pk>/territoires/<uuid:pt>/pdf/",
        views.territory_report_pdf,
        name="territory_report_pdf",
    ),
    path("programmes/<uuid:programme>/export-complet/", views.full_export, name="full_export"),
]
