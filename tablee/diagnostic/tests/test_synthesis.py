"""The diagnostic synthesis: who sees what, masked counts, query counts, PDF, comparison."""

import shutil
import subprocess

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.tests.factories_k import (
    MeetingFactory,
    NeedFactory,
    PathwayFactory,
    PathwayStepFactory,
    SurveyFactory,
    SurveyResponseFactory,
    barrier,
)
from tablee.diagnostic.tests.factories_k import (
    TestimonyFactory as ParoleFactory,
)
from tablee.directory.models import Sector
from tablee.directory.tests.factories import DirectoryWorld, StructureFactory

pytestmark = pytest.mark.django_db

NOTES = "Notes internes : ne jamais publier"
SHARED_TEXT = "On vient de loin pour le colis, sans bus le samedi."
PRIVATE_TEXT = "Parole réservée aux coordinations."


@pytest.fixture
def world():
    """DirectoryWorld (programme P with T1, T2; Q with U) and a diagnostic on T1."""
    w = DirectoryWorld()
    t1 = w.t1
    w.own.sector = Sector.FOOD_AID
    w.own.latitude, w.own.longitude = 48.18, -2.75
    w.own.save()
    meeting = MeetingFactory(
        programme_territory=t1,
        notes=NOTES,
        social_workers=14,
        health_professionals=3,
        volunteers=12,
        people_concerned=0,
    )
    meeting.structures.set([w.own, w.neighbour])
    MeetingFactory(programme_territory=t1, social_workers=1, notes=NOTES)
    w.transport = NeedFactory(
        programme_territory=t1,
        category=barrier("mobilite-distance"),
        title="Pas de transport le samedi",
        meeting=meeting,
    )
    w.transport.structures.set([w.own, w.neighbour])
    w.money = NeedFactory(
        programme_territory=t1, category=barrier("economique"), title="Reste à vivre trop faible"
    )
    NeedFactory(programme_territory=t1, category=barrier("economique"), title="Factures d'énergie")
    pathway = PathwayFactory(programme_territory=t1, title="Parcours de Lou")
    PathwayStepFactory(pathway=pathway, position=1, break_after="Pas de bus")
    PathwayStepFactory(pathway=pathway, position=2)
    shared = ParoleFactory(programme_territory=t1, shareable=True, text=SHARED_TEXT)
    shared.needs.add(w.transport)
    ParoleFactory(programme_territory=t1, shareable=False, text=PRIVATE_TEXT)
    # Twelve answers: 5 at score 0, 4 at score 5, 3 at score 8 (moderate or severe: 7; severe: 3).
    survey = SurveyFactory(programme_territory=t1)
    for yes, n in ((0, 5), (5, 4), (8, 3)):
        for _ in range(n):
            SurveyResponseFactory(survey=survey, yes=yes)
    # Another territory's diagnostic never shows on T1's synthesis.
    NeedFactory(programme_territory=w.t2, title="Besoin venu dun autre territoire")
    ParoleFactory(
        programme_territory=w.t2, shareable=True, text="Parole venue dun autre territoire"
    )
    return w


def url(name, pt, **query):
    path = reverse(f"synthesis:{name}", args=[pt.pk])
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


# 1 session, 2 user, 3 memberships, 4 programme territory (scope-filtered, with its EPCI, département,
# région, programme), 5 indicators, 6 structures by sector, 7 by FINESS category, 8 communes and
# 9 food-aid points (coverage), 10 barrier categories with their counts, 11 most cited needs,
# 12 their structures (prefetch), 13 pathways with steps and breaks, 14 testimonies,
# 15 questionnaire answers by raw score, 16 meetings and participants, 17 structures met,
# 18 the territories to compare with.
PAGE_QUERIES = 18


def test_the_coordinator_sees_everything_with_exact_counts(
    client, world, django_assert_num_queries
):
    client.force_login(world.coordinator)

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url("detail", world.t1))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Pas de transport le samedi" in page
    assert "Épicerie solidaire du Centre" in page  # the structures that raised the need
    assert SHARED_TEXT in page
    assert PRIVATE_TEXT in page
    assert "non partagée" in page
    assert "Parcours de Lou" in page
    assert "1 rupture" in page
    pathway = world.t1.pathways.get()
    assert reverse("pathways:detail", args=[world.t1.pk, pathway.pk]) in page
    assert "2 rencontres tenues, 2 structures rencontrées" in page
    assert ">3<" in page  # three health professionals, shown to the association
    assert "58 %" in page  # 7 answers of 12 at raw score 4 or more
    assert "25 %" in page  # 3 of 12 at 7 or more
    assert "Secret statistique" not in page
    assert NOTES not in page  # notes are never in the synthesis
    assert "Besoin venu dun autre territoire" not in page
    assert "Parole venue dun autre territoire" not in page
    assert 'src="data:image/svg+xml;base64,' in page  # the chart, beside its table


@pytest.mark.parametrize("who", ["partner", "local_authority", "funder"])
def test_outside_the_association_small_counts_are_masked_and_only_shared_words_shown(
    client, world, who
):
    client.force_login(getattr(world, who))

    response = client.get(url("detail", world.t1))

    assert response.status_code == 200
    page = response.content.decode()
    assert SHARED_TEXT in page
    assert PRIVATE_TEXT not in page
    assert "non partagée" not in page
    assert NOTES not in page
    assert "Secret statistique" in page
    participants = response.context["s"].participants
    # 3 health professionals and 1 other social worker... are masked; 14 + 1 = 15 social workers
    # shown; the smallest other row (volunteers, 12) masked too so that 3 cannot be rebuilt.
    shown = {row: cell.display for row, cell in participants.row_totals.items()}
    assert shown["Professionnel·les de santé"] == "s"
    assert shown["Bénévoles"] == "s"
    assert shown["Travailleur·ses sociaux·les"] == 15
    assert shown["Personnes concernées"] == 0
    assert participants.total.display == 30
    # 7 answers at 4 or more are fewer than 11: the share is not shown, nor the 3 severe ones.
    assert "58 %" not in page
    assert "25 %" not in page
    assert "moins de 11 réponses : non affiché" in page
    # Links to the working pages of the diagnostic are for the association only.
    pathway = world.t1.pathways.get()
    assert reverse("pathways:detail", args=[world.t1.pk, pathway.pk]) not in page
    assert reverse("synthesis:pdf", args=[world.t1.pk]) in page


def test_the_funder_does_not_see_structure_names(client, world):
    client.force_login(world.funder)

    page = client.get(url("detail", world.t1)).content.decode()

    assert "Épicerie solidaire du Centre" not in page
    assert "2 structures" in page


@pytest.mark.parametrize("who", ["partner", "local_authority", "funder"])
def test_the_page_costs_the_same_queries_for_every_role(
    client, world, who, django_assert_num_queries
):
    client.force_login(getattr(world, who))

    with django_assert_num_queries(PAGE_QUERIES):
        client.get(url("detail", world.t1))


def test_the_query_count_does_not_grow_with_the_records(client, world, django_assert_num_queries):
    for n in range(5):
        NeedFactory(programme_territory=world.t1, title=f"Besoin en plus {n}").structures.add(
            world.sibling
        )
        PathwayFactory(programme_territory=world.t1)
        ParoleFactory(programme_territory=world.t1, shareable=True)
        MeetingFactory(programme_territory=world.t1).structures.add(world.neighbour)
        StructureFactory(
            commune=world.commune1, sector=Sector.FOOD_AID, latitude=48.1, longitude=-2.7
        )
    client.force_login(world.coordinator)

    with django_assert_num_queries(PAGE_QUERIES):
        response = client.get(url("detail", world.t1))

    assert response.context["s"].meeting_count == 7


def test_fewer_than_11_answers_show_no_result(client, world):
    survey = world.t1.surveys.get()
    for response in list(survey.responses.all())[:2]:
        response.delete()
    client.force_login(world.coordinator)

    page = client.get(url("detail", world.t1)).content.decode()

    assert "Les résultats ne sont pas affichés avant 11 réponses : encore 1 réponse" in page
    assert "58 %" not in page


@pytest.mark.parametrize(
    "who, status",
    [("territory_coordinator", 200), ("no_role", 404)],
)
def test_scope_of_the_page(client, world, who, status):
    client.force_login(getattr(world, who))

    assert client.get(url("detail", world.t1)).status_code == status


def test_outside_the_scope_is_404(client, world):
    client.force_login(world.local_authority)

    assert client.get(url("detail", world.t2)).status_code == 404
    assert client.get(url("pdf", world.t2)).status_code == 404
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).exists()


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(url("detail", world.t1))

    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# ---- PDF ----------------------------------------------------------------------------------------


def pdf_text(content: bytes, tmp_path) -> str:
    for tool in ("pdftotext", "pdftoppm"):
        if not shutil.which(tool):
            pytest.fail(f"{tool} est introuvable : apt-get install poppler-utils", pytrace=False)
    pdf = tmp_path / "synthese.pdf"
    pdf.write_bytes(content)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert list(tmp_path.glob("page*.png"))
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, timeout=60
    ).stdout.decode()
    return " ".join(text.split())


def test_the_pdf_renders_the_synthesis_and_is_audited_with_counts_only(client, world, tmp_path):
    client.force_login(world.local_authority)

    response = client.get(url("pdf", world.t1))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    content = response.content
    assert content.startswith(b"%PDF")
    text = pdf_text(content, tmp_path)
    assert "Synthèse du diagnostic" in text
    assert "Pas de transport le samedi" in text
    assert "Parcours de Lou" in text
    assert SHARED_TEXT in text
    assert PRIVATE_TEXT not in text
    assert NOTES not in text
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.actor == world.local_authority
    assert event.detail == {
        "format": "pdf",
        "needs": 3,
        "pathways": 1,
        "testimonies": 1,
        "meetings": 2,
        "answers": 12,
    }


# ---- Comparison ---------------------------------------------------------------------------------


def test_two_territories_side_by_side(client, world):
    client.force_login(world.coordinator)

    response = client.get(url("compare", world.t1, avec=world.t2.pk))

    assert response.status_code == 200
    page = response.content.decode()
    assert "CC Une" in page and "CC Deux" in page
    rows = dict(response.context["needs_rows"])
    assert rows["Économique"] == [2, 1]  # T2 has one need too
    assert rows["Mobilité et distance"] == [1, 0]


@pytest.mark.parametrize("avec", ["", "pas-un-uuid", "00000000-0000-0000-0000-000000000000"])
def test_comparing_with_nothing_valid_is_404(client, world, avec):
    client.force_login(world.coordinator)

    assert client.get(url("compare", world.t1, avec=avec)).status_code == 404


def test_comparing_with_a_territory_outside_the_scope_is_404(client, world):
    client.force_login(world.coordinator)

    assert client.get(url("compare", world.t1, avec=world.u.pk)).status_code == 404
    assert client.get(url("compare", world.t1, avec=world.t1.pk)).status_code == 404
    client.force_login(world.local_authority)
    assert client.get(url("compare", world.t1, avec=world.t2.pk)).status_code == 404


# ---- Demonstration data -------------------------------------------------------------------------


def test_the_demo_diagnostic_is_idempotent_fictional_and_shows_results(client, world):
    from tablee.demo.diagnostic import load_demo_diagnostic
    from tablee.diagnostic.models import Meeting, Need, Pathway, SurveyResponse, Testimony

    StructureFactory(name="CCAS de démo (fictif)", commune=world.commune1, is_demo=True)
    before = {
        model: model.objects.count()
        for model in (Meeting, Need, Pathway, Testimony, SurveyResponse)
    }

    first = load_demo_diagnostic(world.programme)
    after_first = {model: model.objects.count() for model in before}
    second = load_demo_diagnostic(world.programme)
    after_second = {model: model.objects.count() for model in before}

    assert first == second
    assert after_first == after_second  # nothing added the second time
    # Two territories in programme P, each: 3 meetings, 8 needs, 1 pathway, 3 testimonies.
    assert after_first[Need] - before[Need] == 16
    assert after_first[Pathway] - before[Pathway] == 2
    pathway = world.t2.pathways.get(title__contains="fictif")
    assert pathway.steps.count() == 4
    assert pathway.steps.exclude(break_after="").count() == 2
    demo_testimonies = world.t2.testimonies.filter(context__contains="(fictif)")
    assert demo_testimonies.count() == 3
    assert demo_testimonies.filter(shareable=True).count() == 2
    assert world.t2.needs.filter(title__contains="(fictif)").count() == 8
    client.force_login(world.funder)
    page = client.get(url("detail", world.t2)).content.decode()
    assert "Insécurité alimentaire modérée ou grave" in page
    assert "24 réponses au questionnaire" in page


def test_the_comparison_costs_two_syntheses(client, world, django_assert_num_queries):
    client.force_login(world.coordinator)

    # 1 session, 2 user, 3 memberships, 4 and 5 the two programme territories, then for each
    # territory the 13 queries of its synthesis (indicators to structures met, as on the page).
    with django_assert_num_queries(5 + 2 * 13):
        response = client.get(url("compare", world.t1, avec=world.t2.pk))

    assert response.status_code == 200
