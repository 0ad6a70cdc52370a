from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render

from tablee.accounts.decorators import require
from tablee.accounts.permissions import Action, can
from tablee.core.concurrency import EditConflict
from tablee.core.pagination import paginate
from tablee.territories import services
from tablee.territories.forms import (
    ProgrammeEditForm,
    ProgrammeForm,
    ProgrammeTerritoryForm,
    TargetsForm,
)
from tablee.territories.indicators import indicators_for_territory
from tablee.territories.models import (
    Audience,
    Programme,
    ProgrammeTerritory,
    SessionTarget,
    Territory,
)


def get_programme_for_user(request, pk) -> Programme:
    """The programme if it is in the user's scope, else 404."""
    return get_object_or_404(Programme.objects.for_user(request.user), pk=pk)


def get_programme_territory_for_user(request, pk) -> ProgrammeTerritory:
    return get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related(
            "programme", "territory__departement__region"
        ),
        pk=pk,
    )


def _require(user, action, obj):
    if not can(user, action, obj):
        raise PermissionDenied


@login_required
def programme_list(request):
    programmes = (
        Programme.objects.for_user(request.user)
        .annotate(territory_count=Count("territories", distinct=True))
        .order_by("-start_date", "name")
    )
    return render(
        request,
        "territories/programme_list.html",
        {
            "page": paginate(request, programmes),
            "can_create_programme": can(request.user, Action.CREATE_PROGRAMME),
        },
    )


@require(Action.CREATE_PROGRAMME)
def programme_create(request):
    form = ProgrammeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        programme = services.programme_create(acting_user=request.user, **form.cleaned_data)
        messages.success(
            request,
            f"Le programme « {programme.name} » est créé. Ajoutez-y maintenant ses territoires.",
        )
        return redirect("territories:programme_detail", pk=programme.pk)
    return render(request, "territories/programme_form.html", {"form": form, "programme": None})


@login_required
def programme_detail(request, pk):
    programme = get_programme_for_user(request, pk)
    territories = list(
        ProgrammeTerritory.objects.for_user(request.user)
        .filter(programme=programme)
        .select_related("territory__departement")
        .annotate(commune_count=Count("territory__communes"))
    )
    targets = {(t.dimension, t.key): t.value for t in programme.targets.all()}
    audience_targets = [
        (label, targets.get((SessionTarget.Dimension.AUDIENCE, value), 0))
        for value, label in Audience.choices
    ]
    year_targets = [
        (year, targets.get((SessionTarget.Dimension.YEAR, str(year)), 0))
        for year in programme.years
    ]
    territory_total = sum(pt.target_sessions for pt in territories)
    return render(
        request,
        "territories/programme_detail.html",
        {
            "programme": programme,
            "territories": territories,
            "audience_targets": audience_targets,
            "audience_total": sum(v for _, v in audience_targets),
            "year_targets": year_targets,
            "year_total": sum(v for _, v in year_targets),
            "territory_total": territory_total,
            "population_total": sum(pt.territory.population for pt in territories),
            "can_edit": can(request.user, Action.EDIT_PROGRAMME, programme),
            "stages": programme_stages(request.user, programme),
        },
    )


def programme_stages(user, programme) -> dict[str, bool]:
    """Which stages of the cycle the user may open for the whole programme (the links of the
    programme page; one check each, no query beyond the memberships already loaded)."""
    return {
        "activities": can(user, Action.VIEW_ACTIVITIES, programme),
        "edit_activities": can(user, Action.EDIT_ACTIVITIES, programme),
        "evaluations": can(user, Action.VIEW_EVALUATIONS, programme)
        or can(user, Action.VIEW_DASHBOARD, programme),
        "network": can(user, Action.VIEW_NETWORK, programme),
        "dashboard": can(user, Action.VIEW_DASHBOARD, programme),
        "reports": can(user, Action.VIEW_REPORTS, programme),
    }


def territory_stages(user, pt) -> dict[str, bool]:
    """Which stages of the cycle the user may open on a programme territory."""
    return {
        "consultation": can(user, Action.VIEW_PLAN, pt),
        "plan": can(user, Action.VIEW_PLAN, pt),
        "activities": can(user, Action.VIEW_ACTIVITIES, pt),
        "network": can(user, Action.VIEW_NETWORK, pt),
        "dashboard": can(user, Action.VIEW_DASHBOARD, pt),
    }


def _conflict_context(form, conflict: EditConflict):
    form.add_error(None, conflict.message)
    return {"conflict": conflict.current}


@login_required
def programme_edit(request, pk):
    programme = get_programme_for_user(request, pk)
    _require(request.user, Action.EDIT_PROGRAMME, programme)
    form = ProgrammeEditForm(request.POST or None, instance=programme)
    context = {"form": form, "programme": programme}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.programme_update(
                programme=programme, version=version, acting_user=request.user, **data
            )
        except EditConflict as conflict:
            context.update(_conflict_context(form, conflict))
        else:
            messages.success(request, "Le programme est enregistré.")
            return redirect("territories:programme_detail", pk=programme.pk)
    return render(request, "territories/programme_form.html", context)


@login_required
def programme_targets(request, pk):
    programme = get_programme_for_user(request, pk)
    _require(request.user, Action.EDIT_PROGRAMME, programme)
    form = TargetsForm(request.POST or None, programme=programme)
    if request.method == "POST" and form.is_valid():
        services.programme_set_targets(
            programme=programme, acting_user=request.user, **form.service_kwargs()
        )
        messages.success(request, "Les objectifs sont enregistrés.")
        return redirect("territories:programme_detail", pk=programme.pk)
    return render(
        request, "territories/programme_targets.html", {"form": form, "programme": programme}
    )


@login_required
def programme_territory_add(request, pk):
    """Search an EPCI by name (accents optional) and add it to the programme."""
    programme = get_programme_for_user(request, pk)
    _require(request.user, Action.EDIT_PROGRAMME, programme)
    if request.method == "POST":
        territory = Territory.objects.filter(siren=request.POST.get("siren", "")).first()
        if territory is None:
            messages.error(request, "Cet EPCI est introuvable dans le référentiel.")
            return redirect("territories:programme_territory_add", pk=programme.pk)
        try:
            pt = services.programme_territory_add(
                programme=programme, territory=territory, acting_user=request.user
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
            return redirect("territories:programme_territory_add", pk=programme.pk)
        messages.success(
            request,
            f"{territory.name} est ajouté au programme. Renseignez son PAT et son objectif.",
        )
        return redirect("territories:territory_edit", pk=pt.pk)

    query = request.GET.get("q", "").strip()
    results = []
    if query:
        already = set(programme.territories.values_list("territory_id", flat=True))
        results = [
            (epci, epci.siren in already)
            for epci in Territory.objects.search(query)
            .select_related("departement")
            .order_by("name")[:30]
        ]
    context = {"programme": programme, "query": query, "results": results}
    template = (
        "territories/includes/epci_results.html"
        if request.htmx
        else "territories/programme_territory_add.html"
    )
    return render(request, template, context)


@login_required
def territory_detail(request, pk):
    pt = get_programme_territory_for_user(request, pk)
    _require(request.user, Action.VIEW_TERRITORY, pt)
    epci = pt.territory
    communes = list(epci.communes.order_by("-population", "name"))
    departement = epci.departement
    return render(
        request,
        "territories/territory_detail.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "epci": epci,
            "departement": departement,
            "region": departement.region,
            "communes": communes,
            "map_points": [
                {
                    "name": c.name,
                    "code": c.code,
                    "lat": c.latitude,
                    "lon": c.longitude,
                    "pop": c.population,
                }
                for c in communes
                if c.latitude is not None
            ],
            "indicator_rows": indicators_for_territory(epci),
            "can_see_contacts": can(request.user, Action.VIEW_TERRITORY_CONTACTS, pt),
            "can_view_diagnostic": can(request.user, Action.VIEW_DIAGNOSTIC, pt),
            "can_view_synthesis": can(request.user, Action.VIEW_DIAGNOSTIC_SYNTHESIS, pt),
            "can_view_directory": can(request.user, Action.VIEW_DIRECTORY, pt),
            "stages": territory_stages(request.user, pt),
            "can_edit": can(request.user, Action.EDIT_TERRITORY, pt),
            "can_remove": can(request.user, Action.EDIT_PROGRAMME, pt.programme),
        },
    )


@login_required
def territory_edit(request, pk):
    pt = get_programme_territory_for_user(request, pk)
    _require(request.user, Action.EDIT_TERRITORY, pt)
    form = ProgrammeTerritoryForm(request.POST or None, instance=pt)
    context = {"form": form, "pt": pt, "programme": pt.programme}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.programme_territory_update(
                programme_territory=pt, version=version, acting_user=request.user, **data
            )
        except EditConflict as conflict:
            context.update(_conflict_context(form, conflict))
        else:
            messages.success(request, f"Le territoire {pt.territory.name} est enregistré.")
            return redirect("territories:territory_detail", pk=pt.pk)
    return render(request, "territories/territory_form.html", context)


@login_required
def territory_remove(request, pk):
    """Confirmation page (GET), then removal (POST)."""
    pt = get_programme_territory_for_user(request, pk)
    _require(request.user, Action.EDIT_PROGRAMME, pt.programme)
    if request.method == "POST":
        programme = pt.programme
        name = pt.territory.name
        services.programme_territory_remove(programme_territory=pt, acting_user=request.user)
        messages.success(request, f"{name} ne fait plus partie du programme.")
        return redirect("territories:programme_detail", pk=programme.pk)
    return render(
        request,
        "territories/territory_confirm_remove.html",
        {"pt": pt, "programme": pt.programme, "membership_count": pt.memberships.count()},
    )
