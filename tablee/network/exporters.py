"""The network of a territory for Gephi and other tools: GEXF, GraphML, and CSV of nodes and edges.

Nodes are the structures of the territory (with or without links), edges the links active at the
chosen date or over the chosen period, one edge per link (two structures that met and have a
referral agreement are joined by two edges). Notes are never exported: they are working notes.
"""

import io

import networkx as nx

from tablee.core.exports import Column
from tablee.directory.models import Sector
from tablee.network.metrics import HEALTH_SECTORS, NetworkData, is_active

# format in the URL -> (file extension, content type)
GRAPH_FORMATS = {
    "gexf": ("gexf", "application/gexf+xml"),
    "graphml": ("graphml", "application/graphml+xml"),
}
CSV_FORMATS = {"noeuds", "liens"}
EXPORT_FORMATS = set(GRAPH_FORMATS) | CSV_FORMATS

NODE_COLUMNS = [
    Column("id", "Identifiant"),
    Column("name", "Structure", 40),
    Column("sector", "Secteur"),
    Column("commune", "Commune", 25),
    Column("links", "Structures liées"),
    Column("linked_to_health", "Liée à une structure de santé"),
]
EDGE_COLUMNS = [
    Column("structure_id", "Identifiant de la structure"),
    Column("structure", "Structure", 40),
    Column("linked_id", "Identifiant de la structure liée"),
    Column("linked", "Structure liée", 40),
    Column("kind", "Nature"),
    Column("source", "Origine"),
    Column("started_on", "Depuis le"),
    Column("last_seen_on", "Dernier événement partagé"),
    Column("ended_on", "Fin"),
    Column("strength", "Force (événements partagés)"),
]
SECTOR_LABELS = dict(Sector.choices)


def exported_links(data: NetworkData, programme_territory, *, at, since=None, kinds=None) -> list:
    wanted = set(kinds) if kinds else None
    return [
        link
        for link in data.links_of(programme_territory)
        if (wanted is None or link.kind in wanted) and is_active(link, at, since)
    ]


def export_multigraph(data: NetworkData, programme_territory, links) -> nx.MultiGraph:
    """One node per structure, one edge per link, with plain (text, integer) attributes."""
    graph = nx.MultiGraph()
    for structure in data.structures_of(programme_territory):
        graph.add_node(
            str(structure.pk),
            label=structure.name,
            name=structure.name,
            sector=SECTOR_LABELS.get(structure.sector, structure.sector),
            commune=structure.commune.name,
        )
    for link in links:
        attributes = {
            "kind": link.get_kind_display(),
            "source": link.get_source_display(),
            "started_on": link.started_on.isoformat(),
            "strength": link.strength,
        }
        if link.last_seen_on:
            attributes["last_seen_on"] = link.last_seen_on.isoformat()
        if link.ended_on:
            attributes["ended_on"] = link.ended_on.isoformat()
        graph.add_edge(
            str(link.structure_a_id), str(link.structure_b_id), key=str(link.pk), **attributes
        )
    return graph


def graph_file(graph: nx.MultiGraph, fmt: str) -> bytes:
    buffer = io.BytesIO()
    if fmt == "gexf":
        nx.write_gexf(graph, buffer)
    else:
        nx.write_graphml(graph, buffer)
    return buffer.getvalue()


def node_rows(data: NetworkData, programme_territory, links):
    neighbours: dict = {}
    for link in links:
        neighbours.setdefault(link.structure_a_id, set()).add(link.structure_b_id)
        neighbours.setdefault(link.structure_b_id, set()).add(link.structure_a_id)
    for structure in data.structures_of(programme_territory):
        linked = neighbours.get(structure.pk, set())
        yield {
            "id": str(structure.pk),
            "name": structure.name,
            "sector": SECTOR_LABELS.get(structure.sector, structure.sector),
            "commune": structure.commune.name,
            "links": len(linked),
            "linked_to_health": any(data.structures[pk].sector in HEALTH_SECTORS for pk in linked),
        }


def edge_rows(data: NetworkData, links):
    for link in links:
        yield {
            "structure_id": str(link.structure_a_id),
            "structure": data.structures[link.structure_a_id].name,
            "linked_id": str(link.structure_b_id),
            "linked": data.structures[link.structure_b_id].name,
            "kind": link.get_kind_display(),
            "source": link.get_source_display(),
            "started_on": link.started_on,
            "last_seen_on": link.last_seen_on,
            "ended_on": link.ended_on,
            "strength": link.strength,
        }
