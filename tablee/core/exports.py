"""The one writer behind every export of Tablée: rows in, CSV or XLSX out.

A report is a generator of dicts and a list of ``Column`` (pretix's ``ListExporter``): this module
knows nothing of what the rows mean. It writes what a French spreadsheet user expects:

- CSV in UTF-8 with a byte order mark (so that Excel reads the accents), ``;`` between fields,
  CRLF line ends, dates as JJ/MM/AAAA and decimal commas; streamed row by row, so that a large
  directory never sits whole in memory;
- XLSX with typed cells (numbers, dates), a bold and frozen header row and set column widths,
  written by openpyxl in write-only mode.

Cells that a spreadsheet would run as a formula (starting with = + - @, a tab or a carriage
return) are neutralised in both formats: prefixed with an apostrophe in CSV, written as explicit
text cells in XLSX. Data typed by anyone (a structure's name, an imported file) can reach an
export opened by someone else.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_DELIMITER = ";"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# CSV bytes are handed out in chunks of about this size: small enough to stream, large enough
# not to send one network packet per row.
CSV_CHUNK_BYTES = 64 * 1024
XLSX_MAX_CELL_CHARS = 32767  # Excel's limit; longer text makes the file unreadable
XLSX_DATE_FORMAT = "DD/MM/YYYY"
XLSX_DATETIME_FORMAT = "DD/MM/YYYY HH:MM"
XLSX_MIN_WIDTH = 10
XLSX_MAX_WIDTH = 60
_SHEET_TITLE_FORBIDDEN = str.maketrans({char: " " for char in "[]:*?/\\"})


@dataclass(frozen=True)
class Column:
    """One column of an export: the row key it reads and the header a person sees."""

    key: str
    header: str
    width: int | None = None  # in characters, XLSX only; guessed from the header when None


def format_value(value) -> str:
    """The French text of a value, before any neutralisation.

    None -> ""; True -> "oui"; 2025-03-01 -> "01/03/2025"; Decimal("1.5") -> "1,5";
    ["a", "b"] -> "a, b"; anything else -> ``str(value)``.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float | Decimal):
        return _decimal_text(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return ", ".join(text for text in (format_value(item) for item in items) if text)
    return str(value)


def safe_cell(value) -> str:
    """The CSV text of a value, with an apostrophe before anything a spreadsheet would compute.

    ``"=HYPERLINK(...)"`` -> ``"'=HYPERLINK(...)"``; numbers stay numbers (``-2.5`` -> ``"-2,5"``).
    """
    text = format_value(value)
    if _is_number(value):
        return text
    if text.startswith(FORMULA_PREFIXES):
        return f"'{text}"
    return text


def write_csv(
    rows: Iterable[dict], columns: list[Column], *, stream: bool = True
) -> Iterable[bytes]:
    """The CSV file as bytes: a generator consuming ``rows`` as it goes (``stream=True``).

    With ``stream=False`` the whole file is built at once and returned as a one-item list, for
    small files attached to an e-mail or written to disk.
    """
    chunks = _csv_chunks(rows, columns)
    if stream:
        return chunks
    return [b"".join(chunks)]


def write_xlsx(rows: Iterable[dict], columns: list[Column], *, sheet_title: str) -> bytes:
    """The XLSX file as bytes, one sheet named ``sheet_title``, rows written as they come."""
    return write_xlsx_sheets([(sheet_title, columns, rows)])


def write_xlsx_sheets(sheets: Iterable[tuple[str, list[Column], Iterable[dict]]]) -> bytes:
    """An XLSX workbook of several sheets ``(title, columns, rows)``: typed cells, a bold and
    frozen header, set widths, formula-safe texts; rows are written as they come."""
    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, columns, rows in sheets:
        sheet = workbook.create_sheet(title=_sheet_title(title))
        # In write-only mode, widths and frozen panes must be set before the first row.
        for index, column in enumerate(columns, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = _width(column)
        sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = _text_cell(sheet, column.header)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        for row in rows:
            sheet.append([_xlsx_cell(sheet, row.get(column.key)) for column in columns])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_response(filename: str, rows: Iterable[dict], columns: list[Column]):
    """A streaming download of ``rows`` as CSV; ``filename`` should end in ``.csv``."""
    response = StreamingHttpResponse(write_csv(rows, columns), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def xlsx_response(filename: str, rows: Iterable[dict], columns: list[Column], sheet_title: str):
    """A download of ``rows`` as XLSX; ``filename`` should end in ``.xlsx``."""
    response = HttpResponse(
        write_xlsx(rows, columns, sheet_title=sheet_title), content_type=XLSX_CONTENT_TYPE
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# --- CSV ---------------------------------------------------------------------------------------


class _Line:
    """A file-like object whose ``write`` hands back what it is given (Django's "Echo")."""

    def write(self, value: str) -> str:
        return value


def _csv_chunks(rows: Iterable[dict], columns: list[Column]) -> Iterator[bytes]:
    writer = csv.writer(_Line(), delimiter=CSV_DELIMITER, lineterminator="\r\n")
    pending = ["\ufeff", writer.writerow([column.header for column in columns])]
    size = 0
    for row in rows:
        line = writer.writerow([safe_cell(row.get(column.key)) for column in columns])
        pending.append(line)
        size += len(line)
        if size >= CSV_CHUNK_BYTES:
            yield "".join(pending).encode("utf-8")
            pending, size = [], 0
    if pending:
        yield "".join(pending).encode("utf-8")


def _decimal_text(value: float | Decimal) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = format(value, "f") if isinstance(value, Decimal) else repr(value)
    return text.replace(".", ",")


def _is_number(value) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


# --- XLSX --------------------------------------------------------------------------------------


def _xlsx_cell(sheet, value) -> WriteOnlyCell:
    if value is None or _is_number(value):
        return WriteOnlyCell(sheet, value=value)
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.make_naive(value)
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATETIME_FORMAT
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = XLSX_DATE_FORMAT
        return cell
    return _text_cell(sheet, format_value(value))


def _text_cell(sheet, text: str) -> WriteOnlyCell:
    """A cell that is text whatever it starts with: openpyxl takes "=..." for a formula."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_MAX_CELL_CHARS]
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    return cell


def _sheet_title(title: str) -> str:
    cleaned = " ".join((title or "").translate(_SHEET_TITLE_FORBIDDEN).split()).strip("'")
    return (cleaned or "Export")[:31]


def _width(column: Column) -> float:
    if column.width is not None:
        return column.width
    return min(max(len(column.header) + 4, XLSX_MIN_WIDTH), XLSX_MAX_WIDTH)
