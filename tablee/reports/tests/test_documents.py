"""The documents of a report: PDF, XLSX and DOCX, masked for the funder, generated once for all who
ask, and readable by LibreOffice."""

import datetime
import io
import os
import shutil
import subprocess

import pytest
from django.urls import reverse
from docx import Document
from openpyxl import load_workbook

from tablee.accounts.models import AuditEvent
from tablee.core.disclosure import is_masked
from tablee.reports.models import ReportFile
from tablee.reports.tests.factories_reports import ReportWorld, make_final_evaluation, make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    world = ReportWorld()
    # Typed by someone: a spreadsheet must show it, never run it.
    world.people_2026.title = '=HYPERLINK("https://example.org","Atelier")'
    world.people_2026.save()
    return world


def tool(name: str) -> str:
    path = shutil.which(name)
    if not path:
        pytest.fail(f"{name} est introuvable : installez-le (apt-get).", pytrace=False)
    return path


def pdf_text(content: bytes, tmp_path) -> str:
    pdf = tmp_path / "document.pdf"
    pdf.write_bytes(content)
    result = subprocess.run(
        [tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    )
    return result.stdout.decode()


def download(client, world, report, fmt, status=200):
    response = client.get(
        reverse("reports:report_download", args=[world.programme.pk, report.pk, fmt])
    )
    assert response.status_code == status
    if status != 200:
        return response
    # Reading the stream closes the file (the test client's wrapper); response.close() would
    # also close the database connection of the test on PostgreSQL.
    content = b"".join(response.streaming_content)
    return content


def workbook(content: bytes):
    return load_workbook(io.BytesIO(content))


def rows_of(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# ---- Who may download --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["coordinator", "funder", "admin"])
def test_readers_download(client, world, role):
    report = make_report(world)
    client.force_login(getattr(world, role))
    content = download(client, world, report, "xlsx")
    assert content[:2] == b"PK"


@pytest.mark.parametrize(
    "role,status", [("partner", 403), ("local_authority", 403), ("no_role", 404)]
)
def test_others_do_not(client, world, role, status):
    report = make_report(world)
    client.force_login(getattr(world, role))
    download(client, world, report, "pdf", status=status)
    assert not ReportFile.objects.exists()


def test_an_unknown_format_answers_404(client, world):
    report = make_report(world)
    client.force_login(world.coordinator)
    download(client, world, report, "odt", status=404)


# ---- Contents ----------------------------------------------------------------------------------


def test_the_funder_report_as_pdf(client, world, tmp_path):
    report = make_report(world, narratives={"summary": "<p>Une année <strong>riche</strong>.</p>"})
    client.force_login(world.funder)
    content = download(client, world, report, "pdf")
    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    flat = " ".join(text.split())
    assert "Rapport d'activité 2025" in flat
    assert "Financeur DREETS Bretagne" in flat
    assert "Une année riche." in flat
    assert "Améliorer la qualité nutritionnelle de l'aide alimentaire" in flat
    assert "Couverture des « zones blanches » de l'aide alimentaire" in flat
    assert "Section non rédigée." in flat
    assert "Annexe : séances réalisées" in flat
    # CC Deux's session of 7 people: "< 11" in the annex, "s" in the participants table.
    annex_line = next(line for line in text.splitlines() if line.startswith("01/04/2025"))
    assert annex_line.rstrip().endswith("< 11")
    participants = text[text.index("Participations aux séances réalisées par territoire") :]
    deux = next(line for line in participants.splitlines() if line.strip().startswith("CC Deux"))
    assert deux.split()[-2:] == ["s", "s"]


def test_every_masked_cell_is_masked_in_the_funders_xlsx(client, world):
    report = make_report(world)
    client.force_login(world.funder)
    book = workbook(download(client, world, report, "xlsx"))
    assert book.sheetnames[:3] == ["Rapport", "Chiffres clés", "Textes"]
    for name in ["Séances", "Participants", "Structures", "Actions", "Budget", "Annexe séances"]:
        assert name in book.sheetnames
    participants = rows_of(book["Participants"])
    assert participants[0] == [
        "Territoire",
        "Professionnel·les",
        "Bénévoles",
        "Élu·es",
        "Personnes concernées",
        "Total",
    ]
    assert participants[1] == ["CC Deux", 0, 0, 0, "s", "s"]
    # No count of persons from 1 to 10 anywhere in the persons' sheets.
    for sheet in ["Participants", "Annexe séances"]:
        for row in rows_of(book[sheet])[1:]:
            for value in row:
                assert not (isinstance(value, int) and is_masked(value)), (sheet, row)
    annex = {row[2]: row for row in rows_of(book["Annexe séances"])[1:]}
    assert annex["Atelier cuisine de Rostrenen"][5] == "< 11"
    assert annex["Atelier cuisine du CCAS"][5] == 18
    assert annex["Atelier cuisine du CCAS"][0].date() == datetime.date(2025, 3, 10)
    # Sessions are not persons: shown as they are.
    sessions = rows_of(book["Séances"])
    assert sessions[-1] == ["Total", 1, 0, 0, 2, 3]


def test_xlsx_cells_that_look_like_formulas_stay_text(client, world):
    report = make_report(
        world, period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 12, 31)
    )
    client.force_login(world.coordinator)
    book = workbook(download(client, world, report, "xlsx"))
    cell = book["Annexe séances"]["C2"]
    assert cell.value == '=HYPERLINK("https://example.org","Atelier")'
    assert cell.data_type == "s"


def test_the_final_evaluation_as_docx(client, world):
    report = make_final_evaluation(
        world,
        narratives={
            "lessons": "<p>Former <em>ensemble</em> crée des liens.</p><ul><li>Un point</li></ul>"
        },
    )
    client.force_login(world.coordinator)
    document = Document(io.BytesIO(download(client, world, report, "docx")))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Évaluation finale"
    assert "Enseignements" in paragraphs and "Recommandations" in paragraphs
    assert "Former ensemble crée des liens." in paragraphs
    bullet = next(p for p in document.paragraphs if p.text == "Un point")
    assert bullet.style.name == "List Bullet"
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Ce qui a changé : les séances réalisées en hausse, de 0 à 4 (+4)." in cells
    # Masked for the funder even in the editable document: CC Deux's 7 participations.
    assert "s" in cells


def test_an_empty_period_gives_an_empty_document(client, world, tmp_path):
    report = make_report(
        world, period_start=datetime.date(2024, 1, 1), period_end=datetime.date(2024, 12, 31)
    )
    client.force_login(world.coordinator)
    flat = " ".join(pdf_text(download(client, world, report, "pdf"), tmp_path).split())
    assert "Aucune donnée n'est enregistrée pour cette période" in flat
    assert "Aucune séance réalisée pendant cette période." in flat
    book = workbook(download(client, world, report, "xlsx"))
    assert rows_of(book["Annexe séances"])[1][0] == "Aucune séance réalisée pendant cette période."


# ---- Generated once ----------------------------------------------------------------------------


def test_asked_twice_a_report_is_generated_once_and_both_get_it(
    client, world, django_assert_num_queries
):
    report = make_report(world)
    client.force_login(world.coordinator)
    first = download(client, world, report, "xlsx")
    # session, user, memberships, programme, report, a savepoint, the report locked (SELECT ...
    # FOR UPDATE), territories, the eleven figures' queries, the five of the documents, the
    # stored file, the export's audit event, the savepoint's release
    with django_assert_num_queries(27):
        second = download(client, world, report, "xlsx")
    assert first == second
    assert ReportFile.objects.filter(report=report, format="xlsx").count() == 1
    generated = AuditEvent.objects.filter(
        kind=AuditEvent.Kind.REPORT_CHANGED, detail__action="generated"
    )
    assert generated.count() == 1
    exports = AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT)
    assert [e.detail["generated"] for e in exports.order_by("created_at")] == [True, False]


def test_a_change_makes_a_new_document_and_drops_the_old_one(
    client, world, django_capture_on_commit_callbacks
):
    report = make_report(world)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        download(client, world, report, "pdf")
    old = ReportFile.objects.get()
    old_path = old.file.path
    client.post(
        reverse("reports:section_edit", args=[world.programme.pk, report.pk, "summary"]),
        {"text": "Nouveau texte.", "version": "1"},
    )
    with django_capture_on_commit_callbacks(execute=True):
        download(client, world, report, "pdf")
    new = ReportFile.objects.get()
    assert new.fingerprint != old.fingerprint
    assert not os.path.exists(old_path)
    # New records change the figures, hence the document.
    world.small.delete()
    with django_capture_on_commit_callbacks(execute=True):
        download(client, world, report, "pdf")
    assert ReportFile.objects.get().fingerprint != new.fingerprint


# ---- LibreOffice -------------------------------------------------------------------------------


def libreoffice_pdf_text(path, tmp_path) -> str:
    """Convert ``path`` to PDF with LibreOffice (as a person opening it would) and read it."""
    out = tmp_path / "lo-out"
    out.mkdir(exist_ok=True)
    subprocess.run(
        [
            tool("soffice"),
            f"-env:UserInstallation=file://{tmp_path}/lo-profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    converted = out / (path.stem + ".pdf")
    assert converted.exists(), f"LibreOffice n'a pas converti {path.name}"
    result = subprocess.run(
        [tool("pdftotext"), str(converted), "-"], check=True, capture_output=True, timeout=60
    )
    return " ".join(result.stdout.decode().split())


def test_libreoffice_opens_the_xlsx_and_the_docx(client, world, tmp_path):
    funder_report = make_report(world)
    evaluation = make_final_evaluation(
        world,
        narratives={"recommendations": "<p>Poursuivre les formations communes.</p>"},
    )
    client.force_login(world.coordinator)
    xlsx = tmp_path / "rapport.xlsx"
    xlsx.write_bytes(download(client, world, funder_report, "xlsx"))
    docx = tmp_path / "evaluation.docx"
    docx.write_bytes(download(client, world, evaluation, "docx"))
    # LibreOffice prints the first sheet of a workbook: the report's identity.
    assert "Rapport d'activité 2025" in libreoffice_pdf_text(xlsx, tmp_path)
    assert "Poursuivre les formations communes." in libreoffice_pdf_text(docx, tmp_path)
