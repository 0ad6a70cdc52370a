"""Django admin for superusers: the structures of the directory."""

from django.contrib import admin

from tablee.directory.models import Structure


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ("name", "commune", "is_demo")
    list_filter = ("is_demo",)
    list_select_related = ("commune",)
    search_fields = ("name", "commune__name", "commune__code")
    autocomplete_fields = ("commune",)
