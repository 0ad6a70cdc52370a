import csv
import inspect
import io
import zipfile
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from tablee.core.exports import (
    CSV_CHUNK_BYTES,
    Column,
    csv_response,
    safe_cell,
    write_csv,
    write_xlsx,
    xlsx_response,
)

COLUMNS = [
    Column("name", "Nom"),
    Column("siret", "SIRET"),
    Column("updated_on", "Mise à jour"),
    Column("budget", "Budget (€)"),
    Column("thematiques", "Thématiques"),
    Column("publishable", "Publiable"),
]
FORMULAS = [
    '=HYPERLINK("http://exemple.invalid","Cliquez")',
    "+33 2 96 00 00 00",
    "-2+3",
    "@SUM(A1:A2)",
    "\tcmd",
    "\rcmd",
]


def rows():
    return [
        {
            "name": "Épicerie solidaire « Le Panier »",
            "siret": "73282932000074",
            "updated_on": date(2025, 3, 1),
            "budget": Decimal("1234.50"),
            "thematiques": ["alimentation", "famille"],
            "publishable": True,
        },
        {
            "name": "Restos du Cœur; antenne de Loudéac",
            "siret": "",
            "updated_on": None,
            "budget": -2.5,
            "thematiques": [],
            "publishable": False,
        },
    ]


def read_csv_bytes(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_write_csv_is_utf8_with_bom_semicolons_and_crlf():
    data = b"".join(write_csv(rows(), COLUMNS))

    assert data.startswith(b"\xef\xbb\xbfNom;SIRET;Mise \xc3\xa0 jour;")
    assert data.count(b"\r\n") == 3
    assert b"\n" not in data.replace(b"\r\n", b"")


def test_write_csv_writes_french_dates_decimals_lists_and_booleans():
    data = b"".join(write_csv(rows(), COLUMNS))

    assert read_csv_bytes(data) == [
        ["Nom", "SIRET", "Mise à jour", "Budget (€)", "Thématiques", "Publiable"],
        [
            "Épicerie solidaire « Le Panier »",
            "73282932000074",
            "01/03/2025",
            "1234,50",
            "alimentation, famille",
            "oui",
        ],
        ["Restos du Cœur; antenne de Loudéac", "", "", "-2,5", "", "non"],
    ]
    # The separator inside a name is quoted, not split.
    assert b'"Restos du C\xc5\x93ur; antenne de Loud\xc3\xa9ac"' in data


def test_write_csv_shows_datetimes_in_french_local_time():
    columns = [Column("at", "Date et heure")]
    data = b"".join(write_csv([{"at": datetime(2025, 7, 1, 8, 30, tzinfo=UTC)}], columns))

    assert read_csv_bytes(data)[1] == ["01/07/2025 10:30"]  # Paris is UTC+2 in summer


@pytest.mark.parametrize("formula", FORMULAS)
def test_write_csv_neutralises_formula_like_cells(formula):
    data = b"".join(write_csv([{"name": formula}], [Column("name", "Nom")]))

    assert read_csv_bytes(data)[1] == [f"'{formula}"]


def test_safe_cell_leaves_numbers_and_ordinary_text_alone():
    assert safe_cell(-2.5) == "-2,5"
    assert safe_cell(Decimal("-10")) == "-10"
    assert safe_cell(-3) == "-3"
    assert safe_cell("CCAS de Loudéac") == "CCAS de Loudéac"
    assert safe_cell("Saint-Brieuc = centre") == "Saint-Brieuc = centre"
    assert safe_cell(None) == ""
    assert safe_cell(["=A1", "b"]) == "'=A1, b"


def test_write_csv_streams_a_large_export_without_building_it():
    consumed = 0

    def many_rows():
        nonlocal consumed
        for number in range(100_000):
            consumed += 1
            yield {"name": f"Structure {number}", "updated_on": date(2025, 1, 1)}

    chunks = write_csv(many_rows(), [Column("name", "Nom"), Column("updated_on", "Date")])

    assert inspect.isgenerator(chunks)
    assert consumed == 0  # nothing is read before the first chunk is asked for
    first = next(chunks)
    assert 0 < consumed < 100_000
    assert len(first) < CSV_CHUNK_BYTES + 1024
    lines, largest = first.count(b"\r\n"), len(first)
    for chunk in chunks:
        lines += chunk.count(b"\r\n")
        largest = max(largest, len(chunk))
    assert consumed == 100_000
    assert lines == 100_001  # the header and every row
    assert largest < CSV_CHUNK_BYTES + 1024


def test_write_csv_without_streaming_gives_the_whole_file_at_once():
    chunks = write_csv(rows(), COLUMNS, stream=False)

    assert len(chunks) == 1
    assert chunks[0] == b"".join(write_csv(rows(), COLUMNS))


def test_write_csv_of_no_rows_is_the_header_alone():
    assert b"".join(write_csv([], COLUMNS)) == (
        "\ufeffNom;SIRET;Mise à jour;Budget (€);Thématiques;Publiable\r\n".encode()
    )


def open_xlsx(data: bytes):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None  # every member is intact
        sheet_xml = archive.read("xl/worksheets/sheet1.xml")
    return load_workbook(io.BytesIO(data)).active, sheet_xml


def test_write_xlsx_types_the_cells_and_formats_the_header():
    sheet, _ = open_xlsx(write_xlsx(rows(), COLUMNS, sheet_title="Annuaire"))

    assert sheet.title == "Annuaire"
    assert [cell.value for cell in sheet[1]] == [column.header for column in COLUMNS]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.column_dimensions["A"].width == 10
    assert sheet.column_dimensions["D"].width == 14  # "Budget (€)" and a margin
    first = [cell for cell in sheet[2]]
    assert first[0].value == "Épicerie solidaire « Le Panier »"
    assert first[1].value == "73282932000074"
    assert first[1].data_type == "s"  # a SIRET stays text, with all its digits
    assert first[2].value.date() == date(2025, 3, 1)  # a real date, shown as 01/03/2025
    assert first[2].number_format == "DD/MM/YYYY"
    assert first[3].value == 1234.5
    assert first[3].data_type == "n"
    assert first[4].value == "alimentation, famille"
    assert first[5].value == "oui"
    second = [cell.value for cell in sheet[3]]
    assert second == ["Restos du Cœur; antenne de Loudéac", None, None, -2.5, None, "non"]
    assert sheet.max_row == 3


def test_write_xlsx_writes_formula_like_cells_as_text():
    data = write_xlsx(
        ({"name": formula} for formula in FORMULAS), [Column("name", "Nom")], sheet_title="Test"
    )

    sheet, sheet_xml = open_xlsx(data)

    cells = [row[0] for row in sheet.iter_rows(min_row=2)]
    # The text is kept as written (older openpyxl releases turned a carriage return into a line
    # feed, newer ones keep it).
    for cell, formula in zip(cells, FORMULAS, strict=True):
        assert cell.value in {formula, formula.replace("\r", "\n")}
    assert all(cell.data_type != "f" for cell in cells)
    assert b"<f>" not in sheet_xml


def test_write_xlsx_drops_characters_a_spreadsheet_refuses_and_cuts_huge_text():
    data = write_xlsx(
        [{"name": "Loud\x00éac\x1b", "description": "x" * 40_000}],
        [Column("name", "Nom"), Column("description", "Description")],
        sheet_title="Test",
    )

    sheet, _ = open_xlsx(data)

    assert sheet["A2"].value == "Loudéac"
    assert len(sheet["B2"].value) == 32767


def test_write_xlsx_makes_any_title_a_valid_sheet_name():
    data = write_xlsx([], COLUMNS, sheet_title="Annuaire : Loudéac [CC]/2025 ? et bien plus long")

    sheet, _ = open_xlsx(data)

    assert sheet.title == "Annuaire Loudéac CC 2025 et bie"
    assert len(sheet.title) == 31


def test_csv_response_streams_an_attachment():
    response = csv_response("annuaire-loudéac.csv", rows(), COLUMNS)

    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''annuaire-loud%C3%A9ac.csv"
    )
    assert read_csv_bytes(b"".join(response.streaming_content))[1][0] == (
        "Épicerie solidaire « Le Panier »"
    )


def test_xlsx_response_is_an_attachment_that_opens():
    response = xlsx_response("annuaire.xlsx", rows(), COLUMNS, sheet_title="Annuaire")

    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"] == 'attachment; filename="annuaire.xlsx"'
    sheet, _ = open_xlsx(response.content)
    assert sheet["A2"].value == "Épicerie solidaire « Le Panier »"


def test_write_xlsx_writes_datetimes_in_french_local_time():
    data = write_xlsx(
        [{"at": datetime(2025, 7, 1, 8, 30, tzinfo=UTC)}],
        [Column("at", "Date et heure")],
        sheet_title="Test",
    )

    sheet, _ = open_xlsx(data)

    assert (sheet["A2"].value.hour, sheet["A2"].value.minute) == (10, 30)
    assert sheet["A2"].number_format == "DD/MM/YYYY HH:MM"


def test_a_workbook_of_several_sheets_keeps_each_sheet_its_columns_and_safe_cells():
    import io

    from openpyxl import load_workbook

    from tablee.core.exports import Column, write_xlsx_sheets

    data = write_xlsx_sheets(
        [
            (
                "Actions",
                [Column("code", "Code"), Column("title", "Intitulé")],
                [{"code": "A1", "title": '=HYPERLINK("x")'}],
            ),
            ("Budget / 2025", [Column("year", "Année")], [{"year": 2025}, {"year": 2026}]),
        ]
    )
    workbook = load_workbook(io.BytesIO(data))
    assert workbook.sheetnames == ["Actions", "Budget 2025"]
    actions, budget = workbook["Actions"], workbook["Budget 2025"]
    assert [c.value for c in actions[1]] == ["Code", "Intitulé"]
    assert actions["B2"].value == '=HYPERLINK("x")'
    assert actions["B2"].data_type == "s"  # text, never a formula
    assert [row[0].value for row in budget.iter_rows(min_row=2)] == [2025, 2026]
