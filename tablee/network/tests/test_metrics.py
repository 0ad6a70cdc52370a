"""Network indicators, checked against small graphs computed by hand."""

import datetime
from types import SimpleNamespace

import pytest

from tablee.directory.models import Sector
from tablee.directory.tests.factories import StructureFactory
from tablee.network.metrics import (
    baseline_vs_now,
    build_graph,
    indicators,
    is_active,
    load_network,
    network_indicators,
    quarter_ends,
    quarterly_series,
)
from tablee.network.models import LinkKind, LinkSource
from tablee.network.tests.factories import NetworkWorld, manual_link

JAN_1 = datetime.date(2025, 1, 1)


def structure(name, sector=Sector.OTHER):
    """A structure as the metrics see it (no database needed)."""
    return SimpleNamespace(
        pk=name, name=name, sector=sector, commune=SimpleNamespace(name="Loudéac")
    )


def link(first, second, kind=LinkKind.MET, started_on=JAN_1, ended_on=None, strength=1):
    return SimpleNamespace(
        structure_a_id=first.pk,
        structure_b_id=second.pk,
        kind=kind,
        started_on=started_on,
        ended_on=ended_on,
        strength=strength,
    )


def figures(structures, links, at=JAN_1, **options):
    return indicators(build_graph(links, at, structures=structures, **options))


def test_a_path_of_three_structures():
    a, b, c = (
        structure("A", Sector.SOCIAL),
        structure("B", Sector.HEALTH),
        structure("C", Sector.SOCIAL),
    )

    result = figures([a, b, c], [link(a, b), link(b, c)])

    assert result["structures"] == 3
    assert result["links"] == 2
    assert result["density"] == pytest.approx(2 / 3)
    assert result["components"] == 1
    assert result["linked_groups"] == 1
    assert result["isolated_structures"] == 0
    assert result["social_health_links"] == 2
    assert (result["social_structures"], result["social_linked_to_health"]) == (2, 2)
    assert result["social_linked_to_health_share"] == 1.0
    # Every shortest path between A and C goes through B: normalised betweenness 1.
    assert result["bridges"] == [{"id": "B", "name": "B", "value": pytest.approx(1.0)}]


def test_two_triangles_joined_through_one_structure():
    # a-b-c and d-e-f are triangles; x joins c and d. Of the 15 pairs of other structures, the 9
    # that cross pass through x (9/15 = 0.6); c (and d) lie on the paths from a and b to x, d, e,
    # f (8/15).
    a, b, c, d, e, f, x = (structure(name) for name in "abcdefx")
    links = [
        link(a, b),
        link(b, c),
        link(a, c),
        link(d, e),
        link(e, f),
        link(d, f),
        link(c, x),
        link(x, d),
    ]

    result = figures([a, b, c, d, e, f, x], links)

    assert result["links"] == 8
    assert result["density"] == pytest.approx(8 / 21)
    assert [(bridge["name"], bridge["value"]) for bridge in result["bridges"]] == [
        ("x", pytest.approx(0.6)),
        ("c", pytest.approx(8 / 15)),
        ("d", pytest.approx(8 / 15)),
    ]


def test_separate_groups_and_structures_without_links():
    a, b, c, d, e = (structure(name) for name in "ABCDE")

    result = figures([a, b, c, d, e], [link(a, b), link(c, d)])

    assert result["isolated_structures"] == 1
    assert result["components"] == 3  # {A, B}, {C, D} and E alone
    assert result["linked_groups"] == 2
    assert result["density"] == pytest.approx(2 / 10)
    assert result["bridges"] == []


def test_share_of_social_and_medico_social_structures_linked_to_health():
    social, other_social = structure("S1", Sector.SOCIAL), structure("S2", Sector.SOCIAL)
    medico = structure("M", Sector.MEDICO_SOCIAL)
    health, food = structure("H", Sector.HEALTH), structure("F", Sector.FOOD_AID)
    links = [link(social, health), link(other_social, medico), link(food, health)]

    result = figures([social, other_social, medico, health, food], links)

    assert result["social_health_links"] == 1
    assert (result["social_structures"], result["social_linked_to_health"]) == (3, 1)
    assert result["social_linked_to_health_share"] == pytest.approx(1 / 3)
    assert result["health_structures"] == 1


def test_several_links_between_two_structures_make_one_linked_pair():
    a, b = structure("A", Sector.SOCIAL), structure("B", Sector.HEALTH)
    links = [link(a, b), link(a, b, kind=LinkKind.REFERRAL, strength=1)]

    assert figures([a, b], links)["links"] == 1
    graph = build_graph(links, JAN_1, structures=[a, b])
    assert graph.edges["A", "B"]["kinds"] == {LinkKind.MET, LinkKind.REFERRAL}
    assert figures([a, b], links, kinds=[LinkKind.REFERRAL])["links"] == 1
    assert figures([a, b], links, kinds=[LinkKind.PARTNERSHIP])["links"] == 0


def test_a_link_is_active_from_its_start_until_the_day_before_its_end():
    ended = link(structure("A"), structure("B"), ended_on=datetime.date(2025, 6, 1))

    assert not is_active(ended, datetime.date(2024, 12, 31))
    assert is_active(ended, JAN_1)
    assert is_active(ended, datetime.date(2025, 5, 31))
    assert not is_active(ended, datetime.date(2025, 6, 1))
    # Over a period: active at some point between the two dates.
    assert is_active(ended, datetime.date(2025, 8, 1), since=datetime.date(2025, 5, 1))
    assert not is_active(ended, datetime.date(2025, 8, 1), since=datetime.date(2025, 6, 1))
    assert is_active(link(structure("A"), structure("B")), datetime.date(2030, 1, 1))


def test_an_empty_network():
    result = figures([], [])
    assert result["structures"] == result["links"] == result["components"] == 0
    assert result["density"] == 0.0
    assert result["social_linked_to_health_share"] is None
    lonely = figures([structure("A", Sector.HEALTH)], [])
    assert (lonely["density"], lonely["isolated_structures"], lonely["components"]) == (0.0, 1, 1)


def test_quarter_ends():
    assert quarter_ends(datetime.date(2024, 1, 1), datetime.date(2024, 12, 31)) == [
        datetime.date(2024, 3, 31),
        datetime.date(2024, 6, 30),
        datetime.date(2024, 9, 30),
        datetime.date(2024, 12, 31),
    ]
    assert quarter_ends(datetime.date(2024, 4, 1), datetime.date(2024, 9, 29)) == [
        datetime.date(2024, 6, 30)
    ]
    assert quarter_ends(datetime.date(2024, 4, 1), datetime.date(2024, 6, 29)) == []


# ---- From the database -------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return NetworkWorld()


def test_indicators_of_a_territory_quarter_by_quarter(world):
    # T1: own (food aid), neighbour (social), health_centre, cmp (health), mecs (medico-social).
    manual_link(
        world.t1, world.neighbour, world.health_centre, started_on=datetime.date(2024, 2, 10)
    )
    manual_link(
        world.t1,
        world.mecs,
        world.cmp,
        kind=LinkKind.PARTNERSHIP,
        started_on=datetime.date(2024, 5, 1),
        ended_on=datetime.date(2024, 11, 15),
    )
    manual_link(
        world.t1,
        world.own,
        world.neighbour,
        kind=LinkKind.MET,
        source=LinkSource.DERIVED,
        started_on=datetime.date(2024, 8, 1),
    )

    rows = quarterly_series(
        [world.t1], start=world.programme.start_date, end=datetime.date(2024, 12, 31)
    )

    assert [row["label"] for row in rows] == ["T1 2024", "T2 2024", "T3 2024", "T4 2024"]
    assert [row["links"] for row in rows] == [1, 2, 3, 2]
    assert [row["social_health_links"] for row in rows] == [1, 2, 2, 1]
    assert [row["social_linked_to_health"] for row in rows] == [1, 2, 2, 1]
    assert [row["isolated_structures"] for row in rows] == [3, 1, 0, 2]
    assert all(row["structures"] == 5 and "bridges" not in row for row in rows)

    comparison = baseline_vs_now([world.t1], today=datetime.date(2025, 1, 1))
    assert comparison["baseline_date"] == datetime.date(2024, 1, 1)
    assert comparison["baseline"]["links"] == 0
    assert comparison["now"]["links"] == 2
    by_key = {row["key"]: row for row in comparison["rows"]}
    assert by_key["links"]["change"] == 2
    assert by_key["isolated_structures"]["change"] == -3
    assert by_key["social_linked_to_health_share"]["now"] == pytest.approx(1 / 2)
    # The neighbour (a CCAS) joins the food-aid structure to the health centre.
    assert [bridge["name"] for bridge in comparison["now"]["bridges"]] == ["CCAS de Loudéac"]


def test_programme_wide_indicators_take_territories_together(world):
    manual_link(world.t1, world.neighbour, world.health_centre)
    world.sibling.sector = Sector.SOCIAL
    world.sibling.save()
    manual_link(
        world.t2, world.sibling, StructureFactory(commune=world.sibling.commune, sector="health")
    )

    at = datetime.date(2025, 6, 1)
    overall = network_indicators([world.t1, world.t2], at=at)
    alone = network_indicators(world.t1, at=at)

    assert (alone["structures"], alone["links"], alone["social_structures"]) == (5, 1, 2)
    assert (overall["structures"], overall["links"], overall["social_structures"]) == (7, 2, 3)
    assert overall["social_linked_to_health"] == 2
    assert overall["components"] == alone["components"] + 1
    # Loaded together, the territories are still measured one by one when asked.
    data = load_network([world.t1, world.t2])
    assert network_indicators(world.t1, at=at, data=data) == alone
    series = quarterly_series(world.t1, start=at, end=datetime.date(2025, 6, 30), data=data)
    assert [row["links"] for row in series] == [1]


def test_a_territory_costs_the_same_whatever_the_size_of_the_others(
    world, django_assert_num_queries
):
    manual_link(world.t1, world.neighbour, world.health_centre)
    at = datetime.date(2025, 6, 1)
    # Links and structures of the territory: two queries.
    with django_assert_num_queries(2):
        before = network_indicators(world.t1, at=at)
    for index in range(30):
        first = StructureFactory(commune=world.other.commune, name=f"Ailleurs {index}")
        manual_link(world.u, world.other, first)
    with django_assert_num_queries(2):
        after = network_indicators(world.t1, at=at)
    assert before == after
