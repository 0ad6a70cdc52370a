"""Reports: who may read and write them, creating and editing, narratives (sanitised, versioned),
and the page that previews the document."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.reports.models import Report
from tablee.reports.narratives import editable_text, narrative_text, sanitise_narrative
from tablee.reports.tests.factories_reports import ReportWorld, make_final_evaluation, make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return ReportWorld()


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def url(name, world, *args):
    return reverse(f"reports:{name}", args=[world.programme.pk, *args])


def report_data(**overrides):
    data = {
        "kind": Report.Kind.FUNDER_REPORT,
        "title": "Rapport d'activité 2025",
        "period_start": "2025-01-01",
        "period_end": "2025-12-31",
    }
    data.update(overrides)
    return data


# ---- Who may do what ---------------------------------------------------------------------------


def reading_urls(world, report):
    return [
        url("report_list", world),
        url("report_detail", world, report.pk),
    ]


def writing_urls(world, report):
    return [
        url("report_create", world),
        url("report_edit", world, report.pk),
        url("section_edit", world, report.pk, "summary"),
    ]


@pytest.mark.parametrize("role", ["admin", "coordinator", "territory_coordinator"])
def test_the_association_reads_and_writes_reports(client, world, role):
    report = make_report(world)
    client.force_login(getattr(world, role))
    for address in reading_urls(world, report) + writing_urls(world, report):
        assert client.get(address).status_code == 200, address


def test_the_funder_reads_but_does_not_write(client, world):
    report = make_report(world)
    client.force_login(world.funder)
    for address in reading_urls(world, report):
        assert client.get(address).status_code == 200, address
    for address in writing_urls(world, report):
        assert client.get(address).status_code == 403, address
    assert client.post(url("report_create", world), report_data()).status_code == 403
    response = client.post(
        url("section_edit", world, report.pk, "summary"), {"text": "Non", "version": "1"}
    )
    assert response.status_code == 403
    assert Report.objects.count() == 1
    report.refresh_from_db()
    assert report.narratives == {}


@pytest.mark.parametrize("role", ["partner", "local_authority"])
def test_partners_and_local_authorities_are_refused(client, world, role):
    report = make_report(world)
    client.force_login(getattr(world, role))
    for address in reading_urls(world, report) + writing_urls(world, report):
        assert client.get(address).status_code == 403, address


def test_outside_the_scope_answers_404(client, world):
    report = make_report(world)
    client.force_login(world.no_role)
    for address in reading_urls(world, report) + writing_urls(world, report):
        assert client.get(address).status_code == 404, address
    # A report of another programme, reached through this one: 404.
    elsewhere = make_report(world, programme=world.other_programme)
    client.force_login(world.coordinator)
    assert client.get(url("report_detail", world, elsewhere.pk)).status_code == 404
    assert client.get(url("section_edit", world, report.pk, "inconnue")).status_code == 404


# ---- List and creation -------------------------------------------------------------------------


def test_report_list(client, world, django_assert_num_queries):
    for year in (2024, 2025, 2026):
        make_report(
            world,
            title=f"Rapport {year}",
            period_start=datetime.date(year, 1, 1),
            period_end=datetime.date(year, 12, 31),
        )
    client.force_login(world.coordinator)
    # session, user, memberships, programme, reports
    with django_assert_num_queries(5):
        response = client.get(url("report_list", world))
    assert [r.title for r in response.context["reports"]] == [
        "Rapport 2026",
        "Rapport 2025",
        "Rapport 2024",
    ]
    assert "Télécharger l'export complet" in text(response)
    client.force_login(world.funder)
    page = text(client.get(url("report_list", world)))
    assert "Nouveau rapport" not in page
    assert "export complet" not in page


def test_create_a_report(client, world):
    client.force_login(world.coordinator)
    form = client.get(url("report_create", world))
    assert form.context["form"].initial["kind"] == Report.Kind.FUNDER_REPORT
    response = client.post(url("report_create", world), report_data())
    report = Report.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("report_detail", world, report.pk)
    assert report.created_by == world.coordinator
    assert report.narratives == {}
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.REPORT_CHANGED)
    assert event.detail["action"] == "report_create"
    assert event.target == str(report.pk)


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        (
            {"period_start": "2026-01-01", "period_end": "2025-01-01"},
            "period_end",
            "La fin de la période doit être postérieure à son début.",
        ),
        ({"title": ""}, "title", "Ce champ est obligatoire."),
        ({"period_start": "01/13/2025"}, "period_start", "Saisissez une date valide."),
        ({"kind": "autre"}, "kind", "Sélectionnez un choix valide."),
    ],
)
def test_bad_reports_are_refused(client, world, overrides, field, message):
    client.force_login(world.coordinator)
    response = client.post(url("report_create", world), report_data(**overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors[field])
    assert message in text(response)
    assert not Report.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.REPORT_CHANGED).exists()


def test_edit_the_period(client, world):
    report = make_report(world)
    client.force_login(world.coordinator)
    response = client.post(
        url("report_edit", world, report.pk),
        {
            "title": "Rapport 2025–2026",
            "period_start": "2025-01-01",
            "period_end": "2026-12-31",
            "version": "1",
        },
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.title, report.period_end, report.version) == (
        "Rapport 2025–2026",
        datetime.date(2026, 12, 31),
        2,
    )
    refused = client.post(
        url("report_edit", world, report.pk),
        {"title": "X", "period_start": "2025-06-01", "period_end": "2025-01-01", "version": "2"},
    )
    assert "La fin de la période doit être postérieure à son début." in text(refused)
    report.refresh_from_db()
    assert report.title == "Rapport 2025–2026"


def test_concurrent_edits_of_the_period_conflict(client, world):
    report = make_report(world)
    client.force_login(world.coordinator)
    data = {"title": "A", "period_start": "2025-01-01", "period_end": "2025-12-31", "version": "1"}
    assert client.post(url("report_edit", world, report.pk), data).status_code == 302
    response = client.post(url("report_edit", world, report.pk), {**data, "title": "B"})
    assert response.status_code == 200
    assert "Quelqu'un d'autre a modifié cette fiche" in text(response)
    report.refresh_from_db()
    assert report.title == "A"


# ---- Narratives --------------------------------------------------------------------------------


def test_write_a_narrative(client, world):
    report = make_report(world)
    client.force_login(world.coordinator)
    response = client.post(
        url("section_edit", world, report.pk, "objective_nutrition"),
        {"text": "Premier paragraphe.\n\nDeuxième, avec une ligne\nà la suite.", "version": "1"},
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#objective_nutrition")
    report.refresh_from_db()
    assert report.narratives["objective_nutrition"] == (
        "<p>Premier paragraphe.</p><p>Deuxième, avec une ligne<br>à la suite.</p>"
    )
    assert report.version == 2
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.REPORT_CHANGED)
    assert event.detail["section"] == "objective_nutrition"
    assert "Premier" not in str(event.detail)  # never the text itself
    page = client.get(url("report_detail", world, report.pk))
    assert "<p>Premier paragraphe.</p>" in page.content.decode()
    # Editing again shows the text as typed, not as HTML.
    again = client.get(url("section_edit", world, report.pk, "objective_nutrition"))
    assert again.context["form"].initial["text"] == (
        "Premier paragraphe.\n\nDeuxième, avec une ligne\nà la suite."
    )


def test_a_pasted_script_is_removed(client, world):
    report = make_report(world)
    client.force_login(world.coordinator)
    pasted = (
        '<p onclick="steal()">Bilan <strong>positif</strong><script>alert("x")</script></p>'
        '<img src="x" onerror="alert(1)"><a href="javascript:alert(1)">lien</a>'
        '<ul><li><a href="https://example.org/bilan">le bilan</a></li></ul><style>p{}</style>'
    )
    client.post(url("section_edit", world, report.pk, "summary"), {"text": pasted, "version": "1"})
    report.refresh_from_db()
    stored = report.narratives["summary"]
    assert stored == (
        '<p>Bilan <strong>positif</strong></p><a rel="noopener noreferrer">lien</a>'
        '<ul><li><a href="https://example.org/bilan" rel="noopener noreferrer">le bilan</a></li>'
        "</ul>"
    )
    page = client.get(url("report_detail", world, report.pk)).content.decode()
    assert "<script>alert" not in page
    assert "onerror" not in page and "onclick" not in page


def test_an_empty_narrative_removes_the_section_text(client, world):
    report = make_report(world, narratives={"summary": "<p>Ancien</p>"})
    client.force_login(world.coordinator)
    client.post(url("section_edit", world, report.pk, "summary"), {"text": "  ", "version": "1"})
    report.refresh_from_db()
    assert report.narratives == {}


def test_a_too_long_narrative_is_refused(client, world):
    report = make_report(world)
    client.force_login(world.coordinator)
    response = client.post(
        url("section_edit", world, report.pk, "summary"), {"text": "a" * 20_001, "version": "1"}
    )
    assert response.status_code == 200
    assert "au plus 20000 caractères" in text(response)
    report.refresh_from_db()
    assert report.narratives == {}


def test_concurrent_edits_of_narratives_conflict(client, world):
    report = make_report(world)
    client.force_login(world.coordinator)
    first = {"text": "Texte de Claude.", "version": "1"}
    assert client.post(url("section_edit", world, report.pk, "summary"), first).status_code == 302
    # Someone else opened the page at version 1 too and saves after.
    second = {"text": "Texte de Dominique.", "version": "1"}
    response = client.post(url("section_edit", world, report.pk, "summary"), second)
    assert response.status_code == 200
    page = text(response)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Texte de Claude." in page  # the stored text, to compare
    report.refresh_from_db()
    assert report.narratives["summary"] == "<p>Texte de Claude.</p>"
    assert report.version == 2


def test_sections_of_each_kind(client, world):
    evaluation = make_report(world, kind=Report.Kind.FINAL_EVALUATION)
    client.force_login(world.coordinator)
    assert client.get(url("section_edit", world, evaluation.pk, "lessons")).status_code == 200
    assert (
        client.get(url("section_edit", world, evaluation.pk, "objective_nutrition")).status_code
        == 404
    )


def test_sanitising_and_reading_narratives_back():
    assert sanitise_narrative("") == ""
    assert sanitise_narrative("a < b et c > d") == "<p>a &lt; b et c &gt; d</p>"
    assert sanitise_narrative("<b>gras</b> <em>ok</em>") == "gras <em>ok</em>"
    stored = sanitise_narrative("<ol><li>un</li><li><strong>deux</strong></li></ol>")
    assert narrative_text(stored) == "– un\n\n– deux"
    assert editable_text(stored) == stored  # formatted: kept as HTML
    assert editable_text("<p>a &lt; b</p>") == "a < b"


# ---- The page ----------------------------------------------------------------------------------


def test_report_page_shows_sections_and_masked_figures(client, world, django_assert_num_queries):
    report = make_report(world, narratives={"summary": "<p>Une année riche.</p>"})
    client.force_login(world.funder)
    response = client.get(url("report_detail", world, report.pk))
    page = text(response)
    for title in [
        "Synthèse",
        "Améliorer la qualité nutritionnelle de l'aide alimentaire",
        "Favoriser la participation et l'accompagnement des personnes concernées",
        "Renforcer les systèmes locaux d'aide alimentaire",
        "Réduire l'impact environnemental de l'aide alimentaire",
        "Alliances locales de solidarité",
        "Expérimentations",
        "Couverture des « zones blanches » de l'aide alimentaire",
        "Tableaux de suivi",
        "Pages par territoire",
        "Annexe : séances réalisées",
    ]:
        assert title in page, title
    assert "Une année riche." in page
    assert "Rédiger" not in page  # the funder reads only
    assert "< 11" in page  # CC Deux's session of 7 people in the annex
    client.force_login(world.coordinator)
    # session, user, memberships, programme, report, territories, the eleven figures' queries, the
    # five of the documents (budget, held sessions, consultations, proposals, actions)
    with django_assert_num_queries(22):
        response = client.get(url("report_detail", world, report.pk))
    assert "Rédiger « Synthèse »" in text(response)


def test_an_empty_period_gives_an_empty_report_not_an_error(client, world):
    report = make_report(
        world,
        title="Rapport 2024",
        period_start=datetime.date(2024, 1, 1),
        period_end=datetime.date(2024, 12, 31),
    )
    client.force_login(world.coordinator)
    response = client.get(url("report_detail", world, report.pk))
    assert response.status_code == 200
    page = text(response)
    assert "Aucune donnée n'est enregistrée pour cette période" in page
    assert "Aucune séance réalisée pendant cette période." in page


def test_final_evaluation_page(client, world):
    report = make_final_evaluation(
        world,
        narratives={"lessons": "<p>Former ensemble crée des liens.</p>"},
    )
    client.force_login(world.coordinator)
    response = client.get(url("report_detail", world, report.pk))
    page = text(response)
    assert "Les indicateurs au début et à la fin" in page
    assert "Former ensemble crée des liens." in page
    rows = {
        row[0].value: [cell.display for cell in row[1:]]
        for block in response.context["blocks"]
        if block.kind == "table" and block.caption == "Ensemble du programme"
        for row in block.rows
    }
    assert rows["Séances réalisées (cumul)"][:3] == [0, 4, "+4"]
    assert rows["Séances réalisées (cumul)"][3] == (
        "Ce qui a changé : les séances réalisées en hausse, de 0 à 4 (+4)."
    )
    # One social–health link at the start (the partnership that ended in 2024), one now.
    assert rows["Liens social–santé actifs"][3] == (
        "Ce qui n'a pas changé : les liens social–santé, 1 au début comme à la fin."
    )
    assert rows["Participations aux séances (cumul)"][3] == (
        "Ce qui a changé : les participations en hausse, de 0 à 49 (+49)."
    )
    # CC Deux: 7 people, masked in the evaluation too.
    t2 = {
        row[0].value: [cell.display for cell in row[1:]]
        for block in response.context["blocks"]
        if block.kind == "table" and block.caption == "Indicateurs — CC Deux"
        for row in block.rows
    }
    assert t2["Participations aux séances (cumul)"][1] == "s"
    assert t2["Participations aux séances (cumul)"][3].startswith("Évolution non publiée")
