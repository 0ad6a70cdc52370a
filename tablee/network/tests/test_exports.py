"""Exports of a territory's network: GEXF and GraphML read back with networkx, CSV of nodes and
edges; audited; same filters as the page."""

import csv
import datetime
import io

import networkx as nx
import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.tests.factories_i import MeetingFactory
from tablee.network.models import Link, LinkKind, LinkSource
from tablee.network.services import ensure_fresh_links
from tablee.network.tests.factories import (
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    VIEW_ROLES,
    NetworkWorld,
    manual_link,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = NetworkWorld()
    MeetingFactory(
        programme_territory=world.t1,
        date=datetime.date(2025, 3, 14),
        structures=[world.neighbour, world.health_centre],
    )
    world.referral = manual_link(
        world.t1,
        world.neighbour,
        world.health_centre,
        kind=LinkKind.REFERRAL,
        started_on=datetime.date(2025, 4, 1),
        note="Note de travail, jamais exportée",
    )
    world.ended = manual_link(
        world.t1,
        world.own,
        world.cmp,
        kind=LinkKind.INFORMATION,
        started_on=datetime.date(2024, 3, 1),
        ended_on=datetime.date(2024, 10, 1),
    )
    manual_link(world.t2, world.sibling, world.own)
    ensure_fresh_links(world.t1)
    world.met = Link.objects.get(source=LinkSource.DERIVED)
    return world


def export_url(world, fmt):
    return reverse("network:export", args=[world.t1.pk, fmt])


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.mark.parametrize("role", VIEW_ROLES)
def test_those_who_read_the_network_export_it(client, world, role):
    client.force_login(getattr(world, role))
    for fmt in ("gexf", "graphml", "noeuds", "liens"):
        assert client.get(export_url(world, fmt)).status_code == 200


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_the_funder_cannot_export(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(export_url(world, "gexf")).status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).exists()


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_out_of_scope_exports_answer_404(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(export_url(world, "gexf")).status_code == 404


def test_an_unknown_format_answers_404(client, world):
    client.force_login(world.coordinator)
    assert client.get(export_url(world, "pdf")).status_code == 404


def test_gexf_reads_back_with_networkx(client, world, django_assert_num_queries):
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, fingerprint, links, structures, audit event
    with django_assert_num_queries(8):
        response = client.get(export_url(world, "gexf"))
    assert response["Content-Type"] == "application/gexf+xml"
    assert "reseau-cc-une-" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith('.gexf"')

    graph = nx.read_gexf(io.BytesIO(body(response)))

    # Every structure of the territory, linked or not; today's links, one edge per link.
    assert graph.number_of_nodes() == 5
    health = graph.nodes[str(world.health_centre.pk)]
    assert health["label"] == "Centre de santé de Loudéac"
    assert (health["name"], health["sector"], health["commune"]) == (
        "Centre de santé de Loudéac",
        "Santé",
        "Loudéac",
    )
    edges = sorted(graph.edges(data=True), key=lambda edge: edge[2]["kind"])
    assert len(edges) == 2
    kinds = [data["kind"] for _, _, data in edges]
    assert kinds == ["Orientation de personnes", "Rencontre commune"]
    referral = edges[0][2]
    assert referral["source"] == "Saisi à la main"
    assert referral["started_on"] == "2025-04-01"
    assert referral["strength"] == 1
    met = edges[1][2]
    assert (met["started_on"], met["last_seen_on"]) == ("2025-03-14", "2025-03-14")
    assert "Note de travail" not in body(response).decode()

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.actor == world.coordinator
    assert event.detail == {"format": "gexf", "structures": 5, "links": 2, "filtered": False}


def test_graphml_reads_back_with_networkx(client, world):
    client.force_login(world.local_authority)
    response = client.get(export_url(world, "graphml"), {"au": "2024-06-01"})

    graph = nx.read_graphml(io.BytesIO(body(response)))

    assert graph.number_of_nodes() == 5
    # On 1 June 2024 only the information exchange was active.
    [(first, second, data)] = list(graph.edges(data=True))
    assert {first, second} == {str(world.own.pk), str(world.cmp.pk)}
    assert data["kind"] == "Échange d'informations"
    assert data["ended_on"] == "2024-10-01"
    assert graph.nodes[str(world.mecs.pk)]["sector"] == "Médico-social"
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT).detail["filtered"] is True
    # Today the CCAS and the health centre met and have a referral agreement: two parallel edges.
    today = nx.read_graphml(io.BytesIO(body(client.get(export_url(world, "graphml")))))
    assert today.is_multigraph()
    assert today.number_of_edges(str(world.neighbour.pk), str(world.health_centre.pk)) == 2


def test_csv_of_nodes_and_of_edges(client, world):
    client.force_login(world.coordinator)

    nodes = client.get(export_url(world, "noeuds"))
    edges = client.get(export_url(world, "liens"), {"nature": LinkKind.REFERRAL})

    assert nodes["Content-Type"] == "text/csv; charset=utf-8"
    node_rows = list(csv.DictReader(io.StringIO(body(nodes).decode("utf-8-sig")), delimiter=";"))
    assert [row["Structure"] for row in node_rows] == [
        "CCAS de Loudéac",
        "Centre de santé de Loudéac",
        "CMP de Loudéac",
        "Épicerie solidaire du Centre",
        "MECS de Loudéac",
    ]
    ccas = node_rows[0]
    assert (ccas["Secteur"], ccas["Structures liées"], ccas["Liée à une structure de santé"]) == (
        "Social",
        "1",
        "oui",
    )
    assert node_rows[3]["Liée à une structure de santé"] == "non"
    edge_rows = list(csv.DictReader(io.StringIO(body(edges).decode("utf-8-sig")), delimiter=";"))
    assert len(edge_rows) == 1
    row = edge_rows[0]
    assert {row["Structure"], row["Structure liée"]} == {
        "CCAS de Loudéac",
        "Centre de santé de Loudéac",
    }
    assert (row["Nature"], row["Origine"], row["Depuis le"], row["Fin"]) == (
        "Orientation de personnes",
        "Saisi à la main",
        "01/04/2025",
        "",
    )
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).count() == 2


def test_export_links_on_the_page_carry_the_filters(client, world):
    client.force_login(world.coordinator)
    response = client.get(
        reverse("network:territory", args=[world.t1.pk]), {"nature": "referral", "au": "2025-05-01"}
    )
    content = response.content.decode()
    assert f"{export_url(world, 'gexf')}?nature=referral&amp;au=2025-05-01" in content
