"""Search and filters of the directory, shared by the list, the map and the public directory.

Filters travel in the query string with readable codes (``?thematique=sante--...&ouvert=5``), so a
filtered list, its map and its export share one URL. Category filters use subqueries on services
rather than joins, so a structure is never listed twice.
"""

import datetime
from functools import lru_cache
from typing import NamedTuple
from urllib.parse import urlencode

from django import forms
from django.db.models import Exists, OuterRef, Q
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from tablee.core.forms import StyledFormMixin
from tablee.core.text import fold
from tablee.directory.forms import COMMUNE_LABEL, THEMATIQUE_GROUPS
from tablee.directory.hours import WEEKDAYS
from tablee.directory.models import Category, Sector, Service, Structure
from tablee.territories.models import Commune

SORTS = {"nom": "search_name", "commune": "commune__search_name", "maj": "data_updated_on"}
SORT_CHOICES = [
    ("nom", "Nom (A à Z)"),
    ("-nom", "Nom (Z à A)"),
    ("commune", "Commune"),
    ("-maj", "Dernière mise à jour (récentes d'abord)"),
    ("maj", "Dernière mise à jour (anciennes d'abord)"),
]
# Service facets: filter name -> (category kind, related name on Service).
SERVICE_FACETS = {
    "thematique": (Category.Kind.THEMATIQUE, "thematiques"),
    "public": (Category.Kind.PUBLIC, "publics"),
    "aide": (Category.Kind.FOOD_AID, "food_aid_kinds"),
}


class FastSelect(forms.Select):
    """A Select whose options are written in Python rather than through one template include per
    option, and remembered: the FINESS, réseau and thématique lists hold 70 to 150 options, the
    administration's list of EPCI 1,254, and the form is on every list, map and public page. The
    HTML is the one of Django's select.html template (the same attributes, optgroups, and only
    the first matching option selected)."""

    def render(self, name, value, attrs=None, renderer=None):
        opening = format_html(
            '<select name="{}"{}>', name, flatatt(self.build_attrs(self.attrs, attrs))
        )
        wanted = frozenset(self.format_value(value))
        return mark_safe(opening + _options_html(_frozen(self.choices), wanted) + "\n</select>")


def _frozen(choices) -> tuple:
    """The choices as nested tuples, to key the cache of their HTML."""
    return tuple(
        (value, tuple(map(tuple, label)) if isinstance(label, list | tuple) else label)
        for value, label in choices
    )


@lru_cache(maxsize=64)
def _options_html(choices: tuple, wanted: frozenset) -> str:
    wanted = set(wanted)
    parts = []
    for group_value, group_label in choices:
        if isinstance(group_label, tuple):
            parts.append(format_html('\n  <optgroup label="{}">', group_value))
            for value, label in group_label:
                parts.append(_option(value, label, wanted))
            parts.append("\n  </optgroup>")
        else:
            parts.append(_option(group_value, group_label, wanted))
    return "".join(parts)


def _option(value, label, wanted: set) -> str:
    value = "" if value is None else str(value)
    if value in wanted:
        wanted.clear()  # a single select shows only its first matching option as selected
        return format_html('\n  <option value="{}" selected>{}</option>', value, label)
    return format_html('\n  <option value="{}">{}</option>', value, label)


class DirectoryFilterForm(StyledFormMixin, forms.Form):
    """The filters of a directory list. Build it with the territories on offer and the Category
    rows (read once, a single query for the five lists)."""

    q = forms.CharField(
        label="Rechercher",
        required=False,
        max_length=200,
        help_text="Nom de la structure ou de sa commune ; accents et majuscules facultatifs.",
    )
    territoire = forms.ChoiceField(label="Territoire", required=False, widget=FastSelect)
    commune = forms.CharField(
        label="Commune",
        required=False,
        max_length=120,
        help_text="Nom ou code INSEE.",
    )
    secteur = forms.ChoiceField(
        label="Secteur",
        required=False,
        choices=[("", "Tous")] + Sector.choices,
        widget=FastSelect,
    )
    reseau = forms.ChoiceField(label="Réseau porteur", required=False, widget=FastSelect)
    finess = forms.ChoiceField(label="Catégorie FINESS", required=False, widget=FastSelect)
    thematique = forms.ChoiceField(
        label="Thématique d'un service", required=False, widget=FastSelect
    )
    public = forms.ChoiceField(label="Public d'un service", required=False, widget=FastSelect)
    aide = forms.ChoiceField(label="Forme d'aide alimentaire", required=False, widget=FastSelect)
    ouvert = forms.ChoiceField(
        label="Ouvert le",
        required=False,
        choices=[("", "N'importe quel jour")] + [(str(i), day) for i, day in enumerate(WEEKDAYS)],
        widget=FastSelect,
    )
    tri = forms.ChoiceField(
        label="Trier par", required=False, choices=SORT_CHOICES, widget=FastSelect
    )

    def __init__(self, data, *, territories, categories):
        """``territories``: [(SIREN, label)]; ``categories``: every Category row (or
        ``category_rows()``: anything with kind, value and label)."""
        # Only the filters present in the query string are bound: an unknown value is ignored
        # (the filter falls back to "all") rather than answering with an error page.
        super().__init__(data)
        self.fields["territoire"].choices = [("", "Tous")] + list(territories)
        options = _category_options(
            tuple(CategoryRow(c.kind, c.value, c.label) for c in categories)
        )
        for name, choices in options.items():
            self.fields[name].choices = choices
        self.is_valid()

    @property
    def values(self) -> dict:
        """The valid filters, unknown or malformed ones dropped."""
        return {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}

    def apply(self, queryset):
        """``queryset`` narrowed by every valid filter, and sorted."""
        values = self.values
        for word in fold(values.get("q", "")).split():
            # The matching communes as a subquery rather than a join: the join made the database
            # read the commune of every structure (228 -> 95 ms on the public directory, national).
            queryset = queryset.filter(
                Q(search_name__contains=word)
                | Q(
                    commune_id__in=Commune.objects.filter(search_name__contains=word).values("code")
                )
            )
        if "territoire" in values:
            queryset = queryset.filter(commune__territory_id=values["territoire"])
        if "commune" in values:
            text = values["commune"].strip()
            match = COMMUNE_LABEL.search(text)
            code = match.group(1) if match else text
            if len(code) == 5 and code[:2].isalnum() and code[2:].isdigit():
                queryset = queryset.filter(commune_id=code.upper())
            else:
                for word in fold(text).split():
                    queryset = queryset.filter(commune__search_name__contains=word)
        if "secteur" in values:
            queryset = queryset.filter(sector=values["secteur"])
        if "reseau" in values:
            # Correlated EXISTS: an IN (subquery) would list every match of the country first.
            queryset = queryset.filter(
                Exists(
                    Structure.networks.through.objects.filter(
                        structure_id=OuterRef("pk"),
                        category__value=values["reseau"],
                        category__kind=Category.Kind.RESEAU,
                    )
                )
            )
        if "finess" in values:
            queryset = queryset.filter(finess_category__value=values["finess"])
        for name, (_kind, related) in SERVICE_FACETS.items():
            if name in values:
                queryset = queryset.filter(
                    Exists(
                        Service.objects.filter(
                            structure_id=OuterRef("pk"), **{f"{related}__value": values[name]}
                        )
                    )
                )
        if "ouvert" in values:
            queryset = _open_on(queryset, int(values["ouvert"]))
        key = values.get("tri") or "nom"
        field = SORTS[key.lstrip("-")]
        ordering = f"-{field}" if key.startswith("-") else field
        return queryset.order_by(ordering, "search_name", "pk")

    def querystring(self) -> str:
        """The valid filters as a query string (for pagination, the map and the list links)."""
        values = self.values
        if values.get("tri") == "nom":  # the default order needs no parameter
            del values["tri"]
        return urlencode(values)

    def is_filtered(self) -> bool:
        return any(name != "tri" for name in self.values)


class CategoryRow(NamedTuple):
    kind: str
    value: str
    label: str


def category_rows() -> list[CategoryRow]:
    """What the filters show of the Category rows, in one query and without model instances."""
    return [CategoryRow(*row) for row in Category.objects.values_list("kind", "value", "label")]


@lru_cache(maxsize=8)
def _category_options(categories: tuple[CategoryRow, ...]) -> dict[str, list]:
    """The choices of the category filters, computed once for the same rows: the form is on
    every list, map and public page. Keyed by the rows themselves, so a change of the lists is
    seen at once."""
    by_kind: dict[str, list[CategoryRow]] = {}
    for category in categories:
        by_kind.setdefault(category.kind, []).append(category)

    def options(kind, with_code=False):
        rows = sorted(by_kind.get(kind, []), key=lambda c: c.label)
        return [(c.value, f"{c.label} ({c.value})" if with_code else c.label) for c in rows]

    groups: dict[str, list] = {}
    for category in sorted(by_kind.get(Category.Kind.THEMATIQUE, []), key=lambda c: c.value):
        prefix = category.value.split("--", 1)[0]
        groups.setdefault(THEMATIQUE_GROUPS.get(prefix, prefix), []).append(
            (category.value, category.label)
        )
    return {
        "reseau": [("", "Tous")] + options(Category.Kind.RESEAU),
        "finess": [("", "Toutes")] + options(Category.Kind.FINESS, True),
        "public": [("", "Tous")] + options(Category.Kind.PUBLIC),
        "aide": [("", "Toutes")] + options(Category.Kind.FOOD_AID),
        "thematique": [("", "Toutes")] + list(groups.items()),
    }


def _open_on(queryset, weekday: int):
    """Structures whose opening hours include ``weekday`` (0 = Monday), from ``open_days``.

    Structures without hours are not counted as open."""
    return queryset.filter(open_days__contains=str(weekday))


def filter_querystring(request) -> str:
    """The request's query string without ``page``."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def is_to_check(updated_on: datetime.date, today: datetime.date | None = None) -> bool:
    """Whether information last updated on ``updated_on`` is more than twelve months old."""
    today = today or timezone.localdate()
    try:
        year_ago = today.replace(year=today.year - 1)
    except ValueError:  # 29 February
        year_ago = today.replace(year=today.year - 1, day=28)
    return updated_on < year_ago
