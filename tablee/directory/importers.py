"""Reading, checking and planning an import of the directory. Nothing here writes.

Accepted files: data·inclusion structures and services as a JSON array or JSON lines, as CSV (one
file per kind, recognised by its columns: a ``structure_id`` column means services), as the
official XLSX template (sheets « Structures » and « Services », the référentiel sheets and the
rows marked in its ``__ignore__`` column are skipped), a ZIP of those files (our own export), and
any other spreadsheet once its columns are mapped to our fields.

Each row is normalised (Excel's floats: SIRET ``6.0487647500499E13``, postcode ``59260.0``),
checked against the official JSON Schema and against our referentials (communes, thématiques,
publics, réseaux), then compared with the database: create, update, unchanged or refused, with
the reasons in French naming the row, the field and the value. ``imports.py`` applies a plan.
"""

import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from jsonschema import Draft202012Validator, FormatChecker

from tablee.core.spreadsheets import (
    DELIMITER_NAMES,
    Problem,
    SpreadsheetRejected,
    decode,
    parse_decimal,
    sniff_delimiter,
)
from tablee.core.text import fold
from tablee.directory import geocoding
from tablee.directory.hours import validate_opening_hours
from tablee.directory.models import Category, Service, Structure
from tablee.directory.referentials import DATA_DIR
from tablee.directory.validators import (
    normalize_email,
    normalize_phone,
    normalize_postal_code,
    normalize_siret,
    normalize_url,
)
from tablee.territories.models import Commune

STRUCTURE = "structure"
SERVICE = "service"
KIND_LABELS = {STRUCTURE: "structure", SERVICE: "service"}

CREATE, UPDATE, UNCHANGED, REFUSED = "create", "update", "unchanged", "refused"
ACTION_LABELS = {
    CREATE: "à créer",
    UPDATE: "à mettre à jour",
    UNCHANGED: "inchangée",
    REFUSED: "refusée",
}

# A ZIP (an XLSX is one) whose content would grow beyond this ratio is refused unopened.
MAX_ZIP_RATIO = 100
# Rows read between two progress reports.
PROGRESS_EVERY = 500
# Values longer than this are checked against the schema without caching the verdict.
CACHED_VALUE_CHARS = 120
# Parameters per query: SQLite accepts 32,766, PostgreSQL 65,535.
QUERY_CHUNK = 2000

TEXT_FIELDS = {
    "id",
    "source",
    "structure_id",
    "nom",
    "description",
    "adresse",
    "complement_adresse",
    "commune",
    "frais_precisions",
    "publics_precisions",
    "conditions_acces",
    "contact_nom_prenom",
    "mobilisation_precisions",
    "type",
    "frais",
}
LIST_FIELDS = {
    "reseaux_porteurs",
    "thematiques",
    "publics",
    "modes_accueil",
    "modes_mobilisation",
    "mobilisable_par",
    "zone_eligibilite",
}
NUMBER_FIELDS = {"latitude", "longitude", "volume_horaire_hebdomadaire"}
INTEGER_FIELDS = {"nombre_semaines"}
URL_FIELDS = {"site_web", "lien_source", "accessibilite_lieu", "lien_mobilisation"}

# data·inclusion field -> model field, for what Tablée stores.
STRUCTURE_MODEL_FIELDS = {
    "nom": "name",
    "siret": "siret",
    "description": "description",
    "adresse": "address",
    "complement_adresse": "address_complement",
    "code_postal": "postal_code",
    "code_insee": "commune_id",
    "latitude": "latitude",
    "longitude": "longitude",
    "telephone": "phone",
    "courriel": "email",
    "site_web": "website",
    "lien_source": "source_url",
    "horaires_accueil": "opening_hours",
    "accessibilite_lieu": "accessibility_url",
    "date_maj": "data_updated_on",
}
SERVICE_MODEL_FIELDS = {
    "nom": "name",
    "description": "description",
    "type": "service_type",
    "publics_precisions": "publics_details",
    "frais": "fees",
    "frais_precisions": "fees_details",
    "modes_accueil": "reception_modes",
    "modes_mobilisation": "mobilisation_modes",
    "mobilisable_par": "mobilisable_by",
    "mobilisation_precisions": "mobilisation_details",
    "lien_mobilisation": "mobilisation_url",
    "zone_eligibilite": "eligibility_zone",
    "conditions_acces": "access_conditions",
    "contact_nom_prenom": "contact_name",
    "courriel": "email",
    "telephone": "phone",
    "horaires_accueil": "opening_hours",
    "adresse": "address",
    "complement_adresse": "address_complement",
    "code_postal": "postal_code",
    "code_insee": "commune_id",
    "latitude": "latitude",
    "longitude": "longitude",
    "lien_source": "source_url",
    "date_maj": "data_updated_on",
}
# List fields stored as many-to-many links to Category rows.
STRUCTURE_M2M = {"reseaux_porteurs": ("networks", Category.Kind.RESEAU)}
SERVICE_M2M = {
    "thematiques": ("thematiques", Category.Kind.THEMATIQUE),
    "publics": ("publics", Category.Kind.PUBLIC),
}
CATEGORY_NAMES = {
    Category.Kind.THEMATIQUE: "thématique",
    Category.Kind.PUBLIC: "public",
    Category.Kind.RESEAU: "réseau porteur",
}


# --- Problems ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowProblem:
    """Why a row is refused: the field, the value as the file holds it, and what is wrong."""

    field: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"{self.field} : {self.message}" if self.field else self.message


def import_limit() -> int:
    return settings.TABLEE_MAX_DIRECTORY_IMPORT_BYTES


def size_problem(size: int) -> Problem:
    return Problem(
        f"Le fichier pèse {filesizeformat(size)} : la taille maximale d'un import est de "
        f"{filesizeformat(import_limit())}. Découpez-le en plusieurs fichiers."
    )


def check_size(path: Path) -> None:
    """Refuse a file over the size limit before reading a byte of it."""
    size = os.path.getsize(path)
    if size > import_limit():
        raise SpreadsheetRejected([size_problem(size)])


def check_zip(path: Path) -> zipfile.ZipFile:
    """Open a ZIP (an XLSX is one) after checking what it would become once decompressed.

    The sizes announced in the archive's directory bound what zipfile will decompress, so a
    decompression bomb is recognised from them without decompressing anything.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise SpreadsheetRejected(
            [Problem("Ce fichier est abîmé : il n'a pas pu être ouvert comme un classeur.")]
        ) from None
    infos = archive.infolist()
    expanded = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos) or 1
    if expanded > import_limit() * 8 or expanded / compressed > MAX_ZIP_RATIO:
        archive.close()
        raise SpreadsheetRejected(
            [
                Problem(
                    f"Ce fichier se décompresse en {filesizeformat(expanded)} (taux de "
                    f"compression de {expanded // compressed} pour 1) : il est refusé par "
                    "précaution, sans être ouvert. Enregistrez de nouveau le classeur depuis "
                    "votre tableur, ou exportez-le en CSV."
                )
            ]
        )
    return archive


# --- Reading -----------------------------------------------------------------------------------


@dataclass
class Table:
    """A sheet or a CSV file read without knowing yet what its columns mean."""

    label: str  # « Structures » (a sheet) or the file name
    columns: list[str]  # header texts, "" for a column without a usable name
    rows: list[tuple[int, list]]  # (line as the user sees it, cells)
    kind: str | None = None  # guessed from the sheet name or the columns

    @property
    def is_data_inclusion(self) -> bool:
        names = {fold(c).replace(" ", "_") for c in self.columns}
        return "id" in names and "nom" in names

    def samples(self, index: int, count: int = 3) -> list[str]:
        found = []
        for _, cells in self.rows:
            if index < len(cells) and cells[index] not in (None, ""):
                found.append(_shown(cells[index])[:60])
                if len(found) == count:
                    break
        return found


@dataclass
class Record:
    """One row of the file, keyed by data·inclusion field names, not checked yet."""

    kind: str
    location: str  # « Structures, ligne 4 », « élément 3 », « ligne 12 »
    data: dict
    # False when the file has no date: the import's date is used, and only for a real change.
    date_given: bool = True


# Texts up to this length are kept once however many rows repeat them (sources, dates, codes,
# communes): a national file repeats them hundreds of thousands of times.
SHARED_VALUE_CHARS = 40


@dataclass
class ReadResult:
    records: list[Record]
    notices: list[str] = field(default_factory=list)
    ignored_rows: int = 0
    _shared: dict = field(default_factory=dict, repr=False)

    def compact(self, data: dict) -> dict:
        """``data`` with its keys and short texts shared with the rows read before."""
        return {sys.intern(key): self._share(value) for key, value in data.items()}

    def _share(self, value):
        if type(value) is str and len(value) <= SHARED_VALUE_CHARS:
            return self._shared.setdefault(value, value)
        if type(value) is list:
            return [self._share(item) for item in value]
        return value


def detect(path: Path, name: str) -> str:
    """ "json", "jsonl", "xlsx", "zip" or "csv", from the first bytes rather than the name."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"PK\x03\x04"):
        with check_zip(path) as archive:
            names = archive.namelist()
        return "xlsx" if "xl/workbook.xml" in names else "zip"
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return "jsonl"
    return "csv"


def read_tables(path: Path, name: str, *, allow_empty: bool = False) -> list[Table]:
    """The tables of a CSV or XLSX file, for the column-mapping step and for reading."""
    check_size(path)
    kind = detect(path, name)
    if kind == "xlsx":
        return _xlsx_tables(path)
    if kind == "csv":
        with open(path, "rb") as handle:
            table = _csv_table(handle.read(), name, allow_empty=allow_empty)
        table.kind = _kind_from_columns(table.columns)
        return [table]
    raise SpreadsheetRejected(
        [
            Problem(
                "Ce fichier n'est pas un tableau (CSV ou XLSX) : ses colonnes ne s'associent pas."
            )
        ]
    )


def read_files(files: Iterable[tuple[Path, str]], *, mapping: dict | None = None) -> ReadResult:
    """Read every record of the uploaded files (path, name as uploaded).

    ``mapping`` ({column index: data·inclusion field}) applies to a single spreadsheet that is
    not in the data·inclusion format. Raises SpreadsheetRejected for a file that cannot be read.
    """
    result = ReadResult(records=[])
    for path, name in files:
        check_size(path)
        kind = detect(path, name)
        if kind in {"json", "jsonl"}:
            _read_json(path, name, kind, result)
        elif kind == "zip":
            _read_zip(path, result)
        else:
            tables = read_tables(path, name)
            for table in tables:
                if mapping is not None:
                    result.records.extend(apply_mapping(table, mapping))
                elif not table.is_data_inclusion:
                    raise SpreadsheetRejected(
                        [
                            Problem(
                                f"{table.label} : ce tableau n'est pas au format data·inclusion "
                                "(colonnes « id » et « nom » attendues). Importez-le depuis la "
                                "page « Importer » de l'annuaire, qui permet d'associer ses "
                                "colonnes aux champs de l'annuaire."
                            )
                        ]
                    )
                else:
                    _read_table(table, result)
    if not result.records:
        raise SpreadsheetRejected(
            [Problem("Le fichier ne contient aucune structure ni aucun service à importer.")]
        )
    return result


def _read_json(path: Path, name: str, kind: str, result: ReadResult) -> None:
    if kind == "jsonl":
        # Line by line: the file is never held whole in memory.
        try:
            with open(path, encoding="utf-8-sig") as handle:
                _read_json_lines(handle, name, result)
        except UnicodeDecodeError:
            raise SpreadsheetRejected(
                [Problem(f"{name} : un fichier JSON doit être encodé en UTF-8.")]
            ) from None
        return
    with open(path, "rb") as handle:
        data = handle.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetRejected(
            [Problem(f"{name} : un fichier JSON doit être encodé en UTF-8.")]
        ) from None
    del data
    if kind == "json":
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpreadsheetRejected(
                [Problem(f"{name} : JSON mal formé ({exc.msg}).", line=exc.lineno)]
            ) from None
        if isinstance(items, dict):
            items = items.get("structures", []) + items.get("services", [])
        for index, item in enumerate(items, start=1):
            _add_json_item(item, f"{name}, élément {index}", result)


def _read_json_lines(lines: Iterable[str], name: str, result: ReadResult) -> None:
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SpreadsheetRejected(
                [Problem(f"{name} : JSON mal formé ({exc.msg}).", line=line_number)]
            ) from None
        _add_json_item(item, f"{name}, ligne {line_number}", result)


def _add_json_item(item, location: str, result: ReadResult) -> None:
    if not isinstance(item, dict):
        raise SpreadsheetRejected(
            [Problem(f"{location} : un objet JSON (entre accolades) est attendu.")]
        )
    kind = SERVICE if "structure_id" in item else STRUCTURE
    result.records.append(Record(kind=kind, location=location, data=result.compact(item)))


def _read_zip(path: Path, result: ReadResult) -> None:
    """Our own export: structures.json + services.json (or .csv), in any order."""
    with check_zip(path) as archive:
        members = sorted(
            (m for m in archive.infolist() if not m.is_dir()),
            key=lambda m: "services" in m.filename,
        )
        with tempfile.TemporaryDirectory() as tmp_dir:
            for member in members:
                suffix = Path(member.filename).suffix.lower()
                if suffix not in {".json", ".jsonl", ".csv"}:
                    continue
                target = Path(tmp_dir) / f"{uuid.uuid4()}{suffix}"
                with archive.open(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out)
                label = Path(member.filename).name
                kind = detect(target, label)
                if kind in {"json", "jsonl"}:
                    _read_json(target, label, kind, result)
                else:
                    # An export without services has a services file of headers only.
                    for table in read_tables(target, label, allow_empty=True):
                        _read_table(table, result)


def _csv_table(data: bytes, name: str, *, allow_empty: bool = False) -> Table:
    """A CSV file in any encoding and separator French users produce (see core.spreadsheets).

    Unlike ``read_csv``, a column named twice is accepted: the official template has two
    « lien_source » columns, and the first value found is used.
    """
    text, _ = decode(data)
    delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list]] = []
    header = None
    previous_line = 0
    try:
        for cells in reader:
            line = previous_line + 1
            previous_line = reader.line_num
            if header is None:
                if any(c.strip() for c in cells):
                    header = [c.strip() for c in cells]
                continue
            if any(c.strip() for c in cells):
                rows.append((line, [_unneutralised(c.strip()) for c in cells]))
    except csv.Error:
        raise SpreadsheetRejected(
            [
                Problem(
                    "le fichier CSV est mal formé (guillemet non fermé ou cellule trop longue).",
                    line=previous_line + 1,
                )
            ]
        ) from None
    if header is None:
        raise SpreadsheetRejected([Problem("Le fichier est vide.")])
    if not rows and not allow_empty:
        raise SpreadsheetRejected(
            [Problem("Le fichier ne contient que la ligne des noms de colonnes, aucune donnée.")]
        )
    width = len(header)
    for line, cells in rows:
        if len(cells) > width and any(cells[width:]):
            raise SpreadsheetRejected(
                [
                    Problem(
                        f"{len(cells)} valeurs pour {width} colonnes : vérifiez le séparateur "
                        f"({DELIMITER_NAMES[delimiter]}) et les guillemets.",
                        line=line,
                    )
                ]
            )
    return Table(label=name, columns=header, rows=rows)


def _unneutralised(text: str) -> str:
    """Undo the apostrophe our CSV exports put before a cell a spreadsheet would compute."""
    if text[:1] == "'" and text[1:2] in ("=", "+", "-", "@"):
        return text[1:]
    return text


def _xlsx_tables(path: Path) -> list[Table]:
    from openpyxl import load_workbook

    check_zip(path).close()
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        raise SpreadsheetRejected(
            [Problem("Ce classeur est abîmé ou n'est pas au format XLSX : il n'a pas pu être lu.")]
        ) from None
    tables = []
    try:
        sheets = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
        named = {fold(ws.title): ws for ws in sheets}
        if "structures" in named or "services" in named:
            chosen = [(named[k], k[:-1]) for k in ("structures", "services") if k in named]
        else:
            chosen = [(sheets[0], None)] if sheets else []
        for sheet, kind in chosen:
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            if header is None:
                continue
            columns = [c.strip() if isinstance(c, str) else "" for c in header]
            body = []
            for line, cells in enumerate(rows, start=2):
                if any(c not in (None, "") for c in cells):
                    body.append((line, list(cells)))
            table = Table(label=sheet.title, columns=columns, rows=body)
            table.kind = kind or _kind_from_columns(columns)
            tables.append(table)
    finally:
        workbook.close()
    if not tables or not any(t.rows for t in tables):
        raise SpreadsheetRejected([Problem("Le classeur ne contient aucune ligne de données.")])
    return tables


def _kind_from_columns(columns: list[str]) -> str:
    names = {fold(c).replace(" ", "_") for c in columns}
    return SERVICE if "structure_id" in names else STRUCTURE


@cache
def _known_fields(kind: str) -> frozenset[str]:
    return frozenset(schema_for(kind)["properties"])


def _read_table(table: Table, result: ReadResult) -> None:
    """Rows of a data·inclusion table: columns named after the schema's fields."""
    known = _known_fields(table.kind)
    positions: dict[str, list[int]] = defaultdict(list)
    ignore_at = None
    unknown = []
    for index, name in enumerate(table.columns):
        key = name.strip()
        if key == "__ignore__":
            ignore_at = index
        elif key in known:
            positions[key].append(index)
        elif key:
            unknown.append(key)
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        names = ", ".join(f"« {name} »" for name in unknown)
        result.notices.append(
            f"{table.label} : colonne{plural} ignorée{plural} car absente{plural} du schéma "
            f"data·inclusion : {names}."
        )
    prefix = f"{table.label}, " if table.label else ""
    for line, cells in table.rows:
        if ignore_at is not None and _truthy(_cell(cells, ignore_at)):
            result.ignored_rows += 1
            continue
        data = {}
        for key, indexes in positions.items():
            # A column present twice (the template has two « lien_source »): the first value.
            values = [_cell(cells, i) for i in indexes]
            data[key] = next((v for v in values if v not in (None, "")), None)
        result.records.append(
            Record(kind=table.kind, location=f"{prefix}ligne {line}", data=result.compact(data))
        )


def _cell(cells, index):
    return cells[index] if index < len(cells) else None


def _truthy(value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return str(value or "").strip().lower() in {"1", "true", "vrai", "oui", "x", "yes"}


# --- Mapping the columns of any spreadsheet -----------------------------------------------------

# Our fields a spreadsheet of structures can fill, with the folded headers that suggest them.
MAPPING_TARGETS = [
    ("id", "Identifiant dans votre fichier", ["id", "identifiant", "ref", "reference", "code"]),
    ("nom", "Nom de la structure", ["nom", "name", "structure", "raison sociale", "nom structure"]),
    ("siret", "SIRET", ["siret", "n siret", "numero siret"]),
    ("adresse", "Adresse", ["adresse", "address", "rue", "adresse postale", "voie"]),
    ("complement_adresse", "Complément d'adresse", ["complement", "complement adresse"]),
    ("code_postal", "Code postal", ["code postal", "cp", "postal", "code postale"]),
    ("commune", "Commune (nom)", ["commune", "ville", "localite", "city"]),
    ("code_insee", "Code INSEE de la commune", ["code insee", "insee", "code commune"]),
    ("telephone", "Téléphone", ["telephone", "tel", "phone", "numero de telephone"]),
    ("courriel", "E-mail", ["courriel", "email", "e mail", "mail", "adresse mail"]),
    ("site_web", "Site web", ["site web", "site", "url", "site internet", "web"]),
    ("description", "Description", ["description", "presentation", "activite"]),
    ("horaires_accueil", "Horaires (syntaxe OpenStreetMap)", ["horaires", "horaires accueil"]),
    ("latitude", "Latitude", ["latitude", "lat"]),
    ("longitude", "Longitude", ["longitude", "lon", "lng", "long"]),
    ("reseaux_porteurs", "Réseaux porteurs (codes)", ["reseaux porteurs", "reseau", "reseaux"]),
    ("accessibilite_lieu", "Lien Acceslibre", ["accessibilite", "acceslibre"]),
    ("date_maj", "Date de mise à jour", ["date maj", "mise a jour", "date de mise a jour"]),
]
MAPPING_LABELS = {key: label for key, label, _ in MAPPING_TARGETS}


def guess_mapping(columns: list[str]) -> dict[int, str]:
    """Column index -> field, by folded header names; each field is given at most once."""
    guessed: dict[int, str] = {}
    used = set()
    for exact in (True, False):
        for index, column in enumerate(columns):
            if index in guessed:
                continue
            folded = fold(column)
            if not folded:
                continue
            for key, _, synonyms in MAPPING_TARGETS:
                if key in used:
                    continue
                words = [fold(s) for s in synonyms] + [fold(key)]
                hit = folded in words if exact else any(folded.startswith(w) for w in words)
                if hit:
                    guessed[index] = key
                    used.add(key)
                    break
    return guessed


def apply_mapping(table: Table, mapping: dict[int, str]) -> list[Record]:
    """Records of structures from any spreadsheet, with its columns mapped to our fields.

    Without an identifier column, one is made from the folded name and the commune, so that
    importing the same file again finds the same structures. Without a date column, the date of
    the import is the date of the information.
    """
    records = []
    prefix = f"{table.label}, " if table.label else ""
    today = timezone.localdate().isoformat()
    for line, cells in table.rows:
        data = {}
        for index, key in mapping.items():
            value = _cell(cells, int(index))
            if value not in (None, "") or key not in data:
                data[key] = value
        if data.get("id") in (None, ""):
            place = data.get("code_insee") or data.get("commune") or ""
            data["id"] = "-".join(
                fold(_shown(x)).replace(" ", "-") for x in (data.get("nom") or "", place)
            )
        dated = data.get("date_maj") not in (None, "")
        if not dated:
            data["date_maj"] = today
        records.append(
            Record(
                kind=STRUCTURE,
                location=f"{prefix}ligne {line}",
                data=data,
                date_given=dated,
            )
        )
    return records


# --- Normalising and checking one record -----------------------------------------------------


@cache
def schema_for(kind: str) -> dict:
    filename = "di-structure-v1.json" if kind == STRUCTURE else "di-service-v1.json"
    with open(DATA_DIR / filename, encoding="utf-8") as handle:
        return json.load(handle)


@cache
def validator_for(kind: str) -> Draft202012Validator:
    # The schemas carry no $schema: they are written by pydantic for JSON Schema 2020-12.
    return Draft202012Validator(schema_for(kind), format_checker=FormatChecker(formats=["date"]))


def _shown(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, list):
        return ", ".join(_shown(v) for v in value)
    return str(value).strip()


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def normalise(kind: str, data: dict) -> tuple[dict, list[RowProblem]]:
    """Values converted to what the schema expects, and the problems met on the way.

    Keys absent from ``data`` stay absent (an update leaves those fields alone); present but
    empty values become None (an update clears them).
    """
    known = _known_fields(kind)
    values: dict = {}
    problems: list[RowProblem] = []
    for key, raw in data.items():
        if key not in known:
            continue
        try:
            values[key] = None if _empty(raw) else _normalise_value(key, raw)
        except ValidationError as error:
            problems.append(RowProblem(key, _shown(raw), " ".join(error.messages)))
        except ValueError as error:
            problems.append(RowProblem(key, _shown(raw), str(error)))
    return values, problems


def _normalise_value(key: str, raw):
    if key == "siret":
        return normalize_siret(raw) or None
    if key == "code_postal":
        return normalize_postal_code(raw) or None
    if key == "telephone":
        return _phone(_shown(raw) if isinstance(raw, str) else raw) or None
    if key == "courriel":
        return normalize_email(raw) or None
    if key in URL_FIELDS:
        return normalize_url(raw) or None
    if key == "horaires_accueil":
        return _hours(_shown(raw)) or None
    if key == "code_insee":
        return _insee(raw)
    if key == "date_maj":
        return _date(raw)
    if key in LIST_FIELDS:
        items = (
            raw
            if isinstance(raw, list)
            else str(raw).replace(";", ",").replace("|", ",").split(",")
        )
        cleaned = []
        for item in items:
            text = _insee(item) if key == "zone_eligibilite" else _shown(item)
            if text and text not in cleaned:
                cleaned.append(text)
        return cleaned or None
    if key in NUMBER_FIELDS:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        try:
            return float(parse_decimal(str(raw)))
        except ValueError:
            raise ValueError(f"« {_shown(raw)} » n'est pas un nombre.") from None
    if key in INTEGER_FIELDS:
        number = raw
        if not isinstance(raw, int | float) or isinstance(raw, bool):
            try:
                number = parse_decimal(str(raw))
            except ValueError:
                raise ValueError(f"« {_shown(raw)} » n'est pas un nombre entier.") from None
        if Decimal(str(number)) != Decimal(str(number)).to_integral_value():
            raise ValueError(f"« {_shown(raw)} » n'est pas un nombre entier.")
        return int(number)
    return _shown(raw)


@lru_cache(maxsize=10_000)
def _hours(text: str) -> str:
    return validate_opening_hours(text)


def _french_number_pattern() -> re.Pattern:
    """French numbers phonenumbers holds valid (landlines, mobiles, VoIP), from its own data."""
    import phonenumbers

    metadata = phonenumbers.PhoneMetadata.metadata_for_region("FR")
    kinds = (metadata.fixed_line, metadata.mobile, metadata.voip)
    return re.compile("|".join(f"(?:{k.national_number_pattern})" for k in kinds if k))


_FRENCH_NUMBER = _french_number_pattern()
_WELL_FORMED_PHONE = re.compile(r"0([1-79])([ .]?\d\d)([ .]?\d\d)([ .]?\d\d)([ .]?\d\d)")


@lru_cache(maxsize=10_000)
def _phone(value) -> str:
    # The usual case, « 02 96 00 00 00 » or « 0296000000 », without parsing it: the same answer
    # as normalize_phone, which phonenumbers gives in about a hundred times longer.
    if isinstance(value, str):
        written = _WELL_FORMED_PHONE.fullmatch(value)
        if written is not None:
            pairs = [p.lstrip(" .") for p in written.groups()[1:]]
            if _FRENCH_NUMBER.fullmatch(written[1] + "".join(pairs)):
                return f"0{written[1]} " + " ".join(pairs)
    return normalize_phone(value)


def _insee(raw) -> str:
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        text = _shown(raw)
        return text.zfill(5) if text.isdigit() and len(text) == 4 else text
    text = str(raw).strip().upper()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text.zfill(5) if text.isdigit() and len(text) == 4 else text


def _date(raw) -> str:
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        # An Excel serial number of days (46076 is 23 February 2026).
        if 20000 < raw < 80000:
            return (date(1899, 12, 30) + timedelta(days=int(raw))).isoformat()
        raise ValueError(f"« {_shown(raw)} » n'est pas une date (AAAA-MM-JJ).")
    text = str(raw).strip()
    french = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", text)
    try:
        if french:
            day, month, year = (int(part) for part in french.groups())
            return date(year, month, day).isoformat()
        if re.match(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    raise ValueError(f"« {text} » n'est pas une date (AAAA-MM-JJ ou JJ/MM/AAAA).")


def schema_problems(kind: str, values: dict, already: set[str]) -> list[RowProblem]:
    """The official schema's objections, in French; fields already refused are not repeated.

    Each field is checked on its own against its part of the schema, and the verdicts are
    cached: the same thématiques, publics or hours come back on thousands of rows, and checking
    them once is what makes a national file take seconds rather than minutes.
    """
    instance = {k: v for k, v in values.items() if v is not None}
    problems = []
    for name in schema_for(kind).get("required", []):
        if name not in instance and name not in already:
            problems.append(RowProblem(name, "", "champ obligatoire manquant."))
            already.add(name)
    for name, value in instance.items():
        if name in already or name not in _known_fields(kind):
            continue
        simple = _simple_checks(kind).get(name)
        if simple is not None and simple(value):
            # A plain string or number within its bounds: no need for jsonschema.
            continue
        frozen = _frozen(value)
        # Free texts are unique per row: caching them would only hold memory.
        check = _field_error if len(str(frozen)) <= CACHED_VALUE_CHARS else _field_error.__wrapped__
        message = check(kind, name, frozen)
        if message is not None:
            problems.append(RowProblem(name, _shown(value), message))
            already.add(name)
    return problems


@cache
def _field_validators(kind: str) -> dict[str, Draft202012Validator]:
    schema = schema_for(kind)
    return {
        name: Draft202012Validator(
            {**definition, "$defs": schema.get("$defs", {})},
            format_checker=FormatChecker(formats=["date"]),
        )
        for name, definition in schema["properties"].items()
    }


# Keywords a field's schema may hold and still be checked without jsonschema.
_ANNOTATIONS = {"title", "description", "examples", "default"}
# Only « date » is a format our validators check: « uri » or « email » are annotations.
_SIMPLE_KEYWORDS = {"type", "minLength", "maxLength", "minimum", "pattern", "format"} | _ANNOTATIONS


def _simple_check(definition: dict) -> Callable[[object], bool] | None:
    """A quick test that a value satisfies ``definition``, for a plain ``string`` or ``number``
    (possibly ``| null``) with bounds; None when the definition is anything else.

    The test only answers « valid »: a value it does not accept goes through jsonschema, which
    words the objection, so the messages stay exactly the same.
    """
    branches = definition.get("anyOf", [definition])
    branches = [b for b in branches if b != {"type": "null"}]
    if len(branches) != 1:
        return None
    branch = branches[0]
    if "anyOf" in definition and set(definition) - {"anyOf"} - _ANNOTATIONS:
        return None
    if not set(branch) <= _SIMPLE_KEYWORDS or branch.get("format") == "date":
        return None
    low, high = branch.get("minLength", 0), branch.get("maxLength")
    minimum = branch.get("minimum")
    # jsonschema tests a pattern with re.search too.
    pattern = re.compile(branch["pattern"]) if "pattern" in branch else None
    if branch.get("type") == "string" and minimum is None:
        return lambda v: (
            isinstance(v, str)
            and low <= len(v)
            and (high is None or len(v) <= high)
            and (pattern is None or pattern.search(v) is not None)
        )
    if branch.get("type") == "number" and set(branch) & {"minLength", "maxLength", "pattern"}:
        return None
    if branch.get("type") == "number":
        return lambda v: (
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and (minimum is None or v >= minimum)
        )
    return None


@cache
def _simple_checks(kind: str) -> dict[str, Callable[[object], bool]]:
    checks = {}
    for name, definition in schema_for(kind)["properties"].items():
        check = _simple_check(definition)
        if check is not None:
            checks[name] = check
    return checks


@lru_cache(maxsize=100_000)
def _field_error(kind: str, name: str, frozen) -> str | None:
    value = list(frozen) if isinstance(frozen, tuple) else frozen
    error = next(iter(_field_validators(kind)[name].iter_errors(value)), None)
    return None if error is None else _french(error, value)


def _frozen(value):
    return tuple(value) if isinstance(value, list) else value


def _french(error, value) -> str:
    # anyOf: [the real type, null]: the reason is in the first branch.
    if error.validator == "anyOf" and error.context:
        inner = [
            e for e in error.context if not (e.validator == "type" and e.validator_value == "null")
        ]
        if inner:
            error = inner[0]
    shown = _shown(error.instance) if not isinstance(error.instance, dict) else _shown(value)
    validator = error.validator
    if validator == "enum":
        return f"« {shown} » n'est pas une valeur de la liste data·inclusion."
    if validator == "minLength":
        return f"« {shown} » est trop court ({error.validator_value} caractères au moins)."
    if validator == "maxLength":
        return f"trop long ({error.validator_value} caractères au plus)."
    if validator == "pattern":
        return f"« {shown} » n'a pas le format attendu."
    if validator == "format":
        return f"« {shown} » n'est pas une date (AAAA-MM-JJ)."
    if validator in {"minimum", "exclusiveMinimum"}:
        return f"« {shown} » doit valoir au moins {error.validator_value}."
    if validator == "type":
        return f"« {shown} » n'est pas du type attendu."
    if validator == "minItems":
        return "la liste ne peut pas être vide."
    if validator == "const":
        return f"« {shown} » n'est pas une valeur admise."
    return f"« {shown} » n'est pas une valeur admise."


# --- The plan ------------------------------------------------------------------------------------


@dataclass
class PlanRow:
    kind: str
    location: str
    source: str
    source_id: str
    name: str
    action: str = CREATE
    problems: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    # What the writer needs, not kept in the saved preview.
    fields: dict = field(default_factory=dict, repr=False)
    m2m: dict = field(default_factory=dict, repr=False)
    existing: object = field(default=None, repr=False)
    pk: object = field(default=None, repr=False)
    date_given: bool = field(default=True, repr=False)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "location": self.location,
            "source": self.source,
            "source_id": self.source_id,
            "name": self.name,
            "action": self.action,
            "problems": self.problems,
            "duplicates": self.duplicates,
            "changes": [_field_label(self.kind, name) for name in self.changes],
        }


def _field_label(kind: str, name: str) -> str:
    model = Structure if kind == STRUCTURE else Service
    try:
        return str(model._meta.get_field(name.removesuffix("_id")).verbose_name)
    except Exception:  # a field renamed since: show its name rather than fail the preview
        return name


@dataclass
class Plan:
    rows: list[PlanRow]
    notices: list[str] = field(default_factory=list)
    ignored_rows: int = 0

    def counts(self) -> dict:
        counts = {kind: {action: 0 for action in ACTION_LABELS} for kind in (STRUCTURE, SERVICE)}
        for row in self.rows:
            counts[row.kind][row.action] += 1
        return counts

    @property
    def refused(self) -> int:
        return sum(1 for row in self.rows if row.action == REFUSED)

    @property
    def duplicates(self) -> int:
        return sum(1 for row in self.rows if row.duplicates)

    def to_json(self) -> dict:
        return {
            "rows": [row.to_json() for row in self.rows],
            "notices": self.notices,
            "ignored_rows": self.ignored_rows,
            "counts": self.counts(),
            "refused": self.refused,
            "duplicates": self.duplicates,
        }


Progress = Callable[[str, int, int], None]


def _no_progress(step: str, done: int, total: int) -> None:
    return None


def communes_in_scope(user) -> set[str] | None:
    """INSEE codes of the communes where ``user`` may import structures; None means all."""
    from tablee.accounts.permissions import GRANTS, Action, is_admin, memberships_of

    if user is None or is_admin(user):
        return None
    scope = Q(pk__in=[])
    for m in memberships_of(user):
        if m.role not in GRANTS[Action.IMPORT_STRUCTURES]:
            continue
        if m.programme_id:
            scope |= Q(territory__programme_territories__programme_id=m.programme_id)
        elif m.programme_territory_id:
            scope |= Q(territory_id=m.programme_territory.territory_id)
    return set(Commune.objects.filter(scope).values_list("code", flat=True))


def build_plan(
    read: ReadResult,
    *,
    default_source: str,
    user=None,
    progress: Progress = _no_progress,
) -> Plan:
    """Check every record and compare it with the database: the plan of an import.

    ``user`` limits the import to the communes of their scope (None: the command line, no
    limit). A service is refused when its structure is refused.
    """
    plan = Plan(rows=[], notices=list(read.notices), ignored_rows=read.ignored_rows)
    total = len(read.records)
    checked: list[tuple[Record, dict, list[RowProblem], PlanRow]] = []
    for index, record in enumerate(read.records, start=1):
        values, problems = normalise(record.kind, record.data)
        values = read.compact(values)  # dates and codes made anew: shared again
        record.data = {}  # the normalised values replace the raw ones: free them
        source = str(values.get("source") or default_source)
        values["source"] = source
        refused_fields = {p.field for p in problems}
        problems.extend(schema_problems(record.kind, values, refused_fields))
        nom = values.get("nom") or ""
        if record.kind == STRUCTURE and nom.endswith(".") and "nom" not in refused_fields:
            problems.append(
                RowProblem(
                    "nom", nom, "le nom d'une structure ne doit pas se terminer par un point."
                )
            )
        row = PlanRow(
            kind=record.kind,
            location=record.location,
            source=source,
            source_id=str(values.get("id") or ""),
            name=str(nom),
            date_given=record.date_given,
        )
        checked.append((record, values, problems, row))
        if index % PROGRESS_EVERY == 0:
            progress("validation", index, total)
    progress("validation", total, total)

    context = _Context.load(checked, user=user)
    progress("comparaison", 0, total)
    seen: set[tuple[str, str, str]] = set()
    # Structures first: a service needs to know whether its structure is accepted.
    ordered = sorted(checked, key=lambda item: item[0].kind != STRUCTURE)
    for _record, values, problems, row in ordered:
        key = (row.kind, row.source, row.source_id)
        if row.source_id and key in seen:
            problems.append(
                RowProblem(
                    "id",
                    row.source_id,
                    f"l'identifiant « {row.source_id} » est déjà utilisé plus haut dans le "
                    "fichier.",
                )
            )
        seen.add(key)
        if row.kind == STRUCTURE:
            context.plan_structure(values, problems, row)
        else:
            context.plan_service(values, problems, row)
        if problems:
            row.action = REFUSED
            row.problems = [str(p) for p in problems]
            if row.kind == STRUCTURE:
                context.refused_structures.add((row.source, row.source_id))
        values.clear()  # what the writer needs is in the row now
        if row.action in {UNCHANGED, REFUSED}:
            # Nothing to write: keep only what the preview shows.
            row.fields, row.m2m, row.existing = {}, {}, None
    # Back to the order of the file, as the user reads it.
    plan.rows = [row for _, _, _, row in checked]
    checked.clear()
    progress("comparaison", total, total)
    return plan


class _Context:
    """What the database knows about the records of one file, read in a few queries."""

    def __init__(self):
        self.communes: dict[str, Commune] = {}
        self.communes_by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.categories: dict[tuple[str, str], int] = {}
        self.structures: dict[tuple[str, str], Structure] = {}
        self.services: dict[tuple[str, str], Service] = {}
        self.structure_links: dict[object, set[int]] = defaultdict(set)
        self.service_links: dict[tuple[str, object], set[int]] = defaultdict(set)
        self.by_siret: dict[str, list[Structure]] = defaultdict(list)
        self.by_name: dict[tuple[str, str], list[Structure]] = defaultdict(list)
        self.accepted_structures: dict[tuple[str, str], object] = {}
        self.refused_structures: set[tuple[str, str]] = set()
        self.scope: set[str] | None = None

    @classmethod
    def load(cls, checked, *, user):
        context = cls()
        context.scope = communes_in_scope(user)
        codes, names = set(), set()
        structure_keys, service_keys = defaultdict(set), defaultdict(set)
        sirets = set()
        for record, values, _, row in checked:
            if values.get("code_insee"):
                codes.add(values["code_insee"])
            elif values.get("commune"):
                names.add(fold(values["commune"]))
            if record.kind == STRUCTURE:
                structure_keys[row.source].add(row.source_id)
                if values.get("siret"):
                    sirets.add(values["siret"])
            else:
                service_keys[row.source].add(row.source_id)
                structure_keys[row.source].add(str(values.get("structure_id") or ""))
        for chunk in _chunks(codes):
            for commune in Commune.objects.filter(code__in=chunk):
                context.communes[commune.code] = commune
        for chunk in _chunks(names):
            for commune in Commune.objects.filter(search_name__in=chunk):
                context.communes[commune.code] = commune
                context.communes_by_name[(commune.search_name, commune.departement_id)].append(
                    commune.code
                )
        for category in Category.objects.filter(
            kind__in=[Category.Kind.THEMATIQUE, Category.Kind.PUBLIC, Category.Kind.RESEAU]
        ).values("pk", "kind", "value"):
            context.categories[(category["kind"], category["value"])] = category["pk"]
        through = Structure.networks.through
        for source, ids in structure_keys.items():
            for chunk in _chunks(ids):
                found = list(Structure.objects.filter(source=source, source_id__in=chunk))
                if source == "tablee":
                    # Structures created in Tablée are exported with their UUID as identifier.
                    uuids = [i for i in chunk if _is_uuid(i)]
                    found += list(
                        Structure.objects.filter(source="tablee", source_id="", pk__in=uuids)
                    )
                for structure in found:
                    context.structures[(source, structure.source_id or str(structure.pk))] = (
                        structure
                    )
        pks = [s.pk for s in context.structures.values()]
        for chunk in _chunks(pks):
            for structure_id, category_id in through.objects.filter(
                structure_id__in=chunk
            ).values_list("structure_id", "category_id"):
                context.structure_links[structure_id].add(category_id)
        for source, ids in service_keys.items():
            for chunk in _chunks(ids):
                for service in Service.objects.filter(source=source, source_id__in=chunk):
                    context.services[(source, service.source_id)] = service
        service_pks = [s.pk for s in context.services.values()]
        for name, (relation, _) in SERVICE_M2M.items():
            model = getattr(Service, relation).through
            for chunk in _chunks(service_pks):
                for service_id, category_id in model.objects.filter(
                    service_id__in=chunk
                ).values_list("service_id", "category_id"):
                    context.service_links[(name, service_id)].add(category_id)
        for chunk in _chunks(sirets):
            for structure in Structure.objects.filter(siret__in=chunk).only(
                "pk", "name", "source", "source_id", "siret"
            ):
                context.by_siret[structure.siret].append(structure)
        folded = {fold(v.get("nom") or "") for r, v, _, _ in checked if r.kind == STRUCTURE}
        for chunk in _chunks(folded):
            for structure in Structure.objects.filter(search_name__in=chunk).only(
                "pk", "name", "source", "source_id", "search_name", "commune_id"
            ):
                context.by_name[(structure.search_name, structure.commune_id)].append(structure)
        return context

    # -- structures --

    def _commune(self, values, problems) -> Commune | None:
        code = values.get("code_insee")
        if code:
            commune = self.communes.get(code)
            if commune is None:
                problems.append(
                    RowProblem("code_insee", code, f"le code commune {code} n'existe pas.")
                )
            return commune
        name = values.get("commune")
        postal = values.get("code_postal")
        if name and postal:
            found = []
            for departement in _departements_of(postal):
                found += self.communes_by_name.get((fold(name), departement), [])
            if len(found) == 1:
                return self.communes[found[0]]
            problems.append(
                RowProblem(
                    "code_insee",
                    "",
                    f"absent, et la commune « {name} » ({postal}) n'a pas été trouvée sans "
                    "ambiguïté dans le référentiel : ajoutez une colonne code_insee.",
                )
            )
            return None
        if name and not any(p.field == "code_postal" for p in problems):
            problems.append(
                RowProblem(
                    "code_insee",
                    "",
                    f"absent : la commune « {name} » ne suffit pas, il faut son code INSEE "
                    "ou son code postal.",
                )
            )
        elif not name:
            problems.append(RowProblem("code_insee", "", "champ obligatoire manquant (commune)."))
        return None

    def _links(self, values, problems, spec) -> dict[str, list[int]]:
        links = {}
        for name, (relation, kind) in spec.items():
            if name not in values:
                continue
            ids, unknown = [], []
            for code in values.get(name) or []:
                pk = self.categories.get((kind, code))
                if pk is None:
                    unknown.append(code)
                else:
                    ids.append(pk)
            if unknown:
                problems[:] = [p for p in problems if p.field != name]
                problems.append(
                    RowProblem(
                        name,
                        ", ".join(unknown),
                        f"{CATEGORY_NAMES[kind]}{'s' if len(unknown) > 1 else ''} "
                        f"inconnu{'e' if kind == Category.Kind.THEMATIQUE else ''}"
                        f"{'s' if len(unknown) > 1 else ''} : "
                        + ", ".join(f"« {u} »" for u in unknown)
                        + ".",
                    )
                )
            links[relation] = sorted(ids)
        return links

    def plan_structure(self, values, problems, row: PlanRow) -> None:
        commune = self._commune(values, problems)
        if commune is not None and self.scope is not None and commune.code not in self.scope:
            problems.append(
                RowProblem("code_insee", commune.code, "cette commune est hors de votre périmètre.")
            )
        row.m2m = self._links(values, problems, STRUCTURE_M2M)
        fields = _model_values(values, STRUCTURE_MODEL_FIELDS, Structure)
        if commune is not None:
            fields["commune_id"] = commune.code
            row.fields["commune"] = commune
        _check_lengths(fields, Structure, STRUCTURE_MODEL_FIELDS, problems)
        existing = self.structures.get((row.source, row.source_id))
        if (
            existing is not None
            and self.scope is not None
            and existing.commune_id not in self.scope
        ):
            problems.append(
                RowProblem(
                    "id", row.source_id, "cette structure existe déjà hors de votre périmètre."
                )
            )
        if problems:
            return
        row.fields.update(fields)
        key = (row.source, row.source_id)
        self._duplicates(values, row, existing)
        if existing is None:
            row.action = CREATE
            row.pk = uuid.uuid4()
        else:
            row.existing = existing
            row.pk = existing.pk
            row.changes = _changes(existing, fields, Structure)
            position_given = (
                values.get("latitude") is not None and values.get("longitude") is not None
            )
            if not position_given:
                for name in ("latitude", "longitude"):
                    if name in row.changes:
                        row.changes.remove(name)
            for relation, ids in row.m2m.items():
                if set(ids) != self.structure_links.get(existing.pk, set()):
                    row.changes.append(relation)
            if not row.date_given and row.changes == ["data_updated_on"]:
                # A spreadsheet without dates, imported again another day: nothing new.
                row.changes = []
            row.action = UPDATE if row.changes else UNCHANGED
        self.accepted_structures[key] = row.pk

    def _duplicates(self, values, row: PlanRow, existing) -> None:
        own = existing.pk if existing is not None else None
        seen = set()
        for other in self.by_siret.get(values.get("siret") or "", []):
            if other.pk != own and other.pk not in seen:
                seen.add(other.pk)
                row.duplicates.append(f"même SIRET que « {other.name} » (source {other.source})")
        commune_id = row.fields.get("commune_id")
        for other in self.by_name.get((fold(row.name), commune_id), []):
            if other.pk != own and other.pk not in seen and other.source != row.source:
                seen.add(other.pk)
                row.duplicates.append(
                    f"même nom et même commune que « {other.name} » (source {other.source})"
                )

    # -- services --

    def plan_service(self, values, problems, row: PlanRow) -> None:
        structure_id = str(values.get("structure_id") or "")
        key = (row.source, structure_id)
        structure_pk = None
        if structure_id:
            if key in self.refused_structures:
                problems.append(
                    RowProblem(
                        "structure_id",
                        structure_id,
                        "la structure de ce service est refusée (voir sa ligne).",
                    )
                )
            elif key in self.accepted_structures:
                structure_pk = self.accepted_structures[key]
            elif key in self.structures:
                structure = self.structures[key]
                if self.scope is not None and structure.commune_id not in self.scope:
                    problems.append(
                        RowProblem(
                            "structure_id",
                            structure_id,
                            "cette structure est hors de votre périmètre.",
                        )
                    )
                structure_pk = structure.pk
            else:
                problems.append(
                    RowProblem(
                        "structure_id",
                        structure_id,
                        f"aucune structure d'identifiant « {structure_id} » dans le fichier ni "
                        f"dans l'annuaire pour la source « {row.source} ».",
                    )
                )
        commune = None
        if values.get("code_insee"):
            commune = self._commune(values, problems)
        row.m2m = self._links(values, problems, SERVICE_M2M)
        fields = _model_values(values, SERVICE_MODEL_FIELDS, Service)
        if "code_insee" in values and commune is None:
            fields["commune_id"] = None
        _check_lengths(fields, Service, SERVICE_MODEL_FIELDS, problems)
        if problems:
            return
        fields["structure_id"] = structure_pk
        row.fields.update(fields)
        existing = self.services.get((row.source, row.source_id))
        if existing is None:
            row.action = CREATE
            row.pk = uuid.uuid4()
            return
        row.existing = existing
        row.pk = existing.pk
        row.changes = _changes(existing, fields, Service)
        for name, (relation, _) in SERVICE_M2M.items():
            if relation in row.m2m and set(row.m2m[relation]) != self.service_links.get(
                (name, existing.pk), set()
            ):
                row.changes.append(relation)
        row.action = UPDATE if row.changes else UNCHANGED


def _model_values(values: dict, mapping: dict, model) -> dict:
    """Model field values for the data·inclusion fields present in ``values``."""
    fields = {}
    for di_name, model_name in mapping.items():
        if di_name not in values:
            continue
        value = values[di_name]
        model_field = model._meta.get_field(model_name.removesuffix("_id"))
        if model_name == "data_updated_on":
            value = date.fromisoformat(value) if value else timezone.localdate()
        elif model_field.get_internal_type() == "JSONField":
            value = list(value or [])
        elif model_field.get_internal_type() in {
            "CharField",
            "TextField",
            "URLField",
            "EmailField",
        }:
            value = "" if value is None else str(value)
        fields[model_name] = value
    return fields


def _check_lengths(fields: dict, model, mapping: dict, problems: list[RowProblem]) -> None:
    for name, value in fields.items():
        if not isinstance(value, str) or name.endswith("_id"):
            continue
        limit = model._meta.get_field(name).max_length
        if limit and len(value) > limit:
            reverse = {v: k for k, v in mapping.items()}
            problems.append(
                RowProblem(
                    reverse.get(name, name),
                    value[:40] + "…",
                    f"trop long ({limit} caractères au plus).",
                )
            )


def _changes(existing, fields: dict, model) -> list[str]:
    return [name for name, value in fields.items() if getattr(existing, name) != value]


def _departements_of(postal_code: str) -> list[str]:
    if postal_code.startswith("20"):
        return ["2A", "2B"]
    if postal_code.startswith("97") or postal_code.startswith("98"):
        return [postal_code[:3]]
    return [postal_code[:2]]


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


def _chunks(items, size: int = QUERY_CHUNK):
    items = list(items)
    for start in range(0, len(items), size):
        yield items[start : start + size]


def position_for(row: PlanRow) -> tuple[float | None, float | None, bool] | None:
    """Coordinates to store for a structure without any in the file: None keeps the current.

    A new structure, or one that moved to another commune while placed approximately, is
    placed by the geocoder (the commune's centroid, approximate, unless a geocoder is set).
    """
    fields = row.fields
    if fields.get("latitude") is not None and fields.get("longitude") is not None:
        return fields["latitude"], fields["longitude"], False
    existing = row.existing
    moved = existing is not None and existing.commune_id != fields.get(
        "commune_id", existing.commune_id
    )
    if existing is not None and not (moved and existing.location_is_approximate):
        return None
    # The geocoder reads three attributes: no need for a model instance per row.
    probe = SimpleNamespace(
        address=fields.get("address", ""),
        postal_code=fields.get("postal_code", ""),
        commune=fields.get("commune"),
    )
    return geocoding.place(probe)
