"""The journey of co-construction and action plans (issue 5), in a real browser, with axe on each
page.

"Done means" of the issue: on the demonstration programme a coordinator runs a session, records
proposals from three groups and their votes, turns two of them into actions linked to needs,
validates the plan, updates progress by an XLSX round-trip, and the public page shows it. Then: the
local authority comments on an action and proposes, and the funder is refused the plan. Fixtures
and helpers come from test_journeys.py, test_journey_diagnostic.py and conftest.py.
"""

import datetime
import re

import openpyxl
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tablee.demo.diagnostic import NEEDS as DEMO_NEEDS
from tablee.demo.services import DEMO_PASSWORD
from tablee.demo.tests.test_journey_diagnostic import pdf_text
from tablee.demo.tests.test_journeys import demo, sign_in  # noqa: F401 (demo is a fixture)
from tablee.directory.models import Structure
from tablee.plans.models import (
    Action,
    ActionComment,
    ConsultationSession,
    PlanValidation,
    Proposal,
    ProposalVote,
    StakeholderGroup,
)

COORDINATOR = "coordination@demo.tablee.fr"
LOCAL_AUTHORITY = "collectivite@demo.tablee.fr"
FUNDER = "financeur@demo.tablee.fr"

SESSION_TITLE = "Atelier du marché couvert sur le plan d'action (fictif)"
HEADCOUNTS = {"professionals": 6, "volunteers": 4, "elected": 2, "people": 12, "authority": 1}
TRANSPORT_NEED = DEMO_NEEDS[1][0]  # « Pas de transport vers la distribution le samedi »
COOKING_NEED = DEMO_NEEDS[3][0]  # « Peu d'idées de repas avec les produits du colis »
# (group label, text, linked need, votes per group)
PROPOSALS = [
    (
        "Personnes concernées",
        "Un minibus solidaire le samedi matin entre les hameaux et l'épicerie (fictif)",
        TRANSPORT_NEED,
        {"people": 15, "professionals": 4, "elected": 2},
    ),
    (
        "Professionnel·les",
        "Des paniers de saison accompagnés de fiches recettes illustrées (fictif)",
        COOKING_NEED,
        {"professionals": 12, "people": 3, "volunteers": 3},
    ),
    (
        "Élu·es",
        "Un stand d'information sur les aides au marché hebdomadaire (fictif)",
        None,
        {"elected": 3, "people": 5},
    ),
]
COMMITTEE = "Comité de pilotage du plan d'action (fictif)"
NEW_PROGRESS = 35


def demo_structure(pt, key: str) -> Structure:
    return Structure.objects.get(source="demo", source_id=f"{pt.territory_id}-{key}")


def structure_label(structure: Structure) -> str:
    return f"{structure.name} ({structure.commune.name})"


def success(page, text: str):
    expect(page.get_by_role("status").filter(has_text=text)).to_be_visible()


def record_votes(browsing, votes: dict[str, int]):
    page = browsing.page
    page.get_by_role("link", name="Saisir les voix").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Saisir les voix par groupe")
    browsing.check_page()
    for group, count in votes.items():
        page.locator(f"#id_votes_{group}").fill(str(count))
    page.get_by_role("button", name="Enregistrer les voix").click()
    success(page, "Les voix sont enregistrées.")
    browsing.check_page()


def turn_into_action(browsing, pt, text: str, pilot: Structure, axis: str) -> Action:
    """From the proposal's page, « Transformer en action »: the form comes filled from the
    proposal (title, description, need, proposal); the coordinator adds an axis and a pilot."""
    page = browsing.page
    page.get_by_role("link", name=text).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposition")
    browsing.check_page()
    page.get_by_role("link", name="Transformer en action").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle action")
    expect(page.get_by_text("Action préparée à partir d'une proposition")).to_be_visible()
    browsing.check_page()
    expect(page.locator("#id_title")).to_have_value(text)
    origin = page.get_by_role("group", name="Propositions d'origine (concertation)")
    expect(origin.get_by_role("checkbox", name=re.compile(re.escape(text)))).to_be_checked()
    page.locator("#id_axis").select_option(label=axis)
    page.get_by_role("group", name="Structures pilotes").get_by_label(
        structure_label(pilot), exact=True
    ).check()
    page.get_by_role("group", name="Publics visés").get_by_label(
        "Personnes en situation de précarité alimentaire"
    ).check()
    year = timezone.localdate().year
    page.locator("#id_start_date").fill(f"{year}-09-01")
    page.locator("#id_end_date").fill(f"{year + 1}-06-30")
    page.get_by_role("button", name="Enregistrer").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(text)
    action = Action.objects.get(plan__programme_territory=pt, title=text)
    expect(heading).to_have_text(f"{action.code} — {text}")
    success(page, f"L'action « {action.code} — {text} » est créée.")
    browsing.check_page()
    return action


@pytest.mark.browser
def test_done_means_the_coordinator_co_constructs_validates_and_updates_the_plan(
    browsing,
    demo,  # noqa: F811 (the fixture imported from test_journeys)
    tmp_path,
):
    pt = demo.loudeac
    name = pt.territory.name
    today = timezone.localdate()
    grocery = demo_structure(pt, "epicerie")
    ccas = demo_structure(pt, "ccas")
    page = sign_in(browsing, COORDINATOR, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")

    # From the home page to the territory, then to its co-construction.
    page.get_by_role("region", name="Vos territoires").get_by_role("link", name=name).click()
    expect(page).to_have_url(f"{browsing.base_url}/programmes/territoires/{pt.pk}/")
    browsing.check_page()
    page.get_by_role("link", name="Concertation", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Concertation — {name}")
    browsing.check_page()

    # A workshop, with the participants counted per group.
    page.get_by_role("link", name="Enregistrer une séance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle séance de concertation")
    browsing.check_page()
    session_day = today - datetime.timedelta(days=3)
    page.locator("#id_date").fill(f"{session_day:%Y-%m-%d}")
    page.locator("#id_kind").select_option(label="Atelier de concertation")
    page.locator("#id_title").fill(SESSION_TITLE)
    page.locator("#id_place").fill("Halle du marché (fictive)")
    for group, count in HEADCOUNTS.items():
        page.locator(f"#id_count_{group}").fill(str(count))
    represented = page.get_by_role("group", name="Structures représentées")
    for structure in (grocery, ccas):
        represented.get_by_label(structure.name).check()
    page.get_by_role("button", name="Enregistrer").click()
    success(page, "La séance est enregistrée.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(SESSION_TITLE)
    browsing.check_page()
    headcounts = page.get_by_role("table", name="Participant·es par groupe")
    expect(headcounts.get_by_role("row").filter(has_text="Personnes concernées")).to_contain_text(
        "12"
    )
    expect(headcounts.get_by_role("row").filter(has_text="Total")).to_contain_text(
        str(sum(HEADCOUNTS.values()))
    )
    expect(page.get_by_role("listitem").filter(has_text=grocery.name)).to_be_visible()
    session_url = page.url

    # Three proposals typed in a row by the facilitator: people concerned first.
    page.get_by_role("link", name="Saisir une proposition des personnes concernées").click()
    for index, (group, text, need, _) in enumerate(PROPOSALS):
        expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle proposition")
        browsing.check_page()
        expect(page.locator("#id_session option:checked")).to_contain_text(
            f"{session_day:%d/%m/%Y}"
        )
        page.locator("#id_origin_group").select_option(label=group)
        page.locator("#id_text").fill(text)
        if need:
            page.get_by_role("group", name="Besoins liés (issus du diagnostic)").get_by_label(
                need
            ).check()
        last = index == len(PROPOSALS) - 1
        button = "Enregistrer" if last else "Enregistrer et saisir une autre proposition"
        page.get_by_role("button", name=button, exact=True).click()
        success(page, "La proposition est enregistrée.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Proposition")
    browsing.check_page()
    proposals = Proposal.objects.filter(programme_territory=pt, session__title=SESSION_TITLE)
    assert sorted(proposals.values_list("origin_group", flat=True)) == sorted(
        [StakeholderGroup.PEOPLE, StakeholderGroup.PROFESSIONALS, StakeholderGroup.ELECTED]
    )

    # The votes of each group, proposal by proposal, from the session's page.
    record_votes(browsing, PROPOSALS[-1][3])
    for _, text, _, votes in PROPOSALS[:-1]:
        browsing.visit(session_url.removeprefix(browsing.base_url))
        page.get_by_role("link", name=text).click()
        browsing.check_page()
        record_votes(browsing, votes)
    assert ProposalVote.objects.filter(proposal__in=proposals).count() == 8

    # The results per group, for this workshop only: the people concerned's column beside the others.
    page.locator("#id_seance").select_option(
        label=f"Atelier de concertation du {session_day:%d/%m/%Y}"
    )
    page.get_by_role("button", name="Filtrer").click()
    browsing.check_page()
    results = page.get_by_role(
        "table", name=re.compile("^Voix reçues par proposition et par groupe")
    )
    rows = results.locator("tbody tr")
    expect(rows).to_have_count(3)
    # Ranked by total: 21 (people's minibus), 18 (professionals' baskets), 8 (elected's stand).
    for rank, (_, text, _, _) in enumerate(PROPOSALS):
        expect(rows.nth(rank)).to_contain_text(text)
    header = [text.strip() for text in results.locator("thead th").all_inner_texts()]
    people_column = header.index("Personnes concernées")
    professionals_column = header.index("Professionnel·les")
    expect(rows.nth(0).locator("th, td").nth(people_column)).to_have_text("15")
    expect(rows.nth(1).locator("th, td").nth(people_column)).to_have_text("3")
    expect(rows.nth(1).locator("th, td").nth(professionals_column)).to_have_text("12")
    expect(rows.nth(0).locator("td").last).to_have_text("21")
    # Ranked by the votes of the people concerned instead: the elected's stand comes second.
    results.get_by_role("link", name="Personnes concernées").click()
    browsing.check_page()
    for rank, index in enumerate((0, 2, 1)):
        expect(rows.nth(rank)).to_contain_text(PROPOSALS[index][1])

    # Two proposals become actions, linked to the needs they answer, each with a pilot.
    axis = "Accès à une alimentation de qualité (fictif)"
    new_actions = []
    for (_, text, need, _), pilot in zip(PROPOSALS[:2], (grocery, ccas), strict=True):
        browsing.visit(session_url.removeprefix(browsing.base_url))
        action = turn_into_action(browsing, pt, text, pilot, axis)
        story = page.get_by_role("heading", name="Les besoins auxquels elle répond")
        expect(story).to_be_visible()
        expect(page.get_by_text(need, exact=True)).to_be_visible()
        expect(page.get_by_text(f"« {text} » — proposée par")).to_be_visible()
        assert list(action.needs.values_list("title", flat=True)) == [need]
        assert list(action.pilots.all()) == [pilot]
        new_actions.append(action)
    minibus, baskets = new_actions
    assert set(
        proposals.filter(status=Proposal.Status.RETAINED).values_list("text", flat=True)
    ) == {
        PROPOSALS[0][1],
        PROPOSALS[1][1],
    }

    # The plan is validated again at the steering committee: version 2.
    page = browsing.visit(f"/plans/{pt.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Plan d'action — {name}")
    assert PlanValidation.objects.filter(plan__programme_territory=pt).count() == 1
    page.get_by_role("link", name="Valider une version").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Valider la version 2 du plan")
    browsing.check_page()
    committee = ConsultationSession.objects.get(programme_territory=pt, title=COMMITTEE)
    page.locator("#id_committee").select_option(label=f"{COMMITTEE} ({committee.date:%d/%m/%Y})")
    page.locator("#id_validated_by").fill(
        "Comité de pilotage : communauté de communes, association, personnes concernées (fictif)"
    )
    page.get_by_role("button", name="Enregistrer la validation").click()
    success(page, "La version 2 du plan est enregistrée comme validée.")
    browsing.check_page()
    validation = PlanValidation.objects.get(plan__programme_territory=pt, number=2)
    assert validation.committee.title == COMMITTEE
    assert {row["code"] for row in validation.snapshot} >= {minibus.code, baskets.code}

    # Progress by a spreadsheet round trip: export, edit one cell, import, preview, confirm.
    page = browsing.visit(f"/plans/{pt.pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Exporter le plan (XLSX)").click()
    exported = tmp_path / "plan.xlsx"
    download_info.value.save_as(exported)
    workbook = openpyxl.load_workbook(exported)
    sheet = workbook["Actions"]
    headers = [cell.value for cell in sheet[1]]
    code_column = headers.index("Code") + 1
    progress_column = headers.index("Avancement (%)") + 1
    status_column = headers.index("Statut") + 1
    codes = {sheet.cell(row, code_column).value: row for row in range(2, sheet.max_row + 1)}
    assert {"A1", minibus.code, baskets.code} <= set(codes)
    row = codes[minibus.code]
    assert sheet.cell(row, progress_column).value == 0
    sheet.cell(row, progress_column).value = NEW_PROGRESS
    sheet.cell(row, status_column).value = "En cours"
    edited = tmp_path / "plan-modifie.xlsx"
    workbook.save(edited)

    page.get_by_role("link", name="Mettre à jour depuis un tableur").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Importer le plan d'action depuis un tableur"
    )
    browsing.check_page()
    page.get_by_label("Classeur du plan (XLSX)").set_input_files(edited)
    page.get_by_role("button", name="Voir ce qui va changer").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Aperçu de l'import")
    browsing.check_page()
    changed = page.get_by_role("table", name="Actions créées ou mises à jour")
    expect(changed.locator("tbody tr")).to_have_count(1)
    change = changed.get_by_role("row").filter(has_text=minibus.code)
    expect(change).to_contain_text(f"Avancement (%) : 0 % → {NEW_PROGRESS} %")
    expect(change).to_contain_text("Statut : À venir → En cours")
    minibus.refresh_from_db()
    assert minibus.progress == 0  # nothing written before the confirmation
    page.get_by_role("button", name="Confirmer l'import").click()
    success(page, "Import terminé : 0 action(s) créée(s), 1 mise(s) à jour")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Plan d'action — {name}")
    browsing.check_page()
    minibus.refresh_from_db()
    assert (minibus.progress, minibus.status) == (NEW_PROGRESS, Action.Status.IN_PROGRESS)
    plan_row = page.get_by_role("row").filter(has_text=minibus.title)
    expect(plan_row).to_contain_text(f"{NEW_PROGRESS} %")
    expect(plan_row).to_contain_text("En cours")

    # The steering table, filtered on the actions in progress, and the timeline.
    page.get_by_role("link", name="Tableau de pilotage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tableau de pilotage")
    browsing.check_page()
    page.locator("#id_statut").select_option(label="En cours")
    steering = page.locator("#steering-results")
    expect(steering).to_contain_text("correspondent aux filtres")
    expect(page).to_have_url(re.compile(r"statut=in_progress"))
    table = steering.get_by_role("table", name="Actions du plan, triées et filtrées")
    in_progress = Action.objects.filter(
        plan__programme_territory=pt, status=Action.Status.IN_PROGRESS
    ).count()
    expect(table.locator("tbody tr")).to_have_count(in_progress)
    expect(table.get_by_role("row").filter(has_text=minibus.title)).to_contain_text(
        f"{NEW_PROGRESS} %"
    )
    expect(table.get_by_role("row").filter(has_text=baskets.title)).to_have_count(0)
    browsing.check_page()
    page = browsing.visit(f"/plans/{pt.pk}/pilotage/?statut=in_progress&tri=-avancement")
    expect(page.locator("#steering-results tbody tr").first).to_contain_text("C1")
    page.get_by_role("link", name="Calendrier par trimestre").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Calendrier du plan par trimestre")
    browsing.check_page()
    timeline = page.get_by_role("table", name="Actions du plan par trimestre")
    minibus_row = timeline.get_by_role("row").filter(has_text=minibus.title)
    expect(minibus_row.get_by_text("en cours", exact=True)).not_to_have_count(0)

    # The PAT's « volet justice sociale » as a PDF.
    page = browsing.visit(f"/plans/{pt.pk}/")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Volet justice sociale du PAT (PDF)").click()
    pdf = tmp_path / "pat.pdf"
    download_info.value.save_as(pdf)
    assert pdf.read_bytes()[:4] == b"%PDF"
    text = pdf_text(pdf)
    assert name in text
    assert "justice sociale" in text.lower()
    for action in (minibus, baskets):
        assert action.code in text
        assert action.title in text
    assert grocery.name in text

    # Anonymous, the public page: the new actions and their progress.
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")
    browsing.check_page()
    page = browsing.visit(f"/engagements/{pt.pk}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Vous avez dit, nous avons fait — {name}"
    )
    expect(page.get_by_text("version 2 validée")).to_be_visible()
    public_row = page.get_by_role("row").filter(has_text=minibus.title)
    expect(public_row).to_contain_text("En cours")
    expect(public_row).to_contain_text(f"{NEW_PROGRESS} %")
    expect(page.get_by_role("row").filter(has_text=baskets.title)).to_contain_text("À venir")
    expect(page.get_by_text(TRANSPORT_NEED)).to_contain_text(minibus.code)
    # Proposals are not published: only the actions decided (titled by the association).
    expect(page.get_by_text(PROPOSALS[2][1])).to_have_count(0)


@pytest.mark.browser
def test_the_local_authority_comments_and_proposes_and_the_funder_is_refused(
    browsing,
    demo,  # noqa: F811 (the fixture imported from test_journeys)
):
    pt = demo.loudeac
    action = Action.objects.get(plan__programme_territory=pt, code="A1")
    page = sign_in(browsing, LOCAL_AUTHORITY, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")

    # The plan, read only, then an action and a comment on it.
    page = browsing.visit(f"/plans/{pt.pk}/")
    expect(page.get_by_role("link", name="Valider une version")).to_have_count(0)
    expect(page.get_by_role("link", name="Mettre à jour depuis un tableur")).to_have_count(0)
    page.get_by_role("link", name=action.title).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"A1 — {action.title}")
    browsing.check_page()
    expect(page.get_by_role("link", name="Modifier l'action")).to_have_count(0)
    comment = "La commune de Loudéac peut prêter une salle pour la tournée du samedi (fictif)."
    page.get_by_label("Commentaire").fill(comment)
    page.get_by_role("button", name="Publier le commentaire").click()
    success(page, "Votre commentaire est publié.")
    expect(page.get_by_text(comment)).to_be_visible()
    browsing.check_page()
    assert ActionComment.objects.filter(action=action, text=comment).count() == 1

    # A proposal, on behalf of the local authority and its PAT.
    page = browsing.visit(f"/plans/concertation/{pt.pk}/")
    expect(page.get_by_role("link", name="Enregistrer une séance")).to_have_count(0)
    page.get_by_role("link", name="Ajouter une proposition").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Nouvelle proposition")
    browsing.check_page()
    expect(page.locator("#id_origin_group option:checked")).to_have_text("Collectivité et PAT")
    expect(page.locator("#id_status")).to_have_count(0)
    text = "Ouvrir la cuisine centrale aux ateliers cuisine le mercredi (fictif)"
    page.locator("#id_text").fill(text)
    page.get_by_role("button", name="Enregistrer", exact=True).click()
    success(page, "La proposition est enregistrée.")
    browsing.check_page()
    proposal = Proposal.objects.get(programme_territory=pt, text=text)
    assert proposal.origin_group == StakeholderGroup.AUTHORITY
    assert proposal.status == Proposal.Status.OPEN
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Connexion")

    # The funder reads aggregates elsewhere: the plan and its co-construction are refused.
    page = sign_in(browsing, FUNDER, DEMO_PASSWORD)
    expect(page).to_have_url(browsing.base_url + "/")
    for path in (f"/plans/{pt.pk}/", f"/plans/concertation/{pt.pk}/"):
        page = browsing.visit(path, status=403)
        expect(page.get_by_role("heading", level=1)).to_have_text("Accès refusé")
