"""The network pages of a territory and of a programme: who may open them, what they show."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tablee.diagnostic.tests.factories_i import MeetingFactory
from tablee.directory.models import Sector
from tablee.directory.tests.factories import StructureFactory
from tablee.network.models import LinkKind, LinkSource
from tablee.network.services import ensure_fresh_links
from tablee.network.tests.factories import (
    EDIT_ROLES,
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    READ_ONLY_ROLES,
    VIEW_ROLES,
    NetworkWorld,
    manual_link,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    world = NetworkWorld()
    # Before the programme: a partnership between the CCAS and the CMP (baseline).
    world.partnership = manual_link(
        world.t1,
        world.neighbour,
        world.cmp,
        kind=LinkKind.PARTNERSHIP,
        started_on=datetime.date(2023, 9, 1),
        note="Convention signée en 2023",
    )
    # During the programme: a meeting of the CCAS, the épicerie and the health centre...
    MeetingFactory(
        programme_territory=world.t1,
        date=datetime.date(2025, 3, 14),
        structures=[world.neighbour, world.own, world.health_centre],
    )
    # ...a referral, and one that stopped.
    world.referral = manual_link(
        world.t1,
        world.mecs,
        world.health_centre,
        kind=LinkKind.REFERRAL,
        started_on=datetime.date(2025, 4, 1),
    )
    world.ended = manual_link(
        world.t1,
        world.own,
        world.cmp,
        kind=LinkKind.INFORMATION,
        started_on=datetime.date(2024, 3, 1),
        ended_on=datetime.date(2024, 10, 1),
    )
    # Elsewhere: nothing of it may show on T1's page.
    manual_link(world.t2, world.sibling, StructureFactory(commune=world.sibling.commune))
    return world


def territory_url(world, pt=None):
    return reverse("network:territory", args=[(pt or world.t1).pk])


def programme_url(world, programme=None):
    return reverse("network:programme", args=[(programme or world.programme).pk])


# ---- Who may open the pages ---------------------------------------------------------------------


@pytest.mark.parametrize("role", VIEW_ROLES)
def test_the_association_partners_and_local_authorities_open_the_pages(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(territory_url(world)).status_code == 200
    assert client.get(programme_url(world)).status_code == 200


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_the_funder_reads_reports_not_the_network(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(territory_url(world)).status_code == 403
    assert client.get(programme_url(world)).status_code == 403


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_a_territory_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(territory_url(world)).status_code == 404


def test_a_programme_out_of_scope_answers_404(client, world):
    client.force_login(world.coordinator)
    assert client.get(programme_url(world, world.other_programme)).status_code == 404
    assert client.get(territory_url(world, world.u)).status_code == 404
    client.force_login(world.no_role)
    assert client.get(programme_url(world)).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, world):
    for address in (territory_url(world), programme_url(world)):
        response = client.get(address)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))


# ---- The territory's page ----------------------------------------------------------------------


def test_the_territory_page_shows_indicators_graphs_and_tables(
    client, world, django_assert_num_queries
):
    ensure_fresh_links(world.t1)
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, fingerprint of the sources, links,
    # structures
    with django_assert_num_queries(7):
        response = client.get(territory_url(world))
    assert response.status_code == 200
    context = response.context
    page = text(response)

    # Today: the partnership, the referral, three pairs met at the meeting (the information
    # exchange ended): 5 linked pairs, the CCAS–CMP pair counting once.
    rows = {row["key"]: row for row in context["indicator_rows"]}
    assert rows["links"]["baseline"] == 1 and rows["links"]["now"] == 5
    assert rows["links"]["change_text"] == "+4"
    assert rows["social_health_links"]["now"] == 3  # CCAS–CMP, CCAS–centre, MECS–centre
    assert rows["social_linked_to_health_share"]["now_text"] == "100 %"
    assert rows["social_linked_to_health_share"]["baseline_text"] == "50 %"
    assert rows["social_linked_to_health_share"]["change_text"] == "+50 points"
    assert rows["isolated_structures"]["baseline"] == 3
    assert rows["isolated_structures"]["now"] == 0
    assert rows["density"]["now_text"] == "0,500"
    assert "Indicateurs du réseau" in page
    assert "Début du programme (01/01/2024)" in page

    # The two graphs side by side, each structure a link to its row, with its tooltip.
    content = response.content.decode()
    assert content.count('class="network-graph"') == 2
    assert content.count(f'href="#structure-{world.health_centre.pk}"') >= 2
    assert f'id="structure-{world.health_centre.pk}"' in content
    assert "<title>2. Centre de santé de Loudéac (Santé) : 3 structures liées</title>" in content
    assert "style=" not in content  # the content security policy forbids inline styles
    # Every structure is linked today: each keeps its place in both graphs, no band of
    # structures without links.
    assert "Structures sans lien à cette date" not in content
    for label in ("Rencontre commune", "Orientation de personnes", "Santé (carré)"):
        assert label in page

    # The table of links, and the note, which the association sees.
    link_rows = context["link_rows"]
    assert len(link_rows) == 5  # three met, the partnership, the referral
    assert {row["link"].kind for row in link_rows} == {
        LinkKind.MET,
        LinkKind.PARTNERSHIP,
        LinkKind.REFERRAL,
    }
    assert "Convention signée en 2023" in page
    assert reverse("network:link_edit", args=[world.t1.pk, world.referral.pk]) in content
    assert [row["link"] for row in context["ended_rows"]] == [world.ended]

    # One row per structure of the directory, numbered as in the graph.
    structures = {row["structure"].name: row for row in context["structure_rows"]}
    assert list(structures) == [
        "CCAS de Loudéac",
        "Centre de santé de Loudéac",
        "CMP de Loudéac",
        "Épicerie solidaire du Centre",
        "MECS de Loudéac",
    ]
    ccas = structures["CCAS de Loudéac"]
    assert (ccas["number"], ccas["sector"], ccas["linked_to_health"]) == (1, "Social", True)
    assert [item["structure"].name for item in ccas["neighbours"]] == [
        "Centre de santé de Loudéac",
        "CMP de Loudéac",
        "Épicerie solidaire du Centre",
    ]
    assert structures["Épicerie solidaire du Centre"]["linked_to_health"] is True
    assert [row["label"] for row in context["series"]][:2] == ["T1 2024", "T2 2024"]
    assert 'src="/static/js/network.js"' in content


def test_links_derived_from_a_new_meeting_appear_by_themselves(client, world):
    ensure_fresh_links(world.t1)
    newcomer = StructureFactory(
        name="PMI de Loudéac", commune=world.commune1, sector="medico_social"
    )
    MeetingFactory(
        programme_territory=world.t1,
        date=datetime.date(2025, 9, 1),
        structures=[newcomer, world.cmp],
    )
    client.force_login(world.local_authority)

    response = client.get(territory_url(world))

    pairs = {(row["first"].name, row["second"].name) for row in response.context["link_rows"]}
    assert tuple(sorted(["PMI de Loudéac", "CMP de Loudéac"], key=str.casefold)) in {
        tuple(sorted(names, key=str.casefold)) for names in pairs
    }


@pytest.mark.parametrize("role", READ_ONLY_ROLES)
def test_partners_and_local_authorities_read_without_notes_or_actions(client, world, role):
    client.force_login(getattr(world, role))
    response = client.get(territory_url(world))
    content = response.content.decode()
    assert "Convention signée en 2023" not in content
    assert reverse("network:link_create", args=[world.t1.pk]) not in content
    assert reverse("network:link_edit", args=[world.t1.pk, world.referral.pk]) not in content
    assert "Recalculer les liens déduits" not in content


@pytest.mark.parametrize("role", EDIT_ROLES)
def test_the_association_sees_the_actions(client, world, role):
    client.force_login(getattr(world, role))
    content = client.get(territory_url(world)).content.decode()
    assert reverse("network:link_create", args=[world.t1.pk]) in content
    assert reverse("network:link_end", args=[world.t1.pk, world.referral.pk]) in content


def test_filter_by_kind(client, world):
    client.force_login(world.coordinator)
    response = client.get(territory_url(world), {"nature": [LinkKind.REFERRAL, "partnership"]})
    assert {row["link"].kind for row in response.context["link_rows"]} == {
        LinkKind.REFERRAL,
        LinkKind.PARTNERSHIP,
    }
    rows = {row["key"]: row for row in response.context["indicator_rows"]}
    assert rows["links"]["now"] == 2
    assert "de nature : Orientation de personnes, Partenariat ou convention" in text(response)
    assert response.context["export_query"] == "nature=referral&nature=partnership"


def test_filter_at_a_date_and_over_a_period(client, world):
    client.force_login(world.coordinator)
    # At 1 June 2024: the partnership and the information exchange.
    response = client.get(territory_url(world), {"au": "2024-06-01"})
    kinds = sorted(row["link"].kind for row in response.context["link_rows"])
    assert kinds == [LinkKind.INFORMATION, LinkKind.PARTNERSHIP]
    assert "Liens actifs le 01/06/2024" in text(response)
    assert response.context["ended_rows"] == []
    # Over 2024: the same two; over the first half of 2025: the information exchange has ended.
    response = client.get(territory_url(world), {"du": "2025-01-01", "au": "2025-06-30"})
    kinds = sorted(row["link"].kind for row in response.context["link_rows"])
    assert kinds == [LinkKind.MET] * 3 + [LinkKind.PARTNERSHIP, LinkKind.REFERRAL]
    assert "Liens actifs à un moment entre le 01/01/2025 et le 30/06/2025" in text(response)


@pytest.mark.parametrize(
    "params",
    [
        {"du": "2025-06-30", "au": "2025-01-01"},
        {"au": "pas une date"},
        {"nature": "inconnue"},
    ],
)
def test_bad_filters_are_explained_and_fall_back_to_today(client, world, params):
    client.force_login(world.coordinator)
    response = client.get(territory_url(world), params)
    assert response.status_code == 200
    page = text(response)
    assert "Les filtres contiennent une erreur" in page
    assert response.context["at"] == timezone.localdate()
    assert response.context["since"] is None
    assert len(response.context["link_rows"]) == 5
    if "du" in params:
        assert "Le début de la période doit précéder sa fin." in page


def test_a_territory_too_large_to_draw_keeps_its_tables(client, world, settings, monkeypatch):
    monkeypatch.setattr("tablee.network.drawing.MAX_DRAWN_NODES", 3)
    client.force_login(world.coordinator)
    response = client.get(territory_url(world))
    assert response.context["drawings"] is None
    assert "trop de structures pour un graphe lisible" in text(response)
    assert len(response.context["structure_rows"]) == 5


# ---- The programme's page ----------------------------------------------------------------------


def test_the_programme_page_shows_each_territory_and_the_whole(
    client, world, django_assert_num_queries
):
    ensure_fresh_links([world.t1, world.t2])
    client.force_login(world.coordinator)
    # session, user, memberships, programme, its territories, fingerprints of both territories,
    # links, structures
    with django_assert_num_queries(8):
        response = client.get(programme_url(world))
    context = response.context
    assert [entry["pt"] for entry in context["per_territory"]] == [world.t2, world.t1]
    by_territory = {entry["pt"]: entry["rows"] for entry in context["per_territory"]}
    assert by_territory[world.t1]["links"]["now"] == 5
    assert by_territory[world.t2]["links"]["now"] == 1
    overall = {row["key"]: row for row in context["indicator_rows"]}
    assert overall["links"]["now"] == 6
    assert overall["links"]["baseline"] == 1
    assert context["series"][0]["label"] == "T1 2024"
    page = text(response)
    assert "Ensemble des territoires" in page and "Par territoire" in page
    assert reverse("network:territory", args=[world.t1.pk]) in response.content.decode()


def test_a_partner_sees_its_own_territory_in_the_programme_page(client, world):
    client.force_login(world.partner)
    response = client.get(programme_url(world))
    assert [entry["pt"] for entry in response.context["per_territory"]] == [world.t1]
    assert response.context["overall"]["now"]["links"] == 5


def test_the_t2_coordinator_sees_t2_only(client, world):
    client.force_login(world.t2_coordinator)
    response = client.get(programme_url(world))
    assert response.context["territories"] == [world.t2]
    sources = {row["key"]: row["now"] for row in response.context["indicator_rows"]}
    assert sources["links"] == 1


def test_derived_links_have_no_actions(client, world):
    ensure_fresh_links(world.t1)
    client.force_login(world.coordinator)
    response = client.get(territory_url(world))
    derived = [
        row["link"]
        for row in response.context["link_rows"]
        if row["link"].source == LinkSource.DERIVED
    ]
    content = response.content.decode()
    assert derived
    for link in derived:
        assert reverse("network:link_edit", args=[world.t1.pk, link.pk]) not in content
    assert Sector.HEALTH  # the health centre is drawn as a square
    assert "<rect x=" in content
