"""Cross-app figures for the dashboards, the funder report and the end-of-programme evaluation.

``collect_figures`` reads everything a dashboard shows for some territories of a programme over a
period, in a fixed number of queries (eleven) whatever the number of sessions, people or links:
each query is filtered on the territories' ids, so that the cost follows this programme and not
the others of the instance. ``collect_report_extras`` adds what only the documents need (budget,
the list of sessions held, co-construction), in five more.

The figures are raw counts: masking the counts of persons is the presentation's job
(reports/blocks.py), since it depends on who reads.
"""

import datetime
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractYear, TruncDate
from django.utils import timezone

from tablee.activities.models import Attendance, Evaluation, Headcount, Session
from tablee.diagnostic.models import Meeting, Need, SurveyResponse
from tablee.directory.models import Sector, Structure
from tablee.network.models import Link
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionStatus,
    ConsultationSession,
    ParticipationLevel,
    Proposal,
    StakeholderGroup,
)
from tablee.territories.models import Programme, ProgrammeTerritory, SessionTarget

SOCIAL_SECTORS = frozenset({Sector.SOCIAL.value, Sector.MEDICO_SOCIAL.value})
HEALTH_SECTORS = frozenset({Sector.HEALTH.value})
NO_FINESS = "Sans catégorie FINESS"
HELD = Session.Status.HELD.value
PLANNED = Session.Status.PLANNED.value


# ---- Periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Days from ``start`` to ``end`` included; ``start`` None means "since the beginning"."""

    start: datetime.date | None
    end: datetime.date
    year: int | None = None
    whole_programme: bool = False

    @property
    def label(self) -> str:
        if self.year:
            return f"année {self.year}"
        if self.start is None:
            return f"jusqu'au {self.end:%d/%m/%Y}"
        return f"du {self.start:%d/%m/%Y} au {self.end:%d/%m/%Y}"

    @property
    def starts_at(self) -> datetime.datetime | None:
        if self.start is None:
            return None
        return _midnight(self.start)

    @property
    def ends_before(self) -> datetime.datetime:
        return _midnight(self.end + datetime.timedelta(days=1))

    def contains(self, day: datetime.date) -> bool:
        return (self.start is None or self.start <= day) and day <= self.end


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_current_timezone())


def programme_period(programme: Programme, year: int | None = None) -> Period:
    """The whole programme, or one of its years."""
    if year is None:
        return Period(programme.start_date, programme.end_date, whole_programme=True)
    return Period(datetime.date(year, 1, 1), datetime.date(year, 12, 31), year=year)


def up_to(day: datetime.date) -> Period:
    """Everything recorded until ``day`` included (the figures "at" a date)."""
    return Period(None, day)


# ---- Figures -----------------------------------------------------------------------------------


@dataclass
class LinkRow:
    pt_id: object
    structure_a: object
    structure_b: object
    sector_a: str
    sector_b: str
    started_on: datetime.date
    ended_on: datetime.date | None

    @property
    def social_structure(self):
        """The social or medico-social end of a social–health link (None for other links)."""
        if self.sector_a in SOCIAL_SECTORS and self.sector_b in HEALTH_SECTORS:
            return self.structure_a
        if self.sector_b in SOCIAL_SECTORS and self.sector_a in HEALTH_SECTORS:
            return self.structure_b
        return None

    def active_on(self, day: datetime.date) -> bool:
        return self.started_on <= day and (self.ended_on is None or self.ended_on >= day)


@dataclass
class Figures:
    """What happened on some territories of a programme over a period (raw counts)."""

    programme: Programme
    territories: list[ProgrammeTerritory]
    period: Period
    # (pt_id, audience, kind, status, year) -> sessions
    sessions: Counter = field(default_factory=Counter)
    targets: dict = field(default_factory=dict)  # (dimension, key) -> value
    # (pt_id, audience) -> people reached (named attendances + headcounts) at held sessions
    people: Counter = field(default_factory=Counter)
    people_by_session: Counter = field(default_factory=Counter)
    # (pt_id, structure_id) -> (sector, FINESS label) for structures reached
    structures: dict = field(default_factory=dict)
    needs_identified: Counter = field(default_factory=Counter)  # pt_id -> needs
    needs_addressed: Counter = field(default_factory=Counter)  # pt_id -> needs with an action
    # (pt_id, status) -> [actions, sum of progress × weight, sum of weights]
    actions: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0, 0]))
    links: list[LinkRow] = field(default_factory=list)
    social_structures: Counter = field(default_factory=Counter)  # pt_id -> in the directory
    # (pt_id, audience) -> [answers, sum of satisfaction]
    evaluations: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    fies_answers: Counter = field(default_factory=Counter)  # pt_id -> anonymous answers

    # -- sessions --

    def session_count(self, status: str, *, pt_id=None, audience=None, year=None, kind=None):
        return sum(
            n
            for (pt, aud, knd, st, yr), n in self.sessions.items()
            if st == status
            and (pt_id is None or pt == pt_id)
            and (audience is None or aud == audience)
            and (year is None or yr == year)
            and (kind is None or knd == kind)
        )

    def target(self, dimension: str, key: str) -> int | None:
        return self.targets.get((dimension, str(key)))

    # -- people --

    def people_count(self, *, pt_id=None, audience=None) -> int:
        return sum(
            n
            for (pt, aud), n in self.people.items()
            if (pt_id is None or pt == pt_id) and (audience is None or aud == audience)
        )

    # -- structures --

    def structures_reached(self, *, pt_id=None) -> dict:
        """structure id -> (sector, FINESS label), each structure once."""
        return {
            structure: info
            for (pt, structure), info in self.structures.items()
            if pt_id is None or pt == pt_id
        }

    # -- needs and actions --

    def needs(self, *, pt_id=None) -> tuple[int, int]:
        """(needs identified, needs addressed by at least one action)."""
        if pt_id is None:
            return sum(self.needs_identified.values()), sum(self.needs_addressed.values())
        return self.needs_identified[pt_id], self.needs_addressed[pt_id]

    def action_count(self, *, pt_id=None, status=None) -> int:
        return sum(
            row[0]
            for (pt, st), row in self.actions.items()
            if (pt_id is None or pt == pt_id) and (status is None or st == status)
        )

    def action_progress(self, *, pt_id=None, status=None) -> float | None:
        """Average progress weighted by the actions' weights (abandoned actions left out)."""
        weighted = weights = 0
        for (pt, st), (_, progress, weight) in self.actions.items():
            if (pt_id is None or pt == pt_id) and (status is None or st == status):
                if status is None and st == ActionStatus.ABANDONED:
                    continue
                weighted += progress
                weights += weight
        return weighted / weights if weights else None

    # -- links --

    def social_health_links(self, day: datetime.date, *, pt_id=None) -> int:
        return sum(
            1
            for link in self.links
            if link.social_structure is not None
            and link.active_on(day)
            and (pt_id is None or link.pt_id == pt_id)
        )

    def active_links(self, day: datetime.date, *, pt_id=None) -> int:
        return sum(
            1
            for link in self.links
            if link.active_on(day) and (pt_id is None or link.pt_id == pt_id)
        )

    def social_linked_share(self, day: datetime.date, *, pt_id=None) -> tuple[int, int]:
        """(social and medico-social structures with a social–health link on ``day``, all of them
        in the territories' directory)."""
        linked = {
            (link.pt_id, link.social_structure)
            for link in self.links
            if link.social_structure is not None
            and link.active_on(day)
            and (pt_id is None or link.pt_id == pt_id)
        }
        total = sum(n for pt, n in self.social_structures.items() if pt_id is None or pt == pt_id)
        return len(linked), total

    # -- questionnaires --

    def evaluation_summary(self, *, pt_id=None, audience=None) -> tuple[int, float | None]:
        """(answers, mean satisfaction out of 5)."""
        answers = total = 0
        for (pt, aud), (n, satisfaction) in self.evaluations.items():
            if (pt_id is None or pt == pt_id) and (audience is None or aud == audience):
                answers += n
                total += satisfaction
        return answers, (total / answers if answers else None)

    def fies_count(self, *, pt_id=None) -> int:
        return sum(n for pt, n in self.fies_answers.items() if pt_id is None or pt == pt_id)

    @property
    def links_day(self) -> datetime.date:
        """The day the links are counted "now": the end of the period, or today if sooner."""
        return min(self.period.end, timezone.localdate())

    @property
    def is_empty(self) -> bool:
        return not (
            self.sessions
            or self.people
            or self.structures
            or self.needs_identified
            or self.actions
            or self.evaluations
            or self.fies_answers
        )


def _in_period(queryset, field_name: str, period: Period, *, is_date: bool = False):
    if is_date:
        if period.start is not None:
            queryset = queryset.filter(**{f"{field_name}__gte": period.start})
        return queryset.filter(**{f"{field_name}__lte": period.end})
    if period.starts_at is not None:
        queryset = queryset.filter(**{f"{field_name}__gte": period.starts_at})
    return queryset.filter(**{f"{field_name}__lt": period.ends_before})


def held_sessions(pt_ids, period: Period):
    """The sessions held on the territories during the period (a queryset used as a subquery)."""
    return _in_period(
        Session.objects.filter(programme_territory_id__in=pt_ids, status=HELD), "starts_at", period
    )


def collect_figures(
    programme: Programme, territories: Sequence[ProgrammeTerritory], period: Period
) -> Figures:
    """The figures of ``territories`` (of ``programme``) over ``period``, in eleven queries:
    sessions, targets, named attendances, headcounts, structures reached, needs, actions, links,
    social structures of the directory, evaluations and questionnaire answers."""
    territories = list(territories)
    figures = Figures(programme=programme, territories=territories, period=period)
    pt_ids = [pt.pk for pt in territories]
    held = held_sessions(pt_ids, period).values("pk")

    sessions = (
        _in_period(Session.objects.filter(programme_territory_id__in=pt_ids), "starts_at", period)
        .annotate(year=ExtractYear("starts_at"))
        .values_list("programme_territory_id", "audience", "kind", "status", "year")
        .annotate(n=Count("id"))
        .order_by()
    )
    for pt, audience, kind, status, year, n in sessions:
        figures.sessions[(pt, audience, kind, status, year)] += n

    figures.targets = {
        (dimension, key): value
        for dimension, key, value in SessionTarget.objects.filter(programme=programme).values_list(
            "dimension", "key", "value"
        )
    }

    figures.people, figures.people_by_session = collect_people(pt_ids, period)

    reached = _structures_reached(pt_ids, held, period)
    for pt, structure, sector, finess in reached:
        figures.structures[(pt, structure)] = (sector, finess or NO_FINESS)

    _add_needs(figures, pt_ids, period)
    _add_actions(figures, pt_ids, period)

    links = Link.objects.filter(programme_territory_id__in=pt_ids).values_list(
        "programme_territory_id",
        "structure_a_id",
        "structure_b_id",
        "structure_a__sector",
        "structure_b__sector",
        "started_on",
        "ended_on",
    )
    figures.links = [LinkRow(*row) for row in links.order_by()]

    pt_by_epci = {pt.territory_id: pt.pk for pt in territories}
    social = (
        Structure.objects.filter(commune__territory_id__in=pt_by_epci, sector__in=SOCIAL_SECTORS)
        .values_list("commune__territory_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for epci, n in social:
        figures.social_structures[pt_by_epci[epci]] += n

    evaluations = (
        Evaluation.objects.filter(session__in=held)
        .values_list("session__programme_territory_id", "session__audience")
        .annotate(n=Count("id"), total=Sum("satisfaction"))
        .order_by()
    )
    for pt, audience, n, total in evaluations:
        figures.evaluations[(pt, audience)] = [n, total or 0]

    fies = (
        _in_period(
            SurveyResponse.objects.filter(survey__programme_territory_id__in=pt_ids),
            "created_at",
            period,
        )
        .values_list("survey__programme_territory_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for pt, n in fies:
        figures.fies_answers[pt] = n
    return figures


def collect_people(pt_ids, period: Period) -> tuple[Counter, Counter]:
    """People reached at the sessions held on the territories ``pt_ids`` (a list or a subquery)
    during the period: ((pt_id, audience) -> people, session_id -> people), in two queries.

    Named attendances are counted one by one. A session may also record anonymous headcounts: one
    for an audience, or the same people broken down by age band, by gender or by both. Each
    breakdown adds up to the same people, so the rows are summed per breakdown and the largest sum
    is kept, never the sum of the breakdowns.
    """
    people: Counter = Counter()
    by_session: Counter = Counter()
    held = held_sessions(pt_ids, period).values("pk")
    attendances = (
        Attendance.objects.filter(session__in=held)
        .values_list("session_id", "session__programme_territory_id", "audience")
        .annotate(n=Count("id"))
        .order_by()
    )
    for session, pt, audience, n in attendances:
        people[(pt, audience)] += n
        by_session[session] += n

    breakdown = Case(
        When(age_band="", gender="", then=Value(0)),
        When(gender="", then=Value(1)),
        When(age_band="", then=Value(2)),
        default=Value(3),
        output_field=IntegerField(),
    )
    rows = (
        Headcount.objects.filter(session__in=held)
        .annotate(breakdown=breakdown)
        .values_list("session_id", "session__programme_territory_id", "audience", "breakdown")
        .annotate(total=Sum("count"))
        .order_by()
    )
    largest: dict = {}
    for session, pt, audience, _, total in rows:
        key = (session, pt, audience)
        largest[key] = max(largest.get(key, 0), total or 0)
    for (session, pt, audience), total in largest.items():
        people[(pt, audience)] += total
        by_session[session] += total
    return people, by_session


def _structures_reached(pt_ids, held, period: Period):
    """(pt, structure, sector, FINESS label) of the structures that hosted, co-organised or attended
    a held session, or were met during the period: one query (a UNION)."""
    columns = ["structure__sector", "structure__finess_category__label"]
    hosts = Session.host_structures.through.objects.filter(session__in=held).values_list(
        "session__programme_territory_id", "structure_id", *columns
    )
    partners = Session.partner_structures.through.objects.filter(session__in=held).values_list(
        "session__programme_territory_id", "structure_id", *columns
    )
    attendees = (
        Attendance.objects.filter(session__in=held, structure__isnull=False)
        .values_list("session__programme_territory_id", "structure_id", *columns)
        .order_by()
    )
    met = _in_period(
        Meeting.structures.through.objects.filter(meeting__programme_territory_id__in=pt_ids),
        "meeting__date",
        period,
        is_date=True,
    ).values_list("meeting__programme_territory_id", "structure_id", *columns)
    return hosts.order_by().union(partners.order_by(), attendees, met.order_by())


def _add_needs(figures: Figures, pt_ids, period: Period) -> None:
    """Needs identified during the period (on the date of their meeting, else of their recording),
    and those addressed by an action started by the end of the period (and not abandoned)."""
    actions = Action.needs.through.objects.filter(need_id=OuterRef("pk")).exclude(
        action__status=ActionStatus.ABANDONED
    )
    actions = actions.filter(
        Q(action__start_date__lte=period.end)
        | Q(action__start_date__isnull=True, action__created_at__lt=period.ends_before)
    )
    needs = Need.objects.filter(programme_territory_id__in=pt_ids).annotate(
        identified_on=Coalesce("meeting__date", TruncDate("created_at")),
        addressed=Exists(actions),
    )
    needs = _in_period(needs, "identified_on", period, is_date=True)
    rows = (
        needs.values_list("programme_territory_id", "addressed").annotate(n=Count("id")).order_by()
    )
    for pt, addressed, n in rows:
        figures.needs_identified[pt] += n
        if addressed:
            figures.needs_addressed[pt] += n


def _add_actions(figures: Figures, pt_ids, period: Period) -> None:
    """The actions running at some point of the period (undated ones always), by status."""
    actions = Action.objects.filter(plan__programme_territory_id__in=pt_ids).filter(
        Q(start_date__isnull=True) | Q(start_date__lte=period.end)
    )
    if period.start is not None:
        actions = actions.filter(Q(end_date__isnull=True) | Q(end_date__gte=period.start))
    rows = (
        actions.values_list("plan__programme_territory_id", "status")
        .annotate(n=Count("id"), weighted=Sum(F("progress") * F("weight")), weights=Sum("weight"))
        .order_by()
    )
    for pt, status, n, weighted, weights in rows:
        figures.actions[(pt, status)] = [n, weighted or 0, weights or 0]


# ---- What only the documents need -------------------------------------------------------------


@dataclass
class HeldSession:
    pk: object
    pt_id: object
    starts_at: datetime.datetime
    title: str
    audience: str
    kind: str
    place: str
    commune_code: str
    format_id: object


@dataclass
class ReportExtras:
    # (year, funder) -> [planned, spent]
    budget: dict = field(default_factory=lambda: defaultdict(lambda: [Decimal(0), Decimal(0)]))
    held_sessions: list[HeldSession] = field(default_factory=list)
    consultations: Counter = field(default_factory=Counter)  # pt_id -> sessions in the period
    proposals_from_people: Counter = field(default_factory=Counter)  # pt_id -> proposals
    co_constructed_actions: Counter = field(default_factory=Counter)  # pt_id -> actions
    pat_actions: Counter = field(default_factory=Counter)  # pt_id -> actions with a PAT axis

    def formats_used(self) -> int:
        return len({session.format_id for session in self.held_sessions})

    def communes_reached(self) -> int:
        return len({s.commune_code for s in self.held_sessions if s.commune_code})


def collect_report_extras(figures: Figures) -> ReportExtras:
    """Budget lines, the list of held sessions and the co-construction counts, in four queries."""
    extras = ReportExtras()
    period = figures.period
    pt_ids = [pt.pk for pt in figures.territories]

    budget = (
        ActionBudgetLine.objects.filter(action__plan__programme_territory_id__in=pt_ids)
        .filter(year__lte=period.end.year)
        .values_list("year", "funder")
        .annotate(planned=Sum("planned"), spent=Sum("spent"))
        .order_by("year", "funder")
    )
    if period.start is not None:
        budget = budget.filter(year__gte=period.start.year)
    for year, funder, planned, spent in budget:
        extras.budget[(year, funder)] = [planned or Decimal(0), spent or Decimal(0)]

    sessions = (
        held_sessions(pt_ids, period)
        .annotate(
            place_name=F("place_structure__name"),
            commune_name=F("commune__name"),
            place_commune=F("place_structure__commune_id"),
        )
        .values_list(
            "pk",
            "programme_territory_id",
            "starts_at",
            "title",
            "audience",
            "kind",
            "place_name",
            "place_address",
            "commune_name",
            "commune_id",
            "place_commune",
            "format_id",
        )
        .order_by("starts_at", "title")
    )
    for row in sessions:
        (pk, pt, starts, title, audience, kind, place_name, address, commune, code, place_code) = (
            row[:11]
        )
        place = ", ".join(part for part in (place_name or address, commune) if part)
        extras.held_sessions.append(
            HeldSession(
                pk=pk,
                pt_id=pt,
                starts_at=starts,
                title=title,
                audience=audience,
                kind=kind,
                place=place,
                commune_code=code or place_code or "",
                format_id=row[11],
            )
        )

    consultations = _in_period(
        ConsultationSession.objects.filter(programme_territory_id__in=pt_ids),
        "date",
        period,
        is_date=True,
    )
    for pt, n in (
        consultations.values_list("programme_territory_id").annotate(n=Count("id")).order_by()
    ):
        extras.consultations[pt] = n

    proposals = _in_period(
        Proposal.objects.filter(
            programme_territory_id__in=pt_ids, origin_group=StakeholderGroup.PEOPLE
        ),
        "created_at",
        period,
    )
    for pt, n in proposals.values_list("programme_territory_id").annotate(n=Count("id")).order_by():
        extras.proposals_from_people[pt] = n

    actions = (
        Action.objects.filter(plan__programme_territory_id__in=pt_ids)
        .exclude(status=ActionStatus.ABANDONED)
        .values_list("plan__programme_territory_id")
        .annotate(
            co=Count("id", filter=Q(participation_level=ParticipationLevel.CO_CONSTRUCTION)),
            pat=Count("id", filter=~Q(pat_axis="")),
        )
        .order_by()
    )
    for pt, co, pat in actions:
        extras.co_constructed_actions[pt] = co
        extras.pat_actions[pt] = pat
    return extras


def actions_done_on(territories: Sequence[ProgrammeTerritory], day: datetime.date) -> Counter:
    """pt_id -> actions whose status was "done" on ``day``, read from the actions' history (one
    query); the current statuses when ``day`` is today or later."""
    pt_ids = [pt.pk for pt in territories]
    if day >= timezone.localdate():
        rows = (
            Action.objects.filter(plan__programme_territory_id__in=pt_ids, status=ActionStatus.DONE)
            .values_list("plan__programme_territory_id")
            .annotate(n=Count("id"))
            .order_by()
        )
        return Counter(dict(rows))
    plans = dict(
        ProgrammeTerritory.objects.filter(pk__in=pt_ids).values_list("action_plan__id", "pk")
    )
    history = (
        Action.history.filter(history_date__lt=_midnight(day + datetime.timedelta(days=1)))
        .filter(plan_id__in=[plan for plan in plans if plan])
        .latest_of_each()
        .exclude(history_type="-")
        .filter(status=ActionStatus.DONE)
        .values_list("plan_id")
        .annotate(n=Count("history_id"))
        .order_by()
    )
    counts = Counter()
    for plan, n in history:
        counts[plans[plan]] += n
    return counts
