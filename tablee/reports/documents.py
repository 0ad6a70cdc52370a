"""Writers of a report document (reports/content.py): PDF, XLSX and DOCX.

The PDF is the page's template printed by WeasyPrint, with a cover. The XLSX has a sheet per table
the funder expects, plus the report's identity, its key figures and its texts; cells that a
spreadsheet would compute are written as text. The DOCX is a plain Word document (headings,
paragraphs, lists, tables) that the association can finish by hand in LibreOffice or Word.
"""

import datetime
import io

from docx import Document as DocxDocument
from docx.enum.text import WD_BREAK
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from tablee.core.exports import format_value
from tablee.reports.blocks import (
    DISCLOSURE_NOTE,
    Cell,
    Heading,
    KeyFigures,
    Narrative,
    PageBreak,
    Paragraph,
    Table,
)
from tablee.reports.content import EMPTY_NARRATIVE, ReportDocument
from tablee.reports.narratives import narrative_blocks, narrative_text

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_CONTENT_TYPE = "application/pdf"
_SHEET_FORBIDDEN = str.maketrans({char: " " for char in "[]:*?/\\"})
XLSX_MAX_CELL_CHARS = 32767


def cover_lines(document: ReportDocument) -> list[tuple[str, str]]:
    report = document.report
    programme = document.programme
    return [
        ("Programme", programme.name),
        ("Financeur", programme.funder),
        ("Document", document.kind_label),
        (
            "Période",
            f"du {report.period_start:%d/%m/%Y} au {report.period_end:%d/%m/%Y}",
        ),
        (
            ("Territoire", document.territory.territory.name)
            if document.territory is not None
            else (
                "Territoires",
                ", ".join(pt.territory.name for pt in document.territories) or "aucun",
            )
        ),
        ("Document du", f"{document.generated_on:%d/%m/%Y}"),
    ]


# ---- PDF ---------------------------------------------------------------------------------------


def write_pdf(document: ReportDocument) -> bytes:
    # Imported here: WeasyPrint is slow to import and logs as it loads its stylesheets.
    from tablee.core.pdf import render_pdf

    return render_pdf(
        "reports/document_pdf.html",
        {
            "document": document,
            "report": document.report,
            "programme": document.programme,
            "cover": cover_lines(document),
            "blocks": document.blocks,
            "for_pdf": True,
            "can_edit": False,
            "empty_narrative": EMPTY_NARRATIVE,
        },
    )


# ---- XLSX --------------------------------------------------------------------------------------


def _sheet_title(title: str, taken: set[str]) -> str:
    base = " ".join(title.translate(_SHEET_FORBIDDEN).split()).strip("'")[:31] or "Feuille"
    name, number = base, 2
    while name.lower() in taken:
        suffix = f" {number}"
        name = base[: 31 - len(suffix)] + suffix
        number += 1
    taken.add(name.lower())
    return name


def _text_cell(sheet, text: str, *, bold: bool = False) -> WriteOnlyCell:
    """A text cell, whatever the text starts with ("=..." would be a formula otherwise)."""
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", text)[:XLSX_MAX_CELL_CHARS])
    cell.data_type = "s"
    if bold:
        cell.font = Font(bold=True)
    return cell


def _xlsx_cell(sheet, cell: Cell | str, *, bold: bool = False) -> WriteOnlyCell:
    if isinstance(cell, str):
        return _text_cell(sheet, cell, bold=bold)
    value = cell.value
    if cell.is_number:
        written = WriteOnlyCell(sheet, value=value)
        if isinstance(value, float) and cell.text and cell.text.endswith("€"):
            written.number_format = "#,##0.00 €"
    elif isinstance(value, datetime.date):
        written = WriteOnlyCell(sheet, value=value)
        written.number_format = "DD/MM/YYYY"
    else:
        return _text_cell(sheet, format_value(cell.display), bold=bold)
    if bold:
        written.font = Font(bold=True)
    return written


def _add_sheet(workbook, title: str, taken: set, headers: list[str], rows, widths=None):
    sheet = workbook.create_sheet(title=_sheet_title(title, taken))
    for index, header in enumerate(headers, start=1):
        width = (widths or {}).get(index) or min(max(len(header) + 4, 12), 60)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_text_cell(sheet, header, bold=True) for header in headers])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    return sheet


def write_xlsx(document: ReportDocument) -> bytes:
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    identity = [[label, value] for label, value in cover_lines(document)]
    identity.append(["Titre", document.title])
    identity.append(["Secret statistique", DISCLOSURE_NOTE])
    _add_sheet(workbook, "Rapport", taken, ["Rubrique", "Valeur"], identity, {1: 22, 2: 90})

    figures = []
    texts = []
    for block in document.blocks:
        if isinstance(block, KeyFigures):
            figures += [[block.caption, name, cell] for name, cell in block.items]
        elif isinstance(block, Narrative):
            texts.append([block.title, narrative_text(block.html) or EMPTY_NARRATIVE])
    _add_sheet(
        workbook,
        "Chiffres clés",
        taken,
        ["Rubrique", "Indicateur", "Valeur"],
        figures,
        {1: 50, 2: 50, 3: 16},
    )
    _add_sheet(workbook, "Textes", taken, ["Section", "Texte"], texts, {1: 50, 2: 120})
    for block in document.blocks:
        if isinstance(block, Table) and block.sheet:
            rows = block.rows or [[block.empty_text]]
            _add_sheet(workbook, block.sheet, taken, block.columns, rows, {1: 40})
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- DOCX --------------------------------------------------------------------------------------


def _docx_table(docx, headers: list[str], rows: list[list], caption: str) -> None:
    docx.add_paragraph(caption, style="Caption")
    table = docx.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for index, header in enumerate(headers):
        cell = table.rows[0].cells[index]
        cell.text = ""
        run = cell.paragraphs[0].add_run(header)
        run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for index, value in enumerate(row):
            cells[index].text = format_value(value.display if isinstance(value, Cell) else value)


def _docx_narrative(docx, html: str) -> None:
    blocks = narrative_blocks(html)
    if not blocks:
        paragraph = docx.add_paragraph()
        paragraph.add_run(EMPTY_NARRATIVE).italic = True
        return
    for block in blocks:
        style = {"bullet": "List Bullet", "number": "List Number"}.get(block.list_style)
        paragraph = docx.add_paragraph(style=style)
        for run in block.runs:
            if run.text == "\n":
                paragraph.add_run().add_break()
                continue
            written = paragraph.add_run(run.text)
            written.bold = run.bold
            written.italic = run.italic


def write_docx(document: ReportDocument) -> bytes:
    docx = DocxDocument()
    docx.styles["Normal"].font.name = "DejaVu Sans"
    docx.styles["Normal"].font.size = Pt(10)
    docx.add_paragraph(document.title, style="Title")
    for name, value in cover_lines(document):
        paragraph = docx.add_paragraph()
        paragraph.add_run(f"{name} : ").bold = True
        paragraph.add_run(value)
    docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    for block in document.blocks:
        if isinstance(block, Heading):
            if block.page_break and docx.paragraphs:
                docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
            docx.add_heading(block.text, level=block.level - 1)
        elif isinstance(block, Paragraph):
            paragraph = docx.add_paragraph(block.text)
            if block.note:
                for run in paragraph.runs:
                    run.italic = True
        elif isinstance(block, Narrative):
            _docx_narrative(docx, block.html)
        elif isinstance(block, KeyFigures):
            rows = [[name, cell] for name, cell in block.items]
            _docx_table(docx, ["Indicateur", "Valeur"], rows, block.caption)
        elif isinstance(block, Table):
            if block.rows:
                _docx_table(docx, block.columns, block.rows, block.caption)
            else:
                docx.add_paragraph(f"{block.caption} : {block.empty_text}")
        elif isinstance(block, PageBreak):
            docx.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
        # Charts are not copied: the table that follows each one holds the same figures.
    buffer = io.BytesIO()
    docx.save(buffer)
    return buffer.getvalue()


WRITERS = {"pdf": write_pdf, "xlsx": write_xlsx, "docx": write_docx}
CONTENT_TYPES = {"pdf": PDF_CONTENT_TYPE, "xlsx": XLSX_CONTENT_TYPE, "docx": DOCX_CONTENT_TYPE}
