"""Django admin for superusers: links are read here, entered and ended in the application."""

from django.contrib import admin

from tablee.network.models import Link, NetworkRefresh


@admin.register(Link)
class LinkAdmin(admin.ModelAdmin):
    list_display = (
        "structure_a",
        "structure_b",
        "kind",
        "source",
        "started_on",
        "ended_on",
        "strength",
    )
    list_filter = ("kind", "source")
    search_fields = ("structure_a__name", "structure_b__name")
    raw_id_fields = ("programme_territory", "structure_a", "structure_b", "created_by")
    readonly_fields = ("version", "created_at", "updated_at")


@admin.register(NetworkRefresh)
class NetworkRefreshAdmin(admin.ModelAdmin):
    list_display = ("programme_territory", "refreshed_at")
    readonly_fields = ("programme_territory", "fingerprint", "refreshed_at")
