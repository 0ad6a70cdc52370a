"""Co-construction and action plans: one URL module per area, each with its own namespace."""

from django.urls import include, path

urlpatterns = [
    path("", include("tablee.plans.urls_actions")),
    path("concertation/", include("tablee.plans.urls_consultation")),
    path("tableur/", include("tablee.plans.urls_sheets")),
]
