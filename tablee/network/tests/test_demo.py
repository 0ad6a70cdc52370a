"""The demonstration network: idempotent, and the social–health links grow from the baseline."""

import datetime

import pytest

from tablee.demo.network import MANUAL_LINKS, load_demo_network
from tablee.demo.services import DEMO_PROGRAMME_NAME, DEMO_TERRITORIES, load_demo
from tablee.network.metrics import baseline_vs_now
from tablee.network.models import Link, LinkSource
from tablee.territories.models import Programme
from tablee.territories.referential import load_referential

pytestmark = pytest.mark.django_db

LOUDEAC_SIREN = "200067460"


@pytest.fixture
def programme():
    load_referential()
    load_demo()
    return Programme.objects.get(name=DEMO_PROGRAMME_NAME, is_demo=True)


def test_loading_the_demo_network_twice_creates_nothing_new(programme):
    first = load_demo_network(programme)
    links = sorted(Link.objects.values_list("pk", "kind", "source", "started_on", "strength"))

    second = load_demo_network(programme)

    assert first["liens saisis à la main"] == len(DEMO_TERRITORIES) * len(MANUAL_LINKS)
    assert first["liens déduits des rencontres et séances"] > 0
    assert second == first
    assert (
        sorted(Link.objects.values_list("pk", "kind", "source", "started_on", "strength")) == links
    )
    assert all(
        note.endswith("(fictif).")
        for note in Link.objects.filter(source=LinkSource.MANUAL).values_list("note", flat=True)
    )


def test_the_demo_territory_gains_social_health_links_since_the_baseline(programme):
    load_demo_network(programme)
    loudeac = programme.territories.select_related("programme").get(territory_id=LOUDEAC_SIREN)

    comparison = baseline_vs_now([loudeac], today=datetime.date(2026, 6, 30))

    # Before the programme: only the CCAS and the CMP exchanged information.
    assert comparison["baseline"]["social_health_links"] == 1
    assert comparison["now"]["social_health_links"] >= 3
    assert comparison["now"]["links"] > comparison["baseline"]["links"]
    assert (
        comparison["now"]["social_linked_to_health_share"]
        > comparison["baseline"]["social_linked_to_health_share"]
    )
    assert Link.objects.filter(programme_territory=loudeac, source=LinkSource.DERIVED).exists()
