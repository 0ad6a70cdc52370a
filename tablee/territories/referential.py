"""Loading the national referential (régions, départements, EPCI, communes) from the shipped files.

The files are built by ``scripts/build_referential.py`` (see ``data/referential/SOURCE.md``). Loading
is idempotent and atomic: every file is read and checked before anything is written; rows already
up to date are not written again; rows missing from the files are deleted, except those something
else still points to (a structure's commune, a programme's EPCI), which are kept as they are.
"""

import csv
import gzip
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from django.db import models, transaction

from tablee.core.text import fold
from tablee.territories.models import Commune, Departement, Region, Territory

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "referential"

# File name (without .csv.gz) -> the columns it must have, as written by the build script.
COLUMNS = {
    "regions": ["code", "name"],
    "departements": ["code", "name", "region"],
    "epci": ["siren", "name", "kind", "population", "departement"],
    "communes": ["code", "name", "population", "latitude", "longitude", "departement", "epci"],
}
# Rows per INSERT: well under the parameter limits of SQLite (32,766) and PostgreSQL (65,535).
BATCH_SIZE = 2000


class ReferentialError(Exception):
    """The referential files are missing or malformed; the message is meant for the operator."""


@dataclass
class LevelCounts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    # Missing from the files but still pointed to by other records, so not deleted.
    kept: int = 0


def load_referential(*, path: Path = DEFAULT_PATH) -> dict[str, dict[str, int]]:
    """Create or update every région, département, EPCI and commune from the files in ``path``.

    Returns, per level ("regions", "departements", "territories", "communes"), the number of rows
    created, updated, unchanged, deleted and kept. Raises ReferentialError, having written nothing,
    when a file is missing or malformed.
    """
    rows = _read_and_check(Path(path))
    counts: dict[str, LevelCounts] = {}
    with transaction.atomic():
        # Parents before children for the upserts, children before parents for the deletions.
        counts["regions"] = _upsert(Region, rows["regions"])
        counts["departements"] = _upsert(Departement, rows["departements"])
        counts["territories"] = _upsert(Territory, rows["epci"])
        counts["communes"] = _upsert(Commune, rows["communes"])
        for level, model, key in [
            ("communes", Commune, "communes"),
            ("territories", Territory, "epci"),
            ("departements", Departement, "departements"),
            ("regions", Region, "regions"),
        ]:
            wanted = {row[model._meta.pk.attname] for row in rows[key]}
            counts[level].deleted, counts[level].kept = _delete_missing(model, wanted)
    return {level: asdict(level_counts) for level, level_counts in counts.items()}


def _read_and_check(directory: Path) -> dict[str, list[dict]]:
    """Read the four files into rows of model field values, or raise ReferentialError."""
    raw = {
        name: _read_file(directory / f"{name}.csv.gz", columns) for name, columns in COLUMNS.items()
    }
    rows: dict[str, list[dict]] = {}

    rows["regions"] = [
        {"code": _code(r, "code", Region, n, "regions"), "name": _name(r, Region, n, "regions")}
        for n, r in raw["regions"]
    ]
    region_codes = _unique(rows["regions"], "code", "regions")

    rows["departements"] = []
    for n, r in raw["departements"]:
        region = _reference(r, "region", region_codes, n, "departements", "région")
        rows["departements"].append(
            {
                "code": _code(r, "code", Departement, n, "departements"),
                "name": _name(r, Departement, n, "departements"),
                "region_id": region,
            }
        )
    departement_codes = _unique(rows["departements"], "code", "departements")

    rows["epci"] = []
    for n, r in raw["epci"]:
        if r["kind"] not in Territory.Kind.values:
            raise _error("epci", n, f"nature « {r['kind']} » inconnue")
        rows["epci"].append(
            {
                "siren": _code(r, "siren", Territory, n, "epci"),
                "name": _name(r, Territory, n, "epci"),
                "kind": r["kind"],
                "population": _population(r, n, "epci"),
                "departement_id": _reference(
                    r, "departement", departement_codes, n, "epci", "département"
                ),
            }
        )
    sirens = _unique(rows["epci"], "siren", "epci")

    rows["communes"] = []
    for n, r in raw["communes"]:
        latitude, longitude = _coordinate(r, "latitude", 90, n), _coordinate(r, "longitude", 180, n)
        if (latitude is None) != (longitude is None):
            raise _error("communes", n, "latitude et longitude vont ensemble")
        rows["communes"].append(
            {
                "code": _code(r, "code", Commune, n, "communes"),
                "name": _name(r, Commune, n, "communes"),
                "population": _population(r, n, "communes"),
                "latitude": latitude,
                "longitude": longitude,
                "departement_id": _reference(
                    r, "departement", departement_codes, n, "communes", "département"
                ),
                "territory_id": _reference(r, "epci", sirens, n, "communes", "EPCI", optional=True),
            }
        )
    _unique(rows["communes"], "code", "communes")

    for level in rows.values():
        for row in level:
            row["search_name"] = fold(row["name"])
    return rows


def _read_file(path: Path, columns: list[str]) -> list[tuple[int, dict[str, str]]]:
    """The rows of one gzip'd CSV file, each with its line number (the header is line 1)."""
    if not path.is_file():
        raise ReferentialError(f"Fichier introuvable : {path}.")
    try:
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [column for column in columns if column not in header]
            if missing:
                raise ReferentialError(
                    f"Le fichier {path.name} n'a pas la colonne "
                    f"{', '.join(f'« {c} »' for c in missing)} "
                    f"(colonnes attendues : {', '.join(columns)})."
                )
            rows = []
            for row in reader:
                if None in row or any(value is None for value in row.values()):
                    raise _error(
                        path.stem.removesuffix(".csv"),
                        reader.line_num,
                        "le nombre de valeurs ne correspond pas à l'en-tête",
                    )
                rows.append((reader.line_num, row))
    except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
        raise ReferentialError(
            f"Le fichier {path.name} est illisible : un CSV compressé (gzip) en UTF-8 est attendu "
            f"({exc})."
        ) from exc
    # An empty file would otherwise read as "every commune has gone" and delete them all.
    if not rows:
        raise ReferentialError(f"Le fichier {path.name} ne contient aucune ligne de données.")
    return rows


def _error(file: str, line: int, problem: str) -> ReferentialError:
    return ReferentialError(f"Fichier {file}.csv.gz, ligne {line} : {problem}.")


def _code(row: dict, column: str, model, line: int, file: str) -> str:
    value = row[column].strip()
    max_length = model._meta.get_field(column).max_length
    if not value or len(value) > max_length or not value.isalnum():
        raise _error(file, line, f"code « {value} » invalide dans la colonne « {column} »")
    return value


def _name(row: dict, model, line: int, file: str) -> str:
    value = row["name"].strip()
    if not value or len(value) > model._meta.get_field("name").max_length:
        raise _error(file, line, "nom vide ou trop long")
    return value


def _population(row: dict, line: int, file: str) -> int:
    value = row["population"].strip()
    if not value.isdigit():
        raise _error(file, line, f"population « {value} » : un nombre entier positif est attendu")
    return int(value)


def _coordinate(row: dict, column: str, limit: float, line: int) -> float | None:
    value = row[column].strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        number = None
    if number is None or not -limit <= number <= limit:
        raise _error("communes", line, f"{column} « {value} » invalide")
    return number


def _reference(row, column, known: set[str], line, file, label, optional=False) -> str | None:
    value = row[column].strip()
    if not value and optional:
        return None
    if value not in known:
        raise _error(file, line, f"{label} « {value} » absent du référentiel")
    return value


def _unique(rows: list[dict], key: str, file: str) -> set[str]:
    seen: set[str] = set()
    for row in rows:
        if row[key] in seen:
            raise ReferentialError(f"Fichier {file}.csv.gz : le code {row[key]} figure deux fois.")
        seen.add(row[key])
    return seen


def _upsert(model: type[models.Model], rows: list[dict]) -> LevelCounts:
    """Insert new rows and update changed ones in a few statements; leave identical rows alone.

    bulk_create skips save(), which is why the rows already carry their search_name.
    """
    pk = model._meta.pk.attname
    fields = [name for name in rows[0] if name != pk] if rows else []
    existing = {values[0]: values[1:] for values in model._base_manager.values_list(pk, *fields)}
    counts = LevelCounts()
    to_write = []
    for row in rows:
        current = existing.get(row[pk])
        if current is None:
            counts.created += 1
        elif current != tuple(row[name] for name in fields):
            counts.updated += 1
        else:
            counts.unchanged += 1
            continue
        to_write.append(model(**row))
    if to_write:
        model._base_manager.bulk_create(
            to_write,
            batch_size=BATCH_SIZE,
            update_conflicts=True,
            unique_fields=[model._meta.pk.name],
            # update_fields takes field names: "region", not "region_id".
            update_fields=[model._meta.get_field(name).name for name in fields],
        )
    return counts


def _delete_missing(model: type[models.Model], wanted: set[str]) -> tuple[int, int]:
    """Delete the rows of ``model`` absent from the files, unless another record points to them.

    Returns (deleted, kept). Every reverse relation is checked, whichever app declares it, so a
    new app's foreign key to a commune protects that commune without any change here.
    """
    missing = sorted(set(model._base_manager.values_list("pk", flat=True)) - wanted)
    if not missing:
        return 0, 0
    referenced: set[str] = set()
    relations = [
        rel for rel in model._meta.related_objects if rel.field.concrete or rel.many_to_many
    ]
    for chunk in _chunks(missing, 500):
        for rel in relations:
            referenced.update(
                rel.related_model._base_manager.filter(**{f"{rel.field.name}__in": chunk})
                .values_list(rel.field.name, flat=True)
                .distinct()
            )
    deletable = [pk for pk in missing if pk not in referenced]
    for chunk in _chunks(deletable, 500):
        model._base_manager.filter(pk__in=chunk).delete()
    return len(deletable), len(missing) - len(deletable)


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
