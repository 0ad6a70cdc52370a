"""Reads of workshops and trainings: the sessions a user may see, the exact filters of the session
lists, the counts of a session, and the progress towards the programme's targets.

The reports app reuses ``filter_sessions``, ``target_progress`` and ``year_forecast``: a figure of a
dashboard links to the session list with the same filters, so both must count the same sessions.

Which sessions count towards a target:

- *réalisées* (held): status ``held``;
- *programmées* (planned): status ``planned`` or ``postponed`` (a postponed session is still to be
  delivered, on its new date or on one to be set);
- cancelled sessions count nowhere;
- a session belongs to the year of its start, in the project's time zone (Europe/Paris).
"""

import calendar
import datetime
from collections import Counter
from dataclasses import dataclass, field

from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce, ExtractYear
from django.utils import timezone

from tablee.activities.models import Attendance, Evaluation, Headcount, Registration, Session
from tablee.territories.models import Audience, ProgrammeTerritory, SessionTarget

HELD_STATUSES = (Session.Status.HELD,)
PLANNED_STATUSES = (Session.Status.PLANNED, Session.Status.POSTPONED)


# ---- Time ---------------------------------------------------------------------------------------


def local_midnight(day: datetime.date) -> datetime.datetime:
    """The aware datetime at which ``day`` starts in the project's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


def year_bounds(year: int) -> tuple[datetime.datetime, datetime.datetime]:
    """[1 January 00:00, next 1 January 00:00) of ``year`` in local time: a range the
    (territory, start) index serves, where ``starts_at__year`` would wrap the column in a function."""
    return local_midnight(datetime.date(year, 1, 1)), local_midnight(datetime.date(year + 1, 1, 1))


# ---- Scope and filters --------------------------------------------------------------------------


def sessions_for_user(user, programme=None):
    """Sessions of the programme territories the user may open (of ``programme`` if given)."""
    territories = ProgrammeTerritory.objects.for_user(user)
    if programme is not None:
        territories = territories.filter(programme=programme)
    return Session.objects.filter(programme_territory__in=territories.values("pk"))


def filter_sessions(
    sessions,
    *,
    statuses=(),
    audience: str = "",
    year: int | None = None,
    kind: str = "",
    format_id=None,
    action_id=None,
    programme_territory_id=None,
):
    """``sessions`` restricted exactly as the GET filters of the session lists say:
    ``statut`` (one or several statuses), ``public``, ``annee`` (year of the start, local time),
    ``type``, ``format``, ``action`` and ``territoire``. An empty value does not filter."""
    if statuses:
        sessions = sessions.filter(status__in=list(statuses))
    if audience:
        sessions = sessions.filter(audience=audience)
    if year:
        start, end = year_bounds(year)
        sessions = sessions.filter(starts_at__gte=start, starts_at__lt=end)
    if kind:
        sessions = sessions.filter(kind=kind)
    if format_id:
        sessions = sessions.filter(format_id=format_id)
    if action_id:
        sessions = sessions.filter(action_id=action_id)
    if programme_territory_id:
        sessions = sessions.filter(programme_territory_id=programme_territory_id)
    return sessions


def _count_of(model, **conditions):
    rows = (
        model.objects.filter(session=OuterRef("pk"), **conditions)
        .order_by()
        .values("session")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))


def with_counts(sessions):
    """Annotate each session with its registrations (confirmed, waiting), named attendances,
    anonymous headcount total and evaluations: one query however many sessions."""
    headcount = (
        Headcount.objects.filter(session=OuterRef("pk"))
        .order_by()
        .values("session")
        .annotate(n=Sum("count"))
        .values("n")
    )
    return sessions.annotate(
        confirmed_count=_count_of(Registration, status=Registration.Status.CONFIRMED),
        waiting_count=_count_of(Registration, status=Registration.Status.WAITING),
        attendance_count=_count_of(Attendance),
        headcount_total=Coalesce(Subquery(headcount, output_field=IntegerField()), Value(0)),
        evaluation_count=_count_of(Evaluation),
    )


def sessions_of_action(action):
    """The sessions that deliver a plan action (traceability: action → sessions), in date order,
    with their territory; the action's page links to ``activities:session_list?action=<id>``."""
    return (
        Session.objects.filter(action=action)
        .select_related("programme_territory__territory", "format")
        .order_by("starts_at", "pk")
    )


def action_session_counts(action) -> dict[str, int]:
    """Held, planned (with postponed) and cancelled sessions of an action: one query."""
    return Session.objects.filter(action=action).aggregate(
        held=Count("pk", filter=Q(status__in=HELD_STATUSES)),
        planned=Count("pk", filter=Q(status__in=PLANNED_STATUSES)),
        cancelled=Count("pk", filter=Q(status=Session.Status.CANCELLED)),
    )


def confirmed_registrations(session) -> int:
    return session.registrations.filter(status=Registration.Status.CONFIRMED).count()


# ---- Targets ------------------------------------------------------------------------------------


@dataclass
class ProgressLine:
    """Progress towards one target: ``target`` is None when the programme set none."""

    label: str
    target: int | None
    held: int = 0
    planned: int = 0
    key: str = ""  # the value to filter the session lists on (audience, year, territory id)
    behind: bool = False
    pro_rata: int | None = None  # for territories: the target pro rata of the elapsed period

    @property
    def remaining(self) -> int | None:
        """Sessions still to schedule: target − held − planned, never below zero."""
        if self.target is None:
            return None
        return max(self.target - self.held - self.planned, 0)

    @property
    def percent_held(self) -> int | None:
        if not self.target:
            return None
        return round(100 * self.held / self.target)

    @property
    def bar_value(self) -> int:
        """The progress bar's value, capped at the target (the text says when it is exceeded)."""
        return min(self.held, self.target or 0)


@dataclass
class YearForecast:
    """Where ``year`` ends at the current pace.

    ``at_pace`` = held so far this year ÷ elapsed days × days in the year (rounded);
    ``with_planned`` = held so far + planned sessions of the year. They are shown side by side:
    adding the planned sessions to the pace projection would count the rest of the year twice.
    """

    year: int
    target: int | None
    held: int
    planned: int
    elapsed_days: int
    days_in_year: int

    @property
    def at_pace(self) -> int:
        if self.elapsed_days == 0:
            return 0
        return round(self.held / self.elapsed_days * self.days_in_year)

    @property
    def with_planned(self) -> int:
        return self.held + self.planned

    @property
    def reaches_target(self) -> bool | None:
        if self.target is None:
            return None
        return max(self.at_pace, self.with_planned) >= self.target


@dataclass
class TargetProgress:
    """Everything the targets page shows; plain data, reused by the reports."""

    total: ProgressLine
    territories: list[ProgressLine] = field(default_factory=list)
    audiences: list[ProgressLine] = field(default_factory=list)
    years: list[ProgressLine] = field(default_factory=list)
    forecast: YearForecast | None = None
    elapsed_share: float = 0.0  # share of the programme period elapsed at ``today``

    @property
    def behind(self) -> list[ProgressLine]:
        return [line for line in self.territories if line.behind]


def programme_elapsed_share(programme, today: datetime.date) -> float:
    """The share of the programme period elapsed at the end of ``today`` (0 before, 1 after)."""
    total_days = (programme.end_date - programme.start_date).days + 1
    elapsed = (today - programme.start_date).days + 1
    return min(max(elapsed, 0), total_days) / total_days


def is_behind(*, target: int, held: int, planned: int, elapsed_share: float) -> bool:
    """A territory falls behind when its held and planned sessions together stay under its
    target pro rata of the programme period elapsed (target × elapsed days ÷ period days,
    rounded down). A territory without a target is never behind."""
    if target <= 0:
        return False
    return held + planned < int(target * elapsed_share)


def _session_counts(programme, programme_territories=None) -> Counter:
    """Held and planned sessions of the programme grouped by (territory, status group, audience,
    year): one query."""
    sessions = Session.objects.filter(
        programme_territory__programme=programme, status__in=[*HELD_STATUSES, *PLANNED_STATUSES]
    )
    rows = (
        sessions.order_by()
        .values("programme_territory_id", "status", "audience", year=ExtractYear("starts_at"))
        .annotate(n=Count("pk"))
    )
    counts = Counter()
    for row in rows:
        group = "held" if row["status"] in HELD_STATUSES else "planned"
        counts[(row["programme_territory_id"], group, row["audience"], row["year"])] += row["n"]
    return counts


def _sum(counts: Counter, group: str, *, pt=None, audience=None, year=None) -> int:
    return sum(
        n
        for (pt_id, kind, aud, yr), n in counts.items()
        if kind == group
        and (pt is None or pt_id == pt)
        and (audience is None or aud == audience)
        and (year is None or yr == year)
    )


def target_progress(
    programme, *, today: datetime.date, programme_territories=None
) -> TargetProgress:
    """Progress towards the programme's targets at ``today``: the total (``target_sessions``),
    each territory (``ProgrammeTerritory.target_sessions``, limited to ``programme_territories``
    when given: the user's scope), each audience and each year (``SessionTarget`` rows; every
    audience and every year of the programme is listed, with ``target`` None where none is set),
    and the forecast of the current year. Three queries: territories, targets, grouped counts."""
    if programme_territories is None:
        programme_territories = programme.territories.all()
    territories = list(programme_territories.select_related("territory"))
    targets = {
        (t.dimension, t.key): t.value for t in SessionTarget.objects.filter(programme=programme)
    }
    counts = _session_counts(programme)
    share = programme_elapsed_share(programme, today)

    total = ProgressLine(
        "Tout le programme",
        programme.target_sessions or None,
        held=_sum(counts, "held"),
        planned=_sum(counts, "planned"),
    )
    territory_lines = []
    for pt in territories:
        line = ProgressLine(
            pt.territory.name,
            pt.target_sessions or None,
            held=_sum(counts, "held", pt=pt.pk),
            planned=_sum(counts, "planned", pt=pt.pk),
            key=str(pt.pk),
        )
        if pt.target_sessions:
            line.pro_rata = int(pt.target_sessions * share)
            line.behind = is_behind(
                target=pt.target_sessions,
                held=line.held,
                planned=line.planned,
                elapsed_share=share,
            )
        territory_lines.append(line)
    audience_lines = [
        ProgressLine(
            audience.label,
            targets.get((SessionTarget.Dimension.AUDIENCE, audience.value)),
            held=_sum(counts, "held", audience=audience.value),
            planned=_sum(counts, "planned", audience=audience.value),
            key=audience.value,
        )
        for audience in Audience
    ]
    year_lines = [
        ProgressLine(
            str(year),
            targets.get((SessionTarget.Dimension.YEAR, str(year))),
            held=_sum(counts, "held", year=year),
            planned=_sum(counts, "planned", year=year),
            key=str(year),
        )
        for year in programme.years
    ]
    forecast = None
    if today.year in programme.years:
        forecast = _forecast(
            today,
            target=targets.get((SessionTarget.Dimension.YEAR, str(today.year))),
            held=_sum(counts, "held", year=today.year),
            planned=_sum(counts, "planned", year=today.year),
        )
    return TargetProgress(
        total=total,
        territories=territory_lines,
        audiences=audience_lines,
        years=year_lines,
        forecast=forecast,
        elapsed_share=share,
    )


def _forecast(today: datetime.date, *, target, held: int, planned: int) -> YearForecast:
    days_in_year = 366 if calendar.isleap(today.year) else 365
    elapsed = (today - datetime.date(today.year, 1, 1)).days + 1
    return YearForecast(
        year=today.year,
        target=target,
        held=held,
        planned=planned,
        elapsed_days=elapsed,
        days_in_year=days_in_year,
    )


def year_forecast(programme, *, today: datetime.date, programme_territory=None) -> YearForecast:
    """Where the year of ``today`` ends at the current pace, for the programme or one of its
    territories (see ``YearForecast``). The year's target is the programme's ``SessionTarget``
    of that year (None for a territory: its target covers the whole period). One or two
    queries."""
    start, end = year_bounds(today.year)
    sessions = Session.objects.filter(
        programme_territory__programme=programme, starts_at__gte=start, starts_at__lt=end
    )
    target = None
    if programme_territory is not None:
        sessions = sessions.filter(programme_territory=programme_territory)
    else:
        row = SessionTarget.objects.filter(
            programme=programme, dimension=SessionTarget.Dimension.YEAR, key=str(today.year)
        ).first()
        target = row.value if row else None
    figures = sessions.aggregate(
        held=Count("pk", filter=Q(status__in=HELD_STATUSES)),
        planned=Count("pk", filter=Q(status__in=PLANNED_STATUSES)),
    )
    return _forecast(today, target=target, held=figures["held"], planned=figures["planned"])
