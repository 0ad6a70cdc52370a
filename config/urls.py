from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Administration de Tablée"
admin.site.site_title = "Tablée"

urlpatterns = [
    path("", include("config.urls_home")),
    path("compte/", include("tablee.accounts.urls")),
    path("referentiel/", include("tablee.territories.urls_referential")),
    path("programmes/", include("tablee.territories.urls")),
    path("indicateurs/", include("tablee.territories.urls_indicators")),
    path("annuaire/donnees/", include("tablee.directory.urls_data")),
    path("annuaire/", include("tablee.directory.urls")),
    path("annuaire-public/", include("tablee.directory.urls_public")),
    path("diagnostic/", include("tablee.diagnostic.urls")),
    path("q/", include("tablee.diagnostic.urls_public")),
    path("plans/", include("tablee.plans.urls")),
    path("participer/", include("tablee.plans.urls_public")),
    path("engagements/", include("tablee.plans.urls_accountability")),
    path("ateliers/", include("tablee.activities.urls")),
    path("inscription/", include("tablee.activities.urls_registration_public")),
    path("agenda/", include("tablee.activities.urls_feed")),
    path("avis/", include("tablee.activities.urls_evaluation_public")),
    path("reseau/", include("tablee.network.urls")),
    path("rapports/", include("tablee.reports.urls")),
    path("django-admin/", admin.site.urls),
]

handler403 = "tablee.core.views.permission_denied"
handler404 = "tablee.core.views.page_not_found"
