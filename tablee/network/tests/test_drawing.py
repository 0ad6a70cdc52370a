"""The SVG drawing of the network: stable, escaped, readable without colour, no inline style."""

import datetime
import re
from types import SimpleNamespace
from xml.etree import ElementTree

from tablee.directory.models import Sector
from tablee.network import drawing
from tablee.network.drawing import layout, legend_swatches, network_svg
from tablee.network.metrics import build_graph
from tablee.network.models import LinkKind

DAY = datetime.date(2025, 1, 1)
SVG = "{http://www.w3.org/2000/svg}"
SECTORS = dict(Sector.choices)


def structure(name, sector):
    return SimpleNamespace(pk=name, name=name, sector=sector, commune=SimpleNamespace(name="X"))


def link(first, second, kind=LinkKind.MET, started_on=DAY):
    return SimpleNamespace(
        structure_a_id=first.pk,
        structure_b_id=second.pk,
        kind=kind,
        started_on=started_on,
        ended_on=None,
        strength=1,
    )


def world():
    ccas = structure("CCAS <fictif> & co", Sector.SOCIAL)
    centre = structure("Centre de santé", Sector.HEALTH)
    grocery = structure("Épicerie", Sector.FOOD_AID)
    alone = structure("Mairie", Sector.LOCAL_AUTHORITY)
    structures = [ccas, centre, grocery, alone]
    links = [
        link(ccas, centre),
        link(ccas, centre, kind=LinkKind.REFERRAL),
        link(centre, grocery, started_on=datetime.date(2025, 6, 1)),
    ]
    now = build_graph(links, datetime.date(2025, 12, 31), structures=structures)
    before = build_graph(links, DAY, structures=structures)
    numbers = {s.pk: index for index, s in enumerate(structures, 1)}
    return now, before, numbers


def draw(graph, positions, numbers):
    return network_svg(
        graph, positions, numbers=numbers, labelled_by="titre", sector_labels=SECTORS
    )


def test_the_drawing_is_stable_and_shared_by_both_graphs():
    now, before, numbers = world()
    positions = layout([now, before])
    again = layout([now, before])
    assert positions == again
    assert draw(now, positions, numbers) == draw(now, again, numbers)
    # The grocery is linked today, not at the start: it keeps its place in both drawings.
    assert "Épicerie" in positions.positions
    assert set(positions.positions) == {
        "CCAS <fictif> & co",
        "Centre de santé",
        "Épicerie",
        "Mairie",
    }


def test_the_svg_is_valid_escaped_and_without_inline_style():
    now, before, numbers = world()
    svg = draw(now, layout([now, before]), numbers)

    root = ElementTree.fromstring(svg)  # well-formed, names escaped
    assert root.get("aria-labelledby") == "titre"
    assert "style" not in svg
    links = root.findall(f"{SVG}a")
    assert [a.get("href") for a in links] == [
        "#structure-CCAS <fictif> & co",
        "#structure-Centre de santé",
        "#structure-Épicerie",
        "#structure-Mairie",
    ]
    first = links[0]
    assert first.find(f"{SVG}title").text == "1. CCAS <fictif> & co (Social) : 1 structure liée"
    assert first.get("aria-label") == first.find(f"{SVG}title").text
    # Shape by sector, not colour alone: social round, health square, the others diamonds.
    assert first.find(f"{SVG}circle") is not None
    assert links[1].find(f"{SVG}rect") is not None
    assert links[2].find(f"{SVG}polygon") is not None
    assert [a.find(f"{SVG}text").text for a in links] == ["1", "2", "3", "4"]
    # Two kinds between the CCAS and the centre: two parallel lines, the referral dashed.
    lines = root.findall(f"{SVG}g/{SVG}line")
    assert len(lines) == 3
    dashed = [line for line in lines if line.get("stroke-dasharray")]
    assert [line.find(f"{SVG}title").text for line in dashed] == [
        "CCAS <fictif> & co — Centre de santé : Orientation de personnes"
    ]
    # The mairie has no link at either date: it sits in the band below the drawing.
    assert "Structures sans lien à cette date" in svg


def test_a_graph_without_any_link_is_a_band_of_structures():
    _, before, numbers = world()
    lonely = build_graph([], DAY, structures=[structure("A", Sector.SOCIAL)])
    positions = layout([lonely])
    assert positions.band_top == drawing.BAND_TITLE_HEIGHT
    svg = draw(lonely, positions, {"A": 1})
    assert re.search(r'viewBox="0 0 640 \d+"', svg)
    assert ElementTree.fromstring(svg).find(f"{SVG}a") is not None


def test_too_many_structures_are_not_drawn(monkeypatch):
    now, before, _ = world()
    monkeypatch.setattr(drawing, "MAX_DRAWN_NODES", 3)
    assert layout([now, before]) is None


def test_the_legend_names_shapes_and_kinds():
    legend = legend_swatches(list(Sector.choices))
    assert [(item["label"], item["shape"]) for item in legend["sectors"][:3]] == [
        ("Social", "rond"),
        ("Médico-social", "rond"),
        ("Santé", "carré"),
    ]
    assert [item["label"] for item in legend["kinds"]] == [label for _, label in LinkKind.choices]
    assert all('aria-hidden="true"' in item["svg"] for item in legend["kinds"])
