"""The journey of the territorial diagnostic (issue 4), in a real browser, with axe on each page.

"Done means" of the issue: on the demonstration programme a coordinator logs a meeting with two
structures, records three needs, draws a pathway with a break, adds a testimony, collects ten
questionnaire answers from a phone-sized browser, and downloads a synthesis PDF that shows all of
it. Then: the coordinator compares two territories; the funder reads a masked synthesis with only
the shareable testimonies. Fixtures and helpers come from test_journeys.py and conftest.py.
"""

import shutil
import subprocess

import pytest
from playwright.sync_api import expect

from tablee.demo.diagnostic import TESTIMONIES, load_demo_diagnostic
from tablee.demo.services import DEMO_PASSWORD
from tablee.demo.tests.test_journeys import demo, sign_in  # noqa: F401 (demo is a fixture)
from tablee.diagnostic.models import SurveyResponse

COORDINATOR = "coordination@demo.tablee.fr"
FUNDER = "financeur@demo.tablee.fr"
SHARED_TESTIMONY = next(text for _, text, shareable, _ in TESTIMONIES if shareable)
PRIVATE_TESTIMONY = next(text for _, text, shareable, _ in TESTIMONIES if not shareable)


@pytest.fixture
def demo_diagnostic(demo):  # noqa: F811
    load_demo_diagnostic(demo.programme)
    return demo


def synthesis_path(pt) -> str:
    return f"/diagnostic/synthese/{pt.pk}/"


PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}
NEEDS = [
    ("Mobilité et distance", "Aucun bus vers l'épicerie solidaire le samedi"),
    ("Économique", "Reste à vivre trop faible en fin de mois"),
    ("Équipement, cuisine et stockage", "Pas de congélateur dans les logements d'urgence"),
]
PATHWAY_TITLE = "Parcours d'un jeune sans permis"
BREAK = "Le rendez-vous tombe pendant les heures de travail : la demande n'aboutit pas."
TESTIMONY = "Je fais vingt kilomètres à vélo pour le colis, l'hiver c'est dur."


def pdf_text(path) -> str:
    if not shutil.which("pdftotext"):
        pytest.fail("pdftotext est introuvable : apt-get install poppler-utils", pytrace=False)
    result = subprocess.run(["pdftotext", str(path), "-"], check=True, capture_output=True)
    return " ".join(result.stdout.decode().split())


def answer_questionnaire(browsing, public_path: str, yes: int):
    """Answer the eight questions on the public link: the first ``yes`` ones "Oui"."""
    page = browsing.visit(public_path)
    questions = page.locator("fieldset.fies-question")
    expect(questions).to_have_count(8)
    for number in range(8):
        choice = "Oui" if number < yes else "Non"
        questions.nth(number).get_by_label(choice, exact=True).check()
    page.get_by_role("button", name="Envoyer mes réponses").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Merci, vos réponses sont enregistrées"
    )
    browsing.check_page()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
def test_done_means_the_coordinator_builds_the_diagnostic_and_downloads_it(
    browsing,
    demo,  # noqa: F811 (the fixture imported from test_journeys)
    settings,
    tmp_path,
):
    # Ten answers from one browser: above the per-client limit meant for floods (5 in 10 min).
    settings.TABLEE_FIES_RATE_PER_CLIENT = 20
    pt = demo.loudeac
    page = sign_in(browsing, COORDINATOR, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")

    # A meeting with two structures of the territory.
    page = browsing.visit(f"/diagnostic/{pt.pk}/rencontres/nouvelle/")
    page.locator("#id_date").fill("2026-05-12")
    page.locator("#id_format").select_option(label="Réunion de groupe")
    page.locator("#id_title").fill("Réunion des acteurs du Centre Bretagne")
    structures = page.locator("#structure-options input[type=checkbox]")
    structures.nth(0).check()
    structures.nth(1).check()
    page.locator("#id_social_workers").fill("4")
    page.locator("#id_volunteers").fill("6")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La rencontre est enregistrée.")).to_be_visible()
    browsing.check_page()
    meeting_url = page.url

    # Three needs raised at that meeting.
    for category, title in NEEDS:
        page.get_by_role("link", name="Ajouter un besoin issu de cette rencontre").click()
        browsing.check_page()
        page.locator("#id_category").select_option(label=category)
        page.locator("#id_title").fill(title)
        page.get_by_role("button", name="Enregistrer").click()
        expect(page).to_have_url(meeting_url)
        expect(page.get_by_text(f"Le besoin « {title} » est enregistré.")).to_be_visible()
        browsing.check_page()

    # A pathway with a break linked to a need, then a second step.
    page = browsing.visit(f"/diagnostic/parcours/{pt.pk}/nouveau/")
    page.locator("#id_title").fill(PATHWAY_TITLE)
    page.locator("#id_persona").fill("Jeune de 20 ans sans permis, commune rurale (situation type)")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(PATHWAY_TITLE)
    browsing.check_page()
    for description, break_after in (
        ("Premier accueil au CCAS", BREAK),
        ("Épicerie solidaire", ""),
    ):
        page.get_by_role("link", name="Ajouter une étape").first.click()
        browsing.check_page()
        page.locator("#id_structure_type").fill("CCAS" if break_after else "Épicerie")
        page.locator("#id_description").fill(description)
        if break_after:
            page.locator("#id_break_after").fill(break_after)
            page.get_by_label(NEEDS[0][1]).check()
        page.get_by_role("button", name="Enregistrer").click()
        expect(page.get_by_text("L'étape est ajoutée à la fin du parcours.")).to_be_visible()
        browsing.check_page()

    # A testimony, with consent, linked to a need.
    page = browsing.visit(f"/diagnostic/{pt.pk}/paroles/nouvelle/")
    page.locator("#id_consent_given").check()
    page.locator("#id_context").fill("Distribution du samedi")
    page.locator("#id_text").fill(TESTIMONY)
    page.locator("#id_shareable").check()
    page.get_by_label(NEEDS[0][1]).check()
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("La parole est enregistrée.")).to_be_visible()
    browsing.check_page()

    # A questionnaire, and its public link.
    page = browsing.visit(f"/diagnostic/questionnaires/{pt.pk}/nouveau/")
    page.locator("#id_title").fill("Questionnaire de la distribution du samedi")
    page.get_by_role("button", name="Créer le questionnaire").click()
    browsing.check_page()
    public_url = page.locator(".survey-link a").get_attribute("href")
    public_path = "/" + public_url.split("/", 3)[3] if "://" in public_url else public_url

    # Ten answers from a phone-sized browser.
    paper_answers = SurveyResponse.objects.filter(survey__programme_territory=pt).count()
    browsing.page.set_viewport_size(PHONE)
    for number in range(10):
        answer_questionnaire(browsing, public_path, yes=[0, 2, 4, 5, 7, 8, 1, 3, 6, 4][number])
    browsing.page.set_viewport_size(DESKTOP)

    # The synthesis shows all of it, and its PDF too.
    page = browsing.visit(synthesis_path(pt))
    for _, title in NEEDS:
        expect(page.get_by_role("rowheader", name=title)).to_be_visible()
    expect(page.get_by_text(PATHWAY_TITLE)).to_be_visible()
    expect(page.get_by_text(TESTIMONY)).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger la synthèse (PDF)").click()
    pdf = tmp_path / "synthese.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes()[:4] == b"%PDF"
    text = pdf_text(pdf)
    assert f"Synthèse du diagnostic — {pt.territory.name}" in text
    for category, title in NEEDS:
        assert title in text
        assert category in text
    assert PATHWAY_TITLE in text
    assert "1 rupture" in text
    assert TESTIMONY in text
    # The ten phone answers join those of the demonstration's paper questionnaire.
    answers = SurveyResponse.objects.filter(survey__programme_territory=pt).count()
    assert answers == paper_answers + 10
    assert f"{answers} réponses au questionnaire sur ce territoire." in text
    assert "rencontre" in text and "structures rencontrées" in text


@pytest.mark.browser
def test_the_coordinator_reads_compares_and_downloads_the_synthesis(browsing, demo_diagnostic):
    loaded = demo_diagnostic
    page = sign_in(browsing, COORDINATOR, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")

    page = browsing.visit(synthesis_path(loaded.loudeac))
    loudeac = loaded.loudeac.territory.name
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Synthèse du diagnostic — {loudeac}")
    expect(page.get_by_role("heading", name="Besoins par catégorie de frein")).to_be_visible()
    expect(page.get_by_role("img", name="Besoins par catégorie de frein")).to_be_visible()
    expect(page.get_by_text(SHARED_TESTIMONY)).to_be_visible()
    expect(page.get_by_text(PRIVATE_TESTIMONY)).to_be_visible()  # the association sees all
    expect(
        page.get_by_text("Insécurité alimentaire modérée ou grave (score brut ≥ 4)")
    ).to_be_visible()

    # Side by side with Kreiz-Breizh, chosen in the list.
    page.get_by_label("Comparer avec").select_option(label=loaded.kreiz_breizh.territory.name)
    page.get_by_role("button", name="Comparer").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(loaded.kreiz_breizh.territory.name)
    browsing.check_page()

    # The PDF of the synthesis.
    page = browsing.visit(synthesis_path(loaded.loudeac))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger la synthèse (PDF)").click()
    path = download_info.value.path()
    with open(path, "rb") as file:
        assert file.read(4) == b"%PDF"


@pytest.mark.browser
def test_the_funder_reads_a_masked_synthesis(browsing, demo_diagnostic):
    loaded = demo_diagnostic
    sign_in(browsing, FUNDER, DEMO_PASSWORD)

    page = browsing.visit(synthesis_path(loaded.kreiz_breizh))

    expect(page.get_by_text("Secret statistique", exact=False).first).to_be_visible()
    expect(page.get_by_text(SHARED_TESTIMONY)).to_be_visible()
    expect(page.get_by_text(PRIVATE_TESTIMONY)).to_have_count(0)
