"""The network drawn on the server as an inline SVG: no JavaScript library, no network call.

Positions come from networkx's spring layout with a fixed seed, computed once on the union of the
graphs shown side by side (baseline and now), so that a structure keeps its place from one to the
other. Structures without any link sit in a band under the drawing. Each structure is a link to
its row in the table of structures (``#structure-<id>``) with a <title> (tooltip) and an
accessible name; its number is the row's number. Sector is shown by colour and by shape (circle:
social or medico-social, square: health, diamond: the others), links by colour and dash pattern.

Only SVG presentation attributes are used (fill, stroke...): the content security policy forbids
inline styles.
"""

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import networkx as nx
from django.utils.safestring import mark_safe

from tablee.core.text import fold
from tablee.directory.models import Sector
from tablee.network.models import LinkKind

SEED = 7
WIDTH = 640
AREA_HEIGHT = 440
MARGIN = 28
BAND_STEP = 30
BAND_TITLE_HEIGHT = 26
NODE_RADIUS = 8
INK = "#1f2a33"
# Beyond this many structures a drawing is unreadable (and slow to lay out): the tables remain.
MAX_DRAWN_NODES = 300

SECTOR_COLOURS = {
    Sector.SOCIAL: "#0072B2",
    Sector.MEDICO_SOCIAL: "#56B4E9",
    Sector.HEALTH: "#D55E00",
    Sector.FOOD_AID: "#009E73",
    Sector.LOCAL_AUTHORITY: "#CC79A7",
    Sector.EDUCATION: "#E69F00",
    Sector.AGRICULTURE: "#F0E442",
    Sector.OTHER: "#BBBBBB",
}
SHAPE_LABELS = {
    "circle": "rond",
    "square": "carré",
    "diamond": "losange",
}
# kind -> (colour, width, dash pattern or "")
KIND_STYLES = {
    LinkKind.MET: ("#6c757d", 1.5, ""),
    LinkKind.CO_ORGANISED: ("#1d5c7a", 3, ""),
    LinkKind.REFERRAL: ("#b35900", 2.5, "7 4"),
    LinkKind.PARTNERSHIP: ("#146c43", 3, "12 4 3 4"),
    LinkKind.INFORMATION: ("#6f42c1", 2, "2 3"),
}
KIND_ORDER = list(KIND_STYLES)


def sector_shape(sector: str) -> str:
    if sector in (Sector.SOCIAL, Sector.MEDICO_SOCIAL):
        return "circle"
    if sector == Sector.HEALTH:
        return "square"
    return "diamond"


def _shape(sector: str, x: float, y: float, size: float = NODE_RADIUS) -> str:
    colour = SECTOR_COLOURS.get(sector, SECTOR_COLOURS[Sector.OTHER])
    paint = f'fill="{colour}" stroke="{INK}" stroke-width="1"'
    shape = sector_shape(sector)
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{size:.1f}" {paint}/>'
    if shape == "square":
        side = size * 1.7
        return (
            f'<rect x="{x - side / 2:.1f}" y="{y - side / 2:.1f}" width="{side:.1f}" '
            f'height="{side:.1f}" {paint}/>'
        )
    reach = size * 1.2
    points = f"{x:.1f},{y - reach:.1f} {x + reach:.1f},{y:.1f} {x:.1f},{y + reach:.1f} {x - reach:.1f},{y:.1f}"
    return f'<polygon points="{points}" {paint}/>'


@dataclass(frozen=True)
class Layout:
    positions: dict  # node -> (x, y) in SVG units
    height: int
    band_top: int | None  # y of the band of structures without links, None without one


def layout(graphs: list[nx.Graph]) -> Layout | None:
    """Positions shared by ``graphs`` (same nodes); None when there are too many structures."""
    first = graphs[0]
    if first.number_of_nodes() > MAX_DRAWN_NODES:
        return None
    names = {node: data.get("name", "") for node, data in first.nodes(data=True)}
    order = sorted(first.nodes, key=lambda node: (fold(names[node]), str(node)))
    union = nx.Graph()
    for graph in graphs:
        union.add_edges_from(graph.edges)
    linked = [node for node in order if node in union and union.degree(node) > 0]
    linked_set = set(linked)
    isolated = [node for node in order if node not in linked_set]
    positions = {}
    if linked:
        # Nodes and edges in a fixed order: the layout depends on it as much as on the seed.
        ordered = nx.Graph()
        ordered.add_nodes_from(linked)
        ordered.add_edges_from(
            sorted((tuple(sorted(edge, key=str)) for edge in union.edges), key=lambda e: str(e))
        )
        raw = nx.spring_layout(ordered, seed=SEED)
        xs = [point[0] for point in raw.values()]
        ys = [point[1] for point in raw.values()]
        span_x = (max(xs) - min(xs)) or 1.0
        span_y = (max(ys) - min(ys)) or 1.0
        inner_w = WIDTH - 2 * MARGIN - 24  # room for the numbers right of the nodes
        inner_h = AREA_HEIGHT - 2 * MARGIN
        for node, (x, y) in raw.items():
            px = MARGIN + ((x - min(xs)) / span_x if max(xs) > min(xs) else 0.5) * inner_w
            py = MARGIN + ((y - min(ys)) / span_y if max(ys) > min(ys) else 0.5) * inner_h
            positions[node] = (px, py)
    band_top = None
    height = AREA_HEIGHT if linked else BAND_TITLE_HEIGHT
    if isolated:
        band_top = height
        per_row = max(1, (WIDTH - 2 * MARGIN) // BAND_STEP)
        for index, node in enumerate(isolated):
            row, column = divmod(index, per_row)
            positions[node] = (
                MARGIN + column * BAND_STEP + NODE_RADIUS,
                band_top + BAND_TITLE_HEIGHT + row * BAND_STEP + NODE_RADIUS,
            )
        rows = (len(isolated) + per_row - 1) // per_row
        height = band_top + BAND_TITLE_HEIGHT + rows * BAND_STEP + MARGIN // 2
    return Layout(positions=positions, height=int(height), band_top=band_top)


def network_svg(
    graph: nx.Graph, positions: Layout, *, numbers: dict, labelled_by: str, sector_labels: dict
) -> str:
    """The SVG of ``graph`` drawn at ``positions``; ``numbers`` maps each node to its number in
    the table of structures; ``labelled_by`` is the id of the heading naming the drawing."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {positions.height}" '
        f'width="100%" role="group" aria-labelledby="{labelled_by}" class="network-graph">',
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{positions.height - 1}" '
        f'fill="#ffffff" stroke="#ced4da"/>',
    ]
    if positions.band_top is not None:
        top = positions.band_top
        if top > BAND_TITLE_HEIGHT:
            parts.append(
                f'<line x1="{MARGIN}" y1="{top}" x2="{WIDTH - MARGIN}" y2="{top}" '
                f'stroke="#ced4da" stroke-width="1"/>'
            )
        parts.append(
            f'<text x="{MARGIN}" y="{top + 17}" font-family="sans-serif" font-size="12" '
            f'fill="{INK}">Structures sans lien à cette date</text>'
        )
    parts.append('<g aria-hidden="true">')
    names = nx.get_node_attributes(graph, "name")
    for first, second, data in sorted(
        graph.edges(data=True), key=lambda edge: (str(edge[0]), str(edge[1]))
    ):
        (x1, y1), (x2, y2) = positions.positions[first], positions.positions[second]
        kinds = [kind for kind in KIND_ORDER if kind in data["kinds"]]
        length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5 or 1.0
        # Parallel lines, a few units apart, when two structures have links of several kinds.
        normal_x, normal_y = -(y2 - y1) / length, (x2 - x1) / length
        for index, kind in enumerate(kinds):
            shift = (index - (len(kinds) - 1) / 2) * 4
            colour, width, dashes = KIND_STYLES[kind]
            dash = f' stroke-dasharray="{dashes}"' if dashes else ""
            title = f"{names.get(first, '')} — {names.get(second, '')} : {LinkKind(kind).label}"
            parts.append(
                f'<line x1="{x1 + normal_x * shift:.1f}" y1="{y1 + normal_y * shift:.1f}" '
                f'x2="{x2 + normal_x * shift:.1f}" y2="{y2 + normal_y * shift:.1f}" '
                f'stroke="{colour}" stroke-width="{width}"{dash} stroke-linecap="round">'
                f"<title>{escape(title)}</title></line>"
            )
    parts.append("</g>")
    for node in sorted(graph.nodes, key=lambda n: numbers.get(n, 0)):
        data = graph.nodes[node]
        x, y = positions.positions[node]
        degree = graph.degree(node)
        sector = sector_labels.get(data.get("sector"), "")
        description = (
            f"{numbers.get(node, '')}. {data.get('name', '')} ({sector}) : "
            f"{degree} structure{'s' if degree > 1 else ''} liée{'s' if degree > 1 else ''}"
        )
        parts.append(
            f"<a href={quoteattr(f'#structure-{node}')} aria-label={quoteattr(description)}>"
            f"<title>{escape(description)}</title>"
            f"{_shape(data.get('sector', ''), x, y)}"
            f'<text x="{x + NODE_RADIUS + 3:.1f}" y="{y + 4:.1f}" font-family="sans-serif" '
            f'font-size="11" fill="{INK}">{numbers.get(node, "")}</text></a>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (every text above is escaped)


def legend_swatches(sectors: list[tuple[str, str]]) -> dict:
    """Small SVG pictures for the legend: one per sector (shape and colour), one per kind."""
    sector_items = [
        {
            "label": label,
            "shape": SHAPE_LABELS[sector_shape(value)],
            "svg": mark_safe(  # noqa: S308 (no user text)
                '<svg xmlns="http://www.w3.org/2000/svg" width="22" height="22" '
                f'viewBox="0 0 22 22" aria-hidden="true">{_shape(value, 11, 11, 7)}</svg>'
            ),
        }
        for value, label in sectors
    ]
    kind_items = []
    for kind in KIND_ORDER:
        colour, width, dashes = KIND_STYLES[kind]
        dash = f' stroke-dasharray="{dashes}"' if dashes else ""
        kind_items.append(
            {
                "label": LinkKind(kind).label,
                "svg": mark_safe(  # noqa: S308 (no user text)
                    '<svg xmlns="http://www.w3.org/2000/svg" width="44" height="14" '
                    'viewBox="0 0 44 14" aria-hidden="true">'
                    f'<line x1="2" y1="7" x2="42" y2="7" stroke="{colour}" stroke-width="{width}"'
                    f'{dash} stroke-linecap="round"/></svg>'
                ),
            }
        )
    return {"sectors": sector_items, "kinds": kind_items}
