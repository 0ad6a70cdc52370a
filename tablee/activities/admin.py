"""Django admin for superusers. Sessions are scheduled in the application, whose forms check the
rules (period, capacity, overlaps); the admin lists them for support. Secret tokens are never
shown, and named records are read-only here."""

from django.contrib import admin

from tablee.activities.models import (
    ActivityFormat,
    Attendance,
    CalendarFeed,
    Evaluation,
    Headcount,
    Registration,
    Session,
    SessionSeries,
)


@admin.register(ActivityFormat)
class ActivityFormatAdmin(admin.ModelAdmin):
    list_display = ("name", "programme", "kind", "audience", "duration_minutes", "is_active")
    list_filter = ("kind", "audience", "is_active")
    search_fields = ("name",)
    list_select_related = ("programme",)


class HeadcountInline(admin.TabularInline):
    model = Headcount
    extra = 0


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ("title", "programme_territory", "starts_at", "audience", "status")
    list_filter = ("status", "kind", "audience")
    search_fields = ("title", "import_key")
    date_hierarchy = "starts_at"
    list_select_related = ("programme_territory__territory", "programme_territory__programme")
    raw_id_fields = (
        "programme_territory",
        "format",
        "series",
        "place_structure",
        "commune",
        "action",
        "facilitators",
        "host_structures",
        "partner_structures",
    )
    readonly_fields = ("import_key", "version", "created_at", "updated_at")
    inlines = [HeadcountInline]


@admin.register(SessionSeries)
class SessionSeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "programme_territory", "created_at")
    list_select_related = ("programme_territory__territory", "programme_territory__programme")


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    # The token stays out: it is renewed from the calendar page, never copied from here.
    list_display = ("programme_territory", "created_at")
    fields = ("programme_territory", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    list_display = ("full_name", "session", "status", "source", "created_at")
    list_filter = ("status", "source")
    exclude = ("cancel_token",)


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyAdmin):
    list_display = ("full_name", "session", "audience", "method", "checked_in_at")
    list_filter = ("method", "audience")


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdmin):
    list_display = ("session", "satisfaction", "intends_to_change", "source", "created_at")
    list_filter = ("satisfaction", "source")
