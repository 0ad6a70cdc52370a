"""Django admin for superusers: the national referential and the programmes."""

from django.contrib import admin

from tablee.territories.models import (
    Commune,
    Departement,
    IndicatorValue,
    Programme,
    ProgrammeTerritory,
    Region,
    SessionTarget,
    Territory,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


@admin.register(Departement)
class DepartementAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region")
    list_filter = ("region",)
    list_select_related = ("region",)
    search_fields = ("code", "name")
    autocomplete_fields = ("region",)


@admin.register(Territory)
class TerritoryAdmin(admin.ModelAdmin):
    list_display = ("siren", "name", "kind", "departement", "population")
    list_filter = ("kind", "departement__region")
    list_select_related = ("departement",)
    search_fields = ("siren", "name")
    autocomplete_fields = ("departement",)


@admin.register(Commune)
class CommuneAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "departement", "territory", "population")
    list_select_related = ("departement", "territory")
    search_fields = ("code", "name")
    autocomplete_fields = ("departement", "territory")


class ProgrammeTerritoryInline(admin.StackedInline):
    model = ProgrammeTerritory
    extra = 0
    autocomplete_fields = ("territory",)
    fields = (
        "territory",
        "pat_name",
        "pat_contact_name",
        "pat_contact_email",
        "target_sessions",
    )


class SessionTargetInline(admin.TabularInline):
    model = SessionTarget
    extra = 0


@admin.register(Programme)
class ProgrammeAdmin(admin.ModelAdmin):
    list_display = ("name", "funder", "start_date", "end_date", "is_demo")
    list_filter = ("is_demo",)
    search_fields = ("name", "funder")
    inlines = [ProgrammeTerritoryInline, SessionTargetInline]


@admin.register(SessionTarget)
class SessionTargetAdmin(admin.ModelAdmin):
    list_display = ("programme", "dimension", "key", "value")
    list_filter = ("dimension",)
    list_select_related = ("programme",)
    search_fields = ("programme__name", "key")
    autocomplete_fields = ("programme",)


@admin.register(IndicatorValue)
class IndicatorValueAdmin(admin.ModelAdmin):
    list_display = ("label", "level", "geo_code", "year", "value", "source")
    list_filter = ("level", "year")
    search_fields = ("code", "label", "geo_code")
