"""A report's PDF for one territory: who may download it, what it shows (that territory only,
masked exactly as the programme's report), the links to it, and its queries."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.tests.factories import MembershipFactory, UserFactory
from tablee.activities.models import Session
from tablee.activities.tests.factories import SessionFactory, at
from tablee.reports.content import build_document, build_territory_document
from tablee.reports.models import Report
from tablee.reports.tests.factories_reports import (
    ReportWorld,
    headcount,
    make_final_evaluation,
    make_report,
)
from tablee.reports.tests.test_documents import pdf_text
from tablee.territories.tests.factories import ProgrammeTerritoryFactory

pytestmark = pytest.mark.django_db

PARTICIPATIONS = "Participations aux séances réalisées par territoire et par public"


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return ReportWorld()


def pdf_url(report, pt, programme=None):
    programme = programme or report.programme
    return reverse("reports:territory_report_pdf", args=[programme.pk, report.pk, pt.pk])


def download(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/pdf"
    # Reading the stream closes the file (the test client's wrapper); response.close() would
    # also close the database connection of the test on PostgreSQL.
    return b"".join(response.streaming_content)


def page_text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def figures_row(text: str, caption: str, name: str) -> list[str]:
    """The figures of the line of ``name`` in the table captioned ``caption`` (pdftotext -layout)."""
    after = text[text.index(caption) :]
    line = next(line for line in after.splitlines() if line.strip().startswith(name))
    return line.split()[len(name.split()) :]


def tables(document) -> dict:
    """Caption -> rows as displayed, for the tables and key figures of a document."""
    found = {}
    for block in document.blocks:
        if block.kind == "table":
            found[block.caption] = [[str(cell.display) for cell in row] for row in block.rows]
        elif block.kind == "figures":
            found[block.caption] = [[name, str(cell.display)] for name, cell in block.items]
    return found


# ---- What it shows -----------------------------------------------------------------------------


def test_the_funders_pdf_names_its_territory_only_and_masks_as_the_programme(
    client, world, tmp_path
):
    report = make_report(world)
    client.force_login(world.funder)
    response = client.get(pdf_url(report, world.t1))
    assert response["Content-Disposition"] == 'attachment; filename="rapport-cc-une-2025.pdf"'
    content = b"".join(response.streaming_content)
    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    flat = " ".join(text.split())
    assert "Rapport d'activité 2025 — CC Une" in flat
    assert "Territoire CC Une" in flat
    assert "Atelier cuisine du CCAS" in flat  # CC Une's sessions in the annex
    for elsewhere in ["CC Deux", "Atelier cuisine de Rostrenen", "CC Autre Programme"]:
        assert elsewhere not in flat, elsewhere
    # CC Une holds 12 professionals and 18 people concerned (30 in all): nothing under 11, yet
    # 18 and 30 are masked in the programme's table to protect CC Deux's 7. Suppressed on its
    # own, its row would show them: it must not.
    assert figures_row(text, PARTICIPATIONS, "CC Une") == ["12", "0", "0", "s", "s"]
    programme_text = pdf_text(
        download(
            client, reverse("reports:report_download", args=[world.programme.pk, report.pk, "pdf"])
        ),
        tmp_path,
    )
    assert figures_row(programme_text, PARTICIPATIONS, "CC Une") == ["12", "0", "0", "s", "s"]


def test_a_count_under_11_shows_the_mask_never_the_number(client, world, tmp_path):
    report = make_report(world)
    client.force_login(world.funder)
    text = pdf_text(download(client, pdf_url(report, world.t2)), tmp_path)
    flat = " ".join(text.split())
    assert "Rapport d'activité 2025 — CC Deux" in flat
    assert "CC Une" not in flat and "Atelier cuisine du CCAS" not in flat
    # CC Deux's one session of 7 people: "< 11" in the annex, "s" in the tables.
    annex_line = next(line for line in text.splitlines() if line.startswith("01/04/2025"))
    assert annex_line.rstrip().endswith("< 11")
    assert figures_row(text, PARTICIPATIONS, "CC Deux") == ["0", "0", "0", "s", "s"]
    assert figures_row(text, "CC Deux : participations par public", "Total") == ["s"]
    tables_and_annex = re.sub(r"Page \d+ sur \d+", "", text[text.index("Tableaux de suivi") :])
    assert not re.search(r"(?<![\d/,.:])7(?![\d/,.:])", tables_and_annex)


@pytest.mark.parametrize("kind", [Report.Kind.FUNDER_REPORT, Report.Kind.FINAL_EVALUATION])
def test_every_territory_table_is_the_programme_reports(world, kind):
    """Two documents never mask the same figures differently: each territory's tables are those
    of the programme's document, masked cells included."""
    if kind == Report.Kind.FINAL_EVALUATION:
        period = {
            "period_start": world.programme.start_date,
            "period_end": world.programme.end_date,
        }
    else:
        period = {}
    report = make_report(world, kind=kind, **period)
    programme_tables = tables(build_document(report))
    masked = 0
    for pt in [world.t1, world.t2]:
        name = pt.territory.name
        own = tables(build_territory_document(report, pt))
        captions = [caption for caption in own if name in caption]
        assert captions, own.keys()
        for caption in captions:
            assert own[caption] == programme_tables[caption], caption
            masked += sum(row.count("s") for row in own[caption])
    assert masked  # CC Deux's 7 people, and CC Une's cells masked to protect them
    if kind == Report.Kind.FUNDER_REPORT:
        rows = tables(build_territory_document(report, world.t1))[PARTICIPATIONS]
        assert rows == [row for row in programme_tables[PARTICIPATIONS] if row[0] == "CC Une"]


def test_the_coordinator_gets_the_same_masked_document(client, world, tmp_path):
    """A document leaves the association: masked whoever downloads it, like the programme's."""
    report = make_report(world)
    client.force_login(world.coordinator)
    text = pdf_text(download(client, pdf_url(report, world.t1)), tmp_path)
    assert figures_row(text, PARTICIPATIONS, "CC Une") == ["12", "0", "0", "s", "s"]


def test_the_final_evaluation_of_a_territory(client, world, tmp_path):
    report = make_final_evaluation(
        world,
    )
    client.force_login(world.funder)
    response = client.get(pdf_url(report, world.t2))
    assert response["Content-Disposition"].startswith('attachment; filename="evaluation-cc-deux-')
    text = pdf_text(b"".join(response.streaming_content), tmp_path)
    flat = " ".join(text.split())
    assert "Évaluation finale — CC Deux" in flat and "Indicateurs — CC Deux" in flat
    assert "CC Une" not in flat and "Ensemble du programme" not in flat
    assert "Évolution non publiée" in flat  # its 7 people


def test_a_period_that_is_not_a_year_is_in_the_file_name(client, world):
    report = make_report(
        world, period_start=datetime.date(2025, 3, 1), period_end=datetime.date(2025, 6, 30)
    )
    client.force_login(world.coordinator)
    response = client.get(pdf_url(report, world.t2))
    assert response["Content-Disposition"] == (
        'attachment; filename="rapport-cc-deux-2025-03-01-au-2025-06-30.pdf"'
    )
    b"".join(response.streaming_content)


# ---- Who may download it -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator", "funder", "territory_coordinator"])
def test_report_readers_download_it_and_it_is_audited(client, world, role):
    report = make_report(world)
    user = getattr(world, role)
    client.force_login(user)
    assert download(client, pdf_url(report, world.t1)).startswith(b"%PDF")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT, actor=user)
    assert event.target == f"rapport {report.pk}"
    assert event.detail["territory"] == str(world.t1.pk)
    assert event.detail["format"] == "pdf"


def refused(client, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).exists()
    return response


def test_a_territory_coordinator_gets_its_own_territory_only(client, world):
    report = make_report(world)
    client.force_login(world.territory_coordinator)
    refused(client, pdf_url(report, world.t2), 404)


@pytest.mark.parametrize("role", ["partner", "local_authority"])
def test_partners_and_local_authorities_are_refused(client, world, role):
    report = make_report(world)
    client.force_login(getattr(world, role))
    refused(client, pdf_url(report, world.t1), 403)


def test_outside_the_scope_answers_404(client, world):
    report = make_report(world)
    client.force_login(world.no_role)
    refused(client, pdf_url(report, world.t1), 404)
    other_coordinator = UserFactory()
    MembershipFactory(
        user=other_coordinator, role=Role.COORDINATOR, programme=world.other_programme
    )
    client.force_login(other_coordinator)
    refused(client, pdf_url(report, world.t1), 404)
    # Its own territory, through this programme's report: 404 too.
    refused(client, pdf_url(report, world.u, programme=world.programme), 404)


def test_a_territory_of_another_programme_answers_404(client, world):
    report = make_report(world)
    for user in [world.coordinator, world.admin]:
        client.force_login(user)
        refused(client, pdf_url(report, world.u, programme=world.programme), 404)
    # A report of another programme, reached through this one: 404.
    elsewhere = make_report(world, programme=world.other_programme)
    client.force_login(world.admin)
    refused(client, pdf_url(elsewhere, world.t1, programme=world.programme), 404)


def test_anonymous_visitors_are_sent_to_login(client, world):
    report = make_report(world)
    response = refused(client, pdf_url(report, world.t1), 302)
    assert response.url.startswith(reverse("accounts:login"))


# ---- Links -------------------------------------------------------------------------------------


def test_the_report_page_lists_a_pdf_per_territory(client, world):
    report = make_report(world)
    detail = reverse("reports:report_detail", args=[world.programme.pk, report.pk])
    client.force_login(world.funder)
    response = client.get(detail)
    assert "Rapport par territoire" in page_text(response)
    assert response.context["territory_pdfs"] == [
        (world.t2, pdf_url(report, world.t2)),  # by name: CC Deux, CC Une
        (world.t1, pdf_url(report, world.t1)),
    ]
    for _, url in response.context["territory_pdfs"]:
        assert f'href="{url}"' in response.content.decode()
        download(client, url)
    # A territory's coordinator reads the programme's report, but gets its own territory's PDF.
    client.force_login(world.territory_coordinator)
    response = client.get(detail)
    assert response.context["territory_pdfs"] == [(world.t1, pdf_url(report, world.t1))]
    assert pdf_url(report, world.t2) not in response.content.decode()


def test_the_territory_dashboard_links_the_latest_reports_pdf(client, world):
    make_report(world)
    latest = make_report(
        world,
        title="Rapport d'activité 2026",
        period_start=datetime.date(2026, 1, 1),
        period_end=datetime.date(2026, 12, 31),
    )
    dashboard = reverse("reports:territory_dashboard", args=[world.t1.pk])
    client.force_login(world.funder)
    response = client.get(dashboard)
    url = pdf_url(latest, world.t1)
    assert f'href="{url}"' in response.content.decode()
    assert "Rapport d'activité 2026 — CC Une (PDF)" in page_text(response)
    download(client, url)
    # The local authority opens the dashboard but not the reports: no link.
    client.force_login(world.local_authority)
    response = client.get(dashboard)
    assert response.status_code == 200
    assert "/pdf/" not in response.content.decode()
    assert "Rapport au financeur du territoire" not in page_text(response)


def test_without_a_report_the_dashboard_says_what_to_do(client, world):
    dashboard = reverse("reports:territory_dashboard", args=[world.t1.pk])
    client.force_login(world.funder)
    page = page_text(client.get(dashboard))
    assert "Aucun rapport n'est encore créé pour ce programme." in page
    assert "La coordination du programme le rédige" in page
    client.force_login(world.coordinator)
    response = client.get(dashboard)
    create = reverse("reports:report_create", args=[world.programme.pk])
    assert f'href="{create}"' in response.content.decode()
    assert "Créez le rapport au financeur" in page_text(response)


# ---- Queries -----------------------------------------------------------------------------------


@pytest.mark.parametrize("territories", [2, 6])
def test_the_queries_do_not_grow_with_the_territories(
    client, world, territories, django_assert_max_num_queries
):
    for number in range(territories - 2):
        pt = ProgrammeTerritoryFactory(
            programme=world.programme, territory__name=f"CC Supplémentaire {number}"
        )
        session = SessionFactory(
            programme_territory=pt,
            starts_at=at(2025, 9, 1 + number),
            ends_at=at(2025, 9, 1 + number, 16),
            status=Session.Status.HELD,
        )
        headcount(session, 5 + number)
    assert world.programme.territories.count() == territories
    report = make_report(world)
    client.force_login(world.funder)
    download(client, pdf_url(report, world.t1))  # charts drawn once, then cached
    # session, user, memberships, programme, report, territory, the programme's territories,
    # the eleven figures' queries, the persons of all the territories (attendances, headcounts:
    # the programme's masking), the five of the documents, the audit event
    with django_assert_max_num_queries(26):
        content = download(client, pdf_url(report, world.t1))
    assert content.startswith(b"%PDF")
