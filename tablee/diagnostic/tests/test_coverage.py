"""Coverage: communes with no food-aid point within 10 km of their centroid."""

import pytest

from tablee.diagnostic.coverage import haversine_km, territory_coverage
from tablee.directory.models import Category, Sector
from tablee.directory.tests.factories import ServiceFactory, StructureFactory
from tablee.territories.tests.factories import CommuneFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


def test_haversine_matches_known_distances():
    # Paris (Notre-Dame) to Rennes (mairie): about 308 km.
    assert haversine_km(48.853, 2.3499, 48.1113, -1.6800) == pytest.approx(308, abs=3)
    assert haversine_km(48.0, -2.0, 48.0, -2.0) == 0
    # A tenth of a degree of latitude is about 11.1 km anywhere.
    assert haversine_km(48.0, -2.0, 48.1, -2.0) == pytest.approx(11.12, abs=0.05)


@pytest.fixture
def epci():
    """Three communes: A at the food bank, B west (near a point across the border), C north."""
    territory = TerritoryFactory(name="CC Couverture")
    communes = {
        "A": CommuneFactory(territory=territory, name="Aubin", latitude=48.0, longitude=-2.0),
        "B": CommuneFactory(territory=territory, name="Bréhan", latitude=48.0, longitude=-2.5),
        "C": CommuneFactory(territory=territory, name="Cadélac", latitude=48.3, longitude=-2.0),
    }
    return territory, communes


def food_aid_kind():
    category, _ = Category.objects.get_or_create(
        kind=Category.Kind.FOOD_AID, value="colis-test", defaults={"label": "Colis (test)"}
    )
    return category


def test_points_inside_and_just_outside_the_epci_count(epci, django_assert_num_queries):
    territory, communes = epci
    StructureFactory(commune=communes["A"], sector=Sector.FOOD_AID, latitude=48.02, longitude=-2.0)
    # Across the border, 8.9 km west of B: B is covered by a structure of another EPCI.
    outside = CommuneFactory(name="Voisine", latitude=48.0, longitude=-2.62)
    StructureFactory(commune=outside, sector=Sector.FOOD_AID, latitude=48.0, longitude=-2.62)
    # Near C, but not food aid: a health centre, a social service without food-aid kind, and a
    # food-aid structure that the directory cannot place.
    StructureFactory(commune=communes["C"], sector=Sector.HEALTH, latitude=48.3, longitude=-2.0)
    ServiceFactory(
        structure=StructureFactory(
            commune=communes["C"], sector=Sector.SOCIAL, latitude=48.3, longitude=-2.01
        )
    )
    StructureFactory(commune=communes["C"], sector=Sector.FOOD_AID)
    # Far away: outside the bounding box, not even loaded.
    StructureFactory(
        commune=CommuneFactory(name="Lointaine", latitude=43.6, longitude=1.44),
        sector=Sector.FOOD_AID,
        latitude=43.6,
        longitude=1.44,
    )

    # 1 the EPCI's communes, 2 the food-aid points of the widened bounding box.
    with django_assert_num_queries(2):
        coverage = territory_coverage(territory)

    assert [c.name for c in coverage.covered] == ["Aubin", "Bréhan"]
    assert [c.name for c in coverage.uncovered] == ["Cadélac"]
    assert coverage.points == 2
    assert coverage.covered[0].nearest_km == pytest.approx(2.2, abs=0.1)
    assert coverage.covered[1].nearest_km == pytest.approx(8.9, abs=0.1)
    # Cadélac's nearest point is the food bank of Aubin, 31 km south.
    assert coverage.uncovered[0].nearest_km == pytest.approx(31.1, abs=0.1)
    assert coverage.uncovered_population == communes["C"].population


def test_a_structure_with_a_food_aid_service_is_a_point(epci):
    territory, communes = epci
    service = ServiceFactory(
        structure=StructureFactory(
            commune=communes["C"], sector=Sector.SOCIAL, latitude=48.31, longitude=-2.0
        )
    )
    service.food_aid_kinds.add(food_aid_kind())

    coverage = territory_coverage(territory)

    assert [c.name for c in coverage.covered] == ["Cadélac"]
    assert coverage.points == 1
    # The farthest first: Bréhan (about 51 km away), then Aubin (about 34 km).
    assert [c.name for c in coverage.uncovered] == ["Bréhan", "Aubin"]
    assert [c.nearest_km for c in coverage.uncovered] == [
        pytest.approx(50.6, abs=0.5),
        pytest.approx(34.5, abs=0.5),
    ]


def test_a_point_beyond_10_km_leaves_the_commune_uncovered_with_its_distance(epci):
    territory, communes = epci
    # 0.14° of longitude at 48° N is about 10.4 km from A.
    StructureFactory(commune=communes["A"], sector=Sector.FOOD_AID, latitude=48.0, longitude=-2.14)

    coverage = territory_coverage(territory)

    aubin = next(c for c in coverage.uncovered if c.name == "Aubin")
    assert aubin.nearest_km == pytest.approx(10.4, abs=0.1)
    # Bréhan is 26 km from it: inside the widened box, so its distance is known too.
    brehan = next(c for c in coverage.uncovered if c.name == "Bréhan")
    assert brehan.nearest_km == pytest.approx(26.8, abs=0.3)
    # The farthest first: Cadélac, 35 km north of the point.
    assert [c.name for c in coverage.uncovered] == ["Cadélac", "Bréhan", "Aubin"]


def test_a_territory_without_any_point_in_reach(epci):
    territory, _ = epci

    coverage = territory_coverage(territory)

    assert [c.nearest_km for c in coverage.uncovered] == [None, None, None]
    assert [c.name for c in coverage.uncovered] == ["Aubin", "Bréhan", "Cadélac"]


def test_communes_without_centroid_are_counted_apart(django_assert_num_queries):
    territory = TerritoryFactory()
    CommuneFactory(territory=territory, latitude=None, longitude=None)

    with django_assert_num_queries(1):
        coverage = territory_coverage(territory)

    assert coverage.covered == coverage.uncovered == []
    assert coverage.without_centroid == 1
