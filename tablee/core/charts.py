"""Charts drawn on the server with matplotlib, as SVG: the same picture in pages and in PDFs.

Each figure is a ``matplotlib.figure.Figure`` of its own, drawn by the Agg-family SVG canvas: no
pyplot, so nothing is shared between requests. Text is drawn as paths (matplotlib's default), so
the picture does not depend on the reader's fonts. The SVG carries a <title> and a <desc>; pages
embed it as an image (the CSP forbids the inline styles of an inline SVG) and always show the
data table beside it, which is what screen readers read.
"""

import base64
import io
from collections.abc import Sequence
from xml.sax.saxutils import escape

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

BAR_COLOUR = "#1d5c7a"
TEXT_COLOUR = "#212529"
FONT = FontProperties(family="DejaVu Sans", size=9)


def horizontal_bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    description: str,
    value_label: str = "",
) -> str:
    """A horizontal bar chart as an SVG document (text), first label at the top.

    ``title`` and ``description`` become the SVG's <title> and <desc>. Values are written at the
    end of each bar, so the chart can be read without colour.
    """
    labels = [str(label) for label in labels]
    values = [float(value) for value in values]
    height = 0.9 + 0.32 * max(len(labels), 1)
    figure = Figure(figsize=(6.4, height), dpi=72)
    FigureCanvasSVG(figure)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    axes.barh(positions, values, color=BAR_COLOUR, height=0.65)
    axes.set_yticks(positions, labels=labels, fontproperties=FONT, color=TEXT_COLOUR)
    axes.invert_yaxis()
    largest = max(values, default=0) or 1
    axes.set_xlim(0, largest * 1.15)
    for position, value in zip(positions, values, strict=True):
        axes.text(
            value + largest * 0.01,
            position,
            f"{value:g}".replace(".", ","),
            va="center",
            fontproperties=FONT,
            color=TEXT_COLOUR,
        )
    if all(value.is_integer() for value in values):
        # Counts: no "2.5 needs" on the axis.
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    for label in axes.get_xticklabels():
        label.set_fontproperties(FONT)
    if value_label:
        axes.set_xlabel(value_label, fontproperties=FONT, color=TEXT_COLOUR)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _with_title(buffer.getvalue(), title=title, description=description)


def _with_title(svg: str, *, title: str, description: str) -> str:
    """Insert <title> and <desc> as the first children of the root <svg> element."""
    start = svg.index("<svg")
    end = svg.index(">", start) + 1
    root = svg[start:end].replace("<svg", '<svg role="img"', 1)
    accessible = f"<title>{escape(title)}</title><desc>{escape(description)}</desc>"
    return svg[:start] + root + accessible + svg[end:]


def svg_data_uri(svg: str) -> str:
    """The SVG as a data: URI for an <img> (allowed by the CSP's img-src, read by WeasyPrint)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
