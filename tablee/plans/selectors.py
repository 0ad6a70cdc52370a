"""Reads of the action plans: weighted progress roll-ups (per axis, plan, territory and programme),
the steering table's filters, the quarters of the timeline and the history of the actions.

Progress is weighted by ``Action.weight``: an action of weight 3 at 50 % counts as much as three
actions of weight 1 at 50 %. Abandoned actions are left out of every roll-up: they will never
progress, and would drag the plan down forever.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, IntegerField, Q, Sum, Value, When

from tablee.plans.models import ALERT_STATUSES, Action, ActionPlan, ActionStatus, Axis
from tablee.territories.models import Audience, ProgrammeTerritory

# ---- Progress roll-ups ------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """A weighted progress: ``value`` in % (None when no action counts), over ``count`` actions
    whose weights add up to ``weight``."""

    value: int | None
    weight: int
    count: int


def _progress(weighted: int | None, weight: int | None, count: int) -> Progress:
    if not weight:
        return Progress(value=None, weight=0, count=count)
    return Progress(value=round(weighted / weight), weight=weight, count=count)


def rollup(actions) -> Progress:
    """The weighted progress of actions already loaded (no query)."""
    counted = [a for a in actions if a.status != ActionStatus.ABANDONED]
    return _progress(
        sum(a.progress * a.weight for a in counted), sum(a.weight for a in counted), len(counted)
    )


def _aggregate(actions) -> Progress:
    """The weighted progress of an Action queryset (one query)."""
    totals = actions.exclude(status=ActionStatus.ABANDONED).aggregate(
        weighted=Sum(F("progress") * F("weight")), weight=Sum("weight"), count=Count("pk")
    )
    return _progress(totals["weighted"], totals["weight"], totals["count"])


def plan_progress(plan: ActionPlan) -> Progress:
    """The weighted progress of a plan (one query)."""
    return _aggregate(Action.objects.filter(plan=plan))


def territory_progress(programme_territory: ProgrammeTerritory) -> Progress:
    """The weighted progress of a territory's plan; an empty Progress without a plan (one query)."""
    return _aggregate(Action.objects.filter(plan__programme_territory=programme_territory))


def actions_progress(actions) -> Progress:
    """The weighted progress of any Action queryset, such as the filtered steering table."""
    return _aggregate(actions.order_by())


@dataclass
class AxisGroup:
    """An axis of a plan (or None for the actions without an axis) with its actions, loaded."""

    axis: Axis | None
    actions: list[Action] = field(default_factory=list)

    @property
    def title(self) -> str:
        return self.axis.title if self.axis else "Sans axe"

    @property
    def progress(self) -> Progress:
        return rollup(self.actions)


def plan_axis_groups(plan: ActionPlan) -> list[AxisGroup]:
    """The axes of a plan in order, each with its actions and their pilots, then the actions
    without an axis (three queries: axes, actions, pilots)."""
    groups = {axis.pk: AxisGroup(axis) for axis in plan.axes.all()}
    loose = AxisGroup(None)
    for action in plan.actions.prefetch_related("pilots").order_by("position", "code"):
        groups.get(action.axis_id, loose).actions.append(action)
    result = list(groups.values())
    if loose.actions:
        result.append(loose)
    return result


@dataclass(frozen=True)
class TerritoryPlanProgress:
    """The plan progress of one territory of a programme, for dashboards and reports."""

    programme_territory: ProgrammeTerritory
    has_plan: bool
    progress: Progress
    alert_count: int  # actions late or blocked


def programme_plan_progress(programme) -> list[TerritoryPlanProgress]:
    """The weighted plan progress of each territory of ``programme``, ordered by territory name
    (three queries: territories, plans, one aggregate over every action)."""
    territories = list(programme.territories.select_related("territory"))
    planned = set(
        ActionPlan.objects.filter(programme_territory__programme=programme).values_list(
            "programme_territory_id", flat=True
        )
    )
    rows = (
        Action.objects.filter(plan__programme_territory__programme=programme)
        .values("plan__programme_territory_id")
        .annotate(
            weighted=Sum(F("progress") * F("weight"), filter=~Q(status=ActionStatus.ABANDONED)),
            weight=Sum("weight", filter=~Q(status=ActionStatus.ABANDONED)),
            count=Count("pk", filter=~Q(status=ActionStatus.ABANDONED)),
            alerts=Count("pk", filter=Q(status__in=ALERT_STATUSES)),
        )
        .order_by()
    )
    by_territory = {row["plan__programme_territory_id"]: row for row in rows}
    result = []
    for pt in territories:
        row = by_territory.get(pt.pk)
        progress = (
            _progress(row["weighted"], row["weight"], row["count"])
            if row
            else Progress(value=None, weight=0, count=0)
        )
        result.append(
            TerritoryPlanProgress(
                programme_territory=pt,
                has_plan=pt.pk in planned,
                progress=progress,
                alert_count=row["alerts"] if row else 0,
            )
        )
    return result


# ---- Steering ---------------------------------------------------------------------------------


def active_in_year(year: int) -> Q:
    """Actions running at some point of ``year``: started by its end, not ended before it. An
    action without any date is not placed in any year."""
    first, last = datetime.date(year, 1, 1), datetime.date(year, 12, 31)
    return (
        (Q(start_date__lte=last) | Q(start_date__isnull=True))
        & (Q(end_date__gte=first) | Q(end_date__isnull=True))
        & ~Q(start_date__isnull=True, end_date__isnull=True)
    )


# The order of the steering table's "statut" column: what needs attention first.
STATUS_ORDER = [
    ActionStatus.BLOCKED,
    ActionStatus.LATE,
    ActionStatus.IN_PROGRESS,
    ActionStatus.PAUSED,
    ActionStatus.PLANNED,
    ActionStatus.DONE,
    ActionStatus.ABANDONED,
]


def status_rank() -> Case:
    return Case(
        *(When(status=status, then=Value(rank)) for rank, status in enumerate(STATUS_ORDER)),
        default=Value(len(STATUS_ORDER)),
        output_field=IntegerField(),
    )


def filter_actions(
    actions, *, status=None, pilot=None, audience=None, need=None, axis=None, year=None
):
    """The steering table's column filters. ``axis`` is an Axis, or "none" for actions without
    an axis."""
    if status:
        actions = actions.filter(status=status)
    if pilot is not None:
        actions = actions.filter(pilots=pilot)
    if audience:
        # audiences is a JSON list: matching the quoted value works on SQLite and PostgreSQL.
        actions = actions.filter(audiences__icontains=f'"{audience}"')
    if need is not None:
        actions = actions.filter(needs=need)
    if axis == "none":
        actions = actions.filter(axis__isnull=True)
    elif axis is not None:
        actions = actions.filter(axis=axis)
    if year:
        actions = actions.filter(active_in_year(year))
    return actions


def is_overdue(action: Action, today: datetime.date) -> bool:
    """The end date has passed and the action is neither done nor abandoned."""
    return bool(
        action.end_date
        and action.end_date < today
        and action.status not in (ActionStatus.DONE, ActionStatus.ABANDONED)
    )


# ---- Timeline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int  # 1 to 4

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> datetime.date:
        if self.number == 4:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, 3 * self.number + 1, 1) - datetime.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"T{self.number} {self.year}"

    def contains(self, day: datetime.date) -> bool:
        return self.first_day <= day <= self.last_day


def quarter_of(day: datetime.date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


# Beyond this, the timeline would be unreadable: it shows this many quarters at most.
MAX_QUARTERS = 24


def quarters_between(first: datetime.date, last: datetime.date) -> list[Quarter]:
    quarters = []
    current = quarter_of(first)
    end = quarter_of(last)
    while (current.year, current.number) <= (end.year, end.number) and len(quarters) < MAX_QUARTERS:
        quarters.append(current)
        current = (
            Quarter(current.year + 1, 1)
            if current.number == 4
            else Quarter(current.year, current.number + 1)
        )
    return quarters


@dataclass
class TimelineRow:
    action: Action
    cells: list[bool]  # one per quarter: the action runs during it


def timeline(actions: list[Action], programme) -> tuple[list[Quarter], list[TimelineRow]]:
    """Quarters from the earliest to the latest date of the actions (at least the programme's
    period) and, per dated action, the quarters during which it runs. As in the year filter, an
    action without a start runs from the beginning, one without an end runs on."""
    dated = [a for a in actions if a.start_date or a.end_date]
    if not dated:
        return [], []
    starts = [a.start_date for a in dated if a.start_date]
    ends = [a.end_date for a in dated if a.end_date]
    quarters = quarters_between(
        min([*starts, *ends, programme.start_date]), max([*starts, *ends, programme.end_date])
    )
    first, last = quarters[0].first_day, quarters[-1].last_day
    rows = []
    for action in dated:
        start, end = action.start_date or first, action.end_date or last
        cells = [q.first_day <= end and start <= q.last_day for q in quarters]
        rows.append(TimelineRow(action, cells))
    return quarters, rows


# ---- History ----------------------------------------------------------------------------------

# Fields a person changes, in the order the history lists them (version and bookkeeping left out).
HISTORY_FIELDS = [
    "code",
    "title",
    "axis",
    "status",
    "progress",
    "priority",
    "weight",
    "start_date",
    "end_date",
    "participation_level",
    "audiences",
    "elected_referent",
    "pat_axis",
    "description",
    "objectives",
]
KIND_LABELS = {"+": "Création", "~": "Modification", "-": "Suppression"}
AUDIENCE_LABELS = dict(Audience.choices)


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass
class HistoryEntry:
    date: datetime.datetime
    user: str
    kind: str  # Création, Modification, Suppression
    changes: list[FieldChange]


@dataclass
class ActionHistory:
    action_id: object
    code: str
    title: str
    deleted: bool
    entries: list[HistoryEntry]  # newest first


def _display(record, name: str, axes: dict) -> str:
    value = getattr(record, "axis_id" if name == "axis" else name)
    if value in (None, "", []):
        return "(vide)"
    if name == "axis":
        return axes.get(value, "(axe supprimé)")
    if name == "audiences":
        return ", ".join(AUDIENCE_LABELS.get(v, v) for v in value)
    if name in ("start_date", "end_date"):
        return f"{value:%d/%m/%Y}"
    if name == "progress":
        return f"{value} %"
    choices = Action._meta.get_field(name).choices
    if choices:
        return str(dict(choices).get(value, value))
    return str(value)


def _label(name: str) -> str:
    return str(Action._meta.get_field(name).verbose_name).capitalize()


def _changes(previous, record, axes) -> list[FieldChange]:
    if previous is None:
        return []
    changes = []
    for name in HISTORY_FIELDS:
        attribute = "axis_id" if name == "axis" else name
        if getattr(previous, attribute) != getattr(record, attribute):
            changes.append(
                FieldChange(
                    _label(name), _display(previous, name, axes), _display(record, name, axes)
                )
            )
    return changes


def _user(record) -> str:
    user = record.history_user
    return (user.get_full_name() or user.email) if user else "(inconnu·e)"


def plan_history(plan: ActionPlan, *, action_id=None) -> list[ActionHistory]:
    """Per action of the plan (deleted ones included), every recorded change: who, when, which
    fields, old → new, with French labels (two queries: axes, historical records)."""
    axes = dict(Axis.objects.filter(plan=plan).values_list("pk", "title"))
    records = Action.history.filter(plan_id=plan.pk).select_related("history_user")
    if action_id is not None:
        records = records.filter(id=action_id)
    by_action: dict = {}
    for record in records.order_by("history_date", "history_id"):
        by_action.setdefault(record.id, []).append(record)
    histories = []
    for action_id_, items in by_action.items():
        entries = []
        previous = None
        for record in items:
            changes = _changes(previous, record, axes)
            if record.history_type != "~" or changes:
                entries.append(
                    HistoryEntry(
                        date=record.history_date,
                        user=_user(record),
                        kind=KIND_LABELS.get(record.history_type, record.history_type),
                        changes=changes,
                    )
                )
            previous = record
        last = items[-1]
        entries.reverse()
        histories.append(
            ActionHistory(
                action_id=action_id_,
                code=last.code,
                title=last.title,
                deleted=last.history_type == "-",
                entries=entries,
            )
        )
    histories.sort(key=lambda h: (h.deleted, h.code))
    return histories


@dataclass(frozen=True)
class StatusChange:
    date: datetime.datetime
    user: str
    old: str | None
    new: str


def status_changes(action: Action) -> list[StatusChange]:
    """The statuses an action went through, oldest first, from its history (one query)."""
    labels = dict(ActionStatus.choices)
    changes = []
    previous = None
    for record in action.history.select_related("history_user").order_by(
        "history_date", "history_id"
    ):
        if record.history_type == "-":
            continue
        if previous is None or record.status != previous:
            changes.append(
                StatusChange(
                    date=record.history_date,
                    user=_user(record),
                    old=labels.get(previous) if previous else None,
                    new=labels.get(record.status, record.status),
                )
            )
        previous = record.status
    return changes
