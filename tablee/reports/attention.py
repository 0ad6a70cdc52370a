"""What needs a signed-in person's attention, for the home page (DESIGN.md, "Navigation"):
sessions this week, actions late or blocked, directory records to check, reports due.

Each list is limited to the person's scope and permissions, and costs one query (plus one count
for the directory), whatever the number of programmes.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from tablee.accounts.permissions import (
    Action,
    can,
    is_admin,
    memberships_of,
    programme_territories_for,
)
from tablee.activities.models import Session
from tablee.directory.models import Structure
from tablee.plans.models import Action as PlanAction
from tablee.plans.models import ActionStatus
from tablee.reports.models import Report
from tablee.territories.models import Programme, ProgrammeTerritory

SHOWN = 8
# A directory record not updated for this long is worth a look (data·inclusion asks for yearly
# updates).
STALE_AFTER = datetime.timedelta(days=365)
# A report is due this many days before the end of a programme or of a year.
REPORT_NOTICE = datetime.timedelta(days=60)
FINISHED = [ActionStatus.DONE, ActionStatus.ABANDONED]


@dataclass
class Attention:
    sessions: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    stale_structures: int = 0
    reports_due: list = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.sessions or self.actions or self.stale_structures or self.reports_due)


@dataclass(frozen=True)
class ReportDue:
    programme: Programme
    label: str
    can_write: bool


def attention_for(user, *, today: datetime.date | None = None) -> Attention:
    """The home page's lists for ``user`` (``today`` for tests)."""
    today = today or timezone.localdate()
    territories = list(
        programme_territories_for(user, ProgrammeTerritory.objects.all()).select_related(
            "programme"
        )
    )
    result = Attention()
    with_activities = [pt.pk for pt in territories if can(user, Action.VIEW_ACTIVITIES, pt)]
    if with_activities:
        start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
        result.sessions = list(
            Session.objects.filter(
                programme_territory__in=with_activities,
                starts_at__gte=start,
                starts_at__lt=start + datetime.timedelta(days=7),
            )
            .exclude(status=Session.Status.CANCELLED)
            .select_related("programme_territory__territory")
            .order_by("starts_at")[:SHOWN]
        )
    with_plans = [pt.pk for pt in territories if can(user, Action.VIEW_PLAN, pt)]
    if with_plans:
        result.actions = list(
            PlanAction.objects.filter(plan__programme_territory__in=with_plans)
            .filter(
                Q(status__in=[ActionStatus.LATE, ActionStatus.BLOCKED])
                | Q(end_date__lt=today) & ~Q(status__in=FINISHED)
            )
            .select_related("plan__programme_territory__territory")
            .order_by("end_date", "code")[:SHOWN]
        )
    result.stale_structures = _stale_structures(user, territories, today)
    result.reports_due = _reports_due(user, territories, today)
    return result


def _stale_structures(user, territories, today) -> int:
    editable = [pt.territory_id for pt in territories if can(user, Action.EDIT_STRUCTURE, pt)]
    own = [
        m.structure_id
        for m in memberships_of(user)
        if m.structure_id and can(user, Action.EDIT_STRUCTURE, m.structure)
    ]
    if is_admin(user) or not (editable or own):
        # An administrator's instance may hold the whole country: the directory's own sort
        # (oldest update first) serves them better than a count.
        return 0
    scope = Q(commune__territory_id__in=editable) if editable else Q(pk__in=own)
    return Structure.objects.filter(scope, data_updated_on__lt=today - STALE_AFTER).count()


def _reports_due(user, territories, today) -> list[ReportDue]:
    programmes = {pt.programme_id: pt.programme for pt in territories}
    readable = [p for p in programmes.values() if can(user, Action.VIEW_REPORTS, p)]
    if not readable:
        return []
    existing = set(
        Report.objects.filter(programme__in=readable).values_list(
            "programme_id", "kind", "period_end__year"
        )
    )
    due = []
    for programme in sorted(readable, key=lambda p: p.name):
        can_write = can(user, Action.EDIT_REPORTS, programme)
        year_end = datetime.date(today.year, 12, 31)
        if (
            programme.start_date <= today <= programme.end_date + REPORT_NOTICE
            and year_end - today <= REPORT_NOTICE
            and (programme.pk, Report.Kind.FUNDER_REPORT, today.year) not in existing
        ):
            due.append(ReportDue(programme, f"Rapport d'activité {today.year}", can_write))
        if programme.end_date - REPORT_NOTICE <= today and not any(
            key[0] == programme.pk and key[1] == Report.Kind.FINAL_EVALUATION for key in existing
        ):
            due.append(ReportDue(programme, "Évaluation de fin de programme", can_write))
    return due
