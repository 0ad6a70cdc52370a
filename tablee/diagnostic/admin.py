"""Django admin for superusers. The barrier taxonomy is data an admin can extend here; the other
records are edited in the application (their forms carry the privacy warnings)."""

from django.contrib import admin

from tablee.diagnostic.models import (
    BarrierCategory,
    Meeting,
    MeetingAttachment,
    Need,
    Pathway,
    PathwayStep,
    Survey,
    SurveyResponse,
    Testimony,
)


@admin.register(BarrierCategory)
class BarrierCategoryAdmin(admin.ModelAdmin):
    list_display = ("label", "code", "position", "is_active")
    list_editable = ("position", "is_active")
    list_filter = ("is_active",)
    search_fields = ("label", "code")
    prepopulated_fields = {"code": ("label",)}


class MeetingAttachmentInline(admin.TabularInline):
    model = MeetingAttachment
    # The file is downloaded through the application, which checks permissions; the admin shows
    # its description only, never a media address.
    fields = ("original_name", "content_type", "size", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    list_display = ("__str__", "programme_territory", "title", "date")
    list_filter = ("format",)
    list_select_related = ("programme_territory__territory", "programme_territory__programme")
    date_hierarchy = "date"
    autocomplete_fields = ("structures",)
    readonly_fields = ("created_by", "version", "created_at", "updated_at")
    inlines = [MeetingAttachmentInline]


@admin.register(Need)
class NeedAdmin(admin.ModelAdmin):
    list_display = ("title", "category", "severity", "source", "programme_territory")
    list_filter = ("category", "severity", "source")
    list_select_related = ("category", "programme_territory__territory")
    search_fields = ("title",)
    autocomplete_fields = ("structures",)
    raw_id_fields = ("meeting",)
    filter_horizontal = ("publics",)
    readonly_fields = ("created_by", "version", "created_at", "updated_at")


class PathwayStepInline(admin.StackedInline):
    model = PathwayStep
    extra = 0
    raw_id_fields = ("structure",)
    filter_horizontal = ("break_needs",)


@admin.register(Pathway)
class PathwayAdmin(admin.ModelAdmin):
    list_display = ("title", "programme_territory")
    list_select_related = ("programme_territory__territory",)
    search_fields = ("title",)
    readonly_fields = ("created_by", "version", "created_at", "updated_at")
    inlines = [PathwayStepInline]


@admin.register(Testimony)
class TestimonyAdmin(admin.ModelAdmin):
    list_display = ("__str__", "programme_territory", "context", "shareable")
    list_filter = ("shareable",)
    list_select_related = ("programme_territory__territory",)
    filter_horizontal = ("needs",)
    readonly_fields = ("created_by", "version", "created_at", "updated_at")


@admin.register(Survey)
class SurveyAdmin(admin.ModelAdmin):
    list_display = ("title", "programme_territory", "is_open", "created_at")
    list_filter = ("is_open",)
    list_select_related = ("programme_territory__territory",)
    readonly_fields = ("token", "created_by", "created_at")


@admin.register(SurveyResponse)
class SurveyResponseAdmin(admin.ModelAdmin):
    list_display = ("__str__", "survey", "channel", "created_at")
    list_filter = ("channel",)
    list_select_related = ("survey",)
    readonly_fields = ("raw_score", "submission_token", "created_at")
