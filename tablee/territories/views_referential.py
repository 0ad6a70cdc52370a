"""Browsing and searching the national referential: régions, départements, EPCI and communes.

The referential is public data: every role that may see it sees all of it, so lookups are by
INSEE code or SIREN without a scope filter, and an unknown code answers 404.
"""

import re

from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum
from django.shortcuts import get_object_or_404, render
from django.utils.cache import patch_vary_headers

from tablee.accounts.decorators import require
from tablee.accounts.permissions import Action
from tablee.core.pagination import paginate, sort_param
from tablee.core.text import fold
from tablee.territories.models import Commune, Departement, Region, Territory

# Query-string keys shown in URLs ("?tri=-population") -> ORM ordering. The folded name sorts
# "Écouen" among the E, where the raw name would put it after "Z".
SORTS = {"nom": "search_name", "population": "population"}
# How many EPCI a search shows: EPCI are few, a longer list means the search is too vague.
EPCI_RESULTS = 20
MIN_SEARCH_LENGTH = 2
MAX_SEARCH_LENGTH = 100
COMMUNE_CODE = re.compile(r"\d[\dAB]\d{3}")
SIREN = re.compile(r"\d{9}")


@require(Action.VIEW_REFERENTIAL)
def index(request):
    """The régions and their départements, and the search of communes and EPCI by name or code.

    With htmx (live search) only the part below the search box is rendered.
    """
    query = request.GET.get("q", "").strip()[:MAX_SEARCH_LENGTH]
    context = {"query": query, "too_short": False, "regions": None, "search": None}
    if not query:
        context["regions"] = Region.objects.prefetch_related("departements").order_by("search_name")
    elif len(fold(query).replace(" ", "")) < MIN_SEARCH_LENGTH:
        context["too_short"] = True
    else:
        context["search"] = _search(request, query)
    partial = request.htmx and not request.htmx.history_restore_request
    template = (
        "territories/referential/includes/index_body.html"
        if partial
        else "territories/referential/index.html"
    )
    response = render(request, template, context)
    # The same URL answers a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ("HX-Request",))
    return response


def _search(request, query: str) -> dict:
    code = query.upper()
    communes = Commune.objects.select_related("departement", "territory")
    territories = Territory.objects.select_related("departement")
    if COMMUNE_CODE.fullmatch(code):
        communes = communes.filter(code=code)
        territories = territories.none()
    elif SIREN.fullmatch(code):
        communes = communes.none()
        territories = territories.filter(siren=code)
    else:
        communes = communes.search(query)
        territories = territories.search(query)
    # Largest first: "saint brieuc" puts Saint-Brieuc before Saint-Brieuc-des-Iffs.
    communes_page = paginate(request, communes.order_by("-population", "search_name", "code"))
    territory_list = list(territories.order_by("-population", "search_name")[: EPCI_RESULTS + 1])
    return {
        "communes": communes_page,
        "territories": territory_list[:EPCI_RESULTS],
        "more_territories": len(territory_list) > EPCI_RESULTS,
        "querystring": _querystring(request, drop=("page",)),
    }


@require(Action.VIEW_REFERENTIAL)
def region_detail(request, code):
    region = get_object_or_404(Region, code=code)
    departements = region.departements.annotate(
        commune_count=_count_by_departement(Commune),
        territory_count=_count_by_departement(Territory),
        population=_population_by_departement(),
    ).order_by("code")
    return render(
        request,
        "territories/referential/region_detail.html",
        {"region": region, "departements": departements},
    )


@require(Action.VIEW_REFERENTIAL)
def departement_detail(request, code):
    departement = get_object_or_404(Departement.objects.select_related("region"), code=code)
    territories = departement.territories.annotate(commune_count=Count("communes")).order_by(
        "search_name"
    )
    sort, ordering = sort_param(request, SORTS, "nom")
    communes = paginate(
        request,
        departement.communes.select_related("territory").order_by(ordering, "search_name", "code"),
    )
    totals = departement.communes.aggregate(count=Count("pk"), population=Sum("population"))
    return render(
        request,
        "territories/referential/departement_detail.html",
        {
            "departement": departement,
            "territories": territories,
            "communes": communes,
            "totals": totals,
            "columns": _columns(request, sort, COMMUNE_COLUMNS),
            "querystring": _querystring(request, drop=("page",)),
        },
    )


@require(Action.VIEW_REFERENTIAL)
def epci_detail(request, siren):
    territory = get_object_or_404(
        Territory.objects.select_related("departement__region"), siren=siren
    )
    sort, ordering = sort_param(request, SORTS, "nom")
    communes = paginate(request, territory.communes.order_by(ordering, "search_name", "code"))
    totals = territory.communes.aggregate(count=Count("pk"), population=Sum("population"))
    return render(
        request,
        "territories/referential/epci_detail.html",
        {
            "territory": territory,
            "communes": communes,
            "totals": totals,
            "columns": _columns(request, sort, MEMBER_COLUMNS),
            "querystring": _querystring(request, drop=("page",)),
        },
    )


@require(Action.VIEW_REFERENTIAL)
def commune_detail(request, code):
    commune = get_object_or_404(
        Commune.objects.select_related("departement__region", "territory"), code=code
    )
    return render(request, "territories/referential/commune_detail.html", {"commune": commune})


# Table headers: (label, sort key or None, whether the column holds numbers).
COMMUNE_COLUMNS = [
    ("Code INSEE", None, False),
    ("Nom", "nom", False),
    ("Population municipale", "population", True),
    ("EPCI", None, False),
]
MEMBER_COLUMNS = [
    ("Code INSEE", None, False),
    ("Nom", "nom", False),
    ("Population municipale", "population", True),
    ("Département", None, False),
]


def _columns(request, current: str, columns) -> list[dict]:
    """Headers of a sortable table: each sortable one links to its sort, the other way round
    when it is the current one, and says its state to screen readers (aria-sort)."""
    active = current.lstrip("-")
    descending = current.startswith("-")
    headers = []
    for label, key, numeric in columns:
        header = {"label": label, "numeric": numeric, "href": "", "aria_sort": "", "arrow": ""}
        if key:
            is_active = key == active
            # A number column opens largest first; a name column A to Z.
            next_descending = (not descending) if is_active else numeric
            header["href"] = "?" + _querystring(
                request, drop=("page", "tri"), add={"tri": f"-{key}" if next_descending else key}
            )
            header["next_label"] = "décroissant" if next_descending else "croissant"
            if is_active:
                header["aria_sort"] = "descending" if descending else "ascending"
                header["arrow"] = "↓" if descending else "↑"
        else:
            header["next_label"] = ""
        headers.append(header)
    return headers


def _querystring(request, drop=(), add=None) -> str:
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    for key, value in (add or {}).items():
        params[key] = value
    return params.urlencode()


def _count_by_departement(model):
    rows = (
        model.objects.filter(departement=OuterRef("pk"))
        .order_by()
        .values("departement")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Subquery(rows, output_field=IntegerField())


def _population_by_departement():
    rows = (
        Commune.objects.filter(departement=OuterRef("pk"))
        .order_by()
        .values("departement")
        .annotate(total=Sum("population"))
        .values("total")
    )
    return Subquery(rows, output_field=IntegerField())
