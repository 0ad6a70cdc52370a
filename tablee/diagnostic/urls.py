"""The diagnostic of a territory: one URL module per area, each with its own namespace."""

from django.urls import include, path

urlpatterns = [
    path("", include("tablee.diagnostic.urls_records")),
    path("parcours/", include("tablee.diagnostic.urls_pathways")),
    path("questionnaires/", include("tablee.diagnostic.urls_surveys")),
    path("synthese/", include("tablee.diagnostic.urls_synthesis")),
]
