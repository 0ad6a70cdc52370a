"""The journey of dashboards and reports (issue 8), in a real browser, with axe on each page.

"Done means" of the issue: on the demonstration programme, a coordinator opens the programme
dashboard, writes a narrative of the 2026 funder report and downloads it as PDF and XLSX; the
funder signs in, sees the masked dashboard, downloads the report, and nothing more: the plan of a
territory answers 403. Fixtures and helpers come from test_journeys.py and conftest.py.
"""

import importlib
import importlib.util
import io
import shutil
import subprocess

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tablee.demo.reports import FUNDER_REPORT_TITLE, load_demo_reports
from tablee.demo.services import DEMO_PASSWORD
from tablee.demo.tests.test_journeys import demo, sign_in  # noqa: F401 (demo is a fixture)
from tablee.reports.models import Report

COORDINATOR = "coordination@demo.tablee.fr"
FUNDER = "financeur@demo.tablee.fr"
NARRATIVE = "Les ateliers cuisine ont réuni les familles de Loudéac autour des produits frais."
# Demonstration records written by other modules, loaded when they exist (plans before sessions,
# sessions before the links they create).
OTHER_DEMO_LOADERS = [
    ("tablee.demo.plans", "load_demo_plans"),
    ("tablee.demo.activities", "load_demo_activities"),
    ("tablee.demo.network", "load_demo_network"),
]


@pytest.fixture
def demo_reports(demo, settings, tmp_path):  # noqa: F811
    settings.MEDIA_ROOT = tmp_path / "media"
    for module_name, function_name in OTHER_DEMO_LOADERS:
        if importlib.util.find_spec(module_name) is None:
            continue
        getattr(importlib.import_module(module_name), function_name)(demo.programme)
    load_demo_reports(demo.programme)
    return demo


def pdf_text(path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext est introuvable : apt-get install poppler-utils", pytrace=False)
    result = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True)
    return " ".join(result.stdout.decode().split())


def download(page, link_name: str, target):
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name, exact=True).click()
    info.value.save_as(target)
    return target


@pytest.mark.browser
def test_the_coordinator_writes_and_downloads_the_funder_report_the_funder_reads_it(
    browsing, demo_reports, tmp_path
):
    programme = demo_reports.programme
    report = Report.objects.get(programme=programme, title=FUNDER_REPORT_TITLE)
    dashboard = f"/rapports/programmes/{programme.pk}/tableau-de-bord/"

    # The coordinator: the programme dashboard, exact figures, a chart with its table.
    page = sign_in(browsing, COORDINATOR, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")
    page = browsing.visit(dashboard)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Tableau de bord — {programme.name}")
    expect(page.get_by_role("table", name="Séances par territoire")).to_be_visible()
    expect(page.get_by_text("Secret statistique")).to_have_count(0)
    page.get_by_label("Période", exact=True).select_option("2026")
    page.get_by_role("button", name="Afficher").click()
    expect(page.get_by_text("Période : année 2026.")).to_be_visible()
    browsing.check_page()

    # The 2026 report: write the summary.
    page.get_by_role("link", name="Rapports au financeur").click()
    browsing.check_page()
    page.get_by_role("link", name=FUNDER_REPORT_TITLE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(FUNDER_REPORT_TITLE)
    browsing.check_page()
    page.get_by_role("link", name="Rédiger « Synthèse »").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Synthèse")
    browsing.check_page()
    page.get_by_label("Texte").fill(NARRATIVE)
    page.get_by_role("button", name="Enregistrer le texte").click()
    expect(page.get_by_role("status")).to_contain_text("La section « Synthèse » est enregistrée.")
    expect(page.get_by_text(NARRATIVE)).to_be_visible()
    browsing.check_page()

    # Download it as PDF and XLSX.
    pdf = download(page, "PDF", tmp_path / "rapport.pdf")
    text = pdf_text(pdf)
    assert FUNDER_REPORT_TITLE in text
    assert NARRATIVE in text
    assert "Annexe : séances réalisées" in text
    xlsx = download(page, "Tableur XLSX", tmp_path / "rapport.xlsx")
    book = load_workbook(io.BytesIO(xlsx.read_bytes()))
    assert {"Rapport", "Textes", "Séances", "Participants", "Budget"} <= set(book.sheetnames)
    texts = {row[0]: row[1] for row in book["Textes"].iter_rows(values_only=True)}
    assert texts["Synthèse"] == NARRATIVE

    # Sign out; the funder signs in.
    page.get_by_role("navigation", name="Navigation principale").get_by_role(
        "button", name="Se déconnecter"
    ).click()
    page = sign_in(browsing, FUNDER, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")

    # The masked dashboard, without links to the records.
    page = browsing.visit(dashboard)
    expect(page.get_by_text("Secret statistique").first).to_be_visible()
    territories_table = page.get_by_role("table", name="Séances par territoire")
    expect(territories_table.get_by_role("link")).to_have_count(0)
    page = browsing.visit(f"/rapports/territoires/{demo_reports.loudeac.pk}/tableau-de-bord/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Loudéac")

    # The report: read and download, never write.
    page = browsing.visit(f"/rapports/programmes/{programme.pk}/{report.pk}/")
    expect(page.get_by_text(NARRATIVE)).to_be_visible()
    expect(page.get_by_role("link", name="Rédiger « Synthèse »")).to_have_count(0)
    funder_pdf = pdf_text(download(page, "PDF", tmp_path / "financeur.pdf"))
    assert NARRATIVE in funder_pdf
    browsing.visit(f"/rapports/programmes/{programme.pk}/{report.pk}/sections/summary/", status=403)

    # Nothing more: the plan of a territory is refused.
    page = browsing.visit(f"/plans/{demo_reports.loudeac.pk}/", status=403)
    expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
