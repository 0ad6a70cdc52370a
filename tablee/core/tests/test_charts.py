"""Charts: an SVG with its title and description, drawn without pyplot."""

import base64
import sys
import xml.etree.ElementTree as ET

from tablee.core.charts import horizontal_bar_chart, svg_data_uri

SVG = "{http://www.w3.org/2000/svg}"


def test_a_bar_chart_is_an_svg_with_title_and_description():
    svg = horizontal_bar_chart(
        ["Économique", "Mobilité & distance"],
        [4, 2],
        title="Besoins <par> catégorie",
        description="Quatre besoins économiques, deux de mobilité.",
    )

    root = ET.fromstring(svg.encode())
    assert root.tag == SVG + "svg"
    assert root.get("role") == "img"
    children = list(root)
    assert children[0].tag == SVG + "title"
    assert children[0].text == "Besoins <par> catégorie"  # escaped in the file, read back whole
    assert children[1].tag == SVG + "desc"
    assert children[1].text == "Quatre besoins économiques, deux de mobilité."


def test_drawing_a_chart_leaves_pyplot_alone():
    horizontal_bar_chart(["a"], [1], title="t", description="d")

    # No pyplot figure was opened (pyplot keeps figures in a global registry).
    pyplot = sys.modules.get("matplotlib.pyplot")
    assert pyplot is None or pyplot.get_fignums() == []


def test_an_empty_chart_still_renders():
    svg = horizontal_bar_chart([], [], title="Rien", description="Aucune valeur.")

    assert "<title>Rien</title>" in svg


def test_data_uri():
    uri = svg_data_uri("<svg/>")

    assert uri.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(uri.split(",", 1)[1]) == b"<svg/>"
