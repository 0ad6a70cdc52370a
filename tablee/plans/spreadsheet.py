"""The action plan of a territory as a spreadsheet: the rows of the export, and the import's checks.

Export: ``action_rows``, ``budget_rows`` and ``value_rows`` are row generators, written into one
workbook (sheets « Actions », « Budget », « Valeurs possibles ») by ``core.exports.write_xlsx_sheets``.

Import, in four steps; nothing is written before the last one:

1. parse: ``read_plan_workbook`` reads the sheets « Actions » and « Budget »
   (``core.spreadsheets``); a CSV file holds the actions only;
2. validate: every cell becomes a typed value, or a ``Problem`` naming its line and column;
3. plan: ``plan_import`` compares each row with the database and returns an ``ImportPlan``
   (action created, updated with each field's old and new value, or unchanged), or raises
   ``SpreadsheetRejected`` with every problem found;
4. apply: ``services_sheets.plan_import_apply`` writes the plan, all or nothing.

An empty cell clears a text, a date, an axis or a list. A status, a progress, a priority, a weight
or a level of participation cannot be empty: there an empty cell keeps the stored value. A column
missing from the sheet leaves its field untouched, so that a sheet of two columns (« Code » and
« Avancement (%) ») is enough to update the progress of every action.
"""

import datetime
import hashlib
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Prefetch, Q
from django.utils import timezone

# The writer's cell helpers: they make every text cell formula-safe, as in every export.
from tablee.core.exports import Column, write_xlsx_sheets
from tablee.core.spreadsheets import (
    Problem,
    Row,
    Sheet,
    SpreadsheetRejected,
    is_xlsx,
    parse_decimal,
    read_csv,
    read_xlsx,
)
from tablee.core.text import fold
from tablee.diagnostic.models import Need
from tablee.directory.models import Structure
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionPlan,
    ActionStatus,
    ParticipationLevel,
)
from tablee.territories.models import Audience

ACTIONS_SHEET = "Actions"
BUDGET_SHEET = "Budget"
VALUES_SHEET = "Valeurs possibles"
LIST_SEPARATOR = " ; "
# Plans are small: a larger file is a mistake (a whole workbook of something else).
MAX_IMPORT_BYTES = 2 * 1024 * 1024
EXCEL_EPOCH = datetime.date(1899, 12, 30)
# Excel day numbers from 1954 to 2118: a plausible date typed in a cell formatted as a number.
EXCEL_SERIAL_RANGE = range(20000, 80000)
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y")
YES = {"oui", "o", "yes", "y", "x", "1", "vrai"}
NO = {"", "non", "n", "no", "0", "faux"}
EMPTY = "(vide)"
PREVIEW_TEXT_CHARS = 120
MAX_AMOUNT = Decimal("9999999999.99")  # max_digits=12, decimal_places=2

CREATED = "created"
UPDATED = "updated"
UNCHANGED = "unchanged"
KIND_LABELS = {CREATED: "Créée", UPDATED: "Mise à jour", UNCHANGED: "Inchangée"}


@dataclass(frozen=True)
class SheetField:
    """A column of the plan's workbook: the row key, the header, and headers also understood."""

    key: str
    header: str
    width: int | None = None
    aliases: tuple[str, ...] = ()

    @property
    def column(self) -> Column:
        return Column(self.key, self.header, self.width)


ACTION_FIELDS = [
    SheetField("code", "Code", 10),
    SheetField("axis", "Axe", 30),
    SheetField("title", "Intitulé", 40),
    SheetField("description", "Description", 50),
    SheetField("objectives", "Objectifs", 50),
    SheetField("status", "Statut", 14),
    SheetField("progress", "Avancement (%)", 15, aliases=("Avancement",)),
    SheetField("priority", "Priorité", 10),
    SheetField("weight", "Poids", 8),
    SheetField("start_date", "Début", 12, aliases=("Date de début",)),
    SheetField("end_date", "Fin", 12, aliases=("Date de fin",)),
    SheetField("audiences", "Publics", 40, aliases=("Publics visés",)),
    SheetField("needs", "Besoins", 50, aliases=("Besoins traités",)),
    SheetField("pilots", "Structures pilotes", 40, aliases=("Pilotes",)),
    SheetField("partners", "Partenaires", 40),
    SheetField(
        "elected_referent",
        "Élu·e référent·e",
        25,
        aliases=("Élu référent", "Élue référente", "Élu·e référent·e"),
    ),
    SheetField("pat_axis", "Axe du PAT", 25),
    SheetField("participation_level", "Participation", 16),
    SheetField("version", "Version", 9),
    SheetField("confirm", "Confirmer", 11),
]
BUDGET_FIELDS = [
    SheetField("code", "Code", 10),
    SheetField("year", "Année", 8),
    SheetField("funder", "Financeur", 30),
    SheetField("planned", "Prévu", 12, aliases=("Prévu (€)",)),
    SheetField("spent", "Dépensé", 12, aliases=("Dépensé (€)",)),
]
VALUE_COLUMNS = [Column("column", "Colonne", 22), Column("value", "Valeurs acceptées", 70)]
HEADERS = {field.key: field.header for field in ACTION_FIELDS}
BUDGET_HEADERS = {field.key: field.header for field in BUDGET_FIELDS}

TEXT_LIMITS = {"title": 200, "elected_referent": 200, "pat_axis": 200}
TEXT_FIELDS = ["title", "description", "objectives", "elected_referent", "pat_axis"]
RELATIONS = ["needs", "pilots", "partners"]
# Fields that cannot be empty: an empty cell keeps the stored value.
KEEP_WHEN_EMPTY = {"status", "progress", "priority", "weight", "participation_level"}


# --- Export ----------------------------------------------------------------------------------


def plan_actions(plan: ActionPlan):
    """The plan's actions with what a row shows: axis, needs, pilots and partners (4 queries)."""
    return plan.actions.select_related("axis").prefetch_related(
        Prefetch("needs", queryset=Need.objects.only("id", "title").order_by("title")),
        Prefetch("pilots", queryset=Structure.objects.only("id", "name").order_by("name")),
        Prefetch("partners", queryset=Structure.objects.only("id", "name").order_by("name")),
    )


def action_rows(actions: Iterable[Action]) -> Iterator[dict]:
    """One row per action, keyed like ACTION_FIELDS."""
    for action in actions:
        yield {
            "code": action.code,
            "axis": action.axis.title if action.axis else "",
            "title": action.title,
            "description": action.description,
            "objectives": action.objectives,
            "status": action.get_status_display(),
            "progress": action.progress,
            "priority": action.get_priority_display(),
            "weight": action.weight,
            "start_date": action.start_date,
            "end_date": action.end_date,
            "audiences": LIST_SEPARATOR.join(action.audience_labels),
            "needs": LIST_SEPARATOR.join(need.title for need in action.needs.all()),
            "pilots": LIST_SEPARATOR.join(s.name for s in action.pilots.all()),
            "partners": LIST_SEPARATOR.join(s.name for s in action.partners.all()),
            "elected_referent": action.elected_referent,
            "pat_axis": action.pat_axis,
            "participation_level": action.get_participation_level_display(),
            "version": action.version,
            "confirm": "",
        }


def budget_rows(plan: ActionPlan) -> Iterator[dict]:
    """One row per budget line of the plan, in the order of the actions (one query)."""
    lines = (
        ActionBudgetLine.objects.filter(action__plan=plan)
        .order_by("action__position", "action__code", "year", "funder")
        .values_list("action__code", "year", "funder", "planned", "spent")
    )
    for code, year, funder, planned, spent in lines:
        yield {"code": code, "year": year, "funder": funder, "planned": planned, "spent": spent}


def value_rows(plan: ActionPlan) -> Iterator[dict]:
    """The values each coded column accepts, for whoever fills the sheet (two queries)."""
    yield {"column": "Statut", "value": LIST_SEPARATOR.join(ActionStatus.labels)}
    yield {"column": "Priorité", "value": LIST_SEPARATOR.join(Action.Priority.labels)}
    yield {"column": "Poids", "value": "Un nombre entier de 1 à 10"}
    yield {"column": "Avancement (%)", "value": "Un nombre entier de 0 à 100"}
    yield {"column": "Début, Fin", "value": "Une date JJ/MM/AAAA"}
    yield {"column": "Participation", "value": LIST_SEPARATOR.join(ParticipationLevel.labels)}
    yield {"column": "Publics", "value": LIST_SEPARATOR.join(Audience.labels)}
    yield {
        "column": "Confirmer",
        "value": "« oui » pour enregistrer une action « Réalisée » avant 100 %",
    }
    for axis in plan.axes.all():
        yield {"column": "Axe", "value": axis.title}
    needs = Need.objects.filter(programme_territory_id=plan.programme_territory_id)
    for title in needs.order_by("title").values_list("title", flat=True):
        yield {"column": "Besoins", "value": title}


def plan_workbook(plan: ActionPlan, actions: list[Action]) -> bytes:
    """The workbook of ``plan``; ``actions`` come from ``plan_actions``."""
    return write_xlsx_sheets(
        [
            (ACTIONS_SHEET, [f.column for f in ACTION_FIELDS], action_rows(actions)),
            (BUDGET_SHEET, [f.column for f in BUDGET_FIELDS], budget_rows(plan)),
            (VALUES_SHEET, VALUE_COLUMNS, value_rows(plan)),
        ]
    )


# --- Import: parse -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetProblem(Problem):
    """A problem located in one sheet of the workbook (the « Actions » sheet goes unnamed)."""

    sheet: str = ACTIONS_SHEET

    def __str__(self) -> str:
        text = super().__str__()
        if self.sheet == ACTIONS_SHEET:
            return text
        return f"Onglet « {self.sheet} », {text[:1].lower()}{text[1:]}"


@dataclass
class Table:
    """A sheet read, with its columns matched to our fields."""

    sheet: str
    rows: list[Row]
    index: dict[str, int]  # field key → position of the cell in each row
    headers: dict[str, str]  # field key → the column's name as written in the file
    ignored: list[str]

    def has(self, key: str) -> bool:
        return key in self.index

    def cell(self, row: Row, key: str) -> str | None:
        """The text of the cell, or None when the sheet has no such column."""
        position = self.index.get(key)
        return None if position is None else row.cells[position]


def read_plan_workbook(data: bytes) -> tuple[Table, Table | None]:
    """Read the sheets « Actions » and, when it has lines, « Budget » (a CSV file: the actions)."""
    if len(data) > MAX_IMPORT_BYTES:
        raise SpreadsheetRejected(
            [Problem("Le fichier dépasse 2 Mo : ce n'est sans doute pas l'export d'un plan.")]
        )
    if not is_xlsx(data):
        return _table(ACTIONS_SHEET, read_csv(data), ACTION_FIELDS), None
    actions = _table(ACTIONS_SHEET, read_xlsx(data, sheet_title=ACTIONS_SHEET), ACTION_FIELDS)
    budget = None
    if _sheet_has_lines(data, BUDGET_SHEET):
        try:
            sheet = read_xlsx(data, sheet_title=BUDGET_SHEET)
        except SpreadsheetRejected as exc:
            raise SpreadsheetRejected(
                [_in_sheet(problem, BUDGET_SHEET) for problem in exc.problems]
            ) from None
        budget = _table(BUDGET_SHEET, sheet, BUDGET_FIELDS)
    return actions, budget


def _sheet_has_lines(data: bytes, title: str) -> bool:
    """Whether the workbook has a sheet ``title`` with at least one line below its header: an
    exported plan without any budget has a « Budget » sheet of headers only."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        if title not in workbook.sheetnames:
            return False
        rows = workbook[title].iter_rows(values_only=True)
        return sum(1 for cells in rows if any(c not in (None, "") for c in cells)) > 1
    finally:
        workbook.close()


def _in_sheet(problem: Problem, sheet: str) -> SheetProblem:
    return SheetProblem(problem.message, problem.line, problem.column, sheet=sheet)


def _table(name: str, sheet: Sheet, fields: list[SheetField]) -> Table:
    known = {fold(alias): f.key for f in fields for alias in (f.header, *f.aliases)}
    index: dict[str, int] = {}
    headers: dict[str, str] = {}
    ignored: list[str] = []
    problems = [_in_sheet(problem, name) for problem in sheet.problems]
    for position, column in enumerate(sheet.columns):
        key = known.get(fold(column.name))
        if key is None:
            ignored.append(column.name)
        elif key in index:
            problems.append(
                SheetProblem(
                    f"cette colonne dit la même chose que « {headers[key]} » : gardez-en une seule.",
                    line=1,
                    column=column.name,
                    sheet=name,
                )
            )
        else:
            index[key] = position
            headers[key] = column.name
    if "code" not in index:
        problems.append(
            SheetProblem(
                f"la première ligne de l'onglet « {name} » n'a pas de colonne « Code » : "
                "partez d'un export du plan.",
                line=1,
                sheet=name,
            )
        )
    if problems:
        raise SpreadsheetRejected(problems)
    return Table(name, sheet.rows, index, headers, ignored)


# --- Import: validate and plan -----------------------------------------------------------------


@dataclass
class Change:
    label: str
    old: str
    new: str


@dataclass
class ActionRowPlan:
    line: int
    code: str
    action: Action | None  # None: the row creates an action
    updates: dict = field(default_factory=dict)  # field → new value
    relations: dict = field(default_factory=dict)  # "needs", "pilots", "partners" → objects
    changes: list[Change] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.action is None:
            return CREATED
        return UPDATED if self.changes else UNCHANGED

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def title(self) -> str:
        return self.updates.get("title") or (self.action.title if self.action else "")


@dataclass
class BudgetRowPlan:
    line: int
    code: str
    year: int
    funder: str
    planned: Decimal
    spent: Decimal
    existing: ActionBudgetLine | None
    changes: list[Change] = field(default_factory=list)

    @property
    def kind(self) -> str:
        if self.existing is None:
            return CREATED
        return UPDATED if self.changes else UNCHANGED

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]


@dataclass
class ImportPlan:
    """What an import would do, row by row; nothing of it is written yet."""

    plan: ActionPlan
    actions: list[ActionRowPlan]
    budget: list[BudgetRowPlan]
    ignored_columns: list[str]
    has_budget: bool

    def _count(self, rows, kind) -> int:
        return sum(1 for row in rows if row.kind == kind)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "created": self._count(self.actions, CREATED),
            "updated": self._count(self.actions, UPDATED),
            "unchanged": self._count(self.actions, UNCHANGED),
            "budget_created": self._count(self.budget, CREATED),
            "budget_updated": self._count(self.budget, UPDATED),
            "budget_unchanged": self._count(self.budget, UNCHANGED),
        }

    @property
    def has_changes(self) -> bool:
        return any(row.kind != UNCHANGED for row in [*self.actions, *self.budget])

    @property
    def changed_actions(self) -> list[ActionRowPlan]:
        return [row for row in self.actions if row.kind != UNCHANGED]

    @property
    def unchanged_actions(self) -> list[ActionRowPlan]:
        return [row for row in self.actions if row.kind == UNCHANGED]

    @property
    def changed_budget(self) -> list[BudgetRowPlan]:
        return [row for row in self.budget if row.kind != UNCHANGED]

    @property
    def fingerprint(self) -> str:
        """A digest of every change and of the versions compared: the confirmation applies the
        preview the person saw, or nothing."""
        content = {
            "actions": [
                [
                    row.code,
                    row.kind,
                    row.action.version if row.action else 0,
                    [[c.label, c.new] for c in row.changes],
                ]
                for row in self.actions
            ],
            "budget": [
                [row.code, row.year, row.funder, row.kind, [[c.label, c.new] for c in row.changes]]
                for row in self.budget
            ],
        }
        text = json.dumps(content, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def plan_import(plan: ActionPlan, data: bytes) -> ImportPlan:
    """Read ``data`` (an XLSX export of the plan, edited) and compare it with ``plan``.

    Raises SpreadsheetRejected with every problem found, each naming its line and column.
    """
    actions_table, budget_table = read_plan_workbook(data)
    return _Planner(plan).build(actions_table, budget_table)


class _Planner:
    """Checks each row against what the plan and its territory hold (loaded once)."""

    def __init__(self, plan: ActionPlan):
        self.plan = plan
        self.problems: list[Problem] = []
        self.new_codes: set[str] = set()  # codes of the « Actions » sheet unknown to the plan
        actions = list(plan_actions(plan))
        self.by_code = {action.code: action for action in actions}
        self.by_folded_code: dict[str, list[Action]] = {}
        for action in actions:
            self.by_folded_code.setdefault(action.code.casefold(), []).append(action)
        self.axes = list(plan.axes.all())
        self.needs = list(
            Need.objects.filter(programme_territory_id=plan.programme_territory_id).only(
                "id", "title"
            )
        )
        # Structures of the territory, and those already piloting or partnering an action of the
        # plan wherever they are (a regional association, for instance).
        self.structures = list(
            Structure.objects.filter(
                Q(commune__territory_id=plan.programme_territory.territory_id)
                | Q(piloted_actions__plan=plan)
                | Q(partner_actions__plan=plan)
            )
            .distinct()
            .only("id", "name", "search_name")
        )

    def problem(self, table: Table, row: Row, key: str | None, message: str) -> None:
        column = table.headers.get(key) if key else None
        self.problems.append(SheetProblem(message, row.line, column, sheet=table.sheet))

    def build(self, actions_table: Table, budget_table: Table | None) -> ImportPlan:
        rows: list[ActionRowPlan] = []
        seen: dict[str, int] = {}
        for row in actions_table.rows:
            planned = self.action_row(actions_table, row, seen)
            if planned is not None:
                rows.append(planned)
        budget: list[BudgetRowPlan] = []
        if budget_table is not None:
            budget = self.budget_rows(budget_table)
        if self.problems:
            raise SpreadsheetRejected(self.problems)
        ignored = [f"{ACTIONS_SHEET} : {name}" for name in actions_table.ignored]
        if budget_table is not None:
            ignored += [f"{BUDGET_SHEET} : {name}" for name in budget_table.ignored]
        return ImportPlan(
            plan=self.plan,
            actions=rows,
            budget=budget,
            ignored_columns=ignored,
            has_budget=budget_table is not None,
        )

    # -- One row of the « Actions » sheet ------------------------------------------------------

    def action_row(self, table: Table, row: Row, seen: dict[str, int]) -> ActionRowPlan | None:
        before = len(self.problems)
        code = table.cell(row, "code")
        if not code:
            self.problem(table, row, "code", "indiquez le code de l'action (par exemple A1).")
            return None
        if len(code) > 20:
            self.problem(table, row, "code", f"« {code} » : 20 caractères au plus.")
            return None
        if code.casefold() in seen:
            self.problem(
                table,
                row,
                "code",
                f"le code « {code} » figure déjà ligne {seen[code.casefold()]} : un code par "
                "action.",
            )
            return None
        seen[code.casefold()] = row.line
        action = self.find_action(code)
        if action is None:
            self.new_codes.add(code)
        values = self.read_values(table, row, is_new=action is None)
        if len(self.problems) > before:
            return None
        planned = ActionRowPlan(line=row.line, code=action.code if action else code, action=action)
        if action is None:
            self.plan_creation(table, row, planned, values)
        else:
            self.plan_update(planned, action, values)
        self.check_row(table, row, planned, values)
        if len(self.problems) > before:
            return None
        return planned

    def find_action(self, code: str) -> Action | None:
        if code in self.by_code:
            return self.by_code[code]
        matches = self.by_folded_code.get(code.casefold(), [])
        return matches[0] if len(matches) == 1 else None

    def read_values(self, table: Table, row: Row, *, is_new: bool) -> dict:
        """The typed values of the row's cells; a column absent, or an empty cell of a field that
        cannot be empty, gives no value (the stored one is kept)."""
        values: dict = {}
        for key in HEADERS:
            if key == "code" or not table.has(key):
                continue
            text = table.cell(row, key)
            if not text and key in KEEP_WHEN_EMPTY:
                continue
            if not text and key == "title" and not is_new:
                self.problem(table, row, key, "l'intitulé ne peut pas être vide.")
                continue
            try:
                values[key] = self.parse(key, text)
            except ValueError as error:
                self.problem(table, row, key, str(error))
        return values

    def parse(self, key: str, text: str):
        if key in TEXT_FIELDS:
            limit = TEXT_LIMITS.get(key)
            if limit and len(text) > limit:
                raise ValueError(f"{limit} caractères au plus (ici {len(text)}).")
            return text
        if key == "axis":
            return self.parse_axis(text)
        if key == "status":
            return parse_choice(text, ActionStatus.choices, "statut")
        if key == "priority":
            return int(parse_choice(text, Action.Priority.choices, "priorité"))
        if key == "participation_level":
            return parse_choice(text, ParticipationLevel.choices, "niveau de participation")
        if key == "progress":
            return parse_whole(text, 0, 100, "un avancement", unit="%")
        if key == "weight":
            return parse_whole(text, 1, 10, "un poids")
        if key in ("start_date", "end_date"):
            return parse_date(text) if text else None
        if key == "audiences":
            return parse_audiences(text)
        if key == "needs":
            return self.match_names(text, self.needs, key=lambda need: need.title, what="besoin")
        if key in ("pilots", "partners"):
            return self.match_names(
                text, self.structures, key=lambda structure: structure.name, what="structure"
            )
        if key == "version":
            return parse_whole(text, 1, 10**9, "un numéro de version") if text else None
        if key == "confirm":
            return parse_yes_no(text)
        raise AssertionError(key)  # pragma: no cover - every key of HEADERS is handled above

    def parse_axis(self, text: str):
        if not text:
            return None
        for axis in self.axes:
            if axis.title == text:
                return axis
        folded = [axis for axis in self.axes if fold(axis.title) == fold(text)]
        if len(folded) == 1:
            return folded[0]
        if not self.axes:
            raise ValueError(
                f"axe inconnu « {text} » : le plan n'a encore aucun axe ; créez-le d'abord sur "
                "la page du plan."
            )
        known = ", ".join(f"« {axis.title} »" for axis in self.axes)
        raise ValueError(f"axe inconnu « {text} ». Les axes du plan sont : {known}.")

    def match_names(self, text: str, candidates, *, key, what: str) -> list:
        found = []
        for name in split_list(text):
            exact = [c for c in candidates if key(c).strip() == name]
            if not exact:
                exact = [c for c in candidates if fold(key(c)) == fold(name)]
            if not exact:
                raise ValueError(UNKNOWN_NAME[what].format(name=name))
            if len(exact) > 1:
                raise ValueError(
                    f"plusieurs {what}s portent le nom « {name} » : renommez-les dans Tablée "
                    "pour les distinguer."
                )
            if exact[0] not in found:
                found.append(exact[0])
        return found

    def plan_creation(self, table: Table, row: Row, planned: ActionRowPlan, values: dict) -> None:
        if values.get("version") is not None:
            self.problem(
                table,
                row,
                "code",
                f"aucune action n'a le code « {planned.code} » dans ce plan : elle a peut-être été "
                "supprimée ou son code changé. Pour créer une nouvelle action, videz la colonne "
                "« Version ».",
            )
            return
        if not values.get("title"):
            self.problem(
                table,
                row,
                "title" if table.has("title") else "code",
                f"« {planned.code} » est un nouveau code : indiquez l'intitulé de la nouvelle "
                "action.",
            )
            return
        for key, value in values.items():
            if key in ("version", "confirm"):
                continue
            if key in RELATIONS:
                planned.relations[key] = value
            else:
                planned.updates[key] = value
            shown = display(key, value)
            if shown != EMPTY:
                planned.changes.append(Change(HEADERS[key], "—", shown))

    def plan_update(self, planned: ActionRowPlan, action: Action, values: dict) -> None:
        for key, value in values.items():
            if key in ("version", "confirm"):
                continue
            current = stored_value(action, key)
            if same_value(key, current, value):
                continue
            if key in RELATIONS:
                planned.relations[key] = value
            else:
                planned.updates[key] = value
            planned.changes.append(Change(HEADERS[key], display(key, current), display(key, value)))

    def check_row(self, table: Table, row: Row, planned: ActionRowPlan, values: dict) -> None:
        """Checks across cells: dates in order, « Réalisée » below 100 %, the version read."""
        action = planned.action
        if action is not None and planned.changes:
            version = values.get("version")
            if version is not None and version != action.version:
                self.problem(table, row, "version", version_message(action, version))
                return

        def effective(key, default=None):
            if key in planned.updates:
                return planned.updates[key]
            return getattr(action, key) if action is not None else default

        start, end = effective("start_date"), effective("end_date")
        dates_touched = "start_date" in planned.updates or "end_date" in planned.updates
        if start and end and end < start and dates_touched:
            self.problem(
                table,
                row,
                "end_date" if table.has("end_date") else "start_date",
                f"la fin ({end:%d/%m/%Y}) est avant le début ({start:%d/%m/%Y}).",
            )
        status = effective("status", ActionStatus.PLANNED)
        progress = effective("progress", 0)
        touched = "status" in planned.updates or "progress" in planned.updates
        if status == ActionStatus.DONE and progress < 100 and touched:
            if not values.get("confirm"):
                self.problem(
                    table,
                    row,
                    "status" if table.has("status") else "progress",
                    f"« Réalisée » avec un avancement de {progress} % : corrigez l'avancement, "
                    "ou écrivez « oui » dans une colonne « Confirmer » pour l'enregistrer ainsi.",
                )

    # -- The « Budget » sheet ------------------------------------------------------------------

    def budget_rows(self, table: Table) -> list[BudgetRowPlan]:
        existing: dict[tuple, ActionBudgetLine] = {
            (line.action_id, line.year, line.funder.casefold()): line
            for line in ActionBudgetLine.objects.filter(action__plan=self.plan)
        }
        for key in ("year", "funder", "planned"):
            if not table.has(key):
                self.problems.append(
                    SheetProblem(
                        f"la première ligne n'a pas de colonne « {BUDGET_HEADERS[key]} ».",
                        line=1,
                        sheet=table.sheet,
                    )
                )
        if any(not table.has(key) for key in ("year", "funder", "planned")):
            return []
        planned_rows: list[BudgetRowPlan] = []
        seen: dict[tuple, int] = {}
        for row in table.rows:
            before = len(self.problems)
            code = table.cell(row, "code")
            action = self.find_action(code) if code else None
            if not code:
                self.problem(table, row, "code", "indiquez le code de l'action.")
            elif action is None and code not in self.new_codes:
                self.problem(
                    table,
                    row,
                    "code",
                    f"aucune action n'a le code « {code} », ni dans le plan, ni dans l'onglet "
                    "« Actions ».",
                )
            year = self.budget_cell(
                table, row, "year", lambda t: parse_whole(t, 2000, 2100, "une année")
            )
            funder = table.cell(row, "funder") or ""
            if not funder:
                self.problem(table, row, "funder", "indiquez le financeur.")
            elif len(funder) > 200:
                self.problem(table, row, "funder", "200 caractères au plus.")
            planned = self.budget_cell(table, row, "planned", parse_amount)
            spent_text = table.cell(row, "spent")
            spent = self.budget_cell(table, row, "spent", parse_amount) if spent_text else None
            if len(self.problems) > before:
                continue
            key = (code.casefold(), year, funder.casefold())
            if key in seen:
                self.problem(
                    table,
                    row,
                    "funder",
                    f"l'action « {code} » a déjà une ligne pour {funder} en {year} (ligne "
                    f"{seen[key]}).",
                )
                continue
            seen[key] = row.line
            line = existing.get((action.pk, year, funder.casefold())) if action else None
            budget_row = BudgetRowPlan(
                line=row.line,
                code=action.code if action else code,
                year=year,
                funder=line.funder if line else funder,
                planned=planned,
                spent=spent if spent is not None else (line.spent if line else Decimal(0)),
                existing=line,
            )
            if line is None:
                budget_row.changes.append(Change("Prévu", "—", display_amount(planned)))
                budget_row.changes.append(Change("Dépensé", "—", display_amount(budget_row.spent)))
            else:
                if line.planned != planned:
                    budget_row.changes.append(
                        Change("Prévu", display_amount(line.planned), display_amount(planned))
                    )
                if line.spent != budget_row.spent:
                    budget_row.changes.append(
                        Change(
                            "Dépensé", display_amount(line.spent), display_amount(budget_row.spent)
                        )
                    )
            planned_rows.append(budget_row)
        return planned_rows

    def budget_cell(self, table: Table, row: Row, key: str, parse):
        text = table.cell(row, key) or ""
        if not text:
            self.problem(table, row, key, f"indiquez {BUDGET_EMPTY[key]}.")
            return None
        try:
            return parse(text)
        except ValueError as error:
            self.problem(table, row, key, str(error))
            return None


UNKNOWN_NAME = {
    "besoin": "besoin inconnu « {name} » : aucun besoin du diagnostic du territoire ne porte ce "
    "titre.",
    "structure": "structure inconnue « {name} » : aucune structure du territoire ou du plan ne "
    "porte ce nom.",
}
BUDGET_EMPTY = {"year": "l'année", "planned": "le montant prévu (0 si rien)", "spent": "le montant"}


# --- Cell parsers: each returns a value or raises ValueError with a French message -------------


def split_list(text: str) -> list[str]:
    """« a ; b ;c » → ["a", "b", "c"]; an empty text gives an empty list."""
    return [part.strip() for part in (text or "").split(";") if part.strip()]


def parse_choice(text: str, choices, what: str):
    """A value of ``choices`` written as its label or its code, whatever the accents and case."""
    wanted = fold(text)
    for value, label in choices:
        if wanted in (fold(str(value)), fold(label)):
            return value
    accepted = ", ".join(f"« {label} »" for _, label in choices)
    raise ValueError(f"{what} inconnu « {text} ». Valeurs possibles : {accepted}.")


def parse_whole(text: str, low: int, high: int, what: str, *, unit: str = "") -> int:
    cleaned = text.strip().removesuffix("%").strip() if unit == "%" else text.strip()
    try:
        number = parse_decimal(cleaned)
    except ValueError:
        number = None
    if number is None or number != number.to_integral_value() or not low <= number <= high:
        raise ValueError(
            f"« {text} » n'est pas {what} valide : écrivez un nombre entier de {low} à {high}."
        )
    return int(number)


def parse_date(text: str) -> datetime.date:
    """JJ/MM/AAAA (also AAAA-MM-JJ, JJ-MM-AAAA, JJ.MM.AAAA), or an Excel day number."""
    candidate = text.strip().split(" ")[0]  # a date and time read from Excel: the date
    for pattern in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(candidate, pattern).date()  # noqa: DTZ007 - a date
        except ValueError:
            continue
    if candidate.isdigit() and int(candidate) in EXCEL_SERIAL_RANGE:
        return EXCEL_EPOCH + datetime.timedelta(days=int(candidate))
    raise ValueError(
        f"« {text} » n'est pas une date : écrivez-la JJ/MM/AAAA, par exemple 15/03/2025."
    )


def parse_audiences(text: str) -> list[str]:
    found = {parse_choice(part, Audience.choices, "public") for part in split_list(text)}
    # Stored in the order of the choices, so that the same audiences compare equal.
    return [value for value in Audience.values if value in found]


def parse_yes_no(text: str) -> bool:
    folded = fold(text)
    if folded in YES:
        return True
    if folded in NO:
        return False
    raise ValueError(f"« {text} » : écrivez « oui » ou laissez vide.")


def parse_amount(text: str) -> Decimal:
    cleaned = text.strip().removesuffix("€").strip()
    amount = parse_decimal(cleaned)
    if amount < 0:
        raise ValueError(f"« {text} » : un montant ne peut pas être négatif.")
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(f"« {text} » : deux chiffres après la virgule au plus.")
    if amount > MAX_AMOUNT:
        raise ValueError(f"« {text} » : montant trop élevé.")
    return amount.quantize(Decimal("0.01"))


# --- Comparing and showing values ----------------------------------------------------------------


def stored_value(action: Action, key: str):
    if key in RELATIONS:
        return list(getattr(action, key).all())
    return getattr(action, key)


def same_value(key: str, current, new) -> bool:
    if key in RELATIONS:
        return {obj.pk for obj in current} == {obj.pk for obj in new}
    if key == "axis":
        return (current.pk if current else None) == (new.pk if new else None)
    if key == "audiences":
        return set(current or []) == set(new)
    if key in TEXT_FIELDS:
        # A spreadsheet cell read back has its line breaks turned into spaces: the same words are
        # the same text.
        return " ".join((current or "").split()) == " ".join(new.split())
    return current == new


def display(key: str, value) -> str:
    """The text of a value in the preview: labels, JJ/MM/AAAA dates, lists joined by « ; »."""
    if value is None or value == "" or value == []:
        return EMPTY
    if key == "status":
        return ActionStatus(value).label
    if key == "priority":
        return Action.Priority(value).label
    if key == "participation_level":
        return ParticipationLevel(value).label
    if key == "progress":
        return f"{value} %"
    if key in ("start_date", "end_date"):
        return f"{value:%d/%m/%Y}"
    if key == "audiences":
        labels = dict(Audience.choices)
        return LIST_SEPARATOR.join(labels.get(v, v) for v in value)
    if key == "needs":
        return LIST_SEPARATOR.join(sorted(need.title for need in value))
    if key in ("pilots", "partners"):
        return LIST_SEPARATOR.join(sorted(structure.name for structure in value))
    if key == "axis":
        return value.title
    text = " ".join(str(value).split())
    if len(text) > PREVIEW_TEXT_CHARS:
        return text[: PREVIEW_TEXT_CHARS - 1] + "…"
    return text


def display_amount(amount: Decimal) -> str:
    return f"{amount:,.2f} €".replace(",", "\u202f").replace(".", ",")


def version_message(action: Action, version: int) -> str:
    if version > action.version:
        return (
            f"la version {version} n'existe pas (version actuelle : {action.version}) : "
            "exportez à nouveau le plan."
        )
    latest = action.history.select_related("history_user").order_by("-history_date").first()
    who = ""
    if latest is not None:
        author = latest.history_user.get_full_name() if latest.history_user else "un·e inconnu·e"
        when = timezone.localtime(latest.history_date)
        who = f" (par {author}, le {when:%d/%m/%Y à %H:%M})"
    return (
        f"l'action a été modifiée depuis l'export{who} : exportez à nouveau le plan et reportez-y "
        "vos changements."
    )
