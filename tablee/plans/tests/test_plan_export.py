"""The plan as an XLSX workbook: its sheets and cells, who may download it, its query count."""

import datetime

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.plans.models import ActionPlan
from tablee.plans.tests.factories import ActionFactory
from tablee.plans.tests.factories_sheets import (
    EDITORS,
    OUT_OF_SCOPE,
    READERS,
    PlanWorld,
    sheet_rows,
    workbook,
)

pytestmark = pytest.mark.django_db

HEADERS = (
    "Code",
    "Axe",
    "Intitulé",
    "Description",
    "Objectifs",
    "Statut",
    "Avancement (%)",
    "Priorité",
    "Poids",
    "Début",
    "Fin",
    "Publics",
    "Besoins",
    "Structures pilotes",
    "Partenaires",
    "Élu·e référent·e",
    "Axe du PAT",
    "Participation",
    "Version",
    "Confirmer",
)


@pytest.fixture
def world():
    return PlanWorld()


def url(pt):
    return reverse("plan_sheets:export", args=[pt.pk])


def test_the_workbook_holds_the_actions_their_budget_and_the_accepted_values(client, world):
    world.a1.version = 4
    world.a1.save()
    client.force_login(world.coordinator)

    response = client.get(url(world.t1))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert "plan-d-action-cc-une" in response["Content-Disposition"]
    book = workbook(response.content)
    assert book.sheetnames == ["Actions", "Budget", "Valeurs possibles"]
    header = next(book["Actions"].iter_rows(values_only=True))
    assert header == HEADERS
    rows = {row["Code"]: row for row in sheet_rows(book, "Actions")}
    assert list(rows) == ["A1", "A2", "A3"]
    a1 = rows["A1"]
    assert a1["Axe"] == "Accès à l'alimentation"
    assert a1["Intitulé"] == "Navette solidaire vers l'épicerie"
    assert a1["Statut"] == "En cours"
    assert a1["Avancement (%)"] == 40
    assert a1["Priorité"] == "Moyenne"
    assert a1["Poids"] == 2
    assert a1["Début"].date() == datetime.date(2025, 1, 15)  # a date cell
    assert a1["Fin"].date() == datetime.date(2025, 12, 31)
    assert a1["Publics"] == (
        "Personnes en situation de précarité alimentaire ; Bénévoles de l'aide alimentaire"
    )
    assert a1["Besoins"] == "Pas de transport le samedi"
    assert a1["Structures pilotes"] == "Épicerie solidaire du Centre"
    assert a1["Partenaires"] == "CCAS de Loudéac"
    assert a1["Élu·e référent·e"] == "Élue fictive aux solidarités"
    assert a1["Axe du PAT"] == "Accessibilité"
    assert a1["Participation"] == "Co-construction"
    assert a1["Version"] == 4
    assert a1["Confirmer"] is None
    assert rows["A3"]["Axe"] is None  # outside any axis: an empty cell
    assert rows["A3"]["Statut"] == "Réalisée"
    budget = sheet_rows(book, "Budget")
    assert budget == [
        {
            "Code": "A1",
            "Année": 2025,
            "Financeur": "DREETS Bretagne",
            "Prévu": 12000,
            "Dépensé": 3000.5,
        }
    ]
    values = sheet_rows(book, "Valeurs possibles")
    assert {"Colonne": "Axe", "Valeurs acceptées": "Savoir-faire et lien social"} in values
    assert {"Colonne": "Besoins", "Valeurs acceptées": "Reste à vivre trop faible"} in values
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.actor == world.coordinator
    assert event.detail == {"format": "xlsx", "actions": 3}


def test_a_formula_typed_in_a_title_stays_text(client, world):
    ActionFactory(plan=world.plan, code="A9", title='=HYPERLINK("http://exemple.invalid","x")')
    client.force_login(world.coordinator)

    book = workbook(client.get(url(world.t1)).content)

    cells = {row[0].value: row for row in book["Actions"].iter_rows(min_row=2)}
    title = cells["A9"][2]
    assert title.data_type == "s"
    assert title.value == '=HYPERLINK("http://exemple.invalid","x")'


# 1 session, 2 user, 3 memberships, 4 programme territory (scope-filtered, with its programme,
# EPCI and plan), 5 actions with their axis, 6 their needs, 7 their pilots, 8 their partners,
# 9 budget lines, 10 axes and 11 needs of the territory (accepted values), 12 audit event.
EXPORT_QUERIES = 12


def test_the_export_runs_in_a_fixed_number_of_queries(client, world, django_assert_num_queries):
    for n in range(6):
        action = ActionFactory(plan=world.plan, axis=world.skills, code=f"B{n}")
        action.needs.set([world.transport, world.money])
        action.pilots.set([world.own, world.neighbour])
    client.force_login(world.coordinator)

    with django_assert_num_queries(EXPORT_QUERIES):
        response = client.get(url(world.t1))

    assert response.status_code == 200
    assert len(sheet_rows(workbook(response.content), "Actions")) == 9


@pytest.mark.parametrize("role", EDITORS + READERS)
def test_the_association_the_partner_and_the_local_authority_download_the_plan(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url(world.t1)).status_code == 200


def test_the_funder_is_refused(client, world):
    client.force_login(world.funder)
    assert client.get(url(world.t1)).status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).exists()


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_another_territory_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url(world.t1)).status_code == 404


def test_a_territory_without_a_plan_answers_404(client, world):
    assert not ActionPlan.objects.filter(programme_territory=world.t2).exists()
    client.force_login(world.coordinator)
    assert client.get(url(world.t2)).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, world):
    response = client.get(url(world.t1))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]
