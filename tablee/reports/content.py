"""The content of the two documents handed to the funder, as blocks (reports/blocks.py).

- The funder report for a period: summary, the programme's four objectives and four axes (the
  association's narrative and the figures filled in), the tables the funder expects, a page per
  territory and the list of the sessions held.
- The end-of-programme evaluation: every indicator at the start of the period and at its end (or
  today), overall and per territory, with what changed and what did not; lessons and
  recommendations.

Documents leave the association: their counts of persons are always masked (INSEE rule), whoever
downloads them. Every table of persons comes from one suppression per document (see
blocks.people_table).

Either document also exists for one territory alone (``build_territory_document``): the same
blocks, with the territory's figures; its counts of persons are cut from the programme's suppressed
table, so that the territory's document and the programme's mask the same cells.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from tablee.core.disclosure import suppress
from tablee.plans.models import ActionStatus
from tablee.reports import narratives
from tablee.reports.blocks import (
    AUDIENCE_LABELS,
    AUDIENCE_SHORT,
    DISCLOSURE_NOTE,
    SECTOR_LABELS,
    STATUS_LABELS,
    Cell,
    Chart,
    Heading,
    KeyFigures,
    Narrative,
    Paragraph,
    PeopleView,
    Table,
    count_cell,
    label,
    mean_cell,
    people_table,
    percent,
    person_cell,
    progress_cell,
    record_link,
    session_link,
    suppressed_cell,
)
from tablee.reports.models import Report
from tablee.reports.selectors import (
    HELD,
    PLANNED,
    Figures,
    Period,
    ReportExtras,
    actions_done_on,
    collect_figures,
    collect_people,
    collect_report_extras,
    up_to,
)
from tablee.territories.models import Audience, SessionKind

EMPTY_NARRATIVE = "Section non rédigée."


@dataclass
class ReportDocument:
    """A report ready to be written as a page, a PDF, an XLSX or a DOCX."""

    report: Report
    programme: object
    period: Period
    territories: list
    blocks: list
    generated_on: datetime.date = field(default_factory=timezone.localdate)
    territory: object = None  # the ProgrammeTerritory of a territory's document, else None

    @property
    def title(self) -> str:
        if self.territory is None:
            return self.report.title
        return f"{self.report.title} — {self.territory.territory.name}"

    @property
    def kind_label(self) -> str:
        return self.report.get_kind_display()

    @property
    def narrative_sections(self) -> list[Narrative]:
        return [block for block in self.blocks if isinstance(block, Narrative)]


def report_period(report: Report) -> Period:
    programme = report.programme
    start, end = report.period_start, report.period_end
    whole_year = start.month == 1 and start.day == 1 and end == datetime.date(start.year, 12, 31)
    return Period(
        start,
        end,
        year=start.year if whole_year else None,
        whole_programme=(start, end) == (programme.start_date, programme.end_date),
    )


def build_document(report: Report) -> ReportDocument:
    """The blocks of ``report`` from the records as they are now (masked for the funder)."""
    programme = report.programme
    territories = list(programme.territories.select_related("territory"))
    if report.kind == Report.Kind.FINAL_EVALUATION:
        blocks, period = _evaluation_blocks(report, territories)
    else:
        period = report_period(report)
        figures = collect_figures(programme, territories, period)
        extras = collect_report_extras(figures)
        blocks = _funder_report_blocks(report, figures, extras)
    return ReportDocument(
        report=report, programme=programme, period=period, territories=territories, blocks=blocks
    )


def build_territory_document(report: Report, pt) -> ReportDocument:
    """The blocks of ``report`` for ``pt`` alone, a territory of the report's programme: the
    programme's texts, the territory's figures, masked like the programme's document (whoever
    reads: documents leave the association).

    Its counts of persons are cut from the suppressed table of ALL the programme's territories,
    exactly as in ``build_document`` and the dashboards: suppressed on its own, a territory's row
    would mask other cells than the programme's document, and the two together would give them
    away."""
    programme = report.programme
    territories = list(programme.territories.select_related("territory"))
    shown = next((t for t in territories if t.pk == pt.pk), None)
    if shown is None:
        raise ValueError(f"Territory {pt.pk} is not in the programme of report {report.pk}.")
    if report.kind == Report.Kind.FINAL_EVALUATION:
        blocks, period = _evaluation_blocks(report, territories, shown=shown)
    else:
        period = report_period(report)
        figures = collect_figures(programme, [shown], period)
        extras = collect_report_extras(figures)
        people, _ = collect_people([t.pk for t in territories], period)
        blocks = _funder_report_blocks(
            report, figures, extras, people=_programme_people(people, territories, [shown])
        )
    blocks.insert(
        0,
        Paragraph(
            f"Ce document est la partie du rapport « {report.title} » consacrée au territoire "
            f"{shown.territory.name} : les textes sont ceux du programme, les chiffres ceux du "
            "territoire seul.",
            note=True,
        ),
    )
    return ReportDocument(
        report=report,
        programme=programme,
        period=period,
        territories=[shown],
        blocks=blocks,
        territory=shown,
    )


def _programme_people(people, territories: list, shown: list) -> PeopleView:
    """The rows ``shown`` of the programme's table of persons, suppressed over all its
    ``territories`` (``people``: (pt_id, audience) -> persons, for all of them)."""
    table = people_table(people, [pt.pk for pt in territories], masked=True)
    return PeopleView(table, shown, all_shown=len(shown) == len(territories))


def _narrative(report: Report, section) -> Narrative:
    return Narrative(
        section_key=section.key,
        title=section.title,
        html=report.narratives.get(section.key, ""),
        prompt=section.prompt,
    )


# ---- The funder report -------------------------------------------------------------------------


def _funder_report_blocks(
    report: Report, figures: Figures, extras: ReportExtras, *, people: PeopleView | None = None
) -> list:
    """The blocks of the funder report over ``figures.territories``; ``people`` is the part of
    the programme's table of persons to show when they are not all the programme's territories."""
    territories = figures.territories
    if people is None:
        people = _programme_people(figures.people, territories, territories)
    if people.all_shown:
        audience_entries = people.table.column_totals
    else:  # one territory of several: its row of the programme's table
        (shown,) = people.visible
        audience_entries = people.table.cells[shown.pk]
    audience_total = {
        audience: suppressed_cell(audience_entries[audience]) for audience in Audience.values
    }
    identified, addressed = figures.needs()
    answers, mean = figures.evaluation_summary()
    links_day = figures.links_day
    blocks: list = []

    if figures.is_empty:
        blocks.append(
            Paragraph(
                "Aucune donnée n'est enregistrée pour cette période : aucune séance, aucun "
                "besoin, aucune action ni aucune réponse aux questionnaires. Le rapport est vide."
            )
        )
    blocks += [
        Heading("Synthèse", anchor="synthese"),
        _narrative(report, narratives.SUMMARY),
        KeyFigures(
            "Chiffres clés de la période",
            [
                ("Séances réalisées", count_cell(figures.session_count(HELD))),
                ("Séances programmées", count_cell(figures.session_count(PLANNED))),
                ("Participations aux séances", people.total_cell()),
                ("Structures touchées", count_cell(len(figures.structures_reached()))),
                ("Besoins identifiés", count_cell(identified)),
                ("Besoins traités par au moins une action", count_cell(addressed)),
                ("Actions réalisées", count_cell(figures.action_count(status=ActionStatus.DONE))),
                ("Actions des plans", count_cell(figures.action_count())),
                (
                    f"Liens social–santé au {links_day:%d/%m/%Y}",
                    count_cell(figures.social_health_links(links_day)),
                ),
                ("Satisfaction moyenne aux séances", mean_cell(answers, mean, masked=True)),
            ],
        ),
        Paragraph(DISCLOSURE_NOTE, note=True),
    ]

    section_figures = {
        "objective_nutrition": [
            (
                "Ateliers réalisés",
                count_cell(figures.session_count(HELD, kind=SessionKind.WORKSHOP)),
            ),
            (
                "Formations réalisées",
                count_cell(figures.session_count(HELD, kind=SessionKind.TRAINING)),
            ),
            ("Participations des personnes concernées", audience_total[Audience.PEOPLE]),
            ("Satisfaction moyenne aux séances", mean_cell(answers, mean, masked=True)),
        ],
        "objective_participation": [
            ("Participations des personnes concernées", audience_total[Audience.PEOPLE]),
            ("Séances de concertation", count_cell(sum(extras.consultations.values()))),
            (
                "Propositions des personnes concernées",
                count_cell(sum(extras.proposals_from_people.values())),
            ),
            ("Actions co-construites", count_cell(sum(extras.co_constructed_actions.values()))),
        ],
        "objective_local_systems": [
            ("Participations des professionnel·les", audience_total[Audience.PROFESSIONALS]),
            ("Participations des bénévoles", audience_total[Audience.VOLUNTEERS]),
            ("Structures touchées", count_cell(len(figures.structures_reached()))),
            (
                f"Liens social–santé au {links_day:%d/%m/%Y}",
                count_cell(figures.social_health_links(links_day)),
            ),
        ],
        "objective_environment": [
            (
                "Actions en cours",
                count_cell(figures.action_count(status=ActionStatus.IN_PROGRESS)),
            ),
            ("Actions réalisées", count_cell(figures.action_count(status=ActionStatus.DONE))),
        ],
        "axis_alliances": [
            ("Structures touchées", count_cell(len(figures.structures_reached()))),
            (
                f"Liens actifs entre structures au {links_day:%d/%m/%Y}",
                count_cell(figures.active_links(links_day)),
            ),
            (
                f"Liens social–santé au {links_day:%d/%m/%Y}",
                count_cell(figures.social_health_links(links_day)),
            ),
        ],
        "axis_pat": [
            (
                "Territoires dotés d'un PAT",
                count_cell(sum(1 for pt in figures.territories if pt.pat_name)),
            ),
            ("Actions rattachées à un axe du PAT", count_cell(sum(extras.pat_actions.values()))),
            ("Participations des élu·es", audience_total[Audience.ELECTED]),
        ],
        "axis_experiments": [
            ("Formats d'ateliers et de formations utilisés", count_cell(extras.formats_used())),
            ("Séances réalisées", count_cell(figures.session_count(HELD))),
        ],
        "axis_white_zones": [
            ("Communes où une séance a eu lieu", count_cell(extras.communes_reached())),
            ("Besoins traités par au moins une action", count_cell(addressed)),
            ("Part des besoins traités", Cell(percent(addressed, identified))),
        ],
    }
    for heading, sections, anchor in [
        ("Les objectifs du programme", narratives.OBJECTIVES, "objectifs"),
        ("Les axes du programme", narratives.AXES, "axes"),
    ]:
        blocks.append(Heading(heading, anchor=anchor, page_break=True))
        for section in sections:
            blocks.append(Heading(section.title, level=3, anchor=section.key))
            blocks.append(_narrative(report, section))
            blocks.append(
                KeyFigures(
                    f"{section.title} : chiffres de la période", section_figures[section.key]
                )
            )

    blocks.append(Heading("Tableaux de suivi", anchor="tableaux", page_break=True))
    blocks += _funder_tables(figures, extras, people)

    pages = "Pages par territoire" if len(territories) > 1 else "Page du territoire"
    blocks.append(Heading(pages, anchor="territoires", page_break=True))
    for index, pt in enumerate(territories):
        blocks += _territory_page(figures, people, pt, first=index == 0)

    blocks.append(Heading("Annexe : séances réalisées", anchor="annexe", page_break=True))
    blocks.append(_annex(figures, extras))
    return blocks


def _funder_tables(figures: Figures, extras: ReportExtras, people: PeopleView) -> list:
    territories = figures.territories
    audiences = Audience.values
    session_rows = []
    period = figures.period
    for pt in territories:
        counts = [figures.session_count(HELD, pt_id=pt.pk, audience=a) for a in audiences]
        session_rows.append(
            [
                label(pt.territory.name),
                *[
                    count_cell(n, session_link(period, pt_id=pt.pk, audience=a))
                    for n, a in zip(counts, audiences, strict=True)
                ],
                count_cell(sum(counts), session_link(period, pt_id=pt.pk)),
            ]
        )
    totals = [figures.session_count(HELD, audience=a) for a in audiences]
    session_rows.append([label("Total"), *[count_cell(n) for n in totals], count_cell(sum(totals))])
    held = figures.session_count(HELD)

    reached = figures.structures_reached()
    by_sector: dict[str, int] = {}
    for sector, _ in reached.values():
        by_sector[sector] = by_sector.get(sector, 0) + 1
    sector_rows = [
        [label(SECTOR_LABELS.get(sector, sector)), count_cell(n)]
        for sector, n in sorted(by_sector.items(), key=lambda item: (-item[1], item[0]))
    ]
    status_rows = [
        [
            label(STATUS_LABELS[status]),
            count_cell(figures.action_count(status=status)),
            progress_cell(figures.action_progress(status=status)),
        ]
        for status in ActionStatus.values
        if figures.action_count(status=status)
    ]
    budget_rows = [
        [label(str(year)), label(funder), Cell(float(planned)), Cell(float(spent))]
        for (year, funder), (planned, spent) in sorted(extras.budget.items())
    ]
    if budget_rows:
        budget_rows.append(
            [
                label("Total"),
                label(""),
                Cell(float(sum(p for p, _ in extras.budget.values()))),
                Cell(float(sum(s for _, s in extras.budget.values()))),
            ]
        )
    for row in budget_rows:
        for cell in row[2:]:
            cell.text = _euros(cell.value)

    blocks: list = []
    if held:
        blocks.append(
            Chart(
                "Séances réalisées par public",
                "Nombre de séances réalisées pour chaque public ; le tableau qui suit donne les "
                "mêmes chiffres.",
                [AUDIENCE_SHORT[a] for a in audiences],
                totals,
                "Séances réalisées",
            )
        )
    blocks += [
        Table(
            "Séances réalisées par territoire et par public",
            ["Territoire", *[AUDIENCE_SHORT[a] for a in audiences], "Total"],
            session_rows,
            sheet="Séances",
            last_row_is_total=True,
        ),
        Table(
            "Participations aux séances réalisées par territoire et par public",
            ["Territoire", *[AUDIENCE_SHORT[a] for a in audiences], "Total"],
            people.territory_rows(figures.period),
            sheet="Participants",
            last_row_is_total=True,
        ),
        Table(
            "Structures touchées par secteur",
            ["Secteur", "Structures"],
            sector_rows,
            sheet="Structures",
        ),
        Table(
            "Actions des plans par statut (avancement moyen pondéré)",
            ["Statut", "Actions", "Avancement moyen"],
            status_rows,
            empty_text="Aucune action pour cette période.",
            sheet="Actions",
        ),
        Table(
            "Budget des actions prévu et dépensé, par année et par financeur",
            ["Année", "Financeur", "Prévu", "Dépensé"],
            budget_rows,
            empty_text="Aucune ligne de budget pour cette période.",
            sheet="Budget",
            last_row_is_total=bool(budget_rows),
        ),
    ]
    return blocks


def _euros(value: float) -> str:
    whole, cents = f"{value:,.2f}".split(".")
    return whole.replace(",", "\u202f") + "," + cents + "\u00a0€"


def _territory_page(figures: Figures, people: PeopleView, pt, *, first: bool) -> list:
    identified, addressed = figures.needs(pt_id=pt.pk)
    links_day = figures.links_day
    t = people.table
    rows = [
        [label(AUDIENCE_LABELS[a]), suppressed_cell(t.cells[pt.pk][a])] for a in Audience.values
    ]
    rows.append([label("Total"), suppressed_cell(t.row_totals[pt.pk])])
    return [
        Heading(pt.territory.name, level=3, anchor=f"territoire-{pt.pk}", page_break=not first),
        Paragraph(f"{pt.pat_name}." if pt.pat_name else "Pas de PAT renseigné."),
        KeyFigures(
            f"{pt.territory.name} : chiffres de la période",
            [
                (
                    "Séances réalisées",
                    count_cell(
                        figures.session_count(HELD, pt_id=pt.pk),
                        session_link(figures.period, pt_id=pt.pk),
                    ),
                ),
                ("Séances programmées", count_cell(figures.session_count(PLANNED, pt_id=pt.pk))),
                ("Objectif du territoire (toute la durée)", count_cell(pt.target_sessions)),
                ("Participations aux séances", suppressed_cell(t.row_totals[pt.pk])),
                ("Structures touchées", count_cell(len(figures.structures_reached(pt_id=pt.pk)))),
                ("Besoins identifiés", count_cell(identified, record_link("needs", pt.pk))),
                ("Besoins traités par au moins une action", count_cell(addressed)),
                (
                    "Actions des plans",
                    count_cell(figures.action_count(pt_id=pt.pk), record_link("actions", pt.pk)),
                ),
                (
                    "Avancement moyen pondéré",
                    progress_cell(figures.action_progress(pt_id=pt.pk)),
                ),
                (
                    f"Liens social–santé au {links_day:%d/%m/%Y}",
                    count_cell(
                        figures.social_health_links(links_day, pt_id=pt.pk),
                        record_link("links", pt.pk),
                    ),
                ),
            ],
        ),
        Table(
            f"{pt.territory.name} : participations par public",
            ["Public", "Participations"],
            rows,
            last_row_is_total=True,
        ),
    ]


def _annex(figures: Figures, extras: ReportExtras) -> Table:
    names = {pt.pk: pt.territory.name for pt in figures.territories}
    rows = []
    for session in extras.held_sessions:
        starts = timezone.localtime(session.starts_at)
        rows.append(
            [
                Cell(starts.date(), text=f"{starts:%d/%m/%Y}"),
                label(names.get(session.pt_id, "")),
                label(session.title),
                label(session.place or "—"),
                label(AUDIENCE_SHORT.get(session.audience, session.audience)),
                person_cell(figures.people_by_session[session.pk], masked=True),
            ]
        )
    return Table(
        "Séances réalisées : date, lieu, public et participations (effectifs inférieurs à 11 "
        "masqués)",
        ["Date", "Territoire", "Séance", "Lieu", "Public", "Participations"],
        rows,
        empty_text="Aucune séance réalisée pendant cette période.",
        sheet="Annexe séances",
    )


# ---- The end-of-programme evaluation -----------------------------------------------------------


@dataclass
class Measure:
    """One indicator at the start and at the end, as published."""

    label: str
    start: Cell
    end: Cell
    noun: str  # how the change line names the indicator
    unit: str = ""  # "pts" for shares and means

    @property
    def comparable(self) -> bool:
        return self.start.is_number and self.end.is_number

    @property
    def change(self) -> Cell:
        if not self.comparable:
            return Cell("—")
        delta = self.end.value - self.start.value
        if isinstance(delta, float):
            delta = round(delta, 1)
        text = f"{'+' if delta > 0 else ''}{str(delta).replace('.', ',')}"
        return Cell(delta, text=f"{text}{' ' + self.unit if self.unit else ''}")

    @property
    def sentence(self) -> str:
        if (
            self.start.value == "s"
            or self.end.value == "s"
            or "<" in str(self.start.value) + str(self.end.value)
        ):
            return "Évolution non publiée : effectif inférieur à 11 (secret statistique)."
        if not self.comparable:
            return f"Pas de mesure disponible pour {self.noun}."
        if self.end.value == self.start.value:
            return (
                f"Ce qui n'a pas changé : {self.noun}, {self.start.display} au début comme à la "
                "fin."
            )
        direction = "en hausse" if self.end.value > self.start.value else "en baisse"
        return (
            f"Ce qui a changé : {self.noun} {direction}, de {self.start.display} à "
            f"{self.end.display} ({self.change.display})."
        )


def _share_cell(linked: int, total: int) -> Cell:
    if not total:
        return Cell("—")
    value = round(100 * linked / total, 1)
    return Cell(value, text=percent(linked, total))


def _evaluation_blocks(report: Report, territories: list, *, shown=None) -> tuple[list, Period]:
    """The evaluation over all the programme's ``territories``, or only the table of ``shown``
    (one of them), whose masked cells are those of the programme's evaluation."""
    programme = report.programme
    start_day = report.period_start
    end_day = min(report.period_end, timezone.localdate())
    period = Period(
        start_day,
        end_day,
        whole_programme=(
            (report.period_start, report.period_end) == (programme.start_date, programme.end_date)
        ),
    )
    baseline = collect_figures(programme, territories, up_to(start_day))
    final = collect_figures(programme, territories, up_to(end_day))
    done = {
        "start": actions_done_on(territories, start_day),
        "end": actions_done_on(territories, end_day),
    }
    columns = {
        "start": suppress({pt.pk: {"n": baseline.people_count(pt_id=pt.pk)} for pt in territories}),
        "end": suppress({pt.pk: {"n": final.people_count(pt_id=pt.pk)} for pt in territories}),
    }

    def measures(pt_id=None) -> list[Measure]:
        def people(which):
            table = columns[which]
            entry = table.total if pt_id is None else table.cells[pt_id]["n"]
            return suppressed_cell(entry)

        def needs(figures: Figures):
            identified, addressed = figures.needs(pt_id=pt_id)
            return Cell(addressed, text=f"{addressed} sur {identified}")

        def done_count(which):
            counts = done[which]
            return count_cell(sum(counts.values()) if pt_id is None else counts[pt_id])

        def satisfaction(figures: Figures):
            answers, mean = figures.evaluation_summary(pt_id=pt_id)
            return mean_cell(answers, mean, masked=True)

        return [
            Measure(
                "Séances réalisées (cumul)",
                count_cell(baseline.session_count(HELD, pt_id=pt_id)),
                count_cell(final.session_count(HELD, pt_id=pt_id)),
                "les séances réalisées",
            ),
            Measure(
                "Participations aux séances (cumul)",
                people("start"),
                people("end"),
                "les participations",
            ),
            Measure(
                "Structures touchées (cumul)",
                count_cell(len(baseline.structures_reached(pt_id=pt_id))),
                count_cell(len(final.structures_reached(pt_id=pt_id))),
                "les structures touchées",
            ),
            Measure(
                "Besoins traités par au moins une action",
                needs(baseline),
                needs(final),
                "les besoins traités",
            ),
            Measure(
                "Actions réalisées", done_count("start"), done_count("end"), "les actions réalisées"
            ),
            Measure(
                "Liens social–santé actifs",
                count_cell(baseline.social_health_links(start_day, pt_id=pt_id)),
                count_cell(final.social_health_links(end_day, pt_id=pt_id)),
                "les liens social–santé",
            ),
            Measure(
                "Part des structures sociales et médico-sociales liées à la santé",
                _share_cell(*baseline.social_linked_share(start_day, pt_id=pt_id)),
                _share_cell(*final.social_linked_share(end_day, pt_id=pt_id)),
                "la part des structures sociales liées à la santé",
                unit="pts",
            ),
            Measure(
                "Satisfaction moyenne aux séances (sur 5)",
                satisfaction(baseline),
                satisfaction(final),
                "la satisfaction moyenne",
                unit="pt",
            ),
        ]

    headers = [
        "Indicateur",
        f"Au début ({start_day:%d/%m/%Y})",
        f"À la fin ({end_day:%d/%m/%Y})",
        "Évolution",
        "Ce qui a changé, ce qui n'a pas changé",
    ]

    def table(caption: str, items: list[Measure], sheet: str) -> Table:
        return Table(
            caption,
            headers,
            [[label(m.label), m.start, m.end, m.change, label(m.sentence)] for m in items],
            sheet=sheet,
        )

    blocks: list = []
    if final.is_empty:
        blocks.append(
            Paragraph(
                "Aucune donnée n'est enregistrée pour ce programme : les indicateurs sont à zéro."
            )
        )
    blocks += [
        Heading("Synthèse", anchor="synthese"),
        _narrative(report, narratives.SUMMARY),
        Heading("Les indicateurs au début et à la fin", anchor="indicateurs", page_break=True),
        Paragraph(
            f"Chaque indicateur est mesuré au {start_day:%d/%m/%Y} (début) et au "
            f"{end_day:%d/%m/%Y} (fin, ou date du document si le programme n'est pas terminé)."
        ),
        Paragraph(DISCLOSURE_NOTE, note=True),
    ]
    if shown is None:
        blocks += [
            table("Ensemble du programme", measures(), "Indicateurs"),
            Heading("Par territoire", anchor="territoires", page_break=True),
        ]
    for pt in territories if shown is None else [shown]:
        blocks.append(Heading(pt.territory.name, level=3, anchor=f"territoire-{pt.pk}"))
        blocks.append(
            table(
                f"Indicateurs — {pt.territory.name}",
                measures(pt.pk),
                f"Territoire {pt.territory.name}",
            )
        )
    blocks += [
        Heading("Enseignements", anchor="enseignements", page_break=True),
        _narrative(report, narratives.LESSONS),
        Heading("Recommandations", anchor="recommandations"),
        _narrative(report, narratives.RECOMMENDATIONS),
    ]
    return blocks, period
