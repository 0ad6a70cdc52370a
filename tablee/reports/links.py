"""Links from a figure to the records behind it, for the readers allowed to open them.

A block's cell names its records with a ``LinkSpec`` (reports/blocks.py); ``RecordLinks`` turns it
into the URL of the list page of the right app, with its filters, when ``can()`` lets the reader
open that page. Pages of apps written later than the figures may not exist yet: their URL name
does not resolve, and the figure is shown without a link.
"""

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse

from tablee.accounts.permissions import Action, can
from tablee.reports.blocks import Cell, KeyFigures, LinkSpec, Table

# kind -> (URL name for a territory, URL name for the programme, permission)
TARGETS = {
    "sessions": (
        "activities:session_list",
        "activities:programme_sessions",
        Action.VIEW_ACTIVITIES,
    ),
    "actions": ("plans:steering", None, Action.VIEW_PLAN),
    "needs": ("diagnostic_records:need_list", None, Action.VIEW_DIAGNOSTIC),
    "links": ("network:territory", "network:programme", Action.VIEW_NETWORK),
    "evaluations": (None, "evaluations:results", Action.VIEW_EVALUATIONS),
    "structures": ("directory:list", None, Action.VIEW_DIRECTORY),
}


def url_or_empty(name: str, *args) -> str:
    """The URL of ``name``, or "" while that page does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


class RecordLinks:
    """Resolves LinkSpecs for one reader of one page.

    ``territories`` maps the ids of the territories shown to their ProgrammeTerritory (with its
    territory). When the page shows a single territory, figures of "the programme" are that
    territory's and link to its records.
    """

    def __init__(self, user, programme, territories: dict):
        self.user = user
        self.programme = programme
        self.territories = territories
        self.only = next(iter(territories.values())) if len(territories) == 1 else None
        self._cache: dict = {}

    def url(self, spec: LinkSpec | None) -> str:
        if spec is None:
            return ""
        if spec not in self._cache:
            self._cache[spec] = self._resolve(spec)
        return self._cache[spec]

    def _resolve(self, spec: LinkSpec) -> str:
        territory_name, programme_name, permission = TARGETS[spec.kind]
        pt = self.territories.get(spec.pt_id) if spec.pt_id else self.only
        params = list(spec.params)
        if pt is not None and territory_name:
            if not can(self.user, permission, pt):
                return ""
            if spec.kind == "structures":
                base = url_or_empty(territory_name)
                params.append(("territoire", pt.territory_id))
            else:
                base = url_or_empty(territory_name, pt.pk)
        elif programme_name:
            if not can(self.user, permission, self.programme):
                return ""
            base = url_or_empty(programme_name, self.programme.pk)
            if pt is not None:
                params.append(("territoire", str(pt.pk)))
        else:
            return ""
        if not base:
            return ""
        return f"{base}?{urlencode(params)}" if params else base

    def apply(self, blocks: list) -> list:
        """Set ``url`` on every cell of ``blocks`` that names its records; returns ``blocks``."""
        for block in blocks:
            cells: list[Cell] = []
            if isinstance(block, Table):
                cells = [cell for row in block.rows for cell in row]
            elif isinstance(block, KeyFigures):
                cells = [cell for _, cell in block.items]
            for cell in cells:
                cell.url = self.url(cell.link)
        return blocks
