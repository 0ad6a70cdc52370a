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

A national file holds a quarter of a million rows: they are read one at a time and planned by
chunks of ``CHUNK_ROWS`` (a few queries per chunk, only the compared columns), and what the
preview keeps of them is bounded (``Plan``): every count is exact, the refused and doubtful rows
are kept up to a limit, the others as a sample. Memory does not grow with the file.
"""

import csv
import gc
import io
import json
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from random import getrandbits
from typing import NamedTuple

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
# Rows checked, compared with the database (and written) together: a few queries per chunk, and
# the values of one chunk only are held at a time.
CHUNK_ROWS = 2000
# Values longer than this are checked against the schema without caching the verdict.
CACHED_VALUE_CHARS = 120
# Parameters per query: SQLite accepts 32,766, PostgreSQL 65,535.
QUERY_CHUNK = 2000
# What the preview keeps of a large file; the counts are exact whatever its size.
PREVIEW_REFUSED_ROWS = 1000
PREVIEW_DUPLICATE_ROWS = 1000
PREVIEW_SAMPLE_ROWS = 500  # of each other result: to create, to update, unchanged
# Normalised values remembered per import (dates, codes, hours, lists of thématiques...).
MEMO_SIZE = 20_000
# The garbage collector's first threshold while an import runs (700 by default): see
# ``fewer_collections``.
IMPORT_GC_THRESHOLD = 50_000

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
# Fields whose values come back on many rows: their normalisation is remembered during an import.
# The others (names, identifiers, addresses, SIRET, contacts) are unique to their row.
REPEATED_FIELDS = (
    LIST_FIELDS
    | INTEGER_FIELDS
    | {
        "source",
        "commune",
        "code_postal",
        "code_insee",
        "horaires_accueil",
        "date_maj",
        "type",
        "frais",
        "volume_horaire_hebdomadaire",
    }
)

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
# The columns of a row already in the directory that an import compares with the file.
STRUCTURE_COLUMNS = (*STRUCTURE_MODEL_FIELDS.values(), "location_is_approximate")
SERVICE_COLUMNS = (*SERVICE_MODEL_FIELDS.values(), "structure_id")
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


@dataclass(slots=True)
class Record:
    """One row of the file, keyed by data·inclusion field names, not checked yet."""

    kind: str
    location: str  # « Structures, ligne 4 », « élément 3 », « ligne 12 »
    data: dict
    # False when the file has no date: the import's date is used, and only for a real change.
    date_given: bool = True


@dataclass
class _Tally:
    """What a pass over the files noted besides the records."""

    notices: list[str] = field(default_factory=list)
    ignored_rows: int = 0
    rows: int = 0  # rows known so far, for the progress bar


class Reading:
    """The records of uploaded files (path, name as uploaded), read one at a time.

    Each file is checked when the reading is made (size, ZIP bomb, kind); its rows are read as
    they are planned: JSON lines line by line, a CSV file or a sheet one table at a time, so a
    national file is never held whole in memory. ``mapping`` ({column index: data·inclusion
    field}) applies to a single spreadsheet that is not in the data·inclusion format. Reading
    raises SpreadsheetRejected for a file that cannot be read.
    """

    def __init__(self, files: Iterable[tuple[Path, str]], *, mapping: dict | None = None):
        self.files: list[tuple[Path, str, str]] = []
        for path, name in files:
            check_size(path)
            self.files.append((Path(path), name, detect(path, name)))
        self.mapping = mapping
        self.tally = _Tally(rows=sum(_count_lines(p) for p, _, k in self.files if k == "jsonl"))

    @property
    def notices(self) -> list[str]:
        return self.tally.notices

    @property
    def ignored_rows(self) -> int:
        return self.tally.ignored_rows

    @property
    def expected_rows(self) -> int:
        """Rows known so far: JSON lines are counted beforehand, tables once they are read."""
        return self.tally.rows

    def __iter__(self) -> Iterator[Record]:
        return self.records()

    def records(self, *, again: bool = False) -> Iterator[Record]:
        """Every record, in the order of the files. ``again``: a second pass, which reads the
        files without noting anything (the first pass's notices stay as they are)."""
        tally = _Tally() if again else self.tally
        if not again:
            self.tally = tally = _Tally(rows=tally.rows)
        found = False
        for path, name, kind in self.files:
            if kind in {"json", "jsonl"}:
                records = _json_records(path, name, kind, tally, again)
            elif kind == "zip":
                records = _zip_records(path, tally, again)
            else:
                records = self._spreadsheet_records(path, name, tally, again)
            for record in records:
                found = True
                yield record
        if not found:
            raise SpreadsheetRejected(
                [Problem("Le fichier ne contient aucune structure ni aucun service à importer.")]
            )

    def _spreadsheet_records(self, path, name, tally: _Tally, again: bool) -> Iterator[Record]:
        for table in read_tables(path, name):
            if not again:
                tally.rows += len(table.rows)
            if self.mapping is not None:
                yield from mapped_records(table, self.mapping)
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
                yield from _table_records(table, tally)


def read_files(files: Iterable[tuple[Path, str]], *, mapping: dict | None = None) -> Reading:
    """The records of the uploaded files (path, name as uploaded), to go through once or more."""
    return Reading(files, mapping=mapping)


def _count_lines(path: Path) -> int:
    """Lines of a file, counted without decoding it (a national file takes a few milliseconds)."""
    lines, last = 0, b"\n"
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            lines += block.count(b"\n")
            last = block[-1:]
    return lines + (last != b"\n")


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


def _json_records(path: Path, name: str, kind: str, tally: _Tally, again: bool):
    if kind == "jsonl":
        # Line by line: the file is never held whole in memory.
        try:
            with open(path, encoding="utf-8-sig") as handle:
                yield from _json_line_records(handle, name)
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
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpreadsheetRejected(
            [Problem(f"{name} : JSON mal formé ({exc.msg}).", line=exc.lineno)]
        ) from None
    del text
    if isinstance(items, dict):
        items = items.get("structures", []) + items.get("services", [])
    if not again:
        tally.rows += len(items)
    for index, item in enumerate(items, start=1):
        yield _json_record(item, f"{name}, élément {index}")


def _json_line_records(lines: Iterable[str], name: str) -> Iterator[Record]:
    loads = json.loads
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = loads(line)
        except json.JSONDecodeError as exc:
            raise SpreadsheetRejected(
                [Problem(f"{name} : JSON mal formé ({exc.msg}).", line=line_number)]
            ) from None
        yield _json_record(item, f"{name}, ligne {line_number}")


def _json_record(item, location: str) -> Record:
    if not isinstance(item, dict):
        raise SpreadsheetRejected(
            [Problem(f"{location} : un objet JSON (entre accolades) est attendu.")]
        )
    return Record(SERVICE if "structure_id" in item else STRUCTURE, location, item)


def _zip_records(path: Path, tally: _Tally, again: bool) -> Iterator[Record]:
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
                    if kind == "jsonl" and not again:
                        tally.rows += _count_lines(target)
                    yield from _json_records(target, label, kind, tally, again)
                else:
                    # An export without services has a services file of headers only.
                    for table in read_tables(target, label, allow_empty=True):
                        if not again:
                            tally.rows += len(table.rows)
                        yield from _table_records(table, tally)


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


def _table_records(table: Table, tally: _Tally) -> Iterator[Record]:
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
        tally.notices.append(
            f"{table.label} : colonne{plural} ignorée{plural} car absente{plural} du schéma "
            f"data·inclusion : {names}."
        )
    prefix = f"{table.label}, " if table.label else ""
    for line, cells in table.rows:
        if ignore_at is not None and _truthy(_cell(cells, ignore_at)):
            tally.ignored_rows += 1
            continue
        data = {}
        for key, indexes in positions.items():
            # A column present twice (the template has two « lien_source »): the first value.
            values = [_cell(cells, i) for i in indexes]
            data[key] = next((v for v in values if v not in (None, "")), None)
        yield Record(kind=table.kind, location=f"{prefix}ligne {line}", data=data)


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


def mapped_records(table: Table, mapping: dict[int, str]) -> Iterator[Record]:
    """Records of structures from any spreadsheet, with its columns mapped to our fields.

    Without an identifier column, one is made from the folded name and the commune, so that
    importing the same file again finds the same structures. Without a date column, the date of
    the import is the date of the information.
    """
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
        yield Record(kind=STRUCTURE, location=f"{prefix}ligne {line}", data=data, date_given=dated)


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
    if type(value) is str:
        return value.strip()
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
        if _empty(raw):
            values[key] = None
            continue
        value, message = _normalise_field(key, raw)
        if message is None:
            values[key] = value
        else:
            problems.append(RowProblem(key, _shown(raw), message))
    return values, problems


def _memo_key(key: str, raw):
    kind = type(raw)
    if kind is str:
        return key, raw
    if kind is int or kind is float:
        return key, kind, raw
    if kind is list and all(type(item) is str for item in raw):
        return key, kind, tuple(raw)
    return None  # dates from a workbook, nested values: normalised each time


def _normalise_field(key: str, raw) -> tuple[object, str | None]:
    """(normalised value, None), or (None, what is wrong) in French."""
    try:
        return _NORMALISERS.get(key, _shown)(raw), None
    except ValidationError as error:
        return None, " ".join(error.messages)
    except ValueError as error:
        return None, str(error)


def _normalise_value(key: str, raw):
    return _NORMALISERS.get(key, _shown)(raw)


def _list(key: str):
    def normalised(raw):
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

    return normalised


def _number(raw):
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    try:
        return float(parse_decimal(str(raw)))
    except ValueError:
        raise ValueError(f"« {_shown(raw)} » n'est pas un nombre.") from None


def _integer(raw):
    number = raw
    if not isinstance(raw, int | float) or isinstance(raw, bool):
        try:
            number = parse_decimal(str(raw))
        except ValueError:
            raise ValueError(f"« {_shown(raw)} » n'est pas un nombre entier.") from None
    if Decimal(str(number)) != Decimal(str(number)).to_integral_value():
        raise ValueError(f"« {_shown(raw)} » n'est pas un nombre entier.")
    return int(number)


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


# data·inclusion field -> its normaliser; any other field is a text (``_shown``).
_NORMALISERS: dict[str, Callable] = {
    "siret": lambda raw: normalize_siret(raw) or None,
    "code_postal": lambda raw: normalize_postal_code(raw) or None,
    "telephone": lambda raw: _phone(_shown(raw) if isinstance(raw, str) else raw) or None,
    "courriel": lambda raw: normalize_email(raw) or None,
    "horaires_accueil": lambda raw: _hours(_shown(raw)) or None,
    "code_insee": _insee,
    "date_maj": _date,
    **{key: (lambda raw: normalize_url(raw) or None) for key in URL_FIELDS},
    **{key: _list(key) for key in LIST_FIELDS},
    **dict.fromkeys(NUMBER_FIELDS, _number),
    **dict.fromkeys(INTEGER_FIELDS, _integer),
}


def checked_values(
    kind: str, data: dict, *, default_source: str, memo: dict | None = None
) -> tuple[dict, list[RowProblem]]:
    """A record's normalised values (its source filled in) and every objection to them: the
    normalisation's, then the official schema's (as ``normalise`` then ``schema_problems``).

    ``memo``, kept for the length of an import, remembers both verdicts on the values that come
    back on many rows (dates, codes, hours, lists of thématiques): each is checked once.
    """
    known = _known_fields(kind)
    simple_checks = _simple_checks(kind)
    values: dict = {}
    problems: list[RowProblem] = []
    objections: list[RowProblem] = []
    for key, raw in data.items():
        if key not in known:
            continue
        remembered = _memo_key(key, raw) if memo is not None and key in REPEATED_FIELDS else None
        if remembered is not None:
            outcome = memo.get(remembered)
            if outcome is None:
                outcome = _verdicts(kind, key, raw)
                if len(memo) < MEMO_SIZE:
                    memo[remembered] = outcome
            value, message, objection = outcome
        elif type(raw) is str and key not in _NORMALISERS:
            # A plain text, the most common case: no need for the general path.
            value, message = raw.strip() or None, None
            simple = simple_checks.get(key)
            if value is None or (simple is not None and simple(value)):
                objection = None
            else:
                objection = _schema_message(kind, key, value)
        else:
            value, message, objection = _verdicts(kind, key, raw)
        if message is not None:
            problems.append(RowProblem(key, _shown(raw), message))
            continue
        values[key] = value
        if objection is not None:
            objections.append(RowProblem(key, _shown(value), objection))
    source = values.get("source")
    if source is None:
        source = values["source"] = str(default_source)
        objection = _schema_message(kind, "source", source)
        if objection is not None:
            objections.append(RowProblem("source", source, objection))
    refused_fields = {p.field for p in problems}
    for name in _required(kind):
        if values.get(name) is None and name not in refused_fields:
            problems.append(RowProblem(name, "", "champ obligatoire manquant."))
    problems.extend(objections)
    return values, problems


def _verdicts(kind: str, key: str, raw) -> tuple[object, str | None, str | None]:
    """(normalised value, normalisation's objection, schema's objection) for one field."""
    if _empty(raw):
        return None, None, None
    value, message = _normalise_field(key, raw)
    if message is not None or value is None:
        return value, message, None
    return value, None, _schema_message(kind, key, value)


def _schema_message(kind: str, name: str, value) -> str | None:
    """The official schema's objection to one field's value, in French; None when valid."""
    simple = _simple_checks(kind).get(name)
    if simple is not None and simple(value):
        return None
    frozen = _frozen(value)
    # Free texts are unique per row: caching them would only hold memory.
    check = _field_error if len(str(frozen)) <= CACHED_VALUE_CHARS else _field_error.__wrapped__
    return check(kind, name, frozen)


def schema_problems(kind: str, values: dict, already: set[str]) -> list[RowProblem]:
    """The official schema's objections, in French; fields already refused are not repeated.

    Each field is checked on its own against its part of the schema: a plain test answers for
    the usual values (``_simple_checks``), jsonschema for the others, and its verdicts are
    cached: the same thématiques, publics or hours come back on thousands of rows.
    """
    problems = []
    for name in _required(kind):
        if values.get(name) is None and name not in already:
            problems.append(RowProblem(name, "", "champ obligatoire manquant."))
            already.add(name)
    known = _known_fields(kind)
    simple_checks = _simple_checks(kind)
    for name, value in values.items():
        if value is None or name in already or name not in known:
            continue
        simple = simple_checks.get(name)
        if simple is not None and simple(value):
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
def _required(kind: str) -> tuple[str, ...]:
    return tuple(schema_for(kind).get("required", []))


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
_ARRAY_KEYWORDS = {"type", "items", "uniqueItems", "minItems"} | _ANNOTATIONS


def _simple_check(definition: dict, defs: dict | None = None) -> Callable[[object], bool] | None:
    """A quick test that a value satisfies ``definition``: a plain ``string`` or ``number``
    (possibly ``| null``) with bounds, a value of a list of the schema (``$ref`` to an ``enum``),
    or an array of such values; None when the definition is anything else.

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
    allowed = _enum(branch, defs or {})
    if allowed is not None:
        return lambda v: type(v) is str and v in allowed
    if branch.get("type") == "array" and set(branch) <= _ARRAY_KEYWORDS:
        items = _enum(branch.get("items", {}), defs or {})
        if items is None:
            return None
        least = branch.get("minItems", 0)
        unique = branch.get("uniqueItems", False)
        return lambda v: (
            type(v) is list
            and len(v) >= least
            and all(type(i) is str and i in items for i in v)
            and (not unique or len(set(v)) == len(v))
        )
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


def _enum(branch: dict, defs: dict) -> frozenset[str] | None:
    """The values of a ``{"$ref": "#/$defs/X"}`` naming a list of strings, else None."""
    if set(branch) != {"$ref"} or not branch["$ref"].startswith("#/$defs/"):
        return None
    target = defs.get(branch["$ref"].removeprefix("#/$defs/"), {})
    if target.get("type") != "string" or not set(target) <= {"enum", "type"} | _ANNOTATIONS:
        return None
    values = target.get("enum")
    if not values or not all(isinstance(v, str) for v in values):
        return None
    return frozenset(values)


@cache
def _simple_checks(kind: str) -> dict[str, Callable[[object], bool]]:
    schema = schema_for(kind)
    checks = {}
    for name, definition in schema["properties"].items():
        check = _simple_check(definition, schema.get("$defs", {}))
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


@dataclass(slots=True)
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
    index: int = 0  # position in the file, to show the rows kept in the order of the file
    # What the writer needs, dropped once the row is written.
    fields: dict = field(default_factory=dict, repr=False)
    m2m: dict = field(default_factory=dict, repr=False)
    existing: dict | None = field(default=None, repr=False)  # compared columns, in the database
    pk: object = field(default=None, repr=False)
    place: object = field(default=None, repr=False)  # the commune of a structure, to place it
    date_given: bool = field(default=True, repr=False)

    @property
    def action_label(self) -> str:
        return ACTION_LABELS[self.action]

    def release(self) -> None:
        """Forget what the writer needed; the preview's part stays."""
        self.fields, self.m2m, self.existing, self.place = {}, {}, None, None

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
    """What an import does: exact counts, and the rows a person can read in the preview.

    ``rows`` holds, in the order of the file, every refused row and every likely duplicate up to
    ``PREVIEW_REFUSED_ROWS`` and ``PREVIEW_DUPLICATE_ROWS``, and the first
    ``PREVIEW_SAMPLE_ROWS`` rows of each other result: all the rows of any file of ordinary size,
    and a bounded part of a national one (``complete`` says which).
    """

    rows: list[PlanRow] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    ignored_rows: int = 0
    total: int = 0
    duplicates: int = 0
    tally: dict = field(
        default_factory=lambda: {k: dict.fromkeys(ACTION_LABELS, 0) for k in (STRUCTURE, SERVICE)}
    )
    _kept: dict = field(default_factory=lambda: defaultdict(int), repr=False)

    def add(self, row: PlanRow) -> bool:
        """Count ``row``, and keep it for the preview if there is room; True when kept."""
        self.total += 1
        self.tally[row.kind][row.action] += 1
        if row.duplicates:
            self.duplicates += 1
        if row.action == REFUSED:
            room = self._kept[REFUSED] < PREVIEW_REFUSED_ROWS
            category = REFUSED
        elif row.duplicates and self._kept["duplicates"] < PREVIEW_DUPLICATE_ROWS:
            room, category = True, "duplicates"
        else:
            room = self._kept[row.action] < PREVIEW_SAMPLE_ROWS
            category = row.action
        if room:
            self._kept[category] += 1
            self.rows.append(row)
        return room

    def counts(self) -> dict:
        return {kind: dict(actions) for kind, actions in self.tally.items()}

    @property
    def refused(self) -> int:
        return sum(actions[REFUSED] for actions in self.tally.values())

    @property
    def complete(self) -> bool:
        """Whether ``rows`` holds every row of the file."""
        return len(self.rows) == self.total

    def to_json(self) -> dict:
        return {
            "rows": [row.to_json() for row in self.rows],
            "notices": self.notices,
            "ignored_rows": self.ignored_rows,
            "counts": self.counts(),
            "refused": self.refused,
            "duplicates": self.duplicates,
            "total": self.total,
            "complete": self.complete,
            "limits": {
                "refused": PREVIEW_REFUSED_ROWS,
                "duplicates": PREVIEW_DUPLICATE_ROWS,
                "sample": PREVIEW_SAMPLE_ROWS,
            },
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


_gc_lock = threading.Lock()
_gc_imports = 0  # imports running in this process
_gc_usual: tuple[int, ...] = ()


@contextmanager
def fewer_collections():
    """Run the garbage collector less often for the time of an import.

    A chunk's rows live long enough to reach the collector's oldest generation, so its full
    collections come back every few chunks and go through every object of the process each
    time: a quarter of a national import's time. Collected less often, the young rows are gone
    before they age. An import makes hardly any reference cycle: memory stays the same. The
    usual threshold is given back when the last import of the process ends.
    """
    global _gc_imports, _gc_usual
    with _gc_lock:
        if _gc_imports == 0:
            _gc_usual = gc.get_threshold()
            gc.set_threshold(max(IMPORT_GC_THRESHOLD, _gc_usual[0]), *_gc_usual[1:])
        _gc_imports += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_imports -= 1
            if _gc_imports == 0:
                gc.set_threshold(*_gc_usual)


def build_plan(
    reading: Reading,
    *,
    default_source: str,
    user=None,
    progress: Progress = _no_progress,
) -> Plan:
    """Check every record and compare it with the database: the plan of an import (the preview).

    ``user`` limits the import to the communes of their scope (None: the command line, no
    limit). A service is refused when its structure is refused.
    """
    planner = Planner(reading, default_source=default_source, user=user, progress=progress)
    with fewer_collections():
        for _ in planner.chunks():
            pass
    return planner.plan


class _Place(NamedTuple):
    """A commune as the import needs it (geocoding.place reads these four attributes)."""

    code: str
    name: str
    latitude: float | None
    longitude: float | None


class OrderedIds:
    """Primary keys for the rows an import creates: UUIDs of version 7 (RFC 9562), increasing.

    Rows inserted in the order of their keys are added at the end of the primary key's index
    and of the link tables' indexes rather than on a random page of each: writing a national
    file is about a third faster than with random UUIDs. The time of the import (to the
    millisecond) and a counter make up the first 90 bits; the last 32 are random.
    """

    def __init__(self):
        milliseconds = time.time_ns() // 1_000_000
        self._prefix = (milliseconds & (1 << 48) - 1) << 80 | 0x7 << 76 | 0b10 << 62
        self._count = 0
        self.first = self._prefix
        self.last = self._prefix

    def __call__(self) -> uuid.UUID:
        self._count += 1
        high, low = self._count >> 30, self._count & ((1 << 30) - 1)
        value = self._prefix | high << 64 | low << 32 | getrandbits(32)
        self.last = value
        return uuid.UUID(int=value)

    def issued(self, pk) -> bool:
        """Whether ``pk`` is a key handed out here, that is a row this import created."""
        return isinstance(pk, uuid.UUID) and self.first <= pk.int <= self.last


@dataclass
class _Found:
    """What the database holds about one chunk of rows, read in a few queries."""

    structures: dict = field(default_factory=dict)  # (source, id) -> compared columns
    structure_links: dict = field(default_factory=lambda: defaultdict(set))
    services: dict = field(default_factory=dict)
    service_links: dict = field(default_factory=lambda: defaultdict(set))
    by_siret: dict = field(default_factory=lambda: defaultdict(list))
    by_name: dict = field(default_factory=lambda: defaultdict(list))


class Planner:
    """Checks the records of a reading and compares them with the database, chunk by chunk.

    ``chunks()`` yields the planned rows of each chunk; the caller may write them before asking
    for the next one (``imports.directory_import``). Between chunks, only what links rows to each
    other is kept: the identifiers read so far (an identifier used twice is refused), and the
    verdict on each structure (a service follows its structure). A service whose structure comes
    later in the file waits for it: the files are then read a second time, quickly, to know the
    structures they hold.
    """

    def __init__(
        self,
        reading: Reading,
        *,
        default_source: str,
        user=None,
        progress: Progress = _no_progress,
        step: str = "validation",
    ):
        self.reading = reading
        self.default_source = default_source
        self.progress = progress
        self.step = step
        self.plan = Plan()
        self.new_pk = OrderedIds()
        self.scope = communes_in_scope(user)
        self.categories = {
            (kind, value): pk
            for pk, kind, value in Category.objects.filter(
                kind__in=[Category.Kind.THEMATIQUE, Category.Kind.PUBLIC, Category.Kind.RESEAU]
            ).values_list("pk", "kind", "value")
        }
        self.memo: dict = {}
        self.communes: dict[str, _Place | None] = {}
        self.communes_by_name: dict[tuple[str, str], list[str]] = defaultdict(list)
        self.names_read: set[str] = set()
        self.seen: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.accepted: dict[str, dict[str, object]] = defaultdict(dict)
        self.refused: dict[str, set[str]] = defaultdict(set)
        self.structures_in_file: set[tuple[str, str]] | None = None
        self.sources_held: dict[tuple[type, str], bool] = {}
        self.waiting: list = []

    def chunks(self) -> Iterator[list[PlanRow]]:
        done = 0
        pending = []
        self.progress(self.step, 0, self.reading.expected_rows)
        for record in self.reading:
            done += 1
            pending.append(self._check(record, done))
            if len(pending) == CHUNK_ROWS:
                yield from self._chunk(pending)
                pending = []
                self.progress(self.step, done, max(done, self.reading.expected_rows))
        if pending:
            yield from self._chunk(pending)
        while self.waiting:
            # Every structure of the file is known now.
            batch, self.waiting = self.waiting[:CHUNK_ROWS], self.waiting[CHUNK_ROWS:]
            yield from self._written(self._plan_services(batch))
        self.plan.rows.sort(key=lambda row: row.index)
        self.plan.notices = list(self.reading.notices)
        self.plan.ignored_rows = self.reading.ignored_rows
        self.progress(self.step, done, done)

    def _chunk(self, items) -> Iterator[list[PlanRow]]:
        structures = [item for item in items if item[2].kind == STRUCTURE]
        services = [item for item in items if item[2].kind == SERVICE]
        self._read_communes(items)
        planned = self._plan_structures(structures) if structures else []
        ready = []
        for item in services:
            values, _, row = item
            structure_id = str(values.get("structure_id") or "")
            if structure_id and self._comes_later((row.source, structure_id)):
                self.waiting.append(item)
            else:
                ready.append(item)
        if ready:
            planned += self._plan_services(ready)
        yield from self._written(planned)

    def _written(self, planned: list[PlanRow]) -> Iterator[list[PlanRow]]:
        """Hand the planned rows to the caller (who may write them), then forget their values."""
        if planned:
            yield planned
        for row in planned:
            row.release()

    # -- checking, in the order of the file --

    def _check(self, record: Record, index: int):
        values, problems = checked_values(
            record.kind, record.data, default_source=self.default_source, memo=self.memo
        )
        record.data = None
        nom = values.get("nom") or ""
        if (
            record.kind == STRUCTURE
            and nom.endswith(".")
            and not any(p.field == "nom" for p in problems)
        ):
            problems.append(
                RowProblem(
                    "nom", nom, "le nom d'une structure ne doit pas se terminer par un point."
                )
            )
        row = PlanRow(
            kind=record.kind,
            location=record.location,
            source=values["source"],
            source_id=str(values.get("id") or ""),
            name=str(nom),
            date_given=record.date_given,
            index=index,
        )
        seen = self.seen[(row.kind, row.source)]
        if row.source_id and row.source_id in seen:
            problems.append(
                RowProblem(
                    "id",
                    row.source_id,
                    f"l'identifiant « {row.source_id} » est déjà utilisé plus haut dans le "
                    "fichier.",
                )
            )
        seen.add(row.source_id)
        return values, problems, row

    def _comes_later(self, key: tuple[str, str]) -> bool:
        """Whether the structure ``key`` of a service is in the file but not read yet."""
        source, source_id = key
        if source_id in self.accepted[source] or source_id in self.refused[source]:
            return False
        if self.structures_in_file is None:
            self.structures_in_file = set()
            for record in self.reading.records(again=True):
                if record.kind == STRUCTURE:
                    values = {
                        k: _normalise_field(k, v)[0]
                        for k, v in record.data.items()
                        if k in ("source", "id") and not _empty(v)
                    }
                    self.structures_in_file.add(
                        (str(values.get("source") or self.default_source), str(values.get("id")))
                    )
        return key in self.structures_in_file

    def _finish(self, row: PlanRow, problems: list[RowProblem]) -> None:
        if problems:
            row.action = REFUSED
            row.problems = [str(p) for p in problems]
            # A structure refused for a second use of its identifier leaves the first one, and
            # its services, as they are.
            if row.kind == STRUCTURE and row.source_id not in self.accepted[row.source]:
                self.refused[row.source].add(row.source_id)
        self.plan.add(row)
        if row.action in {UNCHANGED, REFUSED}:
            row.release()  # nothing to write

    # -- the database --

    def _read_communes(self, items) -> None:
        codes, names = set(), set()
        for values, _, _ in items:
            code = values.get("code_insee")
            if code:
                if code not in self.communes:
                    codes.add(code)
            elif values.get("commune"):
                name = fold(values["commune"])
                if name not in self.names_read:
                    names.add(name)
        for chunk in _chunks(codes):
            found = (
                Commune.objects.filter(code__in=chunk)
                .order_by()
                .values_list("code", "name", "latitude", "longitude")
            )
            for code, *rest in found:
                self.communes[code] = _Place(code, *rest)
        for code in codes:
            self.communes.setdefault(code, None)
        for chunk in _chunks(names):
            found = (
                Commune.objects.filter(search_name__in=chunk)
                .order_by()
                .values_list(
                    "code", "name", "latitude", "longitude", "search_name", "departement_id"
                )
            )
            for code, name, latitude, longitude, search_name, departement in found:
                self.communes[code] = _Place(code, name, latitude, longitude)
                self.communes_by_name[(search_name, departement)].append(code)
        self.names_read |= names

    def _had_rows(self, model, source: str) -> bool:
        """Whether the directory held rows of ``model`` from ``source`` before this import wrote
        any (one query, at the first chunk of that source). If not, the only rows it can find are
        those the import wrote, which the plan knows already: an identifier read twice is refused
        and the structures accepted are in ``accepted``. A first import looks for nothing."""
        key = (model, source)
        if key not in self.sources_held:
            self.sources_held[key] = (model is Structure and source == "tablee") or (
                model.objects.filter(source=source).exclude(source_id="").exists()
            )
        return self.sources_held[key]

    def _existing(self, model, keys, columns) -> dict:
        """Rows of ``model`` with these (source, id) keys: {key: {column: value}}."""
        by_source = defaultdict(set)
        for source, source_id in keys:
            if source_id:
                by_source[source].add(source_id)
        names = ("pk", "source_id", *columns)
        found = {}
        for source, ids in by_source.items():
            if not self._had_rows(model, source):
                continue
            for chunk in _chunks(ids):
                # The condition of the unique index, repeated so that the database uses it.
                queries = [
                    model.objects.filter(source=source, source_id__in=chunk).exclude(source_id="")
                ]
                if model is Structure and source == "tablee":
                    # Structures created in Tablée are exported with their UUID as identifier.
                    uuids = [i for i in chunk if _is_uuid(i)]
                    if uuids:
                        queries.append(
                            Structure.objects.filter(source="tablee", source_id="", pk__in=uuids)
                        )
                for query in queries:
                    for values in query.order_by().values_list(*names):
                        row = dict(zip(names, values, strict=True))
                        found[(source, row["source_id"] or str(row["pk"]))] = row
        return found

    def _plan_structures(self, items) -> list[PlanRow]:
        found = _Found()
        found.structures = self._existing(
            Structure, {(row.source, row.source_id) for _, _, row in items}, STRUCTURE_COLUMNS
        )
        through = Structure.networks.through
        for chunk in _chunks([s["pk"] for s in found.structures.values()]):
            for structure_id, category_id in (
                through.objects.filter(structure_id__in=chunk)
                .order_by()
                .values_list("structure_id", "category_id")
            ):
                found.structure_links[structure_id].add(category_id)
        sirets = {values["siret"] for values, _, _ in items if values.get("siret")}
        for chunk in _chunks(sirets):
            for pk, name, source, siret in (
                Structure.objects.filter(siret__in=chunk)
                .order_by()
                .values_list("pk", "name", "source", "siret")
            ):
                if not self.new_pk.issued(pk):
                    found.by_siret[siret].append((pk, name, source))
        folded = {_folded(values.get("nom") or "") for values, _, _ in items}
        for chunk in _chunks(folded):
            for pk, name, source, search_name, commune_id in (
                Structure.objects.filter(search_name__in=chunk)
                .order_by()
                .values_list("pk", "name", "source", "search_name", "commune_id")
            ):
                if not self.new_pk.issued(pk):
                    found.by_name[(search_name, commune_id)].append((pk, name, source))
        planned = []
        for values, problems, row in items:
            self._plan_structure(values, problems, row, found)
            self._finish(row, problems)
            planned.append(row)
        return planned

    def _plan_services(self, items) -> list[PlanRow]:
        found = _Found()
        elsewhere = set()
        for values, _, row in items:
            structure_id = str(values.get("structure_id") or "")
            if structure_id not in self.accepted[row.source] and (
                structure_id not in self.refused[row.source]
            ):
                elsewhere.add((row.source, structure_id))
        found.structures = self._existing(Structure, elsewhere, ("commune_id",))
        found.services = self._existing(
            Service, {(row.source, row.source_id) for _, _, row in items}, SERVICE_COLUMNS
        )
        service_pks = [s["pk"] for s in found.services.values()]
        for name, (relation, _) in SERVICE_M2M.items():
            through = getattr(Service, relation).through
            for chunk in _chunks(service_pks):
                for service_id, category_id in (
                    through.objects.filter(service_id__in=chunk)
                    .order_by()
                    .values_list("service_id", "category_id")
                ):
                    found.service_links[(name, service_id)].add(category_id)
        planned = []
        for values, problems, row in items:
            self._plan_service(values, problems, row, found)
            self._finish(row, problems)
            planned.append(row)
        return planned

    # -- structures --

    def _commune(self, values, problems) -> _Place | None:
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

    def _plan_structure(self, values, problems, row: PlanRow, found: _Found) -> None:
        commune = self._commune(values, problems)
        if commune is not None and self.scope is not None and commune.code not in self.scope:
            problems.append(
                RowProblem("code_insee", commune.code, "cette commune est hors de votre périmètre.")
            )
        m2m = self._links(values, problems, STRUCTURE_M2M)
        fields = _model_values(values, STRUCTURE)
        if commune is not None:
            fields["commune_id"] = commune.code
        _check_lengths(fields, STRUCTURE, problems)
        existing = found.structures.get((row.source, row.source_id))
        if (
            existing is not None
            and self.scope is not None
            and existing["commune_id"] not in self.scope
        ):
            problems.append(
                RowProblem(
                    "id", row.source_id, "cette structure existe déjà hors de votre périmètre."
                )
            )
        if problems:
            return
        row.fields, row.m2m, row.place = fields, m2m, commune
        self._duplicates(values, row, existing, found)
        if existing is None:
            row.action = CREATE
            row.pk = self.new_pk()
        else:
            row.existing = existing
            row.pk = existing["pk"]
            row.changes = _changes(existing, fields)
            position_given = (
                values.get("latitude") is not None and values.get("longitude") is not None
            )
            if not position_given:
                for name in ("latitude", "longitude"):
                    if name in row.changes:
                        row.changes.remove(name)
            for relation, ids in row.m2m.items():
                if set(ids) != found.structure_links.get(existing["pk"], set()):
                    row.changes.append(relation)
            if not row.date_given and row.changes == ["data_updated_on"]:
                # A spreadsheet without dates, imported again another day: nothing new.
                row.changes = []
            row.action = UPDATE if row.changes else UNCHANGED
        self.accepted[row.source][row.source_id] = row.pk

    def _duplicates(self, values, row: PlanRow, existing, found: _Found) -> None:
        own = existing["pk"] if existing is not None else None
        seen = set()
        for pk, name, source in found.by_siret.get(values.get("siret") or "", []):
            if pk != own and pk not in seen:
                seen.add(pk)
                row.duplicates.append(f"même SIRET que « {name} » (source {source})")
        commune_id = row.fields.get("commune_id")
        for pk, name, source in found.by_name.get((_folded(row.name), commune_id), []):
            if pk != own and pk not in seen and source != row.source:
                seen.add(pk)
                row.duplicates.append(f"même nom et même commune que « {name} » (source {source})")

    # -- services --

    def _plan_service(self, values, problems, row: PlanRow, found: _Found) -> None:
        structure_id = str(values.get("structure_id") or "")
        structure_pk = None
        if structure_id:
            if structure_id in self.refused[row.source]:
                problems.append(
                    RowProblem(
                        "structure_id",
                        structure_id,
                        "la structure de ce service est refusée (voir sa ligne).",
                    )
                )
            elif structure_id in self.accepted[row.source]:
                structure_pk = self.accepted[row.source][structure_id]
            elif (row.source, structure_id) in found.structures:
                structure = found.structures[(row.source, structure_id)]
                if self.scope is not None and structure["commune_id"] not in self.scope:
                    problems.append(
                        RowProblem(
                            "structure_id",
                            structure_id,
                            "cette structure est hors de votre périmètre.",
                        )
                    )
                structure_pk = structure["pk"]
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
        m2m = self._links(values, problems, SERVICE_M2M)
        fields = _model_values(values, SERVICE)
        if "code_insee" in values and commune is None:
            fields["commune_id"] = None
        _check_lengths(fields, SERVICE, problems)
        if problems:
            return
        fields["structure_id"] = structure_pk
        row.fields, row.m2m = fields, m2m
        existing = found.services.get((row.source, row.source_id))
        if existing is None:
            row.action = CREATE
            row.pk = self.new_pk()
            return
        row.existing = existing
        row.pk = existing["pk"]
        row.changes = _changes(existing, fields)
        for name, (relation, _) in SERVICE_M2M.items():
            if relation in row.m2m and set(row.m2m[relation]) != found.service_links.get(
                (name, existing["pk"]), set()
            ):
                row.changes.append(relation)
        row.action = UPDATE if row.changes else UNCHANGED


@cache
def _field_specs(kind: str) -> tuple[tuple[str, str, str], ...]:
    """(data·inclusion field, model field, conversion) for what a model stores of a kind."""
    model, mapping = (
        (Structure, STRUCTURE_MODEL_FIELDS)
        if kind == STRUCTURE
        else (Service, SERVICE_MODEL_FIELDS)
    )
    specs = []
    for di_name, model_name in mapping.items():
        internal = model._meta.get_field(model_name.removesuffix("_id")).get_internal_type()
        if model_name == "data_updated_on":
            conversion = "date"
        elif internal == "JSONField":
            conversion = "list"
        elif internal in {"CharField", "TextField", "URLField", "EmailField"}:
            conversion = "text"
        else:
            conversion = ""
        specs.append((di_name, model_name, conversion))
    return tuple(specs)


def _model_values(values: dict, kind: str) -> dict:
    """Model field values for the data·inclusion fields present in ``values``."""
    fields = {}
    for di_name, model_name, conversion in _field_specs(kind):
        if di_name not in values:
            continue
        value = values[di_name]
        if conversion == "text":
            value = "" if value is None else str(value)
        elif conversion == "list":
            value = list(value or [])
        elif conversion == "date":
            value = _iso_date(value) if value else timezone.localdate()
        fields[model_name] = value
    return fields


@lru_cache(maxsize=4096)
def _iso_date(text: str) -> date:
    return date.fromisoformat(text)


@cache
def _length_limits(kind: str) -> tuple[tuple[str, int, str], ...]:
    """(model field, maximum length, data·inclusion field) of the texts a kind stores."""
    model, mapping = (
        (Structure, STRUCTURE_MODEL_FIELDS)
        if kind == STRUCTURE
        else (Service, SERVICE_MODEL_FIELDS)
    )
    limits = []
    for di_name, model_name in mapping.items():
        if model_name.endswith("_id"):
            continue
        limit = getattr(model._meta.get_field(model_name), "max_length", None)
        if limit:
            limits.append((model_name, limit, di_name))
    return tuple(limits)


def _check_lengths(fields: dict, kind: str, problems: list[RowProblem]) -> None:
    for name, limit, di_name in _length_limits(kind):
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            problems.append(
                RowProblem(di_name, value[:40] + "…", f"trop long ({limit} caractères au plus).")
            )


def _changes(existing: dict, fields: dict) -> list[str]:
    return [name for name, value in fields.items() if existing[name] != value]


@lru_cache(maxsize=8192)
def _folded(text: str) -> str:
    return fold(text)


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
    if existing is not None:
        moved = existing["commune_id"] != fields.get("commune_id", existing["commune_id"])
        if not (moved and existing["location_is_approximate"]):
            return None
    # The geocoder reads three attributes: no need for a model instance per row.
    probe = _Probe(fields.get("address", ""), fields.get("postal_code", ""), row.place)
    return geocoding.place(probe)


class _Probe(NamedTuple):
    address: str
    postal_code: str
    commune: _Place | None
