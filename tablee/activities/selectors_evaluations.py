"""Reads of the evaluations: the results of one session, and the results of many sessions grouped
by session, format, audience, territory or year.

The functions take a queryset of sessions, already restricted to what the reader may see, and
count in the database (one query per call, whatever the number of answers). The reports app reuses
them:

- ``evaluation_summary(sessions, group_by=...)`` -> a list of ``EvaluationGroup`` (true counts);
- ``evaluation_table(groups, masked=...)`` -> an ``EvaluationTable`` ready to show, where for a
  reader outside the association (``masked=True``) the groups of fewer than 11 answers are masked
  with secondary suppression (``tablee.core.disclosure``), their satisfaction and share hidden;
- ``session_results(session)`` -> everything the team sees about one session, free texts
  included (never shown outside the association).
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import ExtractYear
from django.utils import timezone
from django.utils.formats import date_format

from tablee.activities.models import Evaluation
from tablee.core.disclosure import THRESHOLD, is_masked, suppress
from tablee.territories.models import Audience

SATISFACTION_LEVELS = [1, 2, 3, 4, 5]
INTENTIONS = Evaluation.Intention


@dataclass(frozen=True)
class GroupBy:
    """How evaluations are grouped: the key of a group and the fields that name it."""

    key: str
    label_fields: tuple[str, ...]
    title: str
    column: str


GROUPINGS = {
    "session": GroupBy(
        "session_id",
        (
            "session__title",
            "session__starts_at",
            "session__programme_territory_id",
            "session__programme_territory__territory__name",
        ),
        "Par séance",
        "Séance",
    ),
    "format": GroupBy("session__format_id", ("session__format__name",), "Par format", "Format"),
    "audience": GroupBy("session__audience", (), "Par public", "Public"),
    "territory": GroupBy(
        "session__programme_territory_id",
        ("session__programme_territory__territory__name",),
        "Par territoire",
        "Territoire",
    ),
    "year": GroupBy("year", (), "Par année", "Année"),
}


def _mean(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _percent(part: int, whole: int) -> int | None:
    if not whole:
        return None
    return int((Decimal(100 * part) / whole).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


@dataclass
class EvaluationGroup:
    """The answers of one group of sessions (true counts: mask them with evaluation_table)."""

    key: object
    label: str
    answers: int
    sessions: int  # sessions with at least one answer
    satisfaction_total: int
    distribution: dict[int, int]  # satisfaction level -> answers
    intentions: dict[str, int]  # "yes", "maybe", "no" -> answers; unanswered left out
    detail: str = ""  # a second line for the label (date and territory of a session)
    order: object = None  # how groups sort: the label, a session's start, a year
    territory_id: object = None  # the programme territory of a session (for links)

    @property
    def mean_satisfaction(self) -> Decimal | None:
        """The mean satisfaction, rounded to one decimal; None without answers."""
        return _mean(self.satisfaction_total, self.answers)

    @property
    def intention_answers(self) -> int:
        return sum(self.intentions.values())

    @property
    def intending(self) -> int:
        return self.intentions.get(INTENTIONS.YES, 0)

    @property
    def share_intending(self) -> int | None:
        """The percentage of "yes" among the answers to the intention question."""
        return _percent(self.intending, self.intention_answers)


def _aggregates() -> dict:
    return {
        "answers": Count("id"),
        "sessions": Count("session_id", distinct=True),
        "satisfaction_total": Sum("satisfaction"),
        **{f"s{level}": Count("id", filter=Q(satisfaction=level)) for level in SATISFACTION_LEVELS},
        **{
            f"i_{value}": Count("id", filter=Q(intends_to_change=value))
            for value in INTENTIONS.values
        },
    }


def _group_from_row(row: dict, grouping: str) -> EvaluationGroup:
    spec = GROUPINGS[grouping]
    key = row[spec.key]
    detail = ""
    if grouping == "session":
        starts = timezone.localtime(row["session__starts_at"])
        label = row["session__title"]
        territory = row["session__programme_territory__territory__name"]
        detail = f"{date_format(starts, 'j F Y')} — {territory}"
    elif grouping == "format":
        label = row["session__format__name"]
    elif grouping == "audience":
        label = Audience(key).label if key in Audience.values else key
    elif grouping == "territory":
        label = row["session__programme_territory__territory__name"]
    else:
        label = str(key)
    return EvaluationGroup(
        key=key,
        label=label,
        detail=detail,
        answers=row["answers"],
        sessions=row["sessions"],
        satisfaction_total=row["satisfaction_total"] or 0,
        distribution={level: row[f"s{level}"] for level in SATISFACTION_LEVELS},
        intentions={value: row[f"i_{value}"] for value in INTENTIONS.values},
        territory_id=row["session__programme_territory_id"] if grouping == "session" else None,
        order=(
            (row["session__starts_at"], label, str(key))
            if grouping == "session"
            else key
            if grouping == "year"
            else (label.casefold(), str(key))
        ),
    )


def evaluation_summary(sessions, *, group_by: str) -> list[EvaluationGroup]:
    """The answers to the questionnaires of ``sessions`` (a Session queryset), grouped by
    ``group_by``: "session", "format", "audience", "territory" or "year" (of the session's start).

    One query. Groups without any answer are left out. Sessions come ordered by date, the other
    groups by label (years in order).
    """
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping: {group_by!r}")
    spec = GROUPINGS[group_by]
    evaluations = Evaluation.objects.filter(session__in=sessions).order_by()
    if group_by == "year":
        evaluations = evaluations.annotate(year=ExtractYear("session__starts_at"))
    rows = evaluations.values(spec.key, *spec.label_fields).annotate(**_aggregates())
    return sorted((_group_from_row(row, group_by) for row in rows), key=lambda g: g.order)


def evaluation_total(groups: list[EvaluationGroup]) -> EvaluationGroup:
    """All the groups together (the answers of a grouping add up to the same total)."""
    distribution = {level: 0 for level in SATISFACTION_LEVELS}
    intentions = {value: 0 for value in INTENTIONS.values}
    for group in groups:
        for level, n in group.distribution.items():
            distribution[level] += n
        for value, n in group.intentions.items():
            intentions[value] += n
    return EvaluationGroup(
        key=None,
        label="Ensemble",
        answers=sum(g.answers for g in groups),
        sessions=sum(g.sessions for g in groups),
        satisfaction_total=sum(g.satisfaction_total for g in groups),
        distribution=distribution,
        intentions=intentions,
    )


# ---- Display, masked outside the association ---------------------------------------------------


@dataclass
class EvaluationRow:
    """One line of a results table as a reader may see it."""

    label: str
    detail: str
    answers: int | str  # a number, or "s" (masked)
    sessions: int
    mean_satisfaction: Decimal | None  # None: no answer, or masked
    share_intending: int | None  # None: no answer to the question, or masked
    intention_answers: int | None
    masked: bool  # the answer count is masked, and so are the mean and the share
    share_masked: bool  # the share is masked (its count of "yes" is 1 to 10, or the row is)
    group: EvaluationGroup | None = None  # the true figures, for the association only


@dataclass
class EvaluationTable:
    grouping: str
    title: str
    column: str  # the heading of the first column
    rows: list[EvaluationRow]
    total: EvaluationRow
    masked: bool  # the reader is outside the association
    any_masked: bool = False
    threshold: int = THRESHOLD
    groups: list[EvaluationGroup] = field(default_factory=list)


def _row(group: EvaluationGroup, *, hidden: bool, masked: bool, answers) -> EvaluationRow:
    share = None if hidden else group.share_intending
    # Outside the association, a share is shown only if its count of persons could be.
    share_masked = hidden or (masked and share is not None and is_masked(group.intending))
    return EvaluationRow(
        label=group.label,
        detail=group.detail,
        answers=answers,
        sessions=group.sessions,
        mean_satisfaction=None if hidden else group.mean_satisfaction,
        share_intending=None if share_masked else share,
        intention_answers=None if hidden else group.intention_answers,
        masked=hidden,
        share_masked=share_masked,
        group=None if masked else group,
    )


def evaluation_table(
    groups: list[EvaluationGroup], *, masked: bool, grouping: str
) -> EvaluationTable:
    """The rows to show for ``groups`` (made by evaluation_summary with ``grouping``) and their
    total.

    ``masked`` (a reader outside the association): the answer counts go through primary and
    secondary suppression, so no group of fewer than 11 answers can be read or rebuilt from the
    total; a masked group shows "s" and neither its mean satisfaction nor its share intending to
    change. A share is also hidden when its number of "yes" is 1 to 10.
    """
    total_group = evaluation_total(groups)
    counts = {index: {"answers": g.answers} for index, g in enumerate(groups)}
    suppressed = suppress(counts) if masked else suppress(counts, threshold=0)
    rows = []
    for index, group in enumerate(groups):
        cell = suppressed.cells[index]["answers"]
        rows.append(_row(group, hidden=cell.masked, masked=masked, answers=cell.display))
    total_cell = suppressed.total
    total = _row(total_group, hidden=total_cell.masked, masked=masked, answers=total_cell.display)
    return EvaluationTable(
        grouping=grouping,
        title=GROUPINGS[grouping].title,
        column=GROUPINGS[grouping].column,
        rows=rows,
        total=total,
        masked=masked,
        any_masked=suppressed.any_masked,
        groups=[] if masked else groups,
    )


# ---- One session, for the team ------------------------------------------------------------------


@dataclass
class SessionResults:
    """Everything about the answers of one session (the association's view: exact figures and
    free texts)."""

    summary: EvaluationGroup
    paper: int
    learnt: list[str]
    comments: list[str]

    @property
    def distribution_rows(self) -> list[tuple[str, int, int | None]]:
        """(label, answers, percentage) per satisfaction level, 5 first."""
        from tablee.activities.forms_evaluations import SATISFACTION_CHOICES

        labels = dict(SATISFACTION_CHOICES)
        return [
            (
                labels[str(level)],
                self.summary.distribution[level],
                _percent(self.summary.distribution[level], self.summary.answers),
            )
            for level in reversed(SATISFACTION_LEVELS)
        ]

    @property
    def intention_rows(self) -> list[tuple[str, int, int | None]]:
        answered = self.summary.intention_answers
        rows = [
            (
                label,
                self.summary.intentions[value],
                _percent(self.summary.intentions[value], answered),
            )
            for value, label in INTENTIONS.choices
        ]
        rows.append(("Sans réponse", self.summary.answers - answered, None))
        return rows


def session_results(session) -> SessionResults:
    """The answers to the questionnaire of ``session``, in two queries (the counts, the texts)."""
    row = (
        Evaluation.objects.filter(session=session)
        .order_by()
        .aggregate(**_aggregates(), paper=Count("id", filter=Q(source=Evaluation.Source.PAPER)))
    )
    summary = EvaluationGroup(
        key=session.pk,
        label=session.title,
        answers=row["answers"],
        sessions=row["sessions"],
        satisfaction_total=row["satisfaction_total"] or 0,
        distribution={level: row[f"s{level}"] for level in SATISFACTION_LEVELS},
        intentions={value: row[f"i_{value}"] for value in INTENTIONS.values},
    )
    learnt, comments = [], []
    texts = (
        Evaluation.objects.filter(session=session)
        .exclude(learnt="", comment="")
        .order_by("created_at")
        .values_list("learnt", "comment")
    )
    for learnt_text, comment in texts:
        if learnt_text:
            learnt.append(learnt_text)
        if comment:
            comments.append(comment)
    return SessionResults(summary=summary, paper=row["paper"], learnt=learnt, comments=comments)
