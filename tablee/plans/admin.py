"""Django admin for superusers. Plans, proposals and sessions are edited in the application, whose
forms check the territory, the versions and the privacy warnings; the admin is for repairs."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionComment,
    ActionDocument,
    ActionIndicator,
    ActionPlan,
    Axis,
    ConsultationSession,
    IndicatorMeasure,
    NamedParticipant,
    ParticipantCount,
    PlanValidation,
    ProgressUpdate,
    Proposal,
    ProposalVote,
)


class ParticipantCountInline(admin.TabularInline):
    model = ParticipantCount
    extra = 0


class NamedParticipantInline(admin.TabularInline):
    model = NamedParticipant
    extra = 0
    raw_id_fields = ("structure",)


@admin.register(ConsultationSession)
class ConsultationSessionAdmin(admin.ModelAdmin):
    list_display = ("__str__", "title", "programme_territory", "public_proposals_open")
    list_filter = ("kind", "public_proposals_open")
    list_select_related = ("programme_territory__territory",)
    date_hierarchy = "date"
    search_fields = ("title",)
    autocomplete_fields = ("structures",)
    readonly_fields = ("proposal_token", "created_by", "version", "created_at", "updated_at")
    inlines = [ParticipantCountInline, NamedParticipantInline]


class ProposalVoteInline(admin.TabularInline):
    model = ProposalVote
    extra = 0


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = ("__str__", "origin_group", "status", "programme_territory", "created_at")
    list_filter = ("origin_group", "status", "submitted_publicly")
    list_select_related = ("programme_territory__territory",)
    search_fields = ("text",)
    raw_id_fields = ("session",)
    filter_horizontal = ("needs",)
    readonly_fields = ("created_by", "version", "created_at", "updated_at")
    inlines = [ProposalVoteInline]


class AxisInline(admin.TabularInline):
    model = Axis
    extra = 0


class PlanValidationInline(admin.TabularInline):
    model = PlanValidation
    extra = 0
    fields = ("number", "date", "committee", "validated_by", "recorded_by")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ActionPlan)
class ActionPlanAdmin(SimpleHistoryAdmin):
    list_display = ("title", "programme_territory", "updated_at")
    list_select_related = ("programme_territory__territory", "programme_territory__programme")
    search_fields = ("title", "programme_territory__territory__name")
    readonly_fields = ("version", "created_at", "updated_at")
    inlines = [AxisInline, PlanValidationInline]


class BudgetLineInline(admin.TabularInline):
    model = ActionBudgetLine
    extra = 0


class IndicatorInline(admin.TabularInline):
    model = ActionIndicator
    extra = 0


class ProgressUpdateInline(admin.StackedInline):
    model = ProgressUpdate
    extra = 0
    readonly_fields = ("author", "created_at")


class DocumentInline(admin.TabularInline):
    model = ActionDocument
    # The file is downloaded through the application, which checks permissions; the admin shows
    # its description only, never a media address.
    fields = ("original_name", "content_type", "size", "uploaded_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class CommentInline(admin.StackedInline):
    model = ActionComment
    extra = 0
    readonly_fields = ("author", "created_at")


@admin.register(Action)
class ActionAdmin(SimpleHistoryAdmin):
    list_display = ("code", "title", "status", "progress", "weight", "plan")
    list_filter = ("status", "priority", "participation_level")
    list_select_related = ("plan",)
    search_fields = ("code", "title", "plan__title")
    raw_id_fields = ("plan", "axis")
    autocomplete_fields = ("pilots", "partners")
    filter_horizontal = ("needs", "proposals")
    readonly_fields = ("created_by", "version", "created_at", "updated_at")
    inlines = [
        BudgetLineInline,
        IndicatorInline,
        ProgressUpdateInline,
        DocumentInline,
        CommentInline,
    ]


@admin.register(IndicatorMeasure)
class IndicatorMeasureAdmin(admin.ModelAdmin):
    list_display = ("indicator", "date", "value")
    list_select_related = ("indicator",)
    raw_id_fields = ("indicator",)
    readonly_fields = ("recorded_by",)
