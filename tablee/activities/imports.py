"""Import of the history of sessions from a spreadsheet: read, map columns, validate, plan, apply.

The sessions held before Tablée (2024–2026) live in spreadsheets whose columns are named as each
team chose. An import goes through these steps, shared by the web pages and by
``manage.py import_sessions``:

1. read: ``core.spreadsheets.read_table`` turns a CSV or XLSX file into a ``Sheet``;
2. map: ``guess_mapping`` proposes, for each field we know (``FIELDS``), the column of the sheet
   whose folded name matches; the person corrects it (``check_mapping``);
3. validate and plan: ``build_plan`` reads every row, checks it (each problem names the line, the
   column and the value, in French) and decides whether it creates a session, updates one, or
   changes nothing;
4. apply: ``sessions_import`` plans again inside one transaction and writes everything, or
   nothing when a single row is refused.

Each row has a key stored in ``Session.import_key``: the value of the "identifiant" column when
one is mapped, otherwise a hash of the territory, the date, the start time and the format. The
same file imported twice therefore changes nothing the second time. A session typed in by hand
with the same territory, start and format (and no key yet) is recognised and updated rather than
duplicated.

The number of participants is kept as an anonymous headcount of the session's audience (never
names: history files have none), which the attendance pages add to the named attendance.
"""

import datetime
import hashlib
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.activities.models import MAX_HEADCOUNT, ActivityFormat, Headcount, Session
from tablee.core.spreadsheets import Column, Problem, Sheet, parse_decimal
from tablee.core.text import fold
from tablee.plans.models import Action
from tablee.territories.models import Audience, Commune, ProgrammeTerritory, SessionKind

# Larger files are refused by the web form; the command line takes them.
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
PREVIEW_ROWS = 20
MAX_LISTED = 15  # names listed in an error message (known formats, territories, codes)
MAX_IDENTIFIER = 150
CHUNK = 500  # keys per IN (...) query

CREATE, UPDATE, UNCHANGED = "create", "update", "unchanged"
ACTION_LABELS = {CREATE: "À créer", UPDATE: "À mettre à jour", UNCHANGED: "Inchangée"}


@dataclass(frozen=True)
class ImportField:
    """A field of a session that a column of the sheet may fill."""

    key: str  # the name used by --mapping ("date=Date,territoire=EPCI")
    label: str
    required: bool
    aliases: tuple[str, ...]  # folded column names guessed automatically
    help: str


FIELDS = [
    ImportField(
        "identifiant",
        "Identifiant de la séance",
        False,
        ("identifiant", "id", "reference", "ref", "numero", "n", "code seance"),
        "Facultatif : un identifiant stable de la ligne. Sans lui, une séance est reconnue par son "
        "territoire, sa date, son heure de début et son format.",
    ),
    ImportField(
        "date",
        "Date",
        True,
        ("date", "jour", "date de la seance", "date seance", "date de l atelier"),
        "Par exemple 12/03/2025 ou 2025-03-12 ; une date avec l'heure (12/03/2025 14:00) donne "
        "aussi l'heure de début.",
    ),
    ImportField(
        "debut",
        "Heure de début",
        False,
        ("heure de debut", "debut", "heure", "horaire", "heure debut", "de"),
        "Par exemple 14:00 ou 14h30. Nécessaire si la date ne contient pas l'heure.",
    ),
    ImportField(
        "fin",
        "Heure de fin",
        False,
        ("heure de fin", "fin", "heure fin", "a"),
        "Par exemple 16:00. Sans heure de fin ni durée, la durée du format est utilisée.",
    ),
    ImportField(
        "duree",
        "Durée",
        False,
        ("duree", "duree minutes", "duree en minutes", "duree h", "duree en heures"),
        "En minutes (90) ou en heures (1h30, 2 h). Utilisée quand l'heure de fin manque.",
    ),
    ImportField(
        "territoire",
        "Territoire (EPCI)",
        True,
        ("territoire", "epci", "siren", "communaute de communes", "intercommunalite", "cc"),
        "Le nom de l'EPCI ou son SIREN ; il doit faire partie du programme.",
    ),
    ImportField(
        "format",
        "Format",
        True,
        ("format", "type d atelier", "atelier", "intitule", "theme", "activite"),
        "Le nom d'un format du catalogue du programme.",
    ),
    ImportField(
        "type",
        "Type (atelier ou formation)",
        False,
        ("type", "nature", "type de seance", "atelier ou formation"),
        "« atelier » ou « formation » ; à défaut, le type du format.",
    ),
    ImportField(
        "public",
        "Public",
        False,
        ("public", "public cible", "publics", "public vise"),
        "Professionnel·les, bénévoles, élu·es ou personnes en situation de précarité "
        "alimentaire ; à défaut, le public du format.",
    ),
    ImportField(
        "lieu",
        "Lieu",
        False,
        ("lieu", "adresse", "salle", "lieu de la seance"),
        "Le nom ou l'adresse du lieu.",
    ),
    ImportField(
        "commune",
        "Commune",
        False,
        ("commune", "ville", "code insee", "code commune"),
        "Le nom ou le code INSEE de la commune.",
    ),
    ImportField(
        "statut",
        "Statut",
        False,
        ("statut", "etat", "realisee"),
        "Réalisée, annulée, programmée ou reportée ; à défaut, réalisée si la date est passée, "
        "programmée sinon.",
    ),
    ImportField(
        "participants",
        "Nombre de participant·es",
        False,
        (
            "nombre de participant es",
            "nombre de participants",
            "participants",
            "participant es",
            "nb participants",
            "nombre de personnes",
            "effectif",
            "presents",
            "nombre de presents",
        ),
        f"Un nombre entier de 0 à {MAX_HEADCOUNT}, enregistré comme un comptage anonyme.",
    ),
    ImportField(
        "action",
        "Action du plan (code)",
        False,
        ("action", "code action", "action du plan", "fiche action"),
        "Facultatif : le code d'une action du plan du territoire, par exemple A1.",
    ),
]
FIELDS_BY_KEY = {f.key: f for f in FIELDS}

STATUS_WORDS = {
    Session.Status.HELD: {"realisee", "realise", "faite", "fait", "tenue", "held", "oui"},
    Session.Status.CANCELLED: {"annulee", "annule", "cancelled", "canceled"},
    Session.Status.PLANNED: {"programmee", "programme", "prevue", "prevu", "a venir", "planned"},
    Session.Status.POSTPONED: {"reportee", "reporte", "postponed"},
}
KIND_WORDS = {
    SessionKind.WORKSHOP: {"atelier", "ateliers", "workshop"},
    SessionKind.TRAINING: {"formation", "formations", "training"},
}
AUDIENCE_WORDS = {
    Audience.PROFESSIONALS: {
        "professionnel",
        "professionnels",
        "professionnelle",
        "professionnelles",
        "professionnel les",
        "pros",
        "pro",
        "professionnels du social",
        "travailleurs sociaux",
    },
    Audience.VOLUNTEERS: {"benevole", "benevoles", "benevoles de l aide alimentaire"},
    Audience.ELECTED: {"elu", "elus", "elue", "elues", "elu es", "elus locaux"},
    Audience.PEOPLE: {
        "personnes",
        "personnes concernees",
        "personnes accompagnees",
        "habitants",
        "habitant es",
        "beneficiaires",
        "public precaire",
    },
}
TERRITORY_PREFIXES = (
    "communaute de communes ",
    "communaute d agglomeration ",
    "communaute urbaine ",
    "cc ",
    "ca ",
    "cu ",
)

_DATE_FR = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?!\d)")
_DATE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_TIME = re.compile(r"(\d{1,2})(?:\s*[:hH.]\s*(\d{2})?)?(?::\d{2})?")
_DURATION_HOURS = re.compile(r"(\d+(?:[.,]\d+)?)\s*h(?:eures?)?\s*(\d{1,2})?\s*(?:min)?")
_DURATION_MINUTES = re.compile(r"(\d+)\s*(?:min|minutes|mn)?")


class ImportRefused(Exception):
    """Rows of the file were refused: nothing was written. ``plan.problems`` says why."""

    def __init__(self, plan: "ImportPlan"):
        self.plan = plan
        super().__init__(f"{len(plan.problems)} problème(s) : rien n'a été écrit.")


# ---- Mapping ------------------------------------------------------------------------------------


def guess_mapping(columns: list[Column]) -> dict[str, str]:
    """For each field, the column whose folded name is the field's label or one of its aliases.

    A column is proposed for one field only, the first in FIELDS order.
    """
    by_folded = {fold(column.name): column.name for column in columns}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for import_field in FIELDS:
        for candidate in (fold(import_field.label), *import_field.aliases):
            name = by_folded.get(candidate)
            if name is not None and name not in used:
                mapping[import_field.key] = name
                used.add(name)
                break
    return mapping


def parse_mapping_option(text: str) -> dict[str, str]:
    """Read "date=Date,territoire=EPCI" (the command line's --mapping). Raises ValueError."""
    mapping = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, column = part.partition("=")
        key, column = fold(key).replace(" ", "_"), column.strip()
        if not sep or not column:
            raise ValueError(f"« {part} » : écrivez champ=Nom de la colonne.")
        if key not in FIELDS_BY_KEY:
            raise ValueError(
                f"champ « {part.partition('=')[0].strip()} » inconnu ; champs possibles : "
                + ", ".join(FIELDS_BY_KEY)
                + "."
            )
        mapping[key] = column
    return mapping


def check_mapping(mapping: dict[str, str], columns: list[Column]) -> list[str]:
    """French errors of a mapping (field key -> column name); empty when it can be used.

    Column names are matched exactly, or else on their folded form (so "epci" finds "EPCI").
    The mapping is rewritten in place with the exact names.
    """
    errors = []
    exact = {column.name for column in columns}
    folded = {fold(column.name): column.name for column in columns}
    for key, name in list(mapping.items()):
        if key not in FIELDS_BY_KEY:
            errors.append(f"Champ inconnu : « {key} ».")
            continue
        if not name:
            del mapping[key]
            continue
        if name not in exact:
            if fold(name) in folded:
                mapping[key] = folded[fold(name)]
            else:
                errors.append(
                    f"{FIELDS_BY_KEY[key].label} : le fichier n'a pas de colonne « {name} » "
                    f"(colonnes : {', '.join(c.name for c in columns)})."
                )
    for import_field in FIELDS:
        if import_field.required and import_field.key not in mapping:
            errors.append(f"Choisissez la colonne du champ « {import_field.label} ».")
    seen: dict[str, str] = {}
    for key, name in mapping.items():
        # A date-and-time column may give both the date and the start time.
        if name in seen and {seen[name], key} != {"date", "debut"}:
            errors.append(
                f"La colonne « {name} » est associée à deux champs "
                f"(« {FIELDS_BY_KEY[seen[name]].label} » et « {FIELDS_BY_KEY[key].label} ») : "
                "gardez-en un seul."
            )
        seen.setdefault(name, key)
    return errors


# ---- Parsing cells --------------------------------------------------------------------------------


class CellError(ValueError):
    """A cell that cannot be read; the message is French and quotes the value."""


def parse_date(text: str) -> tuple[datetime.date, datetime.time | None]:
    """A date written 12/03/2025, 12/03/25, 12.03.2025 or 2025-03-12, with an optional time."""
    text = text.strip()
    iso = _DATE_ISO.match(text)
    if iso:
        year, month, day = int(iso[1]), int(iso[2]), int(iso[3])
        rest = text[iso.end() :]
    else:
        french = _DATE_FR.match(text)
        if not french:
            raise CellError(f"date illisible « {text} » : écrivez-la JJ/MM/AAAA.")
        day, month, year = int(french[1]), int(french[2]), int(french[3])
        if year < 100:
            year += 2000
        rest = text[french.end() :]
    try:
        day_ = datetime.date(year, month, day)
    except ValueError:
        raise CellError(f"date invalide « {text} » : ce jour n'existe pas.") from None
    rest = rest.strip().lstrip("Tà").strip()
    if not rest:
        return day_, None
    return day_, parse_time(rest, original=text)


def parse_time(text: str, *, original: str | None = None) -> datetime.time:
    """An hour written 14:00, 14h, 14h30, 14 h 30, 14.30, 14:00:00 or 14; a spreadsheet's time
    cell read as a date and time (30/12/1899 14:00) gives its time."""
    text = text.strip()
    shown = original or text
    match = _TIME.fullmatch(text)
    if not match and original is None and _DATE_FR.match(text):
        _, time_of_day = parse_date(text)
        if time_of_day is not None:
            return time_of_day
    if not match:
        raise CellError(f"heure illisible « {shown} » : écrivez-la 14:00 ou 14h30.")
    hour, minute = int(match[1]), int(match[2] or 0)
    if hour > 23 or minute > 59:
        raise CellError(f"heure invalide « {shown} ».")
    return datetime.time(hour, minute)


def parse_duration(text: str) -> int:
    """Minutes from "90", "90 min", "1h30", "2 h", "1,5 h"."""
    cleaned = text.strip().lower()
    hours = _DURATION_HOURS.fullmatch(cleaned)
    if hours:
        minutes = round(float(hours[1].replace(",", ".")) * 60) + int(hours[2] or 0)
    else:
        plain = _DURATION_MINUTES.fullmatch(cleaned)
        if not plain:
            raise CellError(f"durée illisible « {text} » : écrivez-la en minutes (90) ou 1h30.")
        minutes = int(plain[1])
    if not 15 <= minutes <= 24 * 60:
        raise CellError(f"durée invalide « {text} » : entre 15 minutes et 24 heures.")
    return minutes


def parse_count(text: str) -> int:
    try:
        number = parse_decimal(text)
    except ValueError:
        raise CellError(f"« {text} » n'est pas un nombre entier.") from None
    if number != number.to_integral_value():
        raise CellError(f"« {text} » n'est pas un nombre entier.")
    count = int(number)
    if count < 0:
        raise CellError(f"nombre négatif « {text} ».")
    if count > MAX_HEADCOUNT:
        raise CellError(f"« {text} » dépasse {MAX_HEADCOUNT} participant·es : vérifiez la saisie.")
    return count


def _choice(text: str, words: dict, what: str, accepted: str):
    folded = fold(text)
    for value, candidates in words.items():
        if folded in candidates or folded == fold(str(value)):
            return value
    raise CellError(f"{what} inconnu « {text} » ; valeurs acceptées : {accepted}.")


def parse_audience(text: str) -> str:
    folded = fold(text)
    for audience in Audience:
        if folded in {fold(audience.value), fold(audience.label)}:
            return audience.value
    return _choice(
        text,
        AUDIENCE_WORDS,
        "public",
        "professionnel·les, bénévoles, élu·es, personnes (en situation de précarité alimentaire)",
    )


def _listed(names) -> str:
    names = sorted(names, key=str.casefold)
    shown = ", ".join(names[:MAX_LISTED])
    if len(names) > MAX_LISTED:
        shown += f"… ({len(names)} en tout)"
    return shown or "aucun"


# ---- Plan ------------------------------------------------------------------------------------------


@dataclass
class PlannedRow:
    line: int
    key: str
    action: str  # CREATE, UPDATE or UNCHANGED
    pt: ProgrammeTerritory
    values: dict  # Session field -> value
    headcount: int | None  # None: the file says nothing, keep what is stored
    existing: Session | None = None
    existing_headcount: Headcount | None = None
    changes: list[str] = field(default_factory=list)  # labels of the fields that change

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    @property
    def starts_at(self) -> datetime.datetime:
        return self.values["starts_at"]

    @property
    def ends_at(self) -> datetime.datetime:
        return self.values["ends_at"]

    @property
    def format_name(self) -> str:
        return self.values["format"].name

    @property
    def audience_label(self) -> str:
        return Audience(self.values["audience"]).label

    @property
    def status_label(self) -> str:
        return Session.Status(self.values["status"]).label


@dataclass
class ImportPlan:
    rows: list[PlannedRow]
    problems: list[Problem]
    row_count: int

    @property
    def counts(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    @property
    def writes(self) -> int:
        counts = self.counts
        return counts[CREATE] + counts[UPDATE]

    @property
    def preview(self) -> list[PlannedRow]:
        """The first rows, those that change something first."""
        changing = [row for row in self.rows if row.action != UNCHANGED]
        unchanged = [row for row in self.rows if row.action == UNCHANGED]
        return (changing + unchanged)[:PREVIEW_ROWS]

    def summary(self) -> str:
        counts = self.counts
        return (
            f"{counts[CREATE]} séance(s) à créer, {counts[UPDATE]} à mettre à jour, "
            f"{counts[UNCHANGED]} inchangée(s)."
        )


@dataclass
class _Context:
    """Everything a row is checked against, loaded once per import."""

    programme: object
    territories: dict[str, ProgrammeTerritory]  # folded name, SIREN -> programme territory
    territory_names: list[str]
    allowed: set  # ids of the programme territories the user may import into
    formats: dict[str, ActivityFormat]  # folded name -> format
    actions: dict[tuple, Action]  # (programme territory id, folded code) -> action
    action_codes: dict  # programme territory id -> codes
    communes_by_name: dict[tuple, list[Commune]]  # (EPCI SIREN, folded name) -> communes
    communes_by_code: dict[str, Commune]
    now: datetime.datetime


def _load_context(programme, sheet: Sheet, mapping: dict, territories_allowed) -> _Context:
    pts = list(ProgrammeTerritory.objects.filter(programme=programme).select_related("territory"))
    by_name: dict[str, ProgrammeTerritory] = {}
    for pt in pts:
        name = fold(pt.territory.name)
        by_name[name] = pt
        by_name[pt.territory.siren] = pt
        for prefix in TERRITORY_PREFIXES:
            if name.startswith(prefix):
                by_name.setdefault(name[len(prefix) :], pt)
    allowed = {pt.pk for pt in pts} if territories_allowed is None else set(territories_allowed)
    formats = {fold(f.name): f for f in ActivityFormat.objects.filter(programme=programme)}
    actions, codes = {}, {}
    if "action" in mapping:
        for action in Action.objects.filter(
            plan__programme_territory__programme=programme
        ).select_related("plan"):
            pt_id = action.plan.programme_territory_id
            actions[(pt_id, fold(action.code))] = action
            codes.setdefault(pt_id, []).append(action.code)
    communes_by_name: dict[tuple, list[Commune]] = {}
    communes_by_code: dict[str, Commune] = {}
    if "commune" in mapping:
        index = _column_index(sheet, mapping["commune"])
        wanted_codes = {row[index] for row in sheet.rows if re.fullmatch(r"\w{5}", row[index])}
        names = {fold(row[index]) for row in sheet.rows if row[index]}
        communes = Commune.objects.filter(Q(search_name__in=names) | Q(code__in=wanted_codes))
        for commune in communes:
            communes_by_code[commune.code] = commune
            communes_by_name.setdefault((commune.territory_id, commune.search_name), []).append(
                commune
            )
    return _Context(
        programme=programme,
        territories=by_name,
        territory_names=[pt.territory.name for pt in pts],
        allowed=allowed,
        formats=formats,
        actions=actions,
        action_codes=codes,
        communes_by_name=communes_by_name,
        communes_by_code=communes_by_code,
        now=timezone.now(),
    )


def _column_index(sheet: Sheet, name: str) -> int:
    return next(i for i, column in enumerate(sheet.columns) if column.name == name)


class _RowReader:
    """The cells of one row, by field key, and the problems found while reading them."""

    def __init__(self, row, indexes: dict[str, int], sheet: Sheet):
        self.row = row
        self.indexes = indexes
        self.sheet = sheet
        self.problems: list[Problem] = []

    def mapped(self, key: str) -> bool:
        return key in self.indexes

    def cell(self, key: str) -> str:
        index = self.indexes.get(key)
        return "" if index is None else self.row[index]

    def column(self, key: str) -> str:
        return self.sheet.columns[self.indexes[key]].name

    def problem(self, key: str, message: str) -> None:
        self.problems.append(Problem(message, line=self.row.line, column=self.column(key)))

    def read(self, key: str, parser, *args):
        """The parsed cell, None when empty; a problem is noted when it cannot be read."""
        text = self.cell(key)
        if not text:
            return None
        try:
            return parser(text, *args)
        except CellError as error:
            self.problem(key, str(error))
            return None


def _territory(reader: _RowReader, ctx: _Context):
    text = reader.cell("territoire")
    if not text:
        reader.problem("territoire", "le territoire est manquant.")
        return None
    folded = fold(text)
    pt = ctx.territories.get(folded) or ctx.territories.get(text.replace(" ", ""))
    if pt is None:
        reader.problem(
            "territoire",
            f"territoire inconnu dans ce programme « {text} » ; territoires du programme : "
            f"{_listed(ctx.territory_names)}.",
        )
        return None
    if pt.pk not in ctx.allowed:
        reader.problem(
            "territoire", f"le territoire « {text} » n'est pas dans votre périmètre d'import."
        )
        return None
    return pt


def _format(reader: _RowReader, ctx: _Context):
    text = reader.cell("format")
    if not text:
        reader.problem("format", "le format est manquant.")
        return None
    found = ctx.formats.get(fold(text))
    if found is None:
        reader.problem(
            "format",
            f"format inconnu « {text} » ; formats du catalogue : "
            f"{_listed(f.name for f in ctx.formats.values())}.",
        )
    return found


def _commune(reader: _RowReader, ctx: _Context, pt):
    text = reader.cell("commune")
    if not text:
        return None
    if text in ctx.communes_by_code:
        return ctx.communes_by_code[text]
    folded = fold(text)
    if pt is not None:
        local = ctx.communes_by_name.get((pt.territory_id, folded), [])
        if len(local) == 1:
            return local[0]
    everywhere = [
        c for (_, name), found in ctx.communes_by_name.items() if name == folded for c in found
    ]
    if len(everywhere) == 1:
        return everywhere[0]
    if everywhere:
        reader.problem(
            "commune",
            f"plusieurs communes s'appellent « {text} » hors du territoire : écrivez son code "
            "INSEE.",
        )
    else:
        reader.problem(
            "commune", f"commune inconnue « {text} » : écrivez son nom ou son code INSEE."
        )
    return None


def _action(reader: _RowReader, ctx: _Context, pt):
    text = reader.cell("action")
    if not text or pt is None:
        return None
    found = ctx.actions.get((pt.pk, fold(text)))
    if found is None:
        reader.problem(
            "action",
            f"action inconnue « {text} » dans le plan de {pt.territory.name} ; codes : "
            f"{_listed(ctx.action_codes.get(pt.pk, []))}.",
        )
    return found


@dataclass
class _ReadRow:
    line: int
    key: str
    values: dict  # Session field -> value
    headcount: int | None
    status_given: bool  # False: the status was derived from the date

    @property
    def starts_at(self) -> datetime.datetime:
        return self.values["starts_at"]


def _read_row(reader: _RowReader, ctx: _Context) -> _ReadRow | None:
    """The values of a session from one row, or None with the problems noted on ``reader``."""
    tz = timezone.get_current_timezone()
    parsed_date = reader.read("date", parse_date)
    if not reader.cell("date"):
        reader.problem("date", "la date est manquante.")
    day, time_in_date = parsed_date if parsed_date else (None, None)
    start_time = reader.read("debut", parse_time) if reader.mapped("debut") else None
    start_time = start_time or time_in_date
    if day is not None and start_time is None and not reader.problems:
        key = "debut" if reader.mapped("debut") else "date"
        reader.problem(key, f"l'heure de début manque (date « {reader.cell('date')} »).")
    programme = ctx.programme
    if day is not None and not programme.start_date <= day <= programme.end_date:
        reader.problem(
            "date",
            f"date hors de la période du programme « {reader.cell('date')} » (du "
            f"{programme.start_date:%d/%m/%Y} au {programme.end_date:%d/%m/%Y}).",
        )
    pt = _territory(reader, ctx)
    activity_format = _format(reader, ctx)
    kind = reader.read("type", lambda t: _choice(t, KIND_WORDS, "type", "atelier, formation"))
    audience = reader.read("public", parse_audience)
    end_time = reader.read("fin", parse_time)
    duration = None if end_time else reader.read("duree", parse_duration)
    place = reader.cell("lieu")
    if len(place) > 300:
        reader.problem("lieu", f"300 caractères au plus (« {place[:40]}… »).")
    commune = _commune(reader, ctx, pt)
    status = reader.read(
        "statut",
        lambda t: _choice(t, STATUS_WORDS, "statut", "réalisée, annulée, programmée, reportée"),
    )
    headcount = reader.read("participants", parse_count)
    action = _action(reader, ctx, pt)
    identifier = reader.cell("identifiant")
    if len(identifier) > MAX_IDENTIFIER:
        reader.problem(
            "identifiant",
            f"identifiant trop long « {identifier[:40]}… » ({MAX_IDENTIFIER} caractères au plus).",
        )
    if reader.problems or None in (day, start_time, pt, activity_format):
        return None

    starts_at = datetime.datetime.combine(day, start_time, tzinfo=tz)
    if end_time is not None:
        ends_at = datetime.datetime.combine(day, end_time, tzinfo=tz)
        if ends_at <= starts_at:
            reader.problem(
                "fin",
                f"l'heure de fin « {reader.cell('fin')} » n'est pas après l'heure de début "
                f"({start_time:%H:%M}).",
            )
            return None
    else:
        minutes = duration or activity_format.duration_minutes
        ends_at = starts_at + datetime.timedelta(minutes=minutes)
    # Without a status, a new session is held if it is past; an existing one keeps its own.
    status_given = status is not None
    if status is None:
        status = Session.Status.HELD if starts_at < ctx.now else Session.Status.PLANNED
    if headcount and status in {Session.Status.CANCELLED, Session.Status.POSTPONED}:
        reader.problem(
            "participants",
            f"{headcount} participant·es pour une séance {Session.Status(status).label.lower()} : "
            "une séance qui n'a pas eu lieu n'a pas de participant·es.",
        )
        return None
    values = {
        "programme_territory": pt,
        "format": activity_format,
        "kind": kind or activity_format.kind,
        "audience": audience or activity_format.audience,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "status": status,
    }
    # Columns that are not mapped leave what is stored untouched on an update.
    if reader.mapped("lieu"):
        values["place_address"] = place
    if reader.mapped("commune"):
        values["commune"] = commune
    if reader.mapped("action"):
        values["action"] = action
    if identifier:
        key = f"id:{identifier}"
    else:
        natural = (
            f"{pt.territory_id}|{starts_at.astimezone(tz):%Y-%m-%d|%H:%M}|{activity_format.pk}"
        )
        key = "h:" + hashlib.sha256(natural.encode()).hexdigest()[:40]
    return _ReadRow(
        line=reader.row.line,
        key=key,
        values=values,
        headcount=headcount,
        status_given=status_given,
    )


FIELD_LABELS = {
    "programme_territory": "territoire",
    "format": "format",
    "kind": "type",
    "audience": "public",
    "starts_at": "début",
    "ends_at": "fin",
    "status": "statut",
    "place_address": "lieu",
    "commune": "commune",
    "action": "action",
    "title": "intitulé",
}


FOREIGN_KEYS = {"programme_territory", "format", "commune", "action"}


def _changes(existing: Session, values: dict) -> list[str]:
    """The names of the fields of ``existing`` that ``values`` would change."""
    changed = []
    for name, value in values.items():
        if name in FOREIGN_KEYS:
            current, wanted = getattr(existing, f"{name}_id"), getattr(value, "pk", None)
        else:
            current, wanted = getattr(existing, name), value
        if current != wanted:
            changed.append(name)
    return changed


def build_plan(
    sheet: Sheet, *, programme, mapping: dict[str, str], territories_allowed=None
) -> ImportPlan:
    """Check every row of ``sheet`` read with ``mapping`` (field key -> column name) and decide
    what it does. ``territories_allowed``: ids of the programme territories the user may import
    into (None: all of the programme, as on the command line).

    A fixed number of queries, whatever the number of rows.
    """
    problems = list(sheet.problems)
    if len(sheet.rows) > MAX_ROWS:
        problems.append(
            Problem(
                f"Le fichier a {len(sheet.rows)} lignes : {MAX_ROWS} au plus par import. "
                "Découpez-le en plusieurs fichiers."
            )
        )
        return ImportPlan(rows=[], problems=problems, row_count=len(sheet.rows))
    ctx = _load_context(programme, sheet, mapping, territories_allowed)
    indexes = {key: _column_index(sheet, name) for key, name in mapping.items()}
    read: list[_ReadRow] = []
    first_line_of_key: dict[str, int] = {}
    for row in sheet.rows:
        reader = _RowReader(row, indexes, sheet)
        result = _read_row(reader, ctx)
        problems.extend(reader.problems)
        if result is None:
            continue
        if result.key in first_line_of_key:
            by_identifier = result.key.startswith("id:")
            what = (
                "même identifiant"
                if by_identifier
                else "même territoire, même date, même heure de début et même format"
            )
            column = "identifiant" if by_identifier else "date"
            problems.append(
                Problem(
                    f"séance en double « {reader.cell(column)} » : {what} que la ligne "
                    f"{first_line_of_key[result.key]}.",
                    line=row.line,
                    column=reader.column(column),
                )
            )
            continue
        first_line_of_key[result.key] = row.line
        read.append(result)

    existing = _existing_sessions(programme, read)
    planned = []
    for item in read:
        values = item.values
        session = existing.get(item.key)
        if session is None:
            values["title"] = values["format"].name
            planned.append(
                PlannedRow(
                    line=item.line,
                    key=item.key,
                    action=CREATE,
                    pt=values["programme_territory"],
                    values=values,
                    headcount=item.headcount,
                )
            )
            continue
        if session.programme_territory_id not in ctx.allowed:
            problems.append(
                Problem(
                    "cette séance existe déjà dans un territoire hors de votre périmètre d'import.",
                    line=item.line,
                )
            )
            continue
        if not item.status_given:
            # No status in the file: an existing session keeps its own.
            values["status"] = session.status
        if values["format"].pk != session.format_id:
            values["title"] = values["format"].name
        changes = _changes(session, values)
        stored = session.import_headcount
        if item.headcount is not None and (stored is None or stored.count != item.headcount):
            changes.append("participants")
        # A session typed by hand gets its key: a change, though not one worth showing.
        adopted = session.import_key != item.key
        planned.append(
            PlannedRow(
                line=item.line,
                key=item.key,
                action=UPDATE if changes or adopted else UNCHANGED,
                pt=values["programme_territory"],
                values=values,
                headcount=item.headcount,
                existing=session,
                existing_headcount=stored,
                changes=[FIELD_LABELS.get(c, c) for c in changes],
            )
        )
    problems.sort(key=lambda p: p.line or 0)
    return ImportPlan(rows=planned, problems=problems, row_count=len(sheet.rows))


def _existing_sessions(programme, read: list[_ReadRow]) -> dict[str, Session]:
    """The sessions already in the programme for the rows read, by key: the session with that
    key, or for a hash key a session typed in by hand (no key yet) with the same territory, start
    and format. Each carries ``import_headcount``, the headcount an import writes (the session's
    audience, not broken down), or None."""
    sessions = Session.objects.filter(programme_territory__programme=programme)
    keys = [item.key for item in read]
    found: dict[str, Session] = {}
    for chunk in range(0, len(keys), CHUNK):
        for session in sessions.filter(import_key__in=keys[chunk : chunk + CHUNK]):
            found[session.import_key] = session
    by_natural_key = {
        (item.values["programme_territory"].pk, item.starts_at, item.values["format"].pk): item.key
        for item in read
        if item.key.startswith("h:") and item.key not in found
    }
    starts = sorted({start for _, start, _ in by_natural_key})
    for chunk in range(0, len(starts), CHUNK):
        for session in sessions.filter(import_key="", starts_at__in=starts[chunk : chunk + CHUNK]):
            natural = (session.programme_territory_id, session.starts_at, session.format_id)
            key = by_natural_key.get(natural)
            if key is not None and key not in found:
                found[key] = session
    headcounts = {}
    if found:
        headcounts = {
            (h.session_id, h.audience): h
            for h in Headcount.objects.filter(
                session__in=[s.pk for s in found.values()], age_band="", gender=""
            )
        }
    audiences = {item.key: item.values["audience"] for item in read}
    for key, session in found.items():
        session.import_headcount = headcounts.get((session.pk, audiences[key]))
    return found


# ---- Apply ------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    plan: ImportPlan
    written: bool

    @property
    def counts(self) -> dict[str, int]:
        return self.plan.counts

    def summary(self) -> str:
        counts = self.counts
        return (
            f"{counts[CREATE]} séance(s) créée(s), {counts[UPDATE]} mise(s) à jour, "
            f"{counts[UNCHANGED]} inchangée(s)."
        )


def sessions_import(
    *,
    sheet: Sheet,
    programme,
    mapping: dict[str, str],
    acting_user=None,
    territories_allowed=None,
    dry_run: bool = False,
    source: str = "upload",
) -> ImportResult:
    """Check and write the sessions of ``sheet`` in one transaction: all rows or none.

    Raises ImportRefused (nothing written) when the mapping or any row has a problem. ``dry_run``
    plans without writing. Writes one SESSIONS_IMPORTED audit event with the counts.
    """
    mapping = dict(mapping)
    mapping_errors = check_mapping(mapping, sheet.columns)
    if mapping_errors:
        raise ImportRefused(
            ImportPlan(rows=[], problems=[Problem(e) for e in mapping_errors], row_count=0)
        )
    with transaction.atomic():
        plan = build_plan(
            sheet, programme=programme, mapping=mapping, territories_allowed=territories_allowed
        )
        if plan.problems:
            raise ImportRefused(plan)
        if dry_run:
            return ImportResult(plan=plan, written=False)
        _write(plan, acting_user=acting_user)
        counts = plan.counts
        audit(
            AuditEvent.Kind.SESSIONS_IMPORTED,
            actor=acting_user,
            target=str(programme.pk),
            source=source,
            rows=plan.row_count,
            created=counts[CREATE],
            updated=counts[UPDATE],
            unchanged=counts[UNCHANGED],
        )
    return ImportResult(plan=plan, written=True)


def _write(plan: ImportPlan, *, acting_user) -> None:
    now = timezone.now()
    created_by = acting_user if acting_user is not None and acting_user.is_authenticated else None
    new_sessions, changed_sessions, changed_fields = [], [], set()
    headcounts_new, headcounts_changed = [], []
    for row in plan.rows:
        if row.action == CREATE:
            session = Session(**row.values, import_key=row.key, created_by=created_by)
            new_sessions.append(session)
            if row.headcount is not None:
                headcounts_new.append(
                    Headcount(session=session, audience=session.audience, count=row.headcount)
                )
        elif row.action == UPDATE:
            session = row.existing
            for name, value in row.values.items():
                setattr(session, name, value)
            changed_fields.update(row.values)
            session.import_key = row.key
            session.version += 1
            session.updated_at = now
            changed_sessions.append(session)
            if row.headcount is not None:
                stored = row.existing_headcount
                if stored is None:
                    headcounts_new.append(
                        Headcount(session=session, audience=session.audience, count=row.headcount)
                    )
                elif stored.count != row.headcount:
                    stored.count = row.headcount
                    headcounts_changed.append(stored)
    Session.objects.bulk_create(new_sessions, batch_size=500)
    if changed_sessions:
        Session.objects.bulk_update(
            changed_sessions,
            sorted(changed_fields | {"import_key", "version", "updated_at"}),
            batch_size=500,
        )
    Headcount.objects.bulk_create(headcounts_new, batch_size=500)
    if headcounts_changed:
        Headcount.objects.bulk_update(headcounts_changed, ["count"], batch_size=500)
