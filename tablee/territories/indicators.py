"""Territorial indicators: importing them from a CSV file, and reading them for a territory page.

A file holds one geographic level and one year, chosen on upload: its first column is the
geographic code (INSEE code of the commune, SIREN of the EPCI, code of the département or the
région), a column of names may follow (LIBGEO), and every other column is an indicator. This is
the shape of the files of INSEE (Filosofi, dossier complet), the Observatoire des territoires and
most regional observatories.
"""

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.core.spreadsheets import Problem, SpreadsheetRejected, parse_decimal, read_csv
from tablee.core.text import fold
from tablee.territories.models import (
    Commune,
    Departement,
    GeoLevel,
    IndicatorValue,
    Region,
    Territory,
)

# Headers accepted for the first column, compared without case, accents, spaces or "_-"; any
# header starting with "cod" is accepted too ("Code géographique", "CODGEO_2024").
GEO_CODE_HEADERS = {
    "codgeo",
    "code",
    "codeinsee",
    "codecommune",
    "codecom",
    "depcom",
    "com",
    "insee",
    "siren",
    "sirenepci",
    "codeepci",
    "epci",
    "codedepartement",
    "codedep",
    "dep",
    "coderegion",
    "codereg",
    "reg",
}
LABEL_HEADERS = {
    "libgeo",
    "libelle",
    "lib",
    "nom",
    "name",
    "libcom",
    "libcommune",
    "nomcommune",
    "libepci",
    "nomepci",
    "libdep",
    "libdepartement",
    "nomdepartement",
    "libreg",
    "libregion",
    "nomregion",
    "territoire",
}
# Cells meaning "no value": statistical secret (INSEE "s"), not available, not applicable.
MISSING_MARKERS = {"s", "nd", "n.d.", "na", "n/a", "nc", "n.c.", "secret", "-", "–", "—"}
VALUE_QUANTUM = Decimal("0.0001")  # IndicatorValue.value has four decimal places
VALUE_LIMIT = Decimal(10) ** 12  # and sixteen digits in all
CODE_MAX_LENGTH = IndicatorValue._meta.get_field("code").max_length
LABEL_MAX_LENGTH = IndicatorValue._meta.get_field("label").max_length
BATCH_SIZE = 1000

LEVEL_REFERENTIAL = {
    GeoLevel.COMMUNE: (Commune, "code"),
    GeoLevel.EPCI: (Territory, "siren"),
    GeoLevel.DEPARTEMENT: (Departement, "code"),
    GeoLevel.REGION: (Region, "code"),
}
LEVEL_CODE_NAMES = {
    GeoLevel.COMMUNE: "code de commune",
    GeoLevel.EPCI: "SIREN d'EPCI",
    GeoLevel.DEPARTEMENT: "code de département",
    GeoLevel.REGION: "code de région",
}


@dataclass(frozen=True)
class ImportResult:
    level: str
    year: int
    created: int  # values that did not exist for this code, level, unit and year
    updated: int  # values replaced
    indicators: int  # indicator columns holding at least one value
    geo_units: int  # communes, EPCI, départements or régions with at least one value
    skipped: int  # empty cells and secret or missing markers

    @property
    def values(self) -> int:
        return self.created + self.updated


@dataclass(frozen=True)
class IndicatorRow:
    """One line of a territory's indicator table: the EPCI beside its département and région."""

    code: str
    label: str
    year: int
    epci_value: Decimal | None
    departement_value: Decimal | None
    region_value: Decimal | None
    source: str
    decimal_places: int

    @property
    def values_in_order(self) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """EPCI, département, région: the order of the table's columns."""
        return (self.epci_value, self.departement_value, self.region_value)

    @property
    def number_format(self) -> str:
        """Argument of ``floatformat``: the same decimals on the whole line, French grouping."""
        return f"{self.decimal_places}g"


def normalise_geo_code(raw: str, level: str) -> str:
    """The code as the referential writes it: "1001" -> "01001", "2a004" -> "2A004"."""
    code = "".join(raw.split()).upper()
    if level == GeoLevel.COMMUNE and code.isdigit() and len(code) < 5:
        # Spreadsheets read "01001" as a number and drop the leading zero.
        return code.zfill(5)
    if level in (GeoLevel.DEPARTEMENT, GeoLevel.REGION) and code.isdigit() and len(code) < 2:
        return code.zfill(2)
    return code


def _compact(header: str) -> str:
    return fold(header).replace(" ", "")


def _is_missing(cell: str) -> bool:
    return cell == "" or cell.casefold() in MISSING_MARKERS


def indicators_import(*, file, level: str, year: int, source: str, acting_user) -> ImportResult:
    """Import the indicator values of ``file`` for one geographic level and one year.

    All or nothing: every problem of the file is collected (unknown or repeated code, value that
    is not a number, repeated column, unreadable file) and, if there is any, nothing is written
    and SpreadsheetRejected is raised with all of them. Importing the same file again replaces
    the values, so the result does not depend on how many times it was imported.
    """
    level = GeoLevel(level).value
    sheet = read_csv(file)
    problems: list[Problem] = list(sheet.problems)

    code_column, *other_columns = sheet.columns
    compact = _compact(code_column.name)
    code_header_ok = compact in GEO_CODE_HEADERS or compact.startswith("cod")
    if not code_header_ok:
        problems.append(
            Problem(
                f"la première colonne doit contenir le code géographique (CODGEO, code_insee, "
                f"siren…), or elle s'appelle « {code_column.name} ».",
                line=1,
                column=code_column.name,
            )
        )
    # (index in the row, code, label) of each indicator column.
    indicators: list[tuple[int, str, str]] = []
    column_of_code: dict[str, str] = {}
    for index, column in enumerate(other_columns, start=1):
        if _compact(column.name) in LABEL_HEADERS:
            continue
        code = slugify(column.name)[:CODE_MAX_LENGTH].strip("-_")
        if not code:
            problems.append(
                Problem(
                    "ce nom de colonne ne contient ni lettre ni chiffre : il ne peut pas servir "
                    "de code d'indicateur.",
                    line=1,
                    column=column.name,
                )
            )
            continue
        if len(column.name) > LABEL_MAX_LENGTH:
            problems.append(
                Problem(
                    f"ce nom de colonne dépasse {LABEL_MAX_LENGTH} caractères.",
                    line=1,
                    column=column.name[:60] + "…",
                )
            )
            continue
        if code in column_of_code:
            problems.append(
                Problem(
                    f"cette colonne ({column.position}, {column.letter}) donne le même code "
                    f"d'indicateur « {code} » que la colonne « {column_of_code[code]} » : "
                    "renommez l'une des deux.",
                    line=1,
                    column=column.name,
                )
            )
            continue
        column_of_code[code] = column.name
        indicators.append((index, code, column.name))
    if not indicators and not problems:
        problems.append(
            Problem(
                "le fichier ne contient aucune colonne d'indicateur après le code géographique "
                "et le nom.",
                line=1,
            )
        )

    model, field = LEVEL_REFERENTIAL[level]
    # One query for the whole referential of the level (35 000 communes at most): a set lookup
    # avoids the limit on the number of SQL parameters of SQLite.
    known_codes = set(model.objects.values_list(field, flat=True))
    code_name = LEVEL_CODE_NAMES[level]
    # Codes are checked one by one only when the column and the referential make sense: otherwise
    # a single problem says why, instead of one per line.
    check_codes = code_header_ok and bool(known_codes)
    if not known_codes:
        problems.append(
            Problem(
                f"le référentiel ne contient encore aucun {code_name} : demandez à "
                "l'administrateur·ice de l'instance de le charger (commande load_referential).",
                line=1,
                column=code_column.name,
            )
        )

    values: dict[tuple[str, str], Decimal] = {}
    seen_on: dict[str, int] = {}
    skipped = 0
    for row in sheet.rows:
        raw_code = row[0]
        geo_code = normalise_geo_code(raw_code, level)
        if not geo_code:
            problems.append(Problem("le code géographique est vide.", row.line, code_column.name))
            continue
        if geo_code in seen_on:
            problems.append(
                Problem(
                    f"le code « {raw_code} » figure déjà ligne {seen_on[geo_code]}.",
                    row.line,
                    code_column.name,
                )
            )
            continue
        seen_on[geo_code] = row.line
        if check_codes and geo_code not in known_codes:
            problems.append(
                Problem(
                    f"« {raw_code} » n'est pas un {code_name} connu du référentiel.",
                    row.line,
                    code_column.name,
                )
            )
        for index, code, header in indicators:
            cell = row[index]
            if _is_missing(cell):
                skipped += 1
                continue
            try:
                value = parse_decimal(cell)
            except ValueError as exc:
                problems.append(Problem(str(exc), row.line, header))
                continue
            value = value.quantize(VALUE_QUANTUM, rounding=ROUND_HALF_EVEN)
            # Checked after rounding: 999999999999.99999 rounds to thirteen digits.
            if abs(value) >= VALUE_LIMIT:
                problems.append(
                    Problem(
                        f"« {cell} » est trop grand (12 chiffres au plus avant la virgule).",
                        row.line,
                        header,
                    )
                )
                continue
            values[(code, geo_code)] = value

    if check_codes and seen_on and known_codes.isdisjoint(seen_on):
        # Not one code is known: the level chosen on upload is the likely mistake.
        problems.insert(
            0,
            Problem(
                f"aucun code de cette colonne n'est un {code_name} : vérifiez le niveau "
                "géographique choisi (communes, EPCI, départements ou régions).",
                line=1,
                column=code_column.name,
            ),
        )
    if problems:
        raise SpreadsheetRejected(problems)

    labels = {code: header for _, code, header in indicators}
    # Only the writes run in a transaction: SQLite takes its write lock when a transaction
    # begins, and reading and checking a large file need not hold it.
    with transaction.atomic():
        created, updated = _write_values(values, labels, level=level, year=year, source=source)
        result = ImportResult(
            level=level,
            year=year,
            created=created,
            updated=updated,
            indicators=len({code for code, _ in values}),
            geo_units=len({geo_code for _, geo_code in values}),
            skipped=skipped,
        )
        audit(
            AuditEvent.Kind.INDICATORS_IMPORTED,
            actor=acting_user,
            target=f"{level} {year}",
            created=result.created,
            updated=result.updated,
            indicators=result.indicators,
            geo_units=result.geo_units,
            skipped=result.skipped,
        )
    return result


def _write_values(
    values: dict[tuple[str, str], Decimal], labels: dict[str, str], *, level, year, source
) -> tuple[int, int]:
    """Insert or replace the values; return how many were created and how many updated."""
    existing = set(
        IndicatorValue.objects.filter(level=level, year=year, code__in=labels).values_list(
            "code", "geo_code"
        )
    )
    objects = [
        IndicatorValue(
            code=code,
            label=labels[code],
            level=level,
            geo_code=geo_code,
            year=year,
            value=value,
            source=source,
        )
        for (code, geo_code), value in values.items()
    ]
    IndicatorValue.objects.bulk_create(
        objects,
        batch_size=BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["code", "level", "geo_code", "year"],
        update_fields=["label", "value", "source", "imported_at"],
    )
    updated = sum(1 for key in values if key in existing)
    return len(values) - updated, updated


def indicators_for_territory(territory: Territory) -> list[IndicatorRow]:
    """The indicators known for an EPCI, its département or its région, in one query.

    For each indicator, the year shown is the latest one with a value for the EPCI (or, when the
    EPCI has none, the latest one at any of the three levels); the three values are those of that
    year, so that they can be compared.
    """
    region_of_departement = Departement.objects.filter(code=territory.departement_id).values(
        "region_id"
    )
    found = IndicatorValue.objects.filter(
        Q(level=GeoLevel.EPCI, geo_code=territory.siren)
        | Q(level=GeoLevel.DEPARTEMENT, geo_code=territory.departement_id)
        | Q(level=GeoLevel.REGION, geo_code__in=region_of_departement)
    ).values_list("code", "label", "level", "year", "value", "source")

    by_code: dict[str, dict[tuple[int, str], tuple[str, Decimal, str]]] = defaultdict(dict)
    for code, label, level, year, value, source in found:
        by_code[code][(year, level)] = (label, value, source)

    rows = []
    for code, cells in by_code.items():
        epci_years = [year for year, level in cells if level == GeoLevel.EPCI]
        year = max(epci_years or [year for year, _ in cells])
        at_year = {level: cell for (cell_year, level), cell in cells.items() if cell_year == year}
        # The EPCI's label and source first: it is the subject of the page.
        ordered = [
            at_year[level]
            for level in (GeoLevel.EPCI, GeoLevel.DEPARTEMENT, GeoLevel.REGION)
            if level in at_year
        ]
        shown = {level: cell[1] for level, cell in at_year.items()}
        sources = list(dict.fromkeys(cell[2] for cell in ordered))
        rows.append(
            IndicatorRow(
                code=code,
                label=ordered[0][0],
                year=year,
                epci_value=shown.get(GeoLevel.EPCI),
                departement_value=shown.get(GeoLevel.DEPARTEMENT),
                region_value=shown.get(GeoLevel.REGION),
                source=" ; ".join(sources),
                decimal_places=max(_decimal_places(value) for value in shown.values()),
            )
        )
    rows.sort(key=lambda row: (fold(row.label), row.code))
    return rows


def _decimal_places(value: Decimal) -> int:
    """Decimals actually used: 12.5000 -> 1, 13.0000 -> 0."""
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0
