"""What dashboards and documents show, as a list of blocks: headings, narratives, key figures,
tables and charts.

The same blocks are rendered as a web page (templates/reports/includes/blocks.html), a PDF (the same
template through WeasyPrint), a DOCX and an XLSX (reports/documents.py), so that the four always
agree. Blocks hold what may be published to their reader: counts of persons are masked here
(primary and secondary suppression, tablee.core.disclosure) when the reader is not the association.
A cell may name the records behind it (``LinkSpec``); the page turns that into a link when the
reader may open them (reports/links.py); documents ignore it.
"""

import hashlib
import json
from dataclasses import dataclass

from django.core.cache import caches

from tablee.core.charts import horizontal_bar_chart, svg_data_uri
from tablee.core.disclosure import (
    MASKED_CELL,
    THRESHOLD,
    SuppressedTable,
    is_masked,
    mask_count,
    suppress,
)
from tablee.directory.models import Sector
from tablee.plans.models import ActionStatus
from tablee.reports.selectors import HELD, PLANNED, Figures, Period
from tablee.territories.models import Audience, SessionTarget

AUDIENCE_LABELS = dict(Audience.choices)
# Shorter labels for table headers and charts.
AUDIENCE_SHORT = {
    Audience.PROFESSIONALS: "Professionnel·les",
    Audience.VOLUNTEERS: "Bénévoles",
    Audience.ELECTED: "Élu·es",
    Audience.PEOPLE: "Personnes concernées",
}
STATUS_LABELS = dict(ActionStatus.choices)
SECTOR_LABELS = dict(Sector.choices)
DISCLOSURE_NOTE = (
    "Secret statistique : les effectifs de personnes inférieurs à 11 sont masqués (« < 11 » ou "
    "« s »), ainsi que, si besoin, un second effectif de la même ligne ou colonne, pour qu'ils ne "
    "puissent pas être recalculés à partir des totaux."
)
CHART_CACHE_SECONDS = 24 * 3600
# What a table shows in place of a figure: masked, masked under the primary rule, no value.
FIGURE_PLACEHOLDERS = {MASKED_CELL, f"< {THRESHOLD}", "—"}


# ---- Cells and blocks --------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkSpec:
    """The records behind a figure: ``kind`` is sessions, actions, needs, links, evaluations or
    structures; ``pt_id`` the territory (None: the programme); ``params`` the list filters."""

    kind: str
    pt_id: object = None
    params: tuple = ()


@dataclass
class Cell:
    value: object  # int, float, str (masked cells hold "s" or "< 11")
    text: str | None = None  # how to show it, when not the value itself
    link: LinkSpec | None = None
    url: str = ""  # set by reports.links for the reader of a page

    @property
    def display(self):
        return self.value if self.text is None else self.text

    @property
    def is_number(self) -> bool:
        return isinstance(self.value, int | float) and not isinstance(self.value, bool)

    @property
    def is_figure(self) -> bool:
        """A figure (aligned right in tables), masked or not."""
        return self.is_number or self.text is not None or self.value in FIGURE_PLACEHOLDERS


@dataclass
class Heading:
    text: str
    level: int = 2
    anchor: str = ""
    page_break: bool = False
    kind: str = "heading"


@dataclass
class Paragraph:
    text: str
    note: bool = False  # a remark in small print (disclosure, empty period)
    kind: str = "paragraph"


@dataclass
class Narrative:
    section_key: str
    title: str
    html: str
    prompt: str = ""
    kind: str = "narrative"


@dataclass
class KeyFigures:
    """A few figures shown as cards on a page, as a two-column table in documents."""

    caption: str
    items: list[tuple[str, Cell]]
    kind: str = "figures"


@dataclass
class Table:
    caption: str
    columns: list[str]
    rows: list[list[Cell]]
    empty_text: str = "Aucune donnée pour cette période."
    sheet: str = ""  # the XLSX sheet name ("" keeps the table out of the workbook)
    last_row_is_total: bool = False
    kind: str = "table"


@dataclass
class Chart:
    title: str
    description: str
    labels: list[str]
    values: list[float]
    value_label: str = ""
    kind: str = "chart"

    @property
    def uri(self) -> str:
        """The SVG as a data: URI, cached: matplotlib takes tens of milliseconds per chart."""
        key = "reports-chart-" + _digest([self.title, self.labels, self.values, self.value_label])
        # Each process draws a chart once: no need to share it (the "local" cache).
        uri = caches["local"].get(key)
        if uri is None:
            svg = horizontal_bar_chart(
                self.labels,
                self.values,
                title=self.title,
                description=self.description,
                value_label=self.value_label,
            )
            uri = svg_data_uri(svg)
            caches["local"].set(key, uri, CHART_CACHE_SECONDS)
        return uri


@dataclass
class PageBreak:
    kind: str = "page_break"


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, default=str, sort_keys=True).encode()).hexdigest()


def blocks_fingerprint(blocks: list) -> str:
    """A digest of everything the blocks publish (charts by their data, not their drawing)."""
    payload = []
    for block in blocks:
        data = {key: value for key, value in vars(block).items()}
        payload.append(_plain(data))
    return _digest(payload)


def _plain(value):
    if isinstance(value, Cell):
        return [value.value, value.text]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# ---- Formatting --------------------------------------------------------------------------------


def french_number(value: float, digits: int = 1) -> str:
    text = f"{value:.{digits}f}".replace(".", ",")
    return text.removesuffix(",0") if digits == 1 else text


def percent(part: int, whole: int) -> str:
    if not whole:
        return "—"
    return f"{french_number(100 * part / whole, 0 if part * 100 % whole == 0 else 1)}\u00a0%"


def count_cell(n: int, link: LinkSpec | None = None) -> Cell:
    return Cell(n, link=link)


def person_cell(n: int, *, masked: bool, link: LinkSpec | None = None) -> Cell:
    """A count of persons, "< 11" when masked (primary rule only: for counts shown alone)."""
    if masked and is_masked(n):
        return Cell(mask_count(n))
    return Cell(n, link=link)


def suppressed_cell(entry, link: LinkSpec | None = None) -> Cell:
    """An entry of a SuppressedTable: "s" when masked."""
    if entry.masked:
        return Cell(MASKED_CELL)
    return Cell(entry.value, link=link)


def mean_cell(answers: int, mean: float | None, *, masked: bool) -> Cell:
    if mean is None:
        return Cell("—")
    if masked and is_masked(answers):
        return Cell("s", text="s")
    return Cell(round(mean, 1), text=f"{french_number(mean)}\u00a0/\u00a05")


def progress_cell(progress: float | None, link: LinkSpec | None = None) -> Cell:
    if progress is None:
        return Cell("—")
    return Cell(round(progress, 1), text=f"{french_number(progress, 0)}\u00a0%", link=link)


def label(text: str) -> Cell:
    return Cell(text)


# ---- Links -------------------------------------------------------------------------------------


def session_link(period: Period, *, pt_id=None, status=HELD, audience=None, year=None, kind=None):
    params = [("statut", status)]
    if audience:
        params.append(("public", audience))
    year = year or period.year
    if year:
        params.append(("annee", str(year)))
    if kind:
        params.append(("type", kind))
    return LinkSpec("sessions", pt_id, tuple(params))


def record_link(kind: str, pt_id=None, **params) -> LinkSpec:
    return LinkSpec(kind, pt_id, tuple(sorted(params.items())))


# ---- Persons: one suppression per publication ----------------------------------------------------


def people_table(people, pt_ids, *, masked: bool) -> SuppressedTable:
    """Persons reached by territory × audience, with totals, suppressed for a masked reader.

    ``pt_ids`` are ALL the territories of the programme: a page showing some of them takes their
    rows from this one table, so that two pages never mask the same figures differently (a reader
    could otherwise rebuild a masked cell from the two)."""
    table = {
        pt_id: {audience: people[(pt_id, audience)] for audience in Audience.values}
        for pt_id in pt_ids
    }
    return suppress(table) if masked else suppress(table, threshold=0)


@dataclass
class PeopleView:
    """The part of the programme's people table a page shows."""

    table: SuppressedTable
    visible: list  # territories shown
    all_shown: bool

    def audience_rows(self, period: Period, pt_id=None) -> list[list[Cell]] | None:
        """Rows (audience, persons) with a total row, or None when they cannot be published
        consistently (several territories but not all)."""
        t = self.table
        if self.all_shown and len(self.visible) > 1:
            cells = {audience: t.column_totals[audience] for audience in Audience.values}
            total = t.total
        elif len(self.visible) == 1:
            row = self.visible[0].pk
            cells = t.cells[row]
            total = t.row_totals[row]
        else:
            return None
        rows = [
            [
                label(AUDIENCE_LABELS[audience]),
                suppressed_cell(
                    cells[audience], session_link(period, pt_id=pt_id, audience=audience)
                ),
            ]
            for audience in Audience.values
        ]
        rows.append([label("Total"), suppressed_cell(total)])
        return rows

    def total_cell(self) -> Cell:
        t = self.table
        if self.all_shown and len(self.visible) > 1:
            return suppressed_cell(t.total)
        if len(self.visible) == 1:
            return suppressed_cell(t.row_totals[self.visible[0].pk])
        return Cell(sum(t.row_totals[pt.pk].value for pt in self.visible))

    def territory_rows(self, period: Period) -> list[list[Cell]]:
        t = self.table
        rows = []
        for pt in self.visible:
            rows.append(
                [label(pt.territory.name)]
                + [
                    suppressed_cell(
                        t.cells[pt.pk][audience],
                        session_link(period, pt_id=pt.pk, audience=audience),
                    )
                    for audience in Audience.values
                ]
                + [suppressed_cell(t.row_totals[pt.pk])]
            )
        if self.all_shown and len(self.visible) > 1:
            rows.append(
                [label("Total")]
                + [suppressed_cell(t.column_totals[audience]) for audience in Audience.values]
                + [suppressed_cell(t.total)]
            )
        return rows


# ---- Dashboards --------------------------------------------------------------------------------


def dashboard_blocks(figures: Figures, *, people: PeopleView, masked: bool) -> list:
    """The blocks of a dashboard: the programme's when ``figures`` cover several territories, a
    territory's when they cover one."""
    single = figures.territories[0] if len(figures.territories) == 1 else None
    pt_id = single.pk if single else None
    blocks: list = []
    if figures.is_empty:
        blocks.append(
            Paragraph(
                "Aucune donnée pour cette période : aucune séance, aucun besoin, aucune action "
                "ni aucune réponse aux questionnaires n'y est enregistré. Choisissez une autre "
                "période ci-dessus."
            )
        )
    if masked:
        blocks.append(Paragraph(DISCLOSURE_NOTE, note=True))
    blocks += _session_blocks(figures, pt_id=pt_id, single=single)
    blocks += _people_blocks(figures, people, pt_id=pt_id)
    blocks += _structure_blocks(figures, pt_id=pt_id, single=single)
    blocks += _needs_and_actions_blocks(figures, pt_id=pt_id)
    blocks += _link_blocks(figures, pt_id=pt_id)
    blocks += _questionnaire_blocks(figures, pt_id=pt_id, masked=masked)
    return blocks


def _session_blocks(figures: Figures, *, pt_id, single) -> list:
    period = figures.period
    held = figures.session_count(HELD, pt_id=pt_id)
    planned = figures.session_count(PLANNED, pt_id=pt_id)
    target = single.target_sessions if single else figures.programme.target_sessions
    target_label = "Objectif du territoire" if single else "Objectif du programme"
    items = [
        ("Séances réalisées", count_cell(held, session_link(period, pt_id=pt_id))),
        (
            "Séances programmées",
            count_cell(planned, session_link(period, pt_id=pt_id, status=PLANNED)),
        ),
        (f"{target_label} (toute la durée)", count_cell(target)),
    ]
    if period.whole_programme and target:
        items.append(("Réalisé par rapport à l'objectif", Cell(percent(held, target))))
    blocks = [
        Heading("Ateliers et formations", anchor="seances"),
        KeyFigures("Ateliers et formations : chiffres clés", items),
    ]

    rows = []
    for audience in Audience.values:
        audience_target = figures.target(SessionTarget.Dimension.AUDIENCE, audience)
        rows.append(
            [
                label(AUDIENCE_LABELS[audience]),
                count_cell(
                    figures.session_count(HELD, pt_id=pt_id, audience=audience),
                    session_link(period, pt_id=pt_id, audience=audience),
                ),
                count_cell(
                    figures.session_count(PLANNED, pt_id=pt_id, audience=audience),
                    session_link(period, pt_id=pt_id, status=PLANNED, audience=audience),
                ),
                Cell("—") if single or audience_target is None else count_cell(audience_target),
            ]
        )
    if held:
        blocks.append(
            Chart(
                "Séances réalisées par public",
                "Nombre de séances réalisées pour chaque public ; le tableau qui suit donne les "
                "mêmes chiffres.",
                [AUDIENCE_SHORT[a] for a in Audience.values],
                [row[1].value for row in rows],
                "Séances réalisées",
            )
        )
    blocks.append(
        Table(
            "Séances par public",
            ["Public", "Réalisées", "Programmées", "Objectif du programme"],
            rows,
            sheet="Séances par public",
        )
    )

    years = _years_of(figures)
    year_rows = [
        [
            label(str(year)),
            count_cell(
                figures.session_count(HELD, pt_id=pt_id, year=year),
                session_link(period, pt_id=pt_id, year=year),
            ),
            count_cell(
                figures.session_count(PLANNED, pt_id=pt_id, year=year),
                session_link(period, pt_id=pt_id, status=PLANNED, year=year),
            ),
            Cell("—")
            if single or figures.target(SessionTarget.Dimension.YEAR, year) is None
            else count_cell(figures.target(SessionTarget.Dimension.YEAR, year)),
        ]
        for year in years
    ]
    blocks.append(
        Table(
            "Séances par année",
            ["Année", "Réalisées", "Programmées", "Objectif de l'année"],
            year_rows,
            sheet="Séances par année",
        )
    )
    if not single:
        territory_rows = [
            [
                label(pt.territory.name),
                count_cell(
                    figures.session_count(HELD, pt_id=pt.pk), session_link(period, pt_id=pt.pk)
                ),
                count_cell(
                    figures.session_count(PLANNED, pt_id=pt.pk),
                    session_link(period, pt_id=pt.pk, status=PLANNED),
                ),
                count_cell(pt.target_sessions),
            ]
            for pt in figures.territories
        ]
        blocks.append(
            Table(
                "Séances par territoire",
                ["Territoire", "Réalisées", "Programmées", "Objectif du territoire"],
                territory_rows,
                empty_text="Aucun territoire.",
                sheet="Séances par territoire",
            )
        )
    return blocks


def _years_of(figures: Figures) -> list[int]:
    """The years of the programme inside the period."""
    period = figures.period
    first = period.start.year if period.start else figures.programme.start_date.year
    return [y for y in figures.programme.years if first <= y <= period.end.year]


def _people_blocks(figures: Figures, people: PeopleView, *, pt_id) -> list:
    period = figures.period
    blocks = [
        Heading("Personnes touchées", anchor="personnes"),
        Paragraph(
            "Présences nominatives (professionnel·les, bénévoles, élu·es) et comptages anonymes "
            "des séances réalisées : une personne venue à trois séances compte trois fois."
        ),
        KeyFigures(
            "Personnes touchées : chiffres clés",
            [("Participations aux séances réalisées", people.total_cell())],
        ),
    ]
    rows = people.audience_rows(period, pt_id=pt_id)
    if rows is not None:
        values = [row[1].value for row in rows[:-1]]
        if any(isinstance(v, int) and v for v in values) and all(
            isinstance(v, int) for v in values
        ):
            blocks.append(
                Chart(
                    "Personnes touchées par public",
                    "Participations aux séances réalisées pour chaque public ; le tableau qui suit "
                    "donne les mêmes chiffres.",
                    [AUDIENCE_SHORT[a] for a in Audience.values],
                    values,
                    "Participations",
                )
            )
        blocks.append(
            Table(
                "Personnes touchées par public",
                ["Public", "Participations"],
                rows,
                sheet="Personnes par public",
                last_row_is_total=True,
            )
        )
    if pt_id is None:
        blocks.append(
            Table(
                "Personnes touchées par territoire et par public",
                ["Territoire", *[AUDIENCE_SHORT[a] for a in Audience.values], "Total"],
                people.territory_rows(period),
                empty_text="Aucun territoire.",
                sheet="Personnes par territoire",
                last_row_is_total=people.all_shown and len(people.visible) > 1,
            )
        )
    return blocks


def _structure_blocks(figures: Figures, *, pt_id, single) -> list:
    reached = figures.structures_reached(pt_id=pt_id)
    structures_link = record_link("structures", pt_id) if single else None
    by_sector: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for sector, finess in reached.values():
        by_sector[sector] = by_sector.get(sector, 0) + 1
        by_type[finess] = by_type.get(finess, 0) + 1
    sector_rows = [
        [label(SECTOR_LABELS.get(sector, sector)), count_cell(n)]
        for sector, n in sorted(by_sector.items(), key=lambda i: (-i[1], i[0]))
    ]
    type_rows = [
        [label(name), count_cell(n)]
        for name, n in sorted(by_type.items(), key=lambda i: (-i[1], i[0]))
    ]
    blocks = [
        Heading("Structures touchées", anchor="structures"),
        Paragraph(
            "Structures qui ont accueilli ou co-organisé une séance réalisée, dont un·e "
            "professionnel·le y a participé, ou qui ont été rencontrées pendant la période."
        ),
        KeyFigures(
            "Structures touchées : chiffres clés",
            [("Structures touchées", count_cell(len(reached), structures_link))],
        ),
    ]
    if sector_rows:
        blocks.append(
            Chart(
                "Structures touchées par secteur",
                "Nombre de structures touchées dans chaque secteur ; le tableau qui suit donne "
                "les mêmes chiffres.",
                [row[0].value for row in sector_rows],
                [row[1].value for row in sector_rows],
                "Structures",
            )
        )
    blocks.append(
        Table(
            "Structures touchées par secteur",
            ["Secteur", "Structures"],
            sector_rows,
            sheet="Structures par secteur",
        )
    )
    blocks.append(
        Table(
            "Structures touchées par type (catégorie FINESS)",
            ["Type de structure", "Structures"],
            type_rows,
            sheet="Structures par type",
        )
    )
    return blocks


def _needs_and_actions_blocks(figures: Figures, *, pt_id) -> list:
    identified, addressed = figures.needs(pt_id=pt_id)
    actions = figures.action_count(pt_id=pt_id)
    items = [
        (
            "Besoins identifiés",
            count_cell(identified, record_link("needs", pt_id) if pt_id else None),
        ),
        ("dont traités par au moins une action", count_cell(addressed)),
        ("Part des besoins traités", Cell(percent(addressed, identified))),
        (
            "Actions des plans",
            count_cell(actions, record_link("actions", pt_id) if pt_id else None),
        ),
        (
            "Avancement moyen pondéré",
            progress_cell(figures.action_progress(pt_id=pt_id)),
        ),
    ]
    blocks = [
        Heading("Besoins et actions", anchor="actions"),
        KeyFigures("Besoins et actions : chiffres clés", items),
    ]
    status_rows = [
        [
            label(STATUS_LABELS[status]),
            count_cell(
                figures.action_count(pt_id=pt_id, status=status),
                record_link("actions", pt_id, statut=status) if pt_id else None,
            ),
            progress_cell(figures.action_progress(pt_id=pt_id, status=status)),
        ]
        for status in ActionStatus.values
        if figures.action_count(pt_id=pt_id, status=status)
    ]
    if status_rows:
        blocks.append(
            Chart(
                "Actions par statut",
                "Nombre d'actions des plans pour chaque statut ; le tableau qui suit donne les "
                "mêmes chiffres.",
                [row[0].value for row in status_rows],
                [row[1].value for row in status_rows],
                "Actions",
            )
        )
    blocks.append(
        Table(
            "Actions par statut et avancement moyen (pondéré par le poids des actions)",
            ["Statut", "Actions", "Avancement moyen"],
            status_rows,
            empty_text="Aucune action pour cette période.",
            sheet="Actions par statut",
        )
    )
    if pt_id is None:
        rows = []
        for pt in figures.territories:
            identified, addressed = figures.needs(pt_id=pt.pk)
            rows.append(
                [
                    label(pt.territory.name),
                    count_cell(identified, record_link("needs", pt.pk)),
                    count_cell(addressed),
                    count_cell(figures.action_count(pt_id=pt.pk), record_link("actions", pt.pk)),
                    count_cell(
                        figures.action_count(pt_id=pt.pk, status=ActionStatus.DONE),
                        record_link("actions", pt.pk, statut=ActionStatus.DONE),
                    ),
                    progress_cell(figures.action_progress(pt_id=pt.pk)),
                ]
            )
        blocks.append(
            Table(
                "Besoins et actions par territoire",
                [
                    "Territoire",
                    "Besoins identifiés",
                    "Besoins traités",
                    "Actions",
                    "Actions réalisées",
                    "Avancement moyen",
                ],
                rows,
                empty_text="Aucun territoire.",
                sheet="Actions par territoire",
            )
        )
    return blocks


def _link_blocks(figures: Figures, *, pt_id) -> list:
    start = figures.programme.start_date
    now = figures.links_day
    linked, social = figures.social_linked_share(now, pt_id=pt_id)
    links = record_link("links", pt_id)
    items = [
        (
            f"Liens social–santé au début du programme ({start:%d/%m/%Y})",
            count_cell(figures.social_health_links(start, pt_id=pt_id)),
        ),
        (
            f"Liens social–santé au {now:%d/%m/%Y}",
            count_cell(figures.social_health_links(now, pt_id=pt_id), links),
        ),
        (
            "Structures sociales et médico-sociales liées à la santé",
            Cell(f"{linked} sur {social} ({percent(linked, social)})"),
        ),
    ]
    blocks = [
        Heading("Liens entre le social et la santé", anchor="liens"),
        Paragraph(
            "Liens actifs entre une structure sociale ou médico-sociale et une structure de "
            "santé, au début du programme et à la fin de la période."
        ),
        KeyFigures("Liens social–santé : chiffres clés", items),
    ]
    if pt_id is None:
        rows = []
        for pt in figures.territories:
            linked, social = figures.social_linked_share(now, pt_id=pt.pk)
            rows.append(
                [
                    label(pt.territory.name),
                    count_cell(figures.social_health_links(start, pt_id=pt.pk)),
                    count_cell(
                        figures.social_health_links(now, pt_id=pt.pk), record_link("links", pt.pk)
                    ),
                    Cell(linked, text=f"{linked} sur {social}"),
                ]
            )
        blocks.append(
            Table(
                "Liens social–santé par territoire",
                [
                    "Territoire",
                    f"Au {start:%d/%m/%Y}",
                    f"Au {now:%d/%m/%Y}",
                    "Structures sociales liées à la santé",
                ],
                rows,
                empty_text="Aucun territoire.",
                sheet="Liens social-santé",
            )
        )
    return blocks


def evaluation_table(figures: Figures, *, pt_id=None, masked: bool) -> SuppressedTable:
    table = {
        audience: {"n": figures.evaluation_summary(pt_id=pt_id, audience=audience)[0]}
        for audience in Audience.values
    }
    return suppress(table) if masked else suppress(table, threshold=0)


def _questionnaire_blocks(figures: Figures, *, pt_id, masked: bool) -> list:
    answers, mean = figures.evaluation_summary(pt_id=pt_id)
    counts = evaluation_table(figures, pt_id=pt_id, masked=masked)
    evaluations = record_link("evaluations", pt_id)
    items = [
        ("Évaluations des séances", suppressed_cell(counts.total, evaluations)),
        ("Satisfaction moyenne", mean_cell(answers, mean, masked=masked)),
        (
            "Réponses au questionnaire de sécurité alimentaire (FIES)",
            person_cell(figures.fies_count(pt_id=pt_id), masked=masked),
        ),
    ]
    rows = []
    for audience in Audience.values:
        n, audience_mean = figures.evaluation_summary(pt_id=pt_id, audience=audience)
        entry = counts.cells[audience]["n"]
        rows.append(
            [
                label(AUDIENCE_LABELS[audience]),
                suppressed_cell(entry),
                Cell("s") if entry.masked else mean_cell(n, audience_mean, masked=False),
            ]
        )
    rows.append(
        [label("Total"), suppressed_cell(counts.total), mean_cell(answers, mean, masked=masked)]
    )
    return [
        Heading("Questionnaires", anchor="questionnaires"),
        KeyFigures("Questionnaires : chiffres clés", items),
        Table(
            "Évaluations des séances par public (satisfaction de 1 à 5)",
            ["Public", "Réponses", "Satisfaction moyenne"],
            rows,
            sheet="Évaluations",
            last_row_is_total=True,
        ),
    ]
