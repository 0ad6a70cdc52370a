"""The directory inside the application: list, map, structure page, and the edit forms."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse

from tablee.accounts.audit import audit
from tablee.accounts.decorators import require
from tablee.accounts.models import AuditEvent
from tablee.accounts.permissions import Action, can
from tablee.core.concurrency import EditConflict
from tablee.core.text import fold
from tablee.directory import services
from tablee.directory.filters import DirectoryFilterForm, category_rows, is_to_check
from tablee.directory.forms import (
    ContactForm,
    ServiceEditForm,
    ServiceForm,
    ServiceStopForm,
    StructureEditForm,
    StructureForm,
    commune_label,
    communes_in_scope,
)
from tablee.directory.models import Category, Contact, Sector, Service, ServiceStop, Structure
from tablee.directory.pagination import paginate_results
from tablee.territories.models import ProgrammeTerritory

# The map answers at most this many structures; beyond, the user is asked to narrow the filters.
MAP_LIMIT = 5000
# Any UUID: reversed once per map, then replaced by each structure's primary key.
_URL_PLACEHOLDER = uuid.UUID(int=0)


def get_structure_for_user(request, pk) -> Structure:
    """The structure if it is in the user's directory, else 404."""
    return get_object_or_404(
        Structure.objects.for_user(request.user).select_related(
            "commune__territory", "finess_category"
        ),
        pk=pk,
    )


def get_service_for_user(request, pk) -> Service:
    return get_object_or_404(
        Service.objects.filter(
            structure__in=Structure.objects.for_user(request.user).values("pk")
        ).select_related("structure__commune", "commune"),
        pk=pk,
    )


def get_contact_for_user(request, pk) -> Contact:
    return get_object_or_404(
        Contact.objects.filter(
            structure__in=Structure.objects.for_user(request.user).values("pk")
        ).select_related("structure__commune"),
        pk=pk,
    )


def _require(user, action, obj):
    if not can(user, action, obj):
        raise PermissionDenied


def directory_filter_form(request) -> DirectoryFilterForm:
    """The filters of the signed-in directory: territories of the user's programmes (two queries:
    the EPCI of the programme territories in scope, every Category row). Only the columns the
    form shows are read: the administration's form lists the 1,254 EPCI of France."""
    territories = list(
        ProgrammeTerritory.objects.for_user(request.user)
        .order_by("territory__name", "territory_id")
        .values_list("territory_id", "territory__name")
        .distinct()
    )
    return DirectoryFilterForm(request.GET, territories=territories, categories=category_rows())


def data_links() -> dict:
    """Import and export pages of the directory data, when they are installed."""
    links = {}
    for key, name in (
        ("import_url", "directory_data:import"),
        ("export_url", "directory_data:export"),
    ):
        try:
            links[key] = reverse(name)
        except NoReverseMatch:
            links[key] = ""
    return links


@require(Action.VIEW_DIRECTORY)
def structure_list(request):
    form = directory_filter_form(request)
    structures = form.apply(Structure.objects.for_user(request.user)).select_related("commune")
    page = paginate_results(request, structures)
    context = {
        "form": form,
        "page": page,
        "querystring": form.querystring(),
        "detail_url_name": "directory:detail",
        "can_create": can(request.user, Action.CREATE_STRUCTURE),
        "can_import": can(request.user, Action.IMPORT_STRUCTURES),
        "can_export": can(request.user, Action.EXPORT_DIRECTORY),
        **data_links(),
    }
    template = (
        "directory/includes/structure_results.html"
        if request.htmx
        else "directory/structure_list.html"
    )
    response = render(request, template, context)
    if request.htmx:
        # The address bar shows the filters in use only, not every empty field of the form.
        query = context["querystring"]
        response["HX-Push-Url"] = f"{request.path}?{query}" if query else request.path
    return response


@require(Action.VIEW_DIRECTORY)
def structure_map(request):
    form = directory_filter_form(request)
    return render(
        request,
        "directory/structure_map.html",
        {
            "form": form,
            "querystring": form.querystring(),
            "data_url": reverse("directory:map_data"),
        },
    )


def map_payload(structures, detail_url_name: str) -> dict:
    """The map's JSON: one point per structure, at its own position or its commune's centre."""
    rows = list(
        structures.values_list(
            "pk",
            "name",
            "latitude",
            "longitude",
            "commune__latitude",
            "commune__longitude",
            "sector",
            "location_is_approximate",
            "commune__name",
        )[: MAP_LIMIT + 1]
    )
    truncated = len(rows) > MAP_LIMIT
    points, without_position = [], 0
    sectors = dict(Sector.choices)
    # One reverse() for the whole map: every detail URL differs only by the primary key.
    url_prefix, _, url_suffix = reverse(detail_url_name, args=[_URL_PLACEHOLDER]).partition(
        str(_URL_PLACEHOLDER)
    )
    for pk, name, lat, lon, c_lat, c_lon, sector, approximate, commune_name in rows[:MAP_LIMIT]:
        if lat is None or lon is None:
            lat, lon, approximate = c_lat, c_lon, True
        if lat is None or lon is None:
            without_position += 1
            continue
        points.append(
            {
                "id": str(pk),
                "name": name,
                "commune": commune_name,
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "sector": sector,
                "sector_label": sectors.get(sector, sector),
                "approximate": approximate,
                "url": f"{url_prefix}{pk}{url_suffix}",
            }
        )
    return {
        "structures": points,
        "count": len(points),
        "without_position": without_position,
        "truncated": truncated,
        "limit": MAP_LIMIT,
    }


@require(Action.VIEW_DIRECTORY)
def map_data(request):
    form = directory_filter_form(request)
    structures = form.apply(Structure.objects.for_user(request.user))
    return JsonResponse(map_payload(structures, "directory:detail"))


def structure_services(structure: Structure) -> list[Service]:
    """Services of a structure with everything the structure page shows (five queries)."""
    return list(
        structure.services.select_related("commune").prefetch_related(
            "thematiques",
            "publics",
            "food_aid_kinds",
            Prefetch("stops", queryset=ServiceStop.objects.select_related("commune")),
        )
    )


@require(Action.VIEW_DIRECTORY)
def structure_detail(request, pk):
    structure = get_structure_for_user(request, pk)
    can_see_contacts = can(request.user, Action.VIEW_STRUCTURE_CONTACTS, structure)
    contacts = list(structure.contacts.all()) if can_see_contacts else []
    if contacts:
        # Professionals' names and details: reading them is traced (ids and counts only).
        audit(
            AuditEvent.Kind.NAMED_RECORD_READ,
            actor=request.user,
            target=str(structure.pk),
            record="structure_contacts",
            count=len(contacts),
        )
    return render(
        request,
        "directory/structure_detail.html",
        {
            "structure": structure,
            "networks": list(structure.networks.all()),
            "services": structure_services(structure),
            "contacts": contacts,
            "can_see_contacts": can_see_contacts,
            "can_edit": can(request.user, Action.EDIT_STRUCTURE, structure),
            "to_check": is_to_check(structure.data_updated_on),
        },
    )


def _conflict_context(form, conflict: EditConflict) -> dict:
    form.add_error(None, conflict.message)
    return {"conflict": conflict.current}


@require(Action.CREATE_STRUCTURE)
def structure_create(request):
    form = StructureForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        structure = services.structure_create(acting_user=request.user, **form.cleaned_data)
        messages.success(request, f"La structure « {structure.name} » est enregistrée.")
        return redirect("directory:detail", pk=structure.pk)
    return render(request, "directory/structure_form.html", {"form": form, "structure": None})


@login_required
def structure_edit(request, pk):
    structure = get_structure_for_user(request, pk)
    _require(request.user, Action.EDIT_STRUCTURE, structure)
    form = StructureEditForm(request.POST or None, instance=structure, user=request.user)
    context = {"form": form, "structure": structure}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.structure_update(
                structure=structure, version=version, acting_user=request.user, **data
            )
        except EditConflict as conflict:
            context.update(_conflict_context(form, conflict))
        else:
            messages.success(request, "La structure est enregistrée.")
            return redirect("directory:detail", pk=structure.pk)
    return render(request, "directory/structure_form.html", context)


@login_required
def commune_suggestions(request):
    """Options of the commune inputs (htmx): communes of the user's scope matching the text."""
    if not (can(request.user, Action.CREATE_STRUCTURE) or can(request.user, Action.EDIT_STRUCTURE)):
        raise PermissionDenied
    query = request.GET.get("commune") or request.GET.get("q") or ""
    communes = []
    words = fold(query).split()
    if words:
        queryset = communes_in_scope(request.user)
        if len(query.strip()) == 5 and query.strip()[2:].isdigit():
            queryset = queryset.filter(code=query.strip().upper())
        else:
            for word in words:
                queryset = queryset.filter(search_name__contains=word)
        communes = [commune_label(c) for c in queryset.order_by("-population", "name")[:20]]
    return render(request, "directory/includes/commune_options.html", {"labels": communes})


# ---- Services ---------------------------------------------------------------------------------


def _service_form_kwargs(request):
    return {"user": request.user, "categories": list(Category.objects.all())}


@login_required
def service_create(request, pk):
    structure = get_structure_for_user(request, pk)
    _require(request.user, Action.EDIT_STRUCTURE, structure)
    form = ServiceForm(request.POST or None, **_service_form_kwargs(request))
    if request.method == "POST" and form.is_valid():
        service = services.service_create(
            structure=structure, acting_user=request.user, **form.cleaned_data
        )
        messages.success(request, f"Le service « {service.name} » est enregistré.")
        if service.is_itinerant:
            return redirect("directory:service_stops", pk=service.pk)
        return redirect("directory:detail", pk=structure.pk)
    return render(
        request,
        "directory/service_form.html",
        {"form": form, "structure": structure, "service": None},
    )


@login_required
def service_edit(request, pk):
    service = get_service_for_user(request, pk)
    structure = service.structure
    _require(request.user, Action.EDIT_STRUCTURE, structure)
    form = ServiceEditForm(request.POST or None, instance=service, **_service_form_kwargs(request))
    context = {"form": form, "structure": structure, "service": service}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.service_update(
                service=service, version=version, acting_user=request.user, **data
            )
        except EditConflict as conflict:
            context.update(_conflict_context(form, conflict))
        else:
            messages.success(request, "Le service est enregistré.")
            return redirect("directory:detail", pk=structure.pk)
    return render(request, "directory/service_form.html", context)


@login_required
def service_delete(request, pk):
    """Confirmation page (GET), then deletion (POST)."""
    service = get_service_for_user(request, pk)
    structure = service.structure
    _require(request.user, Action.EDIT_STRUCTURE, structure)
    if request.method == "POST":
        services.service_delete(service=service, acting_user=request.user)
        messages.success(request, f"Le service « {service.name} » est supprimé.")
        return redirect("directory:detail", pk=structure.pk)
    return render(
        request,
        "directory/confirm_delete.html",
        {
            "structure": structure,
            "title": f"Supprimer le service « {service.name} »",
            "explanation": "Le service et ses éventuels arrêts seront supprimés.",
        },
    )


@login_required
def service_stops(request, pk):
    """The stops of an itinerant service: list, add (POST), with their own hours."""
    service = get_service_for_user(request, pk)
    structure = service.structure
    _require(request.user, Action.EDIT_STRUCTURE, structure)
    form = ServiceStopForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.service_stop_add(service=service, acting_user=request.user, **form.cleaned_data)
        messages.success(request, "L'arrêt est ajouté.")
        return redirect("directory:service_stops", pk=service.pk)
    return render(
        request,
        "directory/service_stops.html",
        {
            "form": form,
            "structure": structure,
            "service": service,
            "stops": list(service.stops.select_related("commune")),
        },
    )


@login_required
def service_stop_remove(request, pk):
    if request.method != "POST":
        raise PermissionDenied
    stop = get_object_or_404(
        ServiceStop.objects.filter(
            service__structure__in=Structure.objects.for_user(request.user).values("pk")
        ).select_related("service__structure__commune"),
        pk=pk,
    )
    service = stop.service
    _require(request.user, Action.EDIT_STRUCTURE, service.structure)
    services.service_stop_remove(stop=stop, acting_user=request.user)
    messages.success(request, "L'arrêt est retiré.")
    return redirect("directory:service_stops", pk=service.pk)


# ---- Contacts ---------------------------------------------------------------------------------


def _require_contacts(user, structure):
    _require(user, Action.EDIT_STRUCTURE, structure)
    _require(user, Action.VIEW_STRUCTURE_CONTACTS, structure)


@login_required
def contact_create(request, pk):
    structure = get_structure_for_user(request, pk)
    _require_contacts(request.user, structure)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.contact_create(
            structure=structure, acting_user=request.user, **form.service_kwargs()
        )
        messages.success(request, "Le contact est enregistré.")
        return redirect("directory:detail", pk=structure.pk)
    return render(
        request,
        "directory/contact_form.html",
        {"form": form, "structure": structure, "contact": None},
    )


@login_required
def contact_edit(request, pk):
    contact = get_contact_for_user(request, pk)
    structure = contact.structure
    _require_contacts(request.user, structure)
    form = ContactForm(request.POST or None, instance=contact)
    if request.method == "GET":
        audit(
            AuditEvent.Kind.NAMED_RECORD_READ,
            actor=request.user,
            target=str(structure.pk),
            record="contact",
            contact=str(contact.pk),
        )
    if request.method == "POST" and form.is_valid():
        services.contact_update(contact=contact, acting_user=request.user, **form.service_kwargs())
        messages.success(request, "Le contact est enregistré.")
        return redirect("directory:detail", pk=structure.pk)
    return render(
        request,
        "directory/contact_form.html",
        {"form": form, "structure": structure, "contact": contact},
    )


@login_required
def contact_delete(request, pk):
    contact = get_contact_for_user(request, pk)
    structure = contact.structure
    _require_contacts(request.user, structure)
    if request.method == "POST":
        services.contact_delete(contact=contact, acting_user=request.user)
        messages.success(request, "Le contact est supprimé.")
        return redirect("directory:detail", pk=structure.pk)
    return render(
        request,
        "directory/confirm_delete.html",
        {
            "structure": structure,
            "title": "Supprimer ce contact",
            "explanation": (
                "La fiche du contact sera effacée. Le journal d'audit n'en garde que l'identifiant."
            ),
        },
    )
