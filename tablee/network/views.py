"""The network pages: a territory's links (indicators, graph and tables), the programme's
indicators, the links entered by hand, and the exports.

Reading is VIEW_NETWORK (the association, partners and local authorities: the funder reads
aggregates in the reports), writing EDIT_NETWORK (the association). Pages call
``ensure_fresh_links`` first, so that links derived from new records appear without anyone
entering them.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.accounts.permissions import Action, can
from tablee.core.concurrency import EditConflict
from tablee.core.exports import csv_response
from tablee.core.text import fold
from tablee.directory.models import Sector
from tablee.network import exporters
from tablee.network import services_links as services
from tablee.network.drawing import layout, legend_swatches, network_svg
from tablee.network.forms import LinkCreateForm, LinkEditForm, LinkEndForm, NetworkFilterForm
from tablee.network.metrics import (
    HEALTH_SECTORS,
    baseline_vs_now,
    load_network,
    network_graph,
    quarterly_series,
)
from tablee.network.models import Link, LinkKind, LinkSource
from tablee.network.services import ensure_fresh_links, refresh_derived_links
from tablee.territories.models import Programme, ProgrammeTerritory

SECTOR_LABELS = dict(Sector.choices)
KIND_LABELS = dict(LinkKind.choices)


def get_programme_territory(request, pt, action: Action) -> ProgrammeTerritory:
    """The programme territory if in the user's scope (else 404) and ``action`` allowed (else 403)."""
    programme_territory = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pt,
    )
    if not can(request.user, action, programme_territory):
        raise PermissionDenied
    return programme_territory


def get_link(pt, pk) -> Link:
    return get_object_or_404(
        Link.objects.filter(programme_territory=pt, source=LinkSource.MANUAL).select_related(
            "structure_a", "structure_b"
        ),
        pk=pk,
    )


# ---- Figures as a French reader expects them ---------------------------------------------------


def _decimal(value: float, digits: int) -> str:
    return f"{value:.{digits}f}".replace(".", ",")


def show_value(value, key: str) -> str:
    if value is None:
        return "—"
    if key == "social_linked_to_health_share":
        return f"{_decimal(value * 100, 0)} %"
    if key == "density":
        return _decimal(value, 3)
    return str(value)


def show_change(change, key: str) -> str:
    if change is None:
        return "—"
    if key == "social_linked_to_health_share":
        points = round(change * 100)
        return f"{points:+d} point{'s' if abs(points) > 1 else ''}".replace("-", "−")
    if key == "density":
        return ("+" if change >= 0 else "−") + _decimal(abs(change), 3)
    return f"{change:+d}".replace("-", "−")


def displayed_rows(comparison: dict) -> list[dict]:
    return [
        {
            **row,
            "baseline_text": show_value(row["baseline"], row["key"]),
            "now_text": show_value(row["now"], row["key"]),
            "change_text": show_change(row["change"], row["key"]),
        }
        for row in comparison["rows"]
    ]


def displayed_series(rows: list[dict]) -> list[dict]:
    return [
        {
            **row,
            "share_text": show_value(
                row["social_linked_to_health_share"], "social_linked_to_health_share"
            ),
            "density_text": show_value(row["density"], "density"),
        }
        for row in rows
    ]


# ---- The territory's network -------------------------------------------------------------------


def _structure_rows(data, pt, graph, numbers) -> list[dict]:
    """One row per structure of the territory: its sector, links, and whether one of them
    reaches a health structure."""
    rows = []
    for structure in data.structures_of(pt):
        neighbours = []
        for neighbour in graph[structure.pk]:
            other = data.structures[neighbour]
            kinds = graph.edges[structure.pk, neighbour]["kinds"]
            neighbours.append(
                {
                    "structure": other,
                    "number": numbers[neighbour],
                    "kinds": [label for kind, label in LinkKind.choices if kind in kinds],
                }
            )
        neighbours.sort(key=lambda item: item["number"])
        rows.append(
            {
                "structure": structure,
                "number": numbers[structure.pk],
                "sector": SECTOR_LABELS.get(structure.sector, structure.sector),
                "neighbours": neighbours,
                "linked_to_health": any(
                    item["structure"].sector in HEALTH_SECTORS for item in neighbours
                ),
            }
        )
    return rows


def _link_rows(data, links) -> list[dict]:
    rows = [
        {
            "link": link,
            "first": data.structures[link.structure_a_id],
            "second": data.structures[link.structure_b_id],
        }
        for link in links
    ]
    rows.sort(
        key=lambda row: (
            fold(row["first"].name),
            fold(row["second"].name),
            row["link"].kind,
            row["link"].source,
        )
    )
    return rows


@login_required
def territory(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_NETWORK)
    ensure_fresh_links(pt)
    filters = NetworkFilterForm(request.GET or None)
    since, at, kinds = filters.period()
    data = load_network([pt])
    comparison = baseline_vs_now([pt], today=at, since=since, kinds=kinds, data=data)
    today = timezone.localdate()
    series = quarterly_series(
        [pt],
        start=pt.programme.start_date,
        end=min(today, pt.programme.end_date),
        kinds=kinds,
        data=data,
    )
    baseline_date = comparison["baseline_date"]
    graph_now = network_graph(data, at, programme_territories=pt, since=since, kinds=kinds)
    graph_before = network_graph(data, baseline_date, programme_territories=pt, kinds=kinds)
    numbers = {structure.pk: index for index, structure in enumerate(data.structures_of(pt), 1)}
    positions = layout([graph_now, graph_before])
    drawings = None
    if positions is not None:
        drawings = {
            "before": network_svg(
                graph_before,
                positions,
                numbers=numbers,
                labelled_by="graphe-avant",
                sector_labels=SECTOR_LABELS,
            ),
            "now": network_svg(
                graph_now,
                positions,
                numbers=numbers,
                labelled_by="graphe-maintenant",
                sector_labels=SECTOR_LABELS,
            ),
        }
    shown = [link for _, _, edge in graph_now.edges(data=True) for link in edge["links"]]
    wanted = set(kinds) if kinds else None
    ended = [
        link
        for link in data.links_of(pt)
        if link.ended_on is not None
        and link.ended_on <= (since or at)
        and (wanted is None or link.kind in wanted)
    ]
    context = {
        "pt": pt,
        "programme": pt.programme,
        "filters": filters,
        "since": since,
        "at": at,
        "is_today": since is None and at == today,
        "kind_labels": [KIND_LABELS[kind] for kind in kinds] if kinds else [],
        "comparison": comparison,
        "indicator_rows": displayed_rows(comparison),
        "bridges": comparison["now"]["bridges"],
        "series": displayed_series(series),
        "drawings": drawings,
        "legend": legend_swatches(list(Sector.choices)),
        "structure_rows": _structure_rows(data, pt, graph_now, numbers),
        "link_rows": _link_rows(data, shown),
        "ended_rows": _link_rows(data, ended),
        "export_query": filters.querystring(),
        "can_edit": can(request.user, Action.EDIT_NETWORK, pt),
        "sees_notes": can(request.user, Action.EDIT_NETWORK, pt),
    }
    return render(request, "network/territory.html", context)


# ---- The programme's network -------------------------------------------------------------------


@login_required
def programme(request, programme):
    programme = get_object_or_404(Programme.objects.for_user(request.user), pk=programme)
    if not can(request.user, Action.VIEW_NETWORK, programme):
        raise PermissionDenied
    territories = [
        pt
        for pt in ProgrammeTerritory.objects.for_user(request.user)
        .filter(programme=programme)
        .select_related("programme", "territory")
        .order_by("territory__name")
        if can(request.user, Action.VIEW_NETWORK, pt)
    ]
    ensure_fresh_links(territories)
    filters = NetworkFilterForm(request.GET or None)
    since, at, kinds = filters.period()
    today = timezone.localdate()
    overall = per_territory = series = None
    if territories:
        data = load_network(territories)
        overall = baseline_vs_now(territories, today=at, since=since, kinds=kinds, data=data)
        per_territory = []
        for pt in territories:
            comparison = baseline_vs_now([pt], today=at, since=since, kinds=kinds, data=data)
            per_territory.append(
                {
                    "pt": pt,
                    "rows": {row["key"]: row for row in displayed_rows(comparison)},
                    "bridges": comparison["now"]["bridges"],
                }
            )
        series = displayed_series(
            quarterly_series(
                territories,
                start=programme.start_date,
                end=min(today, programme.end_date),
                kinds=kinds,
                data=data,
            )
        )
    context = {
        "programme": programme,
        "territories": territories,
        "filters": filters,
        "since": since,
        "at": at,
        "is_today": since is None and at == today,
        "kind_labels": [KIND_LABELS[kind] for kind in kinds] if kinds else [],
        "overall": overall,
        "indicator_rows": displayed_rows(overall) if overall else [],
        "per_territory": per_territory,
        "series": series,
    }
    return render(request, "network/programme.html", context)


# ---- Links entered by hand ---------------------------------------------------------------------


def _apply_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _back(pt) -> str:
    return reverse("network:territory", args=[pt.pk]) + "#liens"


@login_required
def link_create(request, pt):
    pt = get_programme_territory(request, pt, Action.EDIT_NETWORK)
    form = LinkCreateForm(request.POST or None, programme_territory=pt)
    if request.method == "POST" and form.is_valid():
        try:
            services.link_create(
                programme_territory=pt, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Le lien est enregistré.")
            return redirect(_back(pt))
    return render(
        request,
        "network/link_form.html",
        {"pt": pt, "programme": pt.programme, "form": form, "link": None, "cancel_url": _back(pt)},
    )


@login_required
def link_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_NETWORK)
    link = get_link(pt, pk)
    form = LinkEditForm(request.POST or None, instance=link)
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.link_update(link=link, version=version, acting_user=request.user, **data)
        except EditConflict as conflict:
            form.add_error(None, conflict.message)
            extra = {"conflict": conflict.current}
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Le lien est enregistré.")
            return redirect(_back(pt))
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "link": link,
        "cancel_url": _back(pt),
        **extra,
    }
    return render(request, "network/link_form.html", context)


@login_required
def link_end(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_NETWORK)
    link = get_link(pt, pk)
    form = LinkEndForm(request.POST or None, instance=link)
    extra = {}
    if request.method == "POST" and form.is_valid():
        try:
            services.link_end(
                link=link,
                version=form.cleaned_data["version"],
                ended_on=form.cleaned_data["ended_on"],
                acting_user=request.user,
            )
        except EditConflict as conflict:
            form.add_error(None, conflict.message)
            extra = {"conflict": conflict.current}
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La fin du lien est enregistrée.")
            return redirect(_back(pt))
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "link": link,
        "cancel_url": _back(pt),
        **extra,
    }
    return render(request, "network/link_end.html", context)


@login_required
def link_delete(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_NETWORK)
    link = get_link(pt, pk)
    if request.method == "POST":
        services.link_delete(link=link, acting_user=request.user)
        messages.success(request, "Le lien est supprimé.")
        return redirect(_back(pt))
    return render(
        request,
        "network/link_delete.html",
        {"pt": pt, "programme": pt.programme, "link": link, "cancel_url": _back(pt)},
    )


@login_required
@require_POST
def refresh(request, pt):
    """Recompute the derived links now (the page does it by itself when records change; this is
    for a change it cannot see, such as a record edited outside the application)."""
    pt = get_programme_territory(request, pt, Action.EDIT_NETWORK)
    counts = refresh_derived_links(programme_territory=pt)
    services.network_changed(
        acting_user=request.user, pt_id=pt.pk, action="refresh_derived_links", **counts
    )
    messages.success(
        request,
        f"Liens déduits recalculés : {counts['created']} nouveau(x), {counts['updated']} mis à "
        f"jour, {counts['deleted']} supprimé(s).",
    )
    return redirect("network:territory", pt=pt.pk)


# ---- Exports -----------------------------------------------------------------------------------


@login_required
def export(request, pt, fmt):
    """The territory's network as shown (same filters): GEXF, GraphML, or CSV of nodes or links."""
    pt = get_programme_territory(request, pt, Action.VIEW_NETWORK)
    if fmt not in exporters.EXPORT_FORMATS:
        raise Http404("Format d'export inconnu.")
    ensure_fresh_links(pt)
    filters = NetworkFilterForm(request.GET or None)
    since, at, kinds = filters.period()
    data = load_network([pt])
    links = exporters.exported_links(data, pt, at=at, since=since, kinds=kinds)
    base = f"reseau-{slugify(pt.territory.name)}-{at:%Y-%m-%d}"
    audit(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=f"réseau {pt.pk}",
        format=fmt,
        structures=len(data.structures_of(pt)),
        links=len(links),
        filtered=bool(filters.querystring()),
    )
    if fmt == "noeuds":
        return csv_response(
            f"{base}-structures.csv",
            exporters.node_rows(data, pt, links),
            exporters.NODE_COLUMNS,
        )
    if fmt == "liens":
        return csv_response(
            f"{base}-liens.csv", exporters.edge_rows(data, links), exporters.EDGE_COLUMNS
        )
    extension, content_type = exporters.GRAPH_FORMATS[fmt]
    content = exporters.graph_file(exporters.export_multigraph(data, pt, links), fmt)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"{base}.{extension}")
    return response
