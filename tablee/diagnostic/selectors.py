"""Reads for the diagnostic synthesis of a territory (page, PDF and comparison).

``diagnostic_synthesis`` gathers everything in a fixed number of queries, whatever the number of
meetings, needs or answers. What a reader may see depends on who reads:

- the association's coordinators (those who may view the diagnostic itself) see every testimony,
  the unshared ones marked, and the exact counts;
- partners, local authorities and funders see only the testimonies marked shareable, never any
  meeting notes, and the counts of persons from 1 to 10 masked (tablee.core.disclosure).
"""

from collections import Counter
from dataclasses import dataclass

from django.db.models import Count, OuterRef, Prefetch, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from tablee.accounts.permissions import Action, can
from tablee.core.charts import horizontal_bar_chart, svg_data_uri
from tablee.core.disclosure import SuppressedTable, is_masked, suppress
from tablee.diagnostic import fies
from tablee.diagnostic.coverage import Coverage, territory_coverage
from tablee.diagnostic.models import (
    BarrierCategory,
    Meeting,
    Need,
    Pathway,
    SurveyResponse,
    Testimony,
)
from tablee.directory.models import Sector, Structure
from tablee.territories.indicators import IndicatorRow, indicators_for_territory
from tablee.territories.models import ProgrammeTerritory

MOST_CITED_NEEDS = 10
PARTICIPANT_ROLES = [
    ("social_workers", "Travailleur·ses sociaux·les"),
    ("health_professionals", "Professionnel·les de santé"),
    ("volunteers", "Bénévoles"),
    ("elected_officials", "Élu·es"),
    ("people_concerned", "Personnes concernées"),
    ("others", "Autres"),
]
COUNT_COLUMN = "n"


@dataclass(frozen=True)
class Share:
    """A share of the questionnaire's answers, or the reason it is not shown."""

    count: int
    percent: float | None  # None when masked

    @property
    def masked(self) -> bool:
        return self.percent is None


@dataclass
class QuestionnaireSummary:
    results: fies.Results
    moderate_or_severe: Share | None = None
    severe: Share | None = None
    levels: SuppressedTable | None = None  # answers by level (counts, masked outside)
    approximation_notice: str = fies.APPROXIMATION_NOTICE


@dataclass
class Synthesis:
    pt: ProgrammeTerritory
    masked: bool  # counts of persons masked (partner, local authority, funder)
    shows_structure_names: bool  # those who may open the directory (not the funder)
    sees_all_testimonies: bool
    indicator_rows: list[IndicatorRow]
    structures_by_sector: list[tuple[str, int]]
    structures_by_finess: list[tuple[str, int]]
    structure_total: int
    coverage: Coverage
    needs_by_category: list[tuple[str, int]]
    needs_total: int
    needs_chart: str  # data: URI of the SVG chart ("" when there is no need)
    needs_chart_title: str
    most_cited_needs: list[Need]
    pathways: list[Pathway]
    testimonies: list[Testimony]
    questionnaire: QuestionnaireSummary
    meeting_count: int
    structures_met: int
    participants: SuppressedTable


def _participants_table(totals: dict, *, masked: bool) -> SuppressedTable:
    table = {label: {COUNT_COLUMN: totals.get(name) or 0} for name, label in PARTICIPANT_ROLES}
    if masked:
        return suppress(table)
    return suppress(table, threshold=0)  # threshold 0: nothing under it, nothing masked


def _questionnaire(pt: ProgrammeTerritory, *, masked: bool) -> QuestionnaireSummary:
    by_score = dict(
        SurveyResponse.objects.filter(survey__programme_territory=pt)
        .values_list("raw_score")
        .annotate(n=Count("id"))
        .values_list("raw_score", "n")
    )
    scores = [score for score, n in by_score.items() for _ in range(n)]
    results = fies.results_from_scores(scores)
    summary = QuestionnaireSummary(results=results)
    if not results.shown:
        return summary

    def share(count: int) -> Share:
        hidden = masked and is_masked(count)
        return Share(count=count, percent=None if hidden else count / results.count * 100)

    summary.moderate_or_severe = share(results.moderate_or_severe)
    summary.severe = share(results.severe)
    levels = Counter()
    for score, n in results.distribution:
        levels[fies.classify(score).label] += n
    table = {label: {COUNT_COLUMN: levels[label]} for label in fies.LEVEL_LABELS.values()}
    summary.levels = suppress(table) if masked else suppress(table, threshold=0)
    return summary


def diagnostic_synthesis(pt: ProgrammeTerritory, *, user) -> Synthesis:
    """Everything the synthesis of ``pt`` shows to ``user``, in thirteen queries.

    ``pt`` comes with its territory (select_related), as ``get_programme_territory_for_user``
    returns it.
    """
    epci = pt.territory
    masked = not can(user, Action.VIEW_DIAGNOSTIC, pt)
    structures = Structure.objects.in_territory(epci)

    sector_labels = dict(Sector.choices)
    by_sector = structures.values_list("sector").annotate(n=Count("id")).values_list("sector", "n")
    structures_by_sector = sorted(
        ((sector_labels.get(sector, sector), n) for sector, n in by_sector),
        key=lambda item: (-item[1], item[0]),
    )
    by_finess = (
        structures.exclude(finess_category=None)
        .values_list("finess_category__label")
        .annotate(n=Count("id"))
        .values_list("finess_category__label", "n")
        .order_by("-n", "finess_category__label")
    )

    categories = list(categories_with_need_counts(pt, name="n").order_by("position", "label"))
    needs_by_category = [(category.label, category.n) for category in categories]
    needs_total = sum(n for _, n in needs_by_category)
    chart_title = f"Besoins par catégorie de frein — {epci.name}"
    chart = ""
    if needs_total:
        chart = svg_data_uri(
            horizontal_bar_chart(
                [label for label, _ in needs_by_category],
                [n for _, n in needs_by_category],
                title=chart_title,
                description="Nombre de besoins recensés par catégorie de frein ; "
                "le tableau qui suit donne les mêmes chiffres.",
                value_label="Besoins recensés",
            )
        )

    most_cited = list(
        Need.objects.filter(programme_territory=pt)
        .select_related("category", "meeting")
        .prefetch_related(Prefetch("structures", queryset=Structure.objects.only("id", "name")))
        .annotate(
            structure_count=Count("structures", distinct=True),
            testimony_count=Count("testimonies", distinct=True),
            break_count=Count("pathway_breaks", distinct=True),
        )
        .order_by("-structure_count", "-testimony_count", "-break_count", "-severity", "title")[
            :MOST_CITED_NEEDS
        ]
    )
    for need in most_cited:
        need.citations = need.structure_count + need.testimony_count + need.break_count

    pathways = list(
        Pathway.objects.filter(programme_territory=pt)
        .annotate(
            step_count=Count("steps", distinct=True),
            break_count=Count("steps", filter=~Q(steps__break_after=""), distinct=True),
        )
        .order_by("title")
    )

    sees_all_testimonies = not masked
    testimonies = Testimony.objects.filter(programme_territory=pt)
    if not sees_all_testimonies:
        testimonies = testimonies.filter(shareable=True)

    meetings = Meeting.objects.filter(programme_territory=pt).aggregate(
        count=Count("id"), **{name: Sum(name) for name, _ in PARTICIPANT_ROLES}
    )
    structures_met = Structure.objects.filter(meetings__programme_territory=pt).distinct().count()

    return Synthesis(
        pt=pt,
        masked=masked,
        shows_structure_names=can(user, Action.VIEW_DIRECTORY, pt),
        sees_all_testimonies=sees_all_testimonies,
        indicator_rows=indicators_for_territory(epci),
        structures_by_sector=structures_by_sector,
        structures_by_finess=list(by_finess),
        structure_total=sum(n for _, n in structures_by_sector),
        coverage=territory_coverage(epci),
        needs_by_category=needs_by_category,
        needs_total=needs_total,
        needs_chart=chart,
        needs_chart_title=chart_title,
        most_cited_needs=most_cited,
        pathways=pathways,
        testimonies=list(testimonies),
        questionnaire=_questionnaire(pt, masked=masked),
        meeting_count=meetings["count"],
        structures_met=structures_met,
        participants=_participants_table(meetings, masked=masked),
    )


def categories_with_need_counts(pt, *, name: str):
    """Barrier categories annotated with ``name`` = the number of needs of territory ``pt``, keeping
    the active ones and any that still holds needs there.

    A correlated count per category, so that the cost follows the territory's needs and not the
    whole table (a join with a filtered Count scanned every need of the country)."""
    per_category = (
        Need.objects.filter(programme_territory=pt, category=OuterRef("pk"))
        .order_by()
        .values("category")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return BarrierCategory.objects.annotate(**{name: Coalesce(Subquery(per_category), 0)}).filter(
        Q(is_active=True) | Q(**{f"{name}__gt": 0})
    )
