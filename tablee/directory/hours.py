"""Opening hours in the OpenStreetMap ``opening_hours`` syntax, as data·inclusion stores them.

The syntax is read by the opening-hours-py library (``opening_hours``); nothing here parses it.
To show hours in plain French, the expression is evaluated over a reference week and the open
intervals of each day are described ("lundi au vendredi : 9 h–12 h, 14 h–17 h"). An expression
that one week cannot express (summer hours, every other week, sunrise) is shown as written.

Every function is pure and cached on the expression: lists and maps call them once per row.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import opening_hours
from django.core.exceptions import ValidationError

MAX_LENGTH = 500
EXAMPLE = "Mo-Fr 09:00-12:00,14:00-17:00"
COUNTRY = "FR"  # the calendar of public holidays ("PH")
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
MINUTES_PER_DAY = 24 * 60

# Mondays of weeks without a French public holiday, one per month: the first one is "the"
# reference week, the others only tell whether the hours change with the season or the week.
REFERENCE_MONDAYS = [
    date(2025, 1, 13),
    date(2025, 2, 10),
    date(2025, 3, 10),
    date(2025, 4, 7),
    date(2025, 5, 12),
    date(2025, 6, 16),
    date(2025, 7, 21),
    date(2025, 8, 18),
    date(2025, 9, 15),
    date(2025, 10, 13),
    date(2025, 11, 17),
    date(2025, 12, 8),
]
# Two French public holidays in different months for each weekday (Monday first): the hours of
# both are compared with the ordinary week, so that "Dec 25 off" is not mistaken for "PH off".
PUBLIC_HOLIDAYS = [
    (date(2025, 7, 14), date(2026, 5, 25)),  # fête nationale, lundi de Pentecôte
    (date(2025, 11, 11), date(2026, 7, 14)),  # armistice, fête nationale
    (date(2025, 1, 1), date(2026, 11, 11)),  # jour de l'an, armistice
    (date(2025, 12, 25), date(2025, 5, 29)),  # Noël, Ascension
    (date(2025, 8, 15), date(2026, 5, 1)),  # Assomption, fête du travail
    (date(2025, 11, 1), date(2026, 8, 15)),  # Toussaint, Assomption
    (date(2026, 11, 1), date(2027, 8, 15)),  # Toussaint, Assomption
]
# Without coordinates the library puts sunrise at 07:00 and sunset at 19:00 all year round, which
# would read as fixed hours: such expressions are shown as written.
# An open end ("18:00+") reads as open until midnight: shown as written too.
NOT_WEEKLY_MARKS = ("sunrise", "sunset", "dawn", "dusk", "+")

# One open interval of a day, in minutes from midnight; the end may pass 24 h for overnight hours.
Interval = tuple[int, int, str]
DaySchedule = tuple[Interval, ...]


def validate_opening_hours(value: str) -> str:
    """Return the normalised form of an OSM opening hours expression, or raise ValidationError.

    ``"mo-fr 9:00-12:00"`` gives ``"Mo-Fr 09:00-12:00"``; an empty value gives ``""``.
    """
    text = " ".join((value or "").split())
    if not text:
        return ""
    if len(text) > MAX_LENGTH:
        raise ValidationError(
            "Horaires trop longs : %(length)s caractères pour %(max)s au plus.",
            code="too_long",
            params={"length": len(text), "max": MAX_LENGTH},
        )
    parsed = _parse(text)
    if parsed is None:
        raise ValidationError(
            "Horaires illisibles : « %(value)s ». Utilisez la syntaxe OpenStreetMap, "
            "par exemple « %(example)s ».",
            code="invalid_opening_hours",
            params={"value": text, "example": EXAMPLE},
        )
    return _normalise(parsed, text)


def describe_opening_hours(value: str) -> list[str]:
    """Plain French lines for an opening hours expression, one per group of days.

    ``"Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:00"`` gives
    ``["lundi au vendredi : 9 h–12 h, 14 h–17 h", "samedi : 10 h–12 h", "dimanche : fermé"]``.
    An empty value gives ``[]``; an expression that a single week cannot express (or that cannot
    be read) gives ``["Horaires : <the expression>"]``.
    """
    return list(_describe(" ".join((value or "").split())))


def is_open_on(value: str, weekday: int) -> bool:
    """Whether the place is open at some time on ``weekday`` (0 = Monday) of the reference week.

    Overnight hours count for the day they start on. Hours that change through the year count
    when the place opens that weekday in any month; unreadable hours never count.
    """
    return weekday in open_weekdays(value)


def open_weekdays(value: str) -> frozenset[int]:
    """The weekdays (0 = Monday) on which the place opens at some time (see ``is_open_on``)."""
    return _open_weekdays(" ".join((value or "").split()))


# --- Evaluation over the reference weeks -------------------------------------------------------


@dataclass(frozen=True)
class _Week:
    days: tuple[DaySchedule, ...]  # seven day schedules, Monday first
    varies: bool  # the schedule is not the same in every reference week
    # Schedules on public holidays: per weekday, the distinct schedules of its two holidays.
    holidays: tuple[frozenset[DaySchedule], ...] | None


def _parse(text: str):
    try:
        return opening_hours.OpeningHours(text, country=COUNTRY, auto_country=False)
    except Exception:  # ParserError, and other errors the library may raise on odd input
        return None


def _normalise(parsed, text: str) -> str:
    try:
        normalised = str(parsed.normalize())
    except Exception:  # normalisation is a nicety: keep the valid expression as typed
        return text
    # Merging rules may lengthen an expression past what the field holds.
    return normalised if len(normalised) <= MAX_LENGTH else text


@lru_cache(maxsize=4096)
def _week(text: str) -> _Week | None:
    parsed = _parse(text) if text else None
    if parsed is None:
        return None
    weeks = [_days_of_week(parsed, monday) for monday in REFERENCE_MONDAYS]
    reference = weeks[0]
    varies = any(week != reference for week in weeks[1:])
    holidays = None
    if not varies:
        holidays = tuple(
            frozenset(_day_schedule(parsed, holiday) for holiday in pair)
            for pair in PUBLIC_HOLIDAYS
        )
    return _Week(days=reference, varies=varies, holidays=holidays)


def _days_of_week(parsed, monday: date) -> tuple[DaySchedule, ...]:
    start = datetime.combine(monday, datetime.min.time())
    return _split_by_day(parsed, start, days=7)


def _day_schedule(parsed, day: date) -> DaySchedule:
    start = datetime.combine(day, datetime.min.time())
    return _split_by_day(parsed, start, days=1)[0]


def _split_by_day(parsed, start: datetime, *, days: int) -> tuple[DaySchedule, ...]:
    """Open intervals between ``start`` and ``days`` later, cut at each midnight."""
    end = start + timedelta(days=days)
    per_day: list[list[Interval]] = [[] for _ in range(days)]
    for begin, finish, state, comment in parsed.intervals(start, end):
        if state != opening_hours.State.OPEN:
            continue
        cursor = begin
        while cursor < finish:
            index = (cursor - start).days
            midnight = start + timedelta(days=index + 1)
            piece_end = min(finish, midnight)
            day_start = start + timedelta(days=index)
            per_day[index].append(
                (
                    _minutes(cursor - day_start),
                    _minutes(piece_end - day_start),
                    comment.strip(),
                )
            )
            cursor = piece_end
    return tuple(tuple(day) for day in per_day)


def _minutes(delta: timedelta) -> int:
    return int(delta.total_seconds() // 60)


def _join_overnight(days: tuple[DaySchedule, ...]) -> list[list[Interval]]:
    """Show "lundi : 19 h–8 h" rather than "lundi : 19 h–24 h" and "mardi : 0 h–8 h".

    The week repeats, so Sunday night continues on Monday morning.
    """
    joined = [list(day) for day in days]
    for index in range(7):
        today, tomorrow = joined[index], joined[(index + 1) % 7]
        if not today or not tomorrow or today is tomorrow:
            continue
        last, first = today[-1], tomorrow[0]
        ends_at_midnight = last[1] == MINUTES_PER_DAY and last[0] > 0
        starts_at_midnight = first[0] == 0 and first[1] < MINUTES_PER_DAY
        if ends_at_midnight and starts_at_midnight and last[2] == first[2]:
            today[-1] = (last[0], MINUTES_PER_DAY + first[1], last[2])
            tomorrow.pop(0)
    return joined


@lru_cache(maxsize=4096)
def _open_weekdays(text: str) -> frozenset[int]:
    week = _week(text)
    if week is None:
        return frozenset()
    if week.varies:
        parsed = _parse(text)
        weeks = [_join_overnight(_days_of_week(parsed, monday)) for monday in REFERENCE_MONDAYS]
        return frozenset(weekday for weekday in range(7) if any(days[weekday] for days in weeks))
    days = _join_overnight(week.days)
    return frozenset(weekday for weekday in range(7) if days[weekday])


# --- French wording ----------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _describe(text: str) -> tuple[str, ...]:
    if not text:
        return ()
    raw = (f"Horaires : {text}",)
    week = _week(text)
    if week is None or week.varies:
        return raw
    canonical = str(_parse(text)).lower()
    if any(mark in canonical for mark in NOT_WEEKLY_MARKS):
        return raw
    days = _join_overnight(week.days)
    if all(day == [(0, MINUTES_PER_DAY, "")] for day in days):
        lines = ["tous les jours, 24 h sur 24"]
    elif not any(days):
        lines = ["fermé tous les jours"]
    else:
        lines = _day_group_lines(days)
    holiday_line = _holiday_line(week)
    if holiday_line is False:
        return raw
    if holiday_line:
        lines.append(holiday_line)
    return tuple(lines)


def _day_group_lines(days: list[list[Interval]]) -> list[str]:
    groups: dict[tuple[Interval, ...], list[int]] = {}
    for weekday, day in enumerate(days):
        groups.setdefault(tuple(day), []).append(weekday)
    lines = []
    # Opening days first, in weekday order; the closed days last.
    ordered = sorted(groups.items(), key=lambda item: (not item[0], item[1][0]))
    for schedule, weekdays in ordered:
        label = "tous les jours" if len(weekdays) == 7 else _weekdays_label(weekdays)
        lines.append(f"{label} : {_schedule_label(schedule)}")
    return lines


def _holiday_line(week: _Week) -> str | bool | None:
    """The line about public holidays, None when they change nothing, False when unclear."""
    ordinary = [tuple(day) for day in week.days]
    holidays = list(week.holidays or ())
    if any(len(schedules) != 1 for schedules in holidays):
        return False  # two holidays on the same weekday differ: a rule on dates, not on "PH"
    holiday_days = [next(iter(schedules)) for schedules in holidays]
    differing = [weekday for weekday in range(7) if holiday_days[weekday] != ordinary[weekday]]
    if not differing:
        return None
    kinds = {holiday_days[weekday] for weekday in differing}
    if len(kinds) != 1:
        return False
    schedule = kinds.pop()
    if not schedule:
        return "fermé les jours fériés"
    return f"jours fériés : {_schedule_label(schedule)}"


def _weekdays_label(weekdays: list[int]) -> str:
    """[0, 1, 2, 4] -> "lundi au mercredi et vendredi"; [5, 6] -> "samedi et dimanche"."""
    runs: list[list[int]] = []
    for weekday in weekdays:
        if runs and runs[-1][-1] == weekday - 1:
            runs[-1].append(weekday)
        else:
            runs.append([weekday])
    parts: list[str] = []
    for run in runs:
        if len(run) >= 3:
            parts.append(f"{WEEKDAYS[run[0]]} au {WEEKDAYS[run[-1]]}")
        else:
            parts.extend(WEEKDAYS[weekday] for weekday in run)
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} et {parts[-1]}"


def _schedule_label(schedule) -> str:
    if not schedule:
        return "fermé"
    pieces = []
    for start, end, comment in schedule:
        if (start, end) == (0, MINUTES_PER_DAY):
            piece = "24 h sur 24"
        else:
            piece = f"{_time_label(start)}–{_time_label(end)}"
        pieces.append(f"{piece} ({comment})" if comment else piece)
    return ", ".join(pieces)


def _time_label(minutes: int) -> str:
    """570 -> "9 h 30"; 720 -> "12 h"; 1440 -> "24 h"; past midnight 1920 -> "8 h"."""
    if minutes > MINUTES_PER_DAY:
        minutes -= MINUTES_PER_DAY
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"
