"""Reading French CSV files: encodings, separators, decimal commas, and what is refused."""

import random
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from tablee.core.spreadsheets import (
    MAX_SHOWN_PROBLEMS,
    Column,
    Problem,
    SpreadsheetRejected,
    parse_decimal,
    read_csv,
)


def rejected_messages(data) -> list[str]:
    with pytest.raises(SpreadsheetRejected) as caught:
        read_csv(data)
    return [str(problem) for problem in caught.value.problems]


# --- what is read ---------------------------------------------------------------------------


def test_semicolons_in_utf8():
    sheet = read_csv("CODGEO;LIBGEO;Taux de pauvreté\n22136;Loudéac;14,2\n".encode())

    assert sheet.encoding == "utf-8"
    assert sheet.delimiter == ";"
    assert [c.name for c in sheet.columns] == ["CODGEO", "LIBGEO", "Taux de pauvreté"]
    assert sheet.rows[0].line == 2
    assert sheet.rows[0].cells == ("22136", "Loudéac", "14,2")


def test_commas_with_quoted_decimal_commas():
    sheet = read_csv(b'code,taux,part\n22136,"14,2","3,5"\n22046,"11,7",2\n')

    assert sheet.delimiter == ","
    assert [row.cells for row in sheet.rows] == [("22136", "14,2", "3,5"), ("22046", "11,7", "2")]


def test_tabs():
    sheet = read_csv(b"code\ttaux\n22136\t14,2\n")

    assert sheet.delimiter == "\t"
    assert sheet.rows[0].cells == ("22136", "14,2")


def test_decimal_commas_do_not_fool_the_separator_choice():
    # A naive count would see more commas than semicolons on the data lines.
    sheet = read_csv(b"code;a;b\n22136;1,5;2,5\n22046;3,25;4,75\n")

    assert sheet.delimiter == ";"
    assert sheet.rows[1].cells == ("22046", "3,25", "4,75")


def test_utf8_with_bom_leaves_no_mark_in_the_first_header():
    sheet = read_csv(b"\xef\xbb\xbf" + "CODGEO;Taux de pauvreté\n22136;14,2\n".encode())

    assert sheet.encoding == "utf-8-sig"
    assert sheet.columns[0].name == "CODGEO"
    assert sheet.columns[1].name == "Taux de pauvreté"


def test_windows_1252_with_accents_euro_and_ligature():
    text = "Code;Dépense moyenne (€);Cœur de cible;Élèves\r\n22136;12,5;3;4\r\n"
    sheet = read_csv(text.encode("cp1252"))

    assert sheet.encoding == "cp1252"
    assert [c.name for c in sheet.columns] == [
        "Code",
        "Dépense moyenne (€)",
        "Cœur de cible",
        "Élèves",
    ]


def test_latin1_file_is_read_as_windows_1252():
    sheet = read_csv("code;pauvreté\n22136;2\n".encode("latin-1"))

    assert sheet.columns[1].name == "pauvreté"


def test_excel_unicode_text_is_utf16_with_tabs():
    sheet = read_csv("code\tpauvreté\r\n22136\t14,2\r\n".encode("utf-16"))

    assert sheet.encoding == "utf-16"
    assert sheet.delimiter == "\t"
    assert sheet.rows[0].cells == ("22136", "14,2")


def test_uploaded_file_is_read_from_its_start():
    upload = SimpleUploadedFile("fichier.csv", b"code;taux\n22136;1\n", content_type="text/csv")
    upload.read()  # a form or a previous reader may have consumed it

    assert read_csv(upload).rows[0].cells == ("22136", "1")


def test_line_numbers_count_blank_lines_and_multiline_cells():
    text = 'code;note\n22136;"sur deux\nlignes"\n\n;;\n22046;1\n'
    sheet = read_csv(text.encode())

    assert [(row.line, row.cells[0]) for row in sheet.rows] == [(2, "22136"), (6, "22046")]


def test_cells_are_stripped_of_spaces_including_no_break_spaces():
    sheet = read_csv(" code ; taux\u00a0\n 22136 ;\u202f14,2 \n".encode())

    assert [c.name for c in sheet.columns] == ["code", "taux"]
    assert sheet.rows[0].cells == ("22136", "14,2")


def test_short_lines_are_padded():
    sheet = read_csv(b"code;a;b\n22136;1\n")

    assert sheet.rows[0].cells == ("22136", "1", "")
    assert sheet.problems == []


def test_unnamed_empty_columns_on_the_right_are_dropped():
    sheet = read_csv(b"code;a;;\n22136;1;;\n")

    assert [c.name for c in sheet.columns] == ["code", "a"]
    assert sheet.rows[0].cells == ("22136", "1")


def test_too_many_cells_is_a_problem_of_that_line_and_the_others_are_kept():
    sheet = read_csv(b"code;a\n22136;1\n22046;1;2;3\n22050;4\n")

    assert [row.line for row in sheet.rows] == [2, 4]
    assert [str(p) for p in sheet.problems] == [
        "Ligne 3 : 4 valeurs pour 2 colonnes : vérifiez le séparateur (point-virgule) et les "
        "guillemets."
    ]


def test_column_letters_as_in_a_spreadsheet():
    assert [Column("x", n).letter for n in (1, 2, 26, 27, 52, 53, 703)] == [
        "A",
        "B",
        "Z",
        "AA",
        "AZ",
        "BA",
        "AAA",
    ]


def test_problem_wording():
    assert str(Problem("« x » n'est pas un nombre.", line=12, column="taux_pauvrete")) == (
        "Ligne 12, colonne « taux_pauvrete » : « x » n'est pas un nombre."
    )
    assert str(Problem("Le fichier est vide.")) == "Le fichier est vide."


def test_rejection_shows_the_first_problems_and_counts_them_all():
    rejection = SpreadsheetRejected([Problem(f"n°{n}", line=n) for n in range(1, 61)])

    assert rejection.total == 60
    assert len(rejection.shown) == MAX_SHOWN_PROBLEMS
    assert rejection.shown[0].line == 1


# --- what is refused ------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"  \r\n \n", b"\xef\xbb\xbf", b"\xff\xfe"])
def test_empty_file(data):
    assert rejected_messages(data) == ["Le fichier est vide."]


def test_header_without_data_rows():
    assert rejected_messages(b"code;taux\n\n;\n") == [
        "Le fichier ne contient que la ligne des noms de colonnes, aucune ligne de données."
    ]


def test_binary_file_with_nul_bytes():
    (message,) = rejected_messages(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "n'est pas un fichier texte" in message


def test_control_characters_are_binary_too():
    (message,) = rejected_messages(b"code;taux\n22136;\x02\x03\x04\n")
    assert "n'est pas un fichier texte" in message


def test_spreadsheet_workbook_is_named_as_such():
    (message,) = rejected_messages(b"PK\x03\x04\x14\x00\x06\x00" + b"x" * 50)
    assert "classeur Excel" in message
    assert "CSV" in message


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("gbk", "代码;比率\n110000;12,5\n"),
        ("shift_jis", "コード;比率\n13101;12,5\n"),
        ("koi8_r", "код;доля;население\n22136;12,5;1000\n"),
    ],
)
def test_file_in_an_encoding_other_than_utf8_or_windows_1252(encoding, text):
    assert rejected_messages((text * 3).encode(encoding)) == [
        "L'encodage des caractères du fichier n'est pas reconnu (ni UTF-8, ni Windows-1252). "
        "Enregistrez-le au format « CSV UTF-8 »."
    ]


def test_random_bytes_without_nul():
    data = random.Random(2026).randbytes(600).replace(b"\x00", b"\x01")
    (message,) = rejected_messages(data)

    assert "n'est pas un fichier texte" in message or "encodage" in message


def test_duplicated_column_names_name_the_column_and_both_positions():
    assert rejected_messages(b"code;taux;part;Taux\n22136;1;2;3\n") == [
        "Ligne 1, colonne « Taux » : nom de colonne en double (colonnes 2 et 4, soit B et D) : "
        "chaque colonne doit avoir un nom différent."
    ]


def test_unnamed_column_holding_values():
    assert rejected_messages(b"code;taux;;\n22136;1;;\n22046;2;;9\n") == [
        "Ligne 3 : la colonne 4 (D) n'a pas de nom sur la première ligne, mais contient des "
        "valeurs."
    ]


def test_unclosed_quote_swallows_the_rest_of_the_file_into_one_cell_of_its_line():
    # The csv module reads an unclosed quote to the end of the file; the importer then reports
    # that cell, on the line where the quote was opened, as a value it cannot read.
    sheet = read_csv(b'code;note\n22136;"ouvert\n22046;1\n')

    assert [(row.line, row.cells) for row in sheet.rows] == [(2, ("22136", "ouvert\n22046;1"))]


# --- decimal numbers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,5", "12.5"),
        ("12.5", "12.5"),
        ("0,0001", "0.0001"),
        ("1 234,5", "1234.5"),
        ("1\u00a0234,5", "1234.5"),  # no-break space (Excel, LibreOffice)
        ("1\u202f234\u202f567,25", "1234567.25"),  # narrow no-break space
        ("12 345 678", "12345678"),
        ("-3,5", "-3.5"),
        ("\u22123,5", "-3.5"),  # typographic minus
        ("+7", "7"),
        ("007", "7"),
        ("1,5E+03", "1500"),
        (" 12,5 ", "12.5"),
    ],
)
def test_parse_decimal(text, expected):
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "12,5 %",
        "1,2,3",
        "1.234,5",  # a dot and a comma: thousands or decimals? refused rather than guessed
        "1,234.5",
        "1 23",
        "12 5,5",
        ",5",
        "NaN",
        "Infinity",
        "1e",
        "--1",
        "0x10",
    ],
)
def test_parse_decimal_refuses(text):
    with pytest.raises(ValueError, match="n'est pas un nombre|mélange"):
        parse_decimal(text)


def _written_the_french_way(value: Decimal, space: str, grouped: bool) -> str:
    sign = "-" if value < 0 else ""
    integer, _, fraction = format(abs(value), "f").partition(".")
    if grouped:
        groups = []
        while integer:
            integer, groups = integer[:-3], [integer[-3:], *groups]
        integer = space.join(groups)
    return f"{sign}{integer},{fraction}" if fraction else f"{sign}{integer}"


@given(
    value=st.decimals(
        min_value=Decimal("-999999999999.9999"),
        max_value=Decimal("999999999999.9999"),
        places=4,
        allow_nan=False,
        allow_infinity=False,
    ),
    space=st.sampled_from([" ", "\u00a0", "\u202f", "\u2009"]),
    grouped=st.booleans(),
)
def test_parse_decimal_reads_back_what_a_french_spreadsheet_writes(value, space, grouped):
    assert parse_decimal(_written_the_french_way(value, space, grouped)) == value


def _workbook_bytes(rows) -> bytes:
    import io

    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_xlsx_sheet_reads_like_a_csv_with_dates_and_whole_numbers_as_people_typed_them():
    import datetime

    from tablee.core.spreadsheets import read_table

    # Excel cells carry no time zone.
    data = _workbook_bytes(
        [
            ["Code", "Titre", "Avancement", "Début"],
            ["A1", 'Un "titre"\nlong', 50.0, datetime.datetime(2025, 3, 1)],  # noqa: DTZ001
            [None, None, None, None],
            ["A2", "Deux", 12.5, datetime.datetime(2025, 3, 1, 14, 30)],  # noqa: DTZ001
        ]
    )
    sheet = read_table(data)
    assert [c.name for c in sheet.columns] == ["Code", "Titre", "Avancement", "Début"]
    assert [r.line for r in sheet.rows] == [2, 4]
    assert sheet.rows[0].cells == ("A1", 'Un "titre"\nlong', "50", "01/03/2025")
    assert sheet.rows[1].cells == ("A2", "Deux", "12.5", "01/03/2025 14:30")


def test_a_damaged_workbook_is_refused_in_french():
    import pytest

    from tablee.core.spreadsheets import SpreadsheetRejected, read_xlsx

    with pytest.raises(SpreadsheetRejected) as refused:
        read_xlsx(b"PK\x03\x04 pas vraiment un classeur")
    assert "abîmé" in str(refused.value.problems[0])
