"""Coverage of a territory by food aid: communes with no food-aid point within 10 km.

A food-aid point is a structure with coordinates whose sector is food aid, or which runs a service
with at least one form of food aid. Points just outside the EPCI count too: people cross the
border. The database narrows the points to the communes' bounding box widened by the radius (a
plain range filter, the same on SQLite and PostgreSQL); the distances are great-circle distances
computed here, from each commune's centroid.
"""

import math
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from tablee.directory.models import Sector, Service, Structure
from tablee.territories.models import Territory

RADIUS_KM = 10.0
EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE_OF_LATITUDE = 111.2


@dataclass(frozen=True)
class CommuneCoverage:
    code: str
    name: str
    population: int
    latitude: float
    longitude: float
    nearest_km: float | None  # None: no food-aid point at all within the search area


@dataclass(frozen=True)
class Coverage:
    covered: list[CommuneCoverage]
    uncovered: list[CommuneCoverage]
    without_centroid: int  # communes the referential cannot place
    points: int  # food-aid points considered (inside the EPCI or near it)
    radius_km: float = RADIUS_KM

    @property
    def commune_count(self) -> int:
        return len(self.covered) + len(self.uncovered)

    @property
    def uncovered_population(self) -> int:
        return sum(c.population for c in self.uncovered)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in kilometres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi = phi2 - phi1
    d_lambda = math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def food_aid_points():
    """Structures with coordinates that give food aid (by sector or by one of their services)."""
    food_aid_service = Service.objects.filter(
        structure=OuterRef("pk"), food_aid_kinds__isnull=False
    )
    return Structure.objects.filter(
        Q(sector=Sector.FOOD_AID) | Q(Exists(food_aid_service)),
        latitude__isnull=False,
        longitude__isnull=False,
    )


def territory_coverage(territory: Territory, *, radius_km: float = RADIUS_KM) -> Coverage:
    """Which communes of the EPCI have a food-aid point within ``radius_km`` of their centroid.

    Two queries: the communes, then the food-aid points of the widened bounding box. Uncovered
    communes come farthest first, covered ones by name.
    """
    communes = list(
        territory.communes.values_list("code", "name", "population", "latitude", "longitude")
    )
    placed = [c for c in communes if c[3] is not None and c[4] is not None]
    if not placed:
        return Coverage([], [], without_centroid=len(communes), points=0, radius_km=radius_km)

    lat_margin = radius_km / KM_PER_DEGREE_OF_LATITUDE
    min_lat = min(c[3] for c in placed) - lat_margin
    max_lat = max(c[3] for c in placed) + lat_margin
    # A degree of longitude is shortest at the latitude farthest from the equator.
    widest = max(abs(min_lat), abs(max_lat))
    lon_margin = radius_km / (KM_PER_DEGREE_OF_LATITUDE * max(math.cos(math.radians(widest)), 0.01))
    points = list(
        food_aid_points()
        .filter(
            latitude__gte=min_lat,
            latitude__lte=max_lat,
            longitude__gte=min(c[4] for c in placed) - lon_margin,
            longitude__lte=max(c[4] for c in placed) + lon_margin,
        )
        .values_list("latitude", "longitude")
    )

    covered, uncovered = [], []
    for code, name, population, lat, lon in placed:
        distances = [haversine_km(lat, lon, p_lat, p_lon) for p_lat, p_lon in points]
        nearest = min(distances, default=None)
        item = CommuneCoverage(
            code=code,
            name=name,
            population=population,
            latitude=lat,
            longitude=lon,
            nearest_km=round(nearest, 1) if nearest is not None else None,
        )
        (covered if nearest is not None and nearest <= radius_km else uncovered).append(item)
    covered.sort(key=lambda c: c.name)
    uncovered.sort(key=lambda c: (-(c.nearest_km or math.inf), c.name))
    return Coverage(
        covered=covered,
        uncovered=uncovered,
        without_centroid=len(communes) - len(placed),
        points=len(points),
        radius_km=radius_km,
    )
