"""Reads for what a territory's plan tells outside the association: the public page « Vous avez
dit, nous avons fait » and the « volet justice sociale » of the PAT (PDF).

Counts of persons (participants of meetings and co-construction sessions) go through
``core.disclosure``: masked from 1 to 10, with secondary suppression, unless ``masked`` is False
(the association's coordinators). Counts of needs, actions, meetings, structures or sessions are
not counts of persons and are shown as they are.

Workshops delivered come from the activities app through the reverse relation
``Action.sessions``, without importing it (an app only imports from the apps before it).
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q, Sum

from tablee.core.disclosure import SuppressedTable, mask_count, suppress
from tablee.diagnostic.models import Meeting, Need
from tablee.diagnostic.selectors import categories_with_need_counts
from tablee.directory.models import Structure
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionIndicator,
    ActionPlan,
    ActionStatus,
    Axis,
    IndicatorMeasure,
    ParticipantCount,
    PlanValidation,
    Proposal,
    StakeholderGroup,
)
from tablee.territories.models import ProgrammeTerritory

# The activities app's Session.Status.HELD, named here without importing that app.
SESSION_HELD = "held"
TOP_NEEDS = 10
COUNT_COLUMN = "n"


@dataclass(frozen=True)
class CategoryNeeds:
    label: str
    count: int
    needs: list[Need]  # each with ``action_codes``


@dataclass
class AxisActions:
    axis: Axis | None
    actions: list[Action]
    progress: int | None


@dataclass
class Heard:
    """What was heard: the needs per barrier category and who took part in saying them."""

    categories: list[CategoryNeeds]
    need_total: int
    meeting_count: int
    structures_met: int
    consultation_count: int
    participants: SuppressedTable  # co-construction participants per stakeholder group
    people_met: int | str  # people concerned met at the diagnostic's meetings ("< 11" masked)
    proposals_by_group: list[tuple[str, int]]
    masked: bool


@dataclass
class Delivered:
    """What was decided and done: the actions per axis with their workshops held."""

    groups: list[AxisActions]
    action_count: int
    done: int
    in_progress: int
    sessions_held: int
    progress: int | None
    last_update: datetime.datetime | None
    validation: PlanValidation | None
    status_counts: list[tuple[str, int]] = field(default_factory=list)


def weighted_progress(actions) -> int | None:
    """Progress weighted by ``Action.weight``, leaving out abandoned actions (None if none count)."""
    counted = [a for a in actions if a.status != ActionStatus.ABANDONED]
    weight = sum(a.weight for a in counted)
    if not weight:
        return None
    return round(sum(a.progress * a.weight for a in counted) / weight)


def _persons(table: dict, *, masked: bool) -> SuppressedTable:
    # Threshold 0: nothing under it, nothing masked (the association's own view).
    return suppress(table) if masked else suppress(table, threshold=0)


def needs_heard(pt: ProgrammeTerritory, *, masked: bool) -> Heard:
    """The needs of ``pt`` per barrier category and the participation behind them (eight
    queries: categories with counts, needs with their category, the actions addressing them,
    meetings, structures met, co-construction sessions, participants per group, proposals)."""
    categories = list(categories_with_need_counts(pt, name="n").order_by("position", "label"))
    needs = list(
        Need.objects.filter(programme_territory=pt)
        .only("id", "title", "category_id")
        .prefetch_related(
            Prefetch("actions", queryset=Action.objects.only("id", "code").order_by("code"))
        )
        .order_by("title")
    )
    by_category: dict[int, list[Need]] = {}
    for need in needs:
        need.action_codes = [action.code for action in need.actions.all()]
        by_category.setdefault(need.category_id, []).append(need)
    meetings = Meeting.objects.filter(programme_territory=pt).aggregate(
        count=Count("id"), people=Sum("people_concerned")
    )
    structures_met = Structure.objects.filter(meetings__programme_territory=pt).distinct().count()
    consultation_count = pt.consultation_sessions.count()
    per_group = dict(
        ParticipantCount.objects.filter(session__programme_territory=pt)
        .values_list("group")
        .annotate(total=Sum("count"))
        .values_list("group", "total")
    )
    participants = _persons(
        {
            label: {COUNT_COLUMN: per_group.get(value) or 0}
            for value, label in StakeholderGroup.choices
        },
        masked=masked,
    )
    people = meetings["people"] or 0
    people_met = mask_count(people) if masked else people
    proposals = dict(
        Proposal.objects.filter(programme_territory=pt)
        .values_list("origin_group")
        .annotate(n=Count("id"))
        .values_list("origin_group", "n")
    )
    return Heard(
        categories=[
            CategoryNeeds(category.label, category.n, by_category.get(category.pk, []))
            for category in categories
            if category.n
        ],
        need_total=len(needs),
        meeting_count=meetings["count"],
        structures_met=structures_met,
        consultation_count=consultation_count,
        participants=participants,
        people_met=people_met,
        proposals_by_group=[
            (label, proposals.get(value, 0)) for value, label in StakeholderGroup.choices
        ],
        masked=masked,
    )


def actions_delivered(plan: ActionPlan) -> Delivered:
    """The plan's actions grouped by axis, each with ``sessions_held`` (three queries: the
    latest validation, the axes, the actions with their axis and their workshops held)."""
    validation = plan.validations.order_by("-number").first()
    axes = list(plan.axes.all())
    actions = list(
        plan.actions.select_related("axis").annotate(
            sessions_held=Count("sessions", filter=Q(sessions__status=SESSION_HELD))
        )
    )
    groups = []
    for axis in axes:
        members = [a for a in actions if a.axis_id == axis.pk]
        if members:
            groups.append(AxisActions(axis, members, weighted_progress(members)))
    loose = [a for a in actions if a.axis_id is None]
    if loose:
        groups.append(AxisActions(None, loose, weighted_progress(loose)))
    labels = dict(ActionStatus.choices)
    statuses = [a.status for a in actions]
    return Delivered(
        groups=groups,
        action_count=len(actions),
        done=statuses.count(ActionStatus.DONE),
        in_progress=statuses.count(ActionStatus.IN_PROGRESS),
        sessions_held=sum(a.sessions_held for a in actions),
        progress=weighted_progress(actions),
        last_update=max((a.updated_at for a in actions), default=None),
        validation=validation,
        status_counts=[
            (labels[value], statuses.count(value))
            for value in ActionStatus.values
            if statuses.count(value)
        ],
    )


# --- The « volet justice sociale » of the PAT ---------------------------------------------------


@dataclass(frozen=True)
class Quarter:
    year: int
    number: int

    @property
    def label(self) -> str:
        return f"T{self.number} {self.year}"

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, 3 * self.number - 2, 1)

    @property
    def last_day(self) -> datetime.date:
        if self.number == 4:
            return datetime.date(self.year, 12, 31)
        return datetime.date(self.year, 3 * self.number + 1, 1) - datetime.timedelta(days=1)


def quarters(first: datetime.date, last: datetime.date) -> list[Quarter]:
    """Every quarter from the one holding ``first`` to the one holding ``last``."""
    found = []
    year, number = first.year, (first.month - 1) // 3 + 1
    while (year, number) <= (last.year, (last.month - 1) // 3 + 1):
        found.append(Quarter(year, number))
        year, number = (year + 1, 1) if number == 4 else (year, number + 1)
    return found


def calendar_rows(actions: list[Action], columns: list[Quarter]) -> list[tuple[Action, list[bool]]]:
    """For each action, whether it runs during each quarter (no dates: no quarter marked)."""
    rows = []
    for action in actions:
        marks = [
            bool(action.start_date and action.end_date)
            and action.start_date <= quarter.last_day
            and action.end_date >= quarter.first_day
            for quarter in columns
        ]
        rows.append((action, marks))
    return rows


def top_needs(pt: ProgrammeTerritory) -> list[Need]:
    """The needs cited by the most structures, testimonies and pathway breaks (one query)."""
    needs = list(
        Need.objects.filter(programme_territory=pt)
        .select_related("category")
        .annotate(
            structure_count=Count("structures", distinct=True),
            testimony_count=Count("testimonies", distinct=True),
            break_count=Count("pathway_breaks", distinct=True),
        )
        .order_by("-structure_count", "-testimony_count", "-break_count", "-severity", "title")[
            :TOP_NEEDS
        ]
    )
    for need in needs:
        need.citations = need.structure_count + need.testimony_count + need.break_count
    return needs


def pat_actions(plan: ActionPlan) -> list[Action]:
    """The plan's actions with who does what and what they address (five queries)."""
    return list(
        plan.actions.select_related("axis").prefetch_related(
            Prefetch("needs", queryset=Need.objects.only("id", "title").order_by("title")),
            Prefetch("pilots", queryset=Structure.objects.only("id", "name").order_by("name")),
            Prefetch("partners", queryset=Structure.objects.only("id", "name").order_by("name")),
            Prefetch(
                "indicators",
                queryset=ActionIndicator.objects.prefetch_related(
                    Prefetch("measures", queryset=IndicatorMeasure.objects.order_by("-date"))
                ),
            ),
        )
    )


def budget_by_year_and_funder(plan: ActionPlan) -> list[dict]:
    """Planned and spent amounts per year and funder (one query)."""
    return list(
        ActionBudgetLine.objects.filter(action__plan=plan)
        .values("year", "funder")
        .annotate(planned=Sum("planned"), spent=Sum("spent"))
        .order_by("year", "funder")
    )
