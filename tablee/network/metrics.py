"""Network indicators, computed with networkx from the links of one or more programme territories.

The nodes of a territory's network are every structure of its directory (a structure without any
link is a node too: that is where links are missing) plus any structure one of its links reaches.
Two structures are adjacent when at least one link between them is active at the date:
``started_on <= at`` and (``ended_on`` is None or ``ended_on > at``). Several links between the
same two structures (met at a workshop, then a referral agreement) make one edge: indicators count
linked pairs.

Everything is read in two queries (three when a link reaches a structure outside the
territories' directories), filtered by programme territory first, so that the cost of a
territory's indicators does not depend on the size of the others.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass, field

import networkx as nx

from tablee.core.text import fold
from tablee.directory.models import Sector, Structure
from tablee.network.models import Link

SOCIAL_SECTORS = frozenset({Sector.SOCIAL, Sector.MEDICO_SOCIAL})
HEALTH_SECTORS = frozenset({Sector.HEALTH})
TOP_BRIDGES = 5
# Above this many nodes, betweenness is estimated from a fixed sample of sources (same result on
# every call) rather than computed exactly: a programme-wide graph stays quick to compute.
EXACT_BETWEENNESS_LIMIT = 1000
BETWEENNESS_SAMPLE = 300

# The indicators shown as figures, in the order of the pages (key, French label).
INDICATOR_LABELS = [
    ("links", "Liens entre structures (paires de structures reliées)"),
    ("social_health_links", "Liens entre le social ou le médico-social et la santé"),
    (
        "social_linked_to_health",
        "Structures sociales ou médico-sociales reliées à au moins une structure de santé",
    ),
    (
        "social_linked_to_health_share",
        "Part de ces structures parmi les structures sociales et médico-sociales",
    ),
    ("isolated_structures", "Structures sans aucun lien"),
    ("density", "Densité du réseau (part des paires possibles qui sont reliées)"),
    (
        "components",
        "Composantes connexes (groupes séparés, une structure sans lien compte pour un)",
    ),
    ("linked_groups", "Groupes d'au moins deux structures reliées entre elles"),
]


@dataclass
class NetworkData:
    """The structures and links of some programme territories, loaded once."""

    programme_territories: list
    structures: dict  # Structure id -> Structure (with its commune)
    links: list[Link]
    _cache: dict = field(default_factory=dict, repr=False)

    def links_of(self, programme_territory) -> list[Link]:
        key = ("links", programme_territory.pk)
        if key not in self._cache:
            self._cache[key] = [
                link for link in self.links if link.programme_territory_id == programme_territory.pk
            ]
        return self._cache[key]

    def structures_of(self, programme_territory) -> list[Structure]:
        """The directory of the territory, plus the structures its links reach, by name."""
        key = ("structures", programme_territory.pk)
        if key not in self._cache:
            ids = {
                pk
                for pk, structure in self.structures.items()
                if structure.commune.territory_id == programme_territory.territory_id
            }
            for link in self.links_of(programme_territory):
                ids.update((link.structure_a_id, link.structure_b_id))
            self._cache[key] = sorted((self.structures[pk] for pk in ids), key=_structure_order)
        return self._cache[key]


def _structure_order(structure) -> tuple:
    # fold: "Épicerie" sorts with the E, as a French reader expects.
    return (fold(structure.name), str(structure.pk))


def load_network(programme_territories) -> NetworkData:
    """The structures and links of the given programme territories (one, or an iterable)."""
    if not isinstance(programme_territories, Iterable):
        programme_territories = [programme_territories]
    territories = list(programme_territories)
    links = list(
        Link.objects.filter(programme_territory__in=[pt.pk for pt in territories]).order_by(
            "started_on", "created_at", "pk"
        )
    )
    structures = {
        structure.pk: structure
        for structure in Structure.objects.filter(
            commune__territory_id__in={pt.territory_id for pt in territories}
        ).select_related("commune")
    }
    missing = {pk for link in links for pk in (link.structure_a_id, link.structure_b_id)}
    missing -= structures.keys()
    if missing:
        structures.update(
            (structure.pk, structure)
            for structure in Structure.objects.filter(pk__in=missing).select_related("commune")
        )
    return NetworkData(programme_territories=territories, structures=structures, links=links)


def is_active(link, at: datetime.date, since: datetime.date | None = None) -> bool:
    """Whether ``link`` is active at ``at`` or, with ``since``, at some point from ``since`` to
    ``at``."""
    start = since or at
    return link.started_on <= at and (link.ended_on is None or link.ended_on > start)


def build_graph(
    links: Iterable,
    at: datetime.date,
    *,
    since: datetime.date | None = None,
    kinds: Iterable[str] | None = None,
    structures: Iterable = (),
) -> nx.Graph:
    """The undirected graph of the links active at ``at`` (or during ``since``–``at``).

    ``structures`` become nodes whether linked or not, with the attributes ``name``, ``sector``
    and ``commune``; ``kinds`` keeps only links of those kinds. Each edge carries the active
    ``links`` between its two structures, their ``kinds`` and the greatest ``strength``.
    """
    graph = nx.Graph()
    for structure in structures:
        graph.add_node(
            structure.pk,
            name=structure.name,
            sector=structure.sector,
            commune=structure.commune.name,
        )
    wanted = set(kinds) if kinds is not None else None
    for link in links:
        if wanted is not None and link.kind not in wanted:
            continue
        if not is_active(link, at, since):
            continue
        first, second = link.structure_a_id, link.structure_b_id
        if graph.has_edge(first, second):
            edge = graph.edges[first, second]
            edge["links"].append(link)
            edge["kinds"].add(link.kind)
            edge["strength"] = max(edge["strength"], link.strength)
        else:
            graph.add_edge(first, second, links=[link], kinds={link.kind}, strength=link.strength)
    return graph


def betweenness(graph: nx.Graph) -> dict:
    """Normalised betweenness centrality: for each structure, the share of shortest paths between
    two other structures that go through it (1.0: every path does)."""
    if graph.number_of_nodes() > EXACT_BETWEENNESS_LIMIT:
        return nx.betweenness_centrality(graph, k=BETWEENNESS_SAMPLE, seed=0)
    return nx.betweenness_centrality(graph)


def indicators(graph: nx.Graph, *, with_bridges: bool = True) -> dict:
    """The network indicators of ``graph`` (see INDICATOR_LABELS); ``bridges`` lists the
    structures with the highest betweenness, those that connect otherwise separate groups."""
    sectors = nx.get_node_attributes(graph, "sector")
    social = {node for node in graph if sectors.get(node) in SOCIAL_SECTORS}
    health = {node for node in graph if sectors.get(node) in HEALTH_SECTORS}
    social_health = sum(
        1
        for first, second in graph.edges
        if (first in social and second in health) or (first in health and second in social)
    )
    social_linked = sum(
        1 for node in social if any(neighbour in health for neighbour in graph[node])
    )
    groups = [len(component) for component in nx.connected_components(graph)]
    result = {
        "structures": graph.number_of_nodes(),
        "links": graph.number_of_edges(),
        "social_health_links": social_health,
        "social_structures": len(social),
        "health_structures": len(health),
        "social_linked_to_health": social_linked,
        "social_linked_to_health_share": social_linked / len(social) if social else None,
        "isolated_structures": nx.number_of_isolates(graph),
        "density": nx.density(graph) if graph.number_of_nodes() > 1 else 0.0,
        "components": len(groups),
        "linked_groups": sum(1 for size in groups if size > 1),
    }
    if with_bridges:
        names = nx.get_node_attributes(graph, "name")
        scores = betweenness(graph) if graph.number_of_edges() else {}
        ranked = sorted(
            ((value, node) for node, value in scores.items() if value > 0),
            key=lambda item: (-item[0], fold(names.get(item[1], "")), str(item[1])),
        )
        result["bridges"] = [
            {"id": node, "name": names.get(node, str(node)), "value": value}
            for value, node in ranked[:TOP_BRIDGES]
        ]
    return result


def _as_list(programme_territories) -> list:
    if not isinstance(programme_territories, Iterable):
        return [programme_territories]
    return list(programme_territories)


def network_graph(
    data: NetworkData,
    at: datetime.date,
    *,
    programme_territories=None,
    since: datetime.date | None = None,
    kinds: Iterable[str] | None = None,
) -> nx.Graph:
    """The graph of some territories of ``data`` (one, a list, or by default all of them)."""
    if programme_territories is None:
        territories = data.programme_territories
    else:
        territories = _as_list(programme_territories)
    structures, links = {}, []
    for pt in territories:
        for structure in data.structures_of(pt):
            structures[structure.pk] = structure
        links.extend(data.links_of(pt))
    return build_graph(
        links,
        at,
        since=since,
        kinds=kinds,
        structures=sorted(structures.values(), key=_structure_order),
    )


def network_indicators(
    programme_territories,
    *,
    at: datetime.date,
    since: datetime.date | None = None,
    kinds: Iterable[str] | None = None,
    data: NetworkData | None = None,
) -> dict:
    """The indicators of one programme territory, or of several taken together, at ``at``."""
    territories = _as_list(programme_territories)
    data = data or load_network(territories)
    return indicators(
        network_graph(data, at, programme_territories=territories, since=since, kinds=kinds)
    )


def quarter_ends(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    """The last days of the quarters from ``start`` to ``end`` (both included)."""
    days = []
    for year in range(start.year, end.year + 1):
        for month, day in ((3, 31), (6, 30), (9, 30), (12, 31)):
            candidate = datetime.date(year, month, day)
            if start <= candidate <= end:
                days.append(candidate)
    return days


def quarter_label(day: datetime.date) -> str:
    return f"T{(day.month - 1) // 3 + 1} {day.year}"


def quarterly_series(
    programme_territories,
    *,
    start: datetime.date,
    end: datetime.date,
    kinds: Iterable[str] | None = None,
    data: NetworkData | None = None,
) -> list[dict]:
    """One row of indicators (without betweenness) per quarter end from ``start`` to ``end``."""
    territories = _as_list(programme_territories)
    data = data or load_network(territories)
    rows = []
    for day in quarter_ends(start, end):
        graph = network_graph(data, day, programme_territories=territories, kinds=kinds)
        row = indicators(graph, with_bridges=False)
        rows.append({"date": day, "label": quarter_label(day), **row})
    return rows


def baseline_vs_now(
    programme_territories,
    *,
    today: datetime.date,
    since: datetime.date | None = None,
    kinds: Iterable[str] | None = None,
    data: NetworkData | None = None,
) -> dict:
    """The indicators at the programme's start (baseline) and today (or at the date given as
    ``today``, over ``since``–``today`` if given), with the change of each figure."""
    territories = _as_list(programme_territories)
    data = data or load_network(territories)
    baseline_date = territories[0].programme.start_date
    baseline = indicators(
        network_graph(data, baseline_date, programme_territories=territories, kinds=kinds)
    )
    now = indicators(
        network_graph(data, today, programme_territories=territories, since=since, kinds=kinds)
    )
    return {
        "baseline_date": baseline_date,
        "now_date": today,
        "baseline": baseline,
        "now": now,
        "rows": comparison_rows(baseline, now),
    }


def comparison_rows(baseline: dict, now: dict) -> list[dict]:
    """The figures side by side, in the order of INDICATOR_LABELS, with their change."""
    rows = []
    for key, label in INDICATOR_LABELS:
        before, after = baseline[key], now[key]
        change = None if before is None or after is None else after - before
        rows.append(
            {
                "key": key,
                "label": label,
                "baseline": before,
                "now": after,
                "change": change,
                "is_share": key in {"social_linked_to_health_share", "density"},
            }
        )
    return rows
