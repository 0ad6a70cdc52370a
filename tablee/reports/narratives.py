"""The sections of each kind of report and the narratives people write in them.

A narrative is stored as HTML reduced to a few harmless tags (nh3, the Rust ammonia sanitiser):
paragraphs, line breaks, bold, italics, lists and links. Text typed without any tag becomes
paragraphs; text pasted from a word processor or a web page keeps its structure and loses
everything else (scripts, styles, event handlers, images, javascript: links).
"""

import html
import re
from dataclasses import dataclass
from html.parser import HTMLParser

import nh3

from tablee.reports.models import Report

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
URL_SCHEMES = {"http", "https", "mailto"}
MAX_NARRATIVE_CHARS = 20_000
_TAG = re.compile(r"</?[a-zA-Z!]")


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    group: str  # "summary", "objective", "axis", "closing"
    prompt: str  # what to write, shown above the text field


SUMMARY = Section(
    "summary",
    "Synthèse",
    "summary",
    "L'essentiel de la période en quelques paragraphes : ce qui a été fait, pour qui, avec qui.",
)
OBJECTIVES = [
    Section(
        "objective_nutrition",
        "Améliorer la qualité nutritionnelle de l'aide alimentaire",
        "objective",
        "Ateliers cuisine et nutrition, produits frais, accompagnement des bénévoles…",
    ),
    Section(
        "objective_participation",
        "Favoriser la participation et l'accompagnement des personnes concernées",
        "objective",
        "Comment les personnes concernées ont pris part aux ateliers, aux concertations et aux "
        "décisions.",
    ),
    Section(
        "objective_local_systems",
        "Renforcer les systèmes locaux d'aide alimentaire",
        "objective",
        "Formations des professionnel·les et des bénévoles, liens entre structures, orientations.",
    ),
    Section(
        "objective_environment",
        "Réduire l'impact environnemental de l'aide alimentaire",
        "objective",
        "Gaspillage, circuits courts, emballages, mobilité : ce qui a changé.",
    ),
]
AXES = [
    Section(
        "axis_alliances",
        "Alliances locales de solidarité",
        "axis",
        "Les coopérations nouées entre structures sociales, de santé, d'aide alimentaire et "
        "collectivités.",
    ),
    Section(
        "axis_pat",
        "Lutte contre la précarité alimentaire dans le Projet alimentaire territorial (PAT)",
        "axis",
        "La place donnée à la précarité alimentaire dans les PAT des territoires.",
    ),
    Section(
        "axis_experiments",
        "Expérimentations",
        "axis",
        "Les formats nouveaux essayés, ce qu'ils ont donné, ce qui sera poursuivi.",
    ),
    Section(
        "axis_white_zones",
        "Couverture des « zones blanches » de l'aide alimentaire",
        "axis",
        "Les communes éloignées de tout point d'aide alimentaire et ce qui a été fait pour elles.",
    ),
]
LESSONS = Section(
    "lessons",
    "Enseignements",
    "closing",
    "Ce que l'association retient du programme : ce qui a marché, ce qui a manqué, pourquoi.",
)
RECOMMENDATIONS = Section(
    "recommendations",
    "Recommandations",
    "closing",
    "Ce que l'association recommande aux territoires, au financeur et aux programmes suivants.",
)

SECTIONS = {
    Report.Kind.FUNDER_REPORT: [SUMMARY, *OBJECTIVES, *AXES],
    Report.Kind.FINAL_EVALUATION: [SUMMARY, LESSONS, RECOMMENDATIONS],
}


def sections_of(kind: str) -> list[Section]:
    return SECTIONS[kind]


def section_of(kind: str, key: str) -> Section | None:
    return next((section for section in SECTIONS[kind] if section.key == key), None)


def sanitise_narrative(text: str) -> str:
    """The narrative as safe HTML: typed text becomes paragraphs, pasted HTML keeps only the
    allowed tags (``<script>`` and its content, styles, handlers and images are dropped)."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        return ""
    if not _TAG.search(text):
        paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
        text = "".join(
            "<p>" + "<br>".join(html.escape(line) for line in p.split("\n")) + "</p>"
            for p in paragraphs
        )
    cleaned = nh3.clean(
        text,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
    return cleaned.strip()


# ---- Reading a narrative back as text blocks (DOCX, XLSX) --------------------------------------


@dataclass
class Run:
    text: str
    bold: bool = False
    italic: bool = False


@dataclass
class TextBlock:
    """A paragraph or a list item of a narrative, as runs of text."""

    runs: list[Run]
    list_style: str = ""  # "", "bullet" or "number"

    @property
    def text(self) -> str:
        return "".join(run.text for run in self.runs)


class _NarrativeParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.blocks: list[TextBlock] = []
        self.current: TextBlock | None = None
        self.bold = self.italic = 0
        self.lists: list[str] = []
        self.href = ""

    def _block(self) -> TextBlock:
        if self.current is None:
            style = ("number" if self.lists[-1] == "ol" else "bullet") if self.lists else ""
            self.current = TextBlock(runs=[], list_style=style)
            self.blocks.append(self.current)
        return self.current

    def _close(self):
        self.current = None

    def handle_starttag(self, tag, attrs):
        if tag in {"p", "li"}:
            self._close()
        elif tag in {"ul", "ol"}:
            self._close()
            self.lists.append(tag)
        elif tag == "br":
            self._block().runs.append(Run("\n"))
        elif tag == "strong":
            self.bold += 1
        elif tag == "em":
            self.italic += 1
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""

    def handle_endtag(self, tag):
        if tag in {"p", "li"}:
            self._close()
        elif tag in {"ul", "ol"}:
            self._close()
            if self.lists:
                self.lists.pop()
        elif tag == "strong":
            self.bold = max(0, self.bold - 1)
        elif tag == "em":
            self.italic = max(0, self.italic - 1)
        elif tag == "a":
            if self.href:
                self._block().runs.append(Run(f" ({self.href})"))
            self.href = ""

    def handle_data(self, data):
        if not data.strip() and self.current is None:
            return
        self._block().runs.append(Run(data, bold=self.bold > 0, italic=self.italic > 0))


def narrative_blocks(narrative_html: str) -> list[TextBlock]:
    """The paragraphs and list items of a sanitised narrative, for the DOCX and XLSX writers."""
    parser = _NarrativeParser()
    parser.feed(narrative_html or "")
    parser.close()
    return [block for block in parser.blocks if block.text.strip()]


def narrative_text(narrative_html: str) -> str:
    """The narrative as plain text, paragraphs separated by blank lines."""
    lines = []
    for block in narrative_blocks(narrative_html):
        prefix = "– " if block.list_style else ""
        lines.append(prefix + block.text.strip())
    return "\n\n".join(lines)


def editable_text(narrative_html: str) -> str:
    """What the text field shows: plain paragraphs when the narrative has no formatting, else its
    HTML (so that bold, lists and links survive a second edit)."""
    if not narrative_html:
        return ""
    if re.search(r"<(?!/?(p|br)\s*/?>)", narrative_html):
        return narrative_html
    paragraphs = re.findall(r"<p>(.*?)</p>", narrative_html, flags=re.S)
    if not paragraphs:
        return narrative_html
    return "\n\n".join(
        html.unescape(re.sub(r"<br\s*/?>", "\n", paragraph)) for paragraph in paragraphs
    )
