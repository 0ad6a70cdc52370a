"""Reading the CSV files French users produce, for every import of the project.

A file saved by Excel in France is usually cp1252 or UTF-8 with a byte order mark, separated by
semicolons, with decimal commas and sometimes spaces between thousands ("1 234,5"). LibreOffice and
data portals produce UTF-8 with commas. ``read_csv`` accepts all of these and refuses, in French and
naming the line and the column, what it cannot read. It knows nothing of what the columns mean: the
import services (indicators, directory, sessions) check the values.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from charset_normalizer import from_bytes

# Candidates after UTF-8: Windows' Western European code page, and its ISO cousins.
LEGACY_ENCODINGS = ["cp1252", "latin_1", "iso8859_15"]
DELIMITERS = [";", "\t", ","]
DELIMITER_NAMES = {";": "point-virgule", ",": "virgule", "\t": "tabulation"}
# How many lines are looked at to choose the separator.
SNIFF_LINES = 50
# Spaces found between thousands: ordinary, no-break (Excel, LibreOffice), narrow no-break and
# thin (typographic French, as in CLDR number formats).
THOUSANDS_SPACES = " \u00a0\u202f\u2009"
MINUS_SIGNS = "-\u2212"
MAX_SHOWN_PROBLEMS = 50

_NUMBER = re.compile(
    r"""
    (?P<sign>[+-])?
    (?P<integer>\d{1,3}(?:\ \d{3})+|\d+)     # 1234 or 1 234 (spaces already normalised)
    (?:[.,](?P<fraction>\d+))?
    (?:[eE](?P<exponent>[+-]?\d{1,3}))?
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Problem:
    """One reason to refuse a file, located as a person would find it in a spreadsheet."""

    message: str
    line: int | None = None
    column: str | None = None

    @property
    def location(self) -> str:
        parts = []
        if self.line is not None:
            parts.append(f"ligne {self.line}")
        if self.column is not None:
            parts.append(f"colonne « {self.column} »")
        return ", ".join(parts)

    def __str__(self) -> str:
        location = self.location
        return (
            f"{location[:1].upper()}{location[1:]} : {self.message}" if location else self.message
        )


class SpreadsheetRejected(Exception):
    """The file was refused. ``problems`` holds every reason found, not only the first one."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__(f"{len(self.problems)} problème(s) dans le fichier")

    @property
    def shown(self) -> list[Problem]:
        """The first problems, enough to start correcting without drowning in them."""
        return self.problems[:MAX_SHOWN_PROBLEMS]

    @property
    def total(self) -> int:
        return len(self.problems)


@dataclass(frozen=True)
class Column:
    name: str
    position: int  # 1 for the first column, as a person counts them

    @property
    def letter(self) -> str:
        """The spreadsheet letter of the column: 1 -> A, 27 -> AA."""
        number, letters = self.position, ""
        while number:
            number, remainder = divmod(number - 1, 26)
            letters = chr(ord("A") + remainder) + letters
        return letters


@dataclass(frozen=True)
class Row:
    line: int  # line number in the file, the header being line 1
    cells: tuple[str, ...]  # stripped texts, one per column of the sheet

    def __getitem__(self, index: int) -> str:
        return self.cells[index]


@dataclass
class Sheet:
    columns: list[Column]
    rows: list[Row]
    encoding: str
    delimiter: str
    # Lines whose shape is wrong (too many cells): the caller adds them to its own problems so
    # that a user sees everything to correct at once.
    problems: list[Problem] = field(default_factory=list)


def read_csv(file) -> Sheet:
    """Read an uploaded CSV file (a Django UploadedFile, a binary file object or bytes).

    Detects the encoding (UTF-8 with or without BOM, UTF-16 with BOM, cp1252/latin-1) and the
    separator (``;``, tab or ``,``). Raises SpreadsheetRejected for an empty or binary file, an
    unknown encoding, a file without data rows or with a column name used twice.
    """
    data = _read_bytes(file)
    text, encoding = decode(data)
    if not text.strip():
        raise SpreadsheetRejected([Problem("Le fichier est vide.")])
    delimiter = sniff_delimiter(text)
    return _sheet(_records(text, delimiter), encoding=encoding, delimiter=delimiter)


def _sheet(records: list[tuple[int, list[str]]], *, encoding: str, delimiter: str) -> Sheet:
    """The checks every table goes through, CSV or XLSX: named columns, no duplicate, data rows,
    no line wider than the header."""
    if not records:
        raise SpreadsheetRejected([Problem("Le fichier ne contient aucune ligne.")])
    _, header = records[0]
    data_records = [(line, cells) for line, cells in records[1:] if any(c.strip() for c in cells)]

    names = [_clean(name) for name in header]
    # Excel often leaves unnamed, empty columns on the right: they are dropped. An unnamed column
    # holding values is a mistake to report.
    kept: list[int] = []
    problems: list[Problem] = []
    for index, name in enumerate(names):
        if name:
            kept.append(index)
            continue
        used_on = next(
            (line for line, cells in data_records if index < len(cells) and cells[index].strip()),
            None,
        )
        if used_on is not None:
            problems.append(
                Problem(
                    f"la colonne {index + 1} ({Column('', index + 1).letter}) n'a pas de nom "
                    "sur la première ligne, mais contient des valeurs.",
                    line=used_on,
                )
            )
    columns = [Column(names[index], index + 1) for index in kept]
    if not columns:
        raise SpreadsheetRejected([Problem("La première ligne ne contient aucun nom de colonne.")])
    problems.extend(_duplicated_columns(columns))
    if problems:
        raise SpreadsheetRejected(problems)
    if not data_records:
        raise SpreadsheetRejected(
            [
                Problem(
                    "Le fichier ne contient que la ligne des noms de colonnes, aucune ligne de "
                    "données."
                )
            ]
        )

    rows: list[Row] = []
    shape_problems: list[Problem] = []
    width = len(header)
    for line, cells in data_records:
        extra = [c for c in cells[width:] if c.strip()]
        if extra:
            shape_problems.append(
                Problem(
                    f"{len(cells)} valeurs pour {width} colonnes : vérifiez le séparateur "
                    f"({DELIMITER_NAMES.get(delimiter, delimiter)}) et les guillemets.",
                    line=line,
                )
            )
            continue
        # Some tools drop trailing empty cells: a short line is padded, not refused.
        padded = list(cells[:width]) + [""] * (width - len(cells))
        rows.append(Row(line=line, cells=tuple(_clean(padded[index]) for index in kept)))
    return Sheet(
        columns=columns,
        rows=rows,
        encoding=encoding,
        delimiter=delimiter,
        problems=shape_problems,
    )


def decode(data: bytes) -> tuple[str, str]:
    """Return the text of ``data`` and the name of its encoding, or raise SpreadsheetRejected."""
    if not data or not data.strip():
        raise SpreadsheetRejected([Problem("Le fichier est vide.")])
    if data.startswith(b"PK\x03\x04") or data.startswith(b"\xd0\xcf\x11\xe0"):
        raise SpreadsheetRejected(
            [
                Problem(
                    "Ce fichier est un classeur Excel ou LibreOffice, pas un fichier CSV. "
                    "Ouvrez-le puis « Enregistrer sous » au format « CSV (séparateur : "
                    "point-virgule) » ou « CSV UTF-8 »."
                )
            ]
        )
    # Excel's "Texte Unicode" is UTF-16 with a byte order mark: its NUL bytes are expected.
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _check_text(data.decode("utf-16")), "utf-16"
        except UnicodeDecodeError:
            raise SpreadsheetRejected([_binary_problem()]) from None
    if b"\x00" in data:
        raise SpreadsheetRejected([_binary_problem()])
    if data.startswith(b"\xef\xbb\xbf"):
        encoding = "utf-8-sig"
    else:
        # A legacy 8-bit text with accents is almost never valid UTF-8: trying UTF-8 first is
        # more reliable than any statistical guess on a short file.
        encoding = "utf-8"
    try:
        return _check_text(data.decode(encoding)), encoding
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=LEGACY_ENCODINGS).best()
    if best is None:
        raise SpreadsheetRejected(
            [
                Problem(
                    "L'encodage des caractères du fichier n'est pas reconnu (ni UTF-8, ni "
                    "Windows-1252). Enregistrez-le au format « CSV UTF-8 »."
                )
            ]
        )
    # Latin-1 reads bytes 0x80–0x9F as invisible controls, where Windows puts € œ ’ …
    encoding = "cp1252" if best.encoding in {"latin_1", "iso8859_15"} else best.encoding
    try:
        return _check_text(data.decode(encoding)), encoding
    except UnicodeDecodeError:
        return _check_text(str(best)), best.encoding


def _check_text(text: str) -> str:
    # A byte order mark left in the text, and the end-of-file mark of old DOS tools.
    text = text.lstrip("\ufeff").rstrip("\x1a")
    controls = sum(1 for c in text if ord(c) < 32 and c not in "\t\r\n")
    if controls:
        raise SpreadsheetRejected([_binary_problem()])
    return text


def _binary_problem() -> Problem:
    return Problem(
        "Ce fichier n'est pas un fichier texte (il contient des octets binaires). Enregistrez "
        "votre tableau au format CSV."
    )


def sniff_delimiter(text: str) -> str:
    """Choose ``;``, tab or ``,``: the one that splits the header into most columns, and every
    line sniffed into the same number of columns as the header.

    csv.Sniffer is misled by decimal commas ("12,5;13,2"), hence this simpler rule.
    """
    lines = text.splitlines()
    truncated = len(lines) > SNIFF_LINES
    sample = "\n".join(lines[:SNIFF_LINES])
    best, best_score = ";", (False, 0)
    for delimiter in DELIMITERS:
        try:
            parsed = [cells for cells in csv.reader(io.StringIO(sample), delimiter=delimiter)]
        except csv.Error:
            continue
        parsed = [cells for cells in parsed if any(c.strip() for c in cells)]
        if not parsed:
            continue
        width = len(parsed[0])
        if width < 2:
            continue
        # When the sample is cut, its last line may end inside a quoted cell: it is not counted.
        checked = parsed[1:-1] if truncated else parsed[1:]
        consistent = all(len(cells) == width for cells in checked)
        score = (consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """Every record with the line on which it starts (a quoted cell may span several lines)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    previous_line = 0
    try:
        for cells in reader:
            start = previous_line + 1
            previous_line = reader.line_num
            if cells:
                records.append((start, cells))
    except csv.Error as exc:
        raise SpreadsheetRejected(
            [
                Problem(
                    "le fichier CSV est mal formé (guillemet non fermé ou cellule trop longue).",
                    line=previous_line + 1,
                )
            ]
        ) from exc
    return records


def _duplicated_columns(columns: list[Column]) -> list[Problem]:
    problems = []
    first_seen: dict[str, Column] = {}
    for column in columns:
        key = column.name.casefold()
        if key in first_seen:
            first = first_seen[key]
            problems.append(
                Problem(
                    f"nom de colonne en double (colonnes {first.position} et {column.position}, "
                    f"soit {first.letter} et {column.letter}) : chaque colonne doit avoir un nom "
                    "différent.",
                    line=1,
                    column=column.name,
                )
            )
        else:
            first_seen[key] = column
    return problems


def _clean(text: str) -> str:
    # str.strip() also removes no-break and narrow no-break spaces.
    return text.strip()


def parse_decimal(text: str) -> Decimal:
    """Read a number written the French or the English way.

    "12,5", "12.5", "1 234,5" (with an ordinary, no-break or narrow no-break space), "-3",
    "−3" (typographic minus), "1,5E+03". A number with both a comma and a dot, or with several
    commas, is ambiguous and refused. Raises ValueError.
    """
    normalised = text.strip()
    for space in THOUSANDS_SPACES:
        normalised = normalised.replace(space, " ")
    normalised = normalised.replace("\u2212", "-")
    if "," in normalised and "." in normalised:
        raise ValueError(f"« {text} » mélange virgule et point.")
    match = _NUMBER.fullmatch(normalised)
    if match is None:
        raise ValueError(f"« {text} » n'est pas un nombre.")
    literal = (match["sign"] or "") + match["integer"].replace(" ", "")
    if match["fraction"] is not None:
        literal += "." + match["fraction"]
    if match["exponent"] is not None:
        literal += "E" + match["exponent"]
    try:
        return Decimal(literal)
    except InvalidOperation:  # pragma: no cover - the pattern only lets valid literals through
        raise ValueError(f"« {text} » n'est pas un nombre.") from None


def _read_bytes(file) -> bytes:
    if isinstance(file, bytes | bytearray):
        return bytes(file)
    if hasattr(file, "seek"):
        file.seek(0)
    if hasattr(file, "chunks"):
        return b"".join(file.chunks())
    return file.read()


# An XLSX file is a ZIP archive: these bytes open every one of them.
ZIP_MAGIC = b"PK\x03\x04"


def is_xlsx(data: bytes) -> bool:
    return data[:4] == ZIP_MAGIC


def read_xlsx(file, *, sheet_title: str | None = None) -> Sheet:
    """Read the first visible sheet of an XLSX workbook (or the one titled ``sheet_title``) into
    the same ``Sheet`` as ``read_csv``: texts per cell, dates written dd/mm/yyyy (with hh:mm when
    the time is not midnight), whole numbers without a decimal part."""
    from openpyxl import load_workbook

    data = _read_bytes(file)
    if not is_xlsx(data):
        raise SpreadsheetRejected(
            [Problem("Ce fichier n'est pas un classeur XLSX : enregistrez-le au format .xlsx.")]
        )
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a damaged file
        raise SpreadsheetRejected(
            [Problem("Ce classeur est abîmé ou n'est pas au format XLSX : il n'a pas pu être lu.")]
        ) from None
    try:
        sheets = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
        if sheet_title is not None:
            sheets = [ws for ws in sheets if ws.title == sheet_title]
            if not sheets:
                raise SpreadsheetRejected(
                    [Problem(f"Le classeur n'a pas d'onglet « {sheet_title} ».")]
                )
        if not sheets:
            raise SpreadsheetRejected([Problem("Le classeur ne contient aucun onglet visible.")])
        records = []
        for line, cells in enumerate(sheets[0].iter_rows(values_only=True), start=1):
            records.append((line, [_xlsx_text(value) for value in cells]))
    finally:
        workbook.close()
    while records and not any(records[-1][1]):
        records.pop()
    if not records:
        raise SpreadsheetRejected([Problem("Le classeur est vide.")])
    # Every row as wide as the header: openpyxl stops a row at its last written cell.
    width = max(len(cells) for _, cells in records)
    records = [(line, cells + [""] * (width - len(cells))) for line, cells in records]
    return _sheet(records, encoding="xlsx", delimiter="xlsx")


def read_table(file) -> Sheet:
    """A CSV or an XLSX file, told apart by its content rather than its name."""
    data = _read_bytes(file)
    if is_xlsx(data):
        return read_xlsx(data)
    return read_csv(data)


def _xlsx_text(value) -> str:
    import datetime

    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return f"{value:%d/%m/%Y}"
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, datetime.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, datetime.time):
        return f"{value:%H:%M}"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
