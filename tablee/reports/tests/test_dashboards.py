"""The programme and territory dashboards: who sees them, what they show (masked or not), the
period selector, the links to the records, and their query counts."""

import html
import re

import pytest
from django.urls import NoReverseMatch, reverse

from tablee.accounts.models import Role
from tablee.accounts.tests.factories import MembershipFactory
from tablee.activities.models import Headcount, Session
from tablee.activities.tests.factories import SessionFactory, at
from tablee.reports.tests.factories_reports import ReportWorld
from tablee.territories.models import Audience
from tablee.territories.tests.factories import ProgrammeTerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return ReportWorld()


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def programme_url(world, **params):
    url = reverse("reports:programme_dashboard", args=[world.programme.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def territory_url(pt, **params):
    url = reverse("reports:territory_dashboard", args=[pt.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in params.items()) if params else "")


def table(response, caption: str) -> list[list[str]]:
    """The rows of the table captioned ``caption``, as texts."""
    blocks = [b for b in response.context["blocks"] if b.kind == "table" and b.caption == caption]
    assert blocks, f"pas de tableau « {caption} »"
    return [[str(cell.display) for cell in row] for row in blocks[0].rows]


def figure(response, name: str):
    for block in response.context["blocks"]:
        if block.kind == "figures":
            for label, cell in block.items:
                if label == name:
                    return cell
    raise AssertionError(f"pas de chiffre « {name} »")


def url_exists(name: str, *args) -> bool:
    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


# ---- Who may open them -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "coordinator", "funder", "local_authority"])
def test_dashboard_roles_open_the_programme_dashboard(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(programme_url(world)).status_code == 200


@pytest.mark.parametrize("role", ["admin", "coordinator", "territory_coordinator", "funder"])
def test_dashboard_roles_open_a_territory_dashboard(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(territory_url(world.t1)).status_code == 200


def test_the_partner_is_refused(client, world):
    client.force_login(world.partner)
    assert client.get(programme_url(world)).status_code == 403
    assert client.get(territory_url(world.t1)).status_code == 403


def test_outside_the_scope_answers_404(client, world):
    client.force_login(world.local_authority)
    assert client.get(territory_url(world.t2)).status_code == 404
    client.force_login(world.no_role)
    assert client.get(programme_url(world)).status_code == 404
    assert client.get(territory_url(world.t1)).status_code == 404
    client.force_login(
        MembershipFactory(role=Role.COORDINATOR, programme=world.other_programme).user
    )
    assert client.get(programme_url(world)).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, world):
    response = client.get(programme_url(world))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# ---- What they show ----------------------------------------------------------------------------


def test_the_coordinator_sees_exact_figures(client, world):
    client.force_login(world.coordinator)
    response = client.get(programme_url(world))
    assert figure(response, "Séances réalisées").value == 4
    assert figure(response, "Séances programmées").value == 1
    assert figure(response, "Participations aux séances réalisées").value == 49
    assert table(response, "Personnes touchées par territoire et par public") == [
        ["CC Deux", "0", "0", "0", "7", "7"],
        ["CC Une", "12", "0", "0", "30", "42"],
        ["Total", "12", "0", "0", "37", "49"],
    ]
    assert table(response, "Séances par public")[3] == [
        "Personnes en situation de précarité alimentaire",
        "3",
        "0",
        "120",
    ]
    assert figure(response, "Besoins identifiés").value == 3
    assert figure(response, "Structures touchées").value == 3
    assert figure(response, "Satisfaction moyenne").display == "4,4\u00a0/\u00a05"
    page = text(response)
    assert "Secret statistique" not in page
    # Each chart comes with its table.
    charts = [b for b in response.context["blocks"] if b.kind == "chart"]
    assert {c.title for c in charts} >= {
        "Séances réalisées par public",
        "Structures touchées par secteur",
    }
    assert response.content.decode().count("data:image/svg+xml;base64,") == len(charts)


def test_the_funder_sees_counts_of_persons_masked(client, world):
    client.force_login(world.funder)
    response = client.get(programme_url(world))
    rows = table(response, "Personnes touchées par territoire et par public")
    # CC Deux reached 7 people: masked, and so is enough of the rest that it cannot be rebuilt.
    assert rows[0][0] == "CC Deux"
    assert rows[0][4] == "s" and rows[0][5] == "s"
    assert rows[1][4] == "s"
    assert rows[2][5] == "49"
    assert "Secret statistique" in text(response)
    # 15 evaluations in all, but only 3 for... every audience but one is 0: the total is shown,
    # the masked audience cannot be rebuilt from it.
    evaluations = table(response, "Évaluations des séances par public (satisfaction de 1 à 5)")
    assert evaluations[3][1] == "15"
    assert (
        figure(response, "Réponses au questionnaire de sécurité alimentaire (FIES)").value == "< 11"
    )
    # The funder opens no records: no figure is a link.
    assert not any(
        cell.url
        for block in response.context["blocks"]
        if block.kind == "table"
        for row in block.rows
        for cell in row
    )


def test_a_territory_dashboard_is_masked_as_the_programme_table(client, world):
    client.force_login(world.funder)
    response = client.get(territory_url(world.t2))
    assert table(response, "Personnes touchées par public") == [
        ["Professionnel·les du social et du médico-social", "0"],
        ["Bénévoles de l'aide alimentaire", "0"],
        ["Élu·es", "0"],
        ["Personnes en situation de précarité alimentaire", "s"],
        ["Total", "s"],
    ]
    t1 = client.get(territory_url(world.t1))
    # Masked as in the programme's table (30 is masked there to protect the 7 of CC Deux).
    assert table(t1, "Personnes touchées par public")[3] == [
        "Personnes en situation de précarité alimentaire",
        "s",
    ]


def test_the_local_authority_sees_its_territory_only(client, world):
    client.force_login(world.local_authority)
    response = client.get(programme_url(world))
    assert response.context["restricted"]
    assert figure(response, "Séances réalisées").value == 3
    assert figure(response, "Objectif du territoire (toute la durée)").value == 58
    assert "CC Deux" not in text(response)
    # Masked as in the whole programme's table (the funder's), not on its own.
    mine = [row[1] for row in table(response, "Personnes touchées par public")]
    client.force_login(world.funder)
    programme_table = table(
        client.get(programme_url(world)), "Personnes touchées par territoire et par public"
    )
    assert programme_table[1][0] == "CC Une"
    assert mine == programme_table[1][1:]
    assert "s" in mine


def test_figures_link_to_the_records_behind_them(client, world):
    client.force_login(world.coordinator)
    response = client.get(territory_url(world.t1, annee=2025))
    needs = figure(response, "Besoins identifiés")
    assert needs.url == reverse("diagnostic_records:need_list", args=[world.t1.pk])
    assert f'href="{needs.url}"' in response.content.decode()
    held = figure(response, "Séances réalisées")
    if url_exists("activities:session_list", world.t1.pk):
        assert held.url == (
            reverse("activities:session_list", args=[world.t1.pk]) + "?statut=held&annee=2025"
        )
    else:  # the page of the sessions is not there yet: no link
        assert held.url == ""
    # The local authority does not open the diagnostic's working records.
    client.force_login(world.local_authority)
    response = client.get(territory_url(world.t1))
    assert figure(response, "Besoins identifiés").url == ""


# ---- The period --------------------------------------------------------------------------------


def test_a_year(client, world):
    client.force_login(world.coordinator)
    response = client.get(programme_url(world, annee=2026))
    assert figure(response, "Séances réalisées").value == 1
    assert "Période : année 2026" in text(response)


def test_two_dates(client, world):
    client.force_login(world.coordinator)
    response = client.get(programme_url(world, debut="2025-03-01", fin="2025-04-30"))
    assert figure(response, "Séances réalisées").value == 2
    assert "du 01/03/2025 au 30/04/2025" in text(response)


def test_a_period_ending_before_it_starts_is_refused_in_french(client, world):
    client.force_login(world.coordinator)
    response = client.get(programme_url(world, debut="2026-01-01", fin="2025-01-01"))
    assert response.status_code == 200
    assert "La fin de la période doit être postérieure à son début." in text(response)
    assert response.context["blocks"] == []


def test_half_a_period_is_refused(client, world):
    client.force_login(world.coordinator)
    response = client.get(programme_url(world, debut="2026-01-01"))
    assert "Indiquez le début et la fin de la période." in text(response)


def test_a_period_without_data_shows_an_empty_state(client, world):
    client.force_login(world.coordinator)
    response = client.get(programme_url(world, annee=2024))
    assert response.status_code == 200
    assert "Aucune donnée pour cette période" in text(response)
    assert figure(response, "Séances réalisées").value == 0
    assert not [b for b in response.context["blocks"] if b.kind == "chart"]


# ---- Query counts ------------------------------------------------------------------------------


def add_other_programme_activity():
    for _ in range(3):
        pt = ProgrammeTerritoryFactory()
        for month in range(1, 5):
            session = SessionFactory(
                programme_territory=pt,
                starts_at=at(2025, month, 3),
                ends_at=at(2025, month, 3, 16),
                status=Session.Status.HELD,
            )
            Headcount.objects.create(session=session, audience=Audience.PEOPLE, count=25)


def test_programme_dashboard_queries_stay_flat(client, world, django_assert_num_queries):
    client.force_login(world.coordinator)
    client.get(programme_url(world))  # charts drawn once, then cached
    # session, user, memberships, programme, territories, territories in scope, the eleven
    # figures' queries
    with django_assert_num_queries(17):
        client.get(programme_url(world))
    add_other_programme_activity()
    with django_assert_num_queries(17):
        response = client.get(programme_url(world))
    assert figure(response, "Participations aux séances réalisées").value == 49


def test_territory_dashboard_queries_for_the_funder(client, world, django_assert_num_queries):
    client.force_login(world.funder)
    client.get(territory_url(world.t1))
    # session, user, memberships, territory, the programme's latest report (the link to its PDF
    # for the territory), the eleven figures' queries, the ids of the programme's territories,
    # their attendances and headcounts (the masking of the whole table)
    with django_assert_num_queries(19):
        client.get(territory_url(world.t1))
    add_other_programme_activity()
    with django_assert_num_queries(19):
        client.get(territory_url(world.t1))
