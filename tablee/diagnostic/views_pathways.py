"""Pathways (parcours types) of a programme territory: list, timeline, steps."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tablee.accounts.permissions import Action, can
from tablee.core.concurrency import EditConflict
from tablee.diagnostic import services_pathways as services
from tablee.diagnostic.forms_pathways import PathwayEditForm, PathwayForm, StepForm
from tablee.diagnostic.models import Need, Pathway, PathwayStep
from tablee.territories.models import ProgrammeTerritory


def get_programme_territory_for_user(request, pk, action: Action) -> ProgrammeTerritory:
    """The programme territory if in scope (else 404) and ``action`` is allowed on it (else 403)."""
    pt = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pk,
    )
    if not can(request.user, action, pt):
        raise PermissionDenied
    return pt


def get_pathway(pt, pk) -> Pathway:
    pathway = get_object_or_404(Pathway.objects.filter(programme_territory=pt), pk=pk)
    pathway.programme_territory = pt
    return pathway


def get_step(pathway, pk) -> PathwayStep:
    step = get_object_or_404(PathwayStep.objects.filter(pathway=pathway), pk=pk)
    step.pathway = pathway
    return step


def _context(pt, **extra):
    return {"pt": pt, "programme": pt.programme, **extra}


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error)


@login_required
def pathway_list(request, pt):
    pt = get_programme_territory_for_user(request, pt, Action.VIEW_DIAGNOSTIC)
    pathways = (
        Pathway.objects.filter(programme_territory=pt)
        .annotate(
            step_count=Count("steps", distinct=True),
            break_count=Count("steps", filter=~Q(steps__break_after=""), distinct=True),
        )
        .order_by("title")
    )
    return render(
        request,
        "diagnostic/pathways/pathway_list.html",
        _context(
            pt,
            pathways=pathways,
            can_edit=can(request.user, Action.EDIT_DIAGNOSTIC, pt),
        ),
    )


@login_required
def pathway_create(request, pt):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    form = PathwayForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        pathway = services.pathway_create(
            programme_territory=pt, acting_user=request.user, **form.cleaned_data
        )
        messages.success(request, "Le parcours est créé. Ajoutez-y maintenant ses étapes.")
        return redirect("pathways:detail", pt=pt.pk, pathway=pathway.pk)
    return render(
        request, "diagnostic/pathways/pathway_form.html", _context(pt, form=form, pathway=None)
    )


@login_required
def pathway_edit(request, pt, pathway):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    pathway = get_pathway(pt, pathway)
    form = PathwayEditForm(request.POST or None, instance=pathway)
    context = _context(pt, form=form, pathway=pathway)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.pathway_update(pathway=pathway, acting_user=request.user, **data)
        except EditConflict as conflict:
            form.add_error(None, conflict.message)
            context["conflict"] = conflict.current
        else:
            messages.success(request, "Le parcours est enregistré.")
            return redirect("pathways:detail", pt=pt.pk, pathway=pathway.pk)
    return render(request, "diagnostic/pathways/pathway_form.html", context)


@login_required
def pathway_delete(request, pt, pathway):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    pathway = get_pathway(pt, pathway)
    if request.method == "POST":
        services.pathway_delete(pathway=pathway, acting_user=request.user)
        messages.success(request, f"Le parcours « {pathway.title} » est supprimé.")
        return redirect("pathways:list", pt=pt.pk)
    return render(
        request,
        "diagnostic/pathways/pathway_confirm_delete.html",
        _context(pt, pathway=pathway, step_count=pathway.steps.count()),
    )


def _steps(pathway):
    return list(
        pathway.steps.select_related("structure__commune")
        .prefetch_related(Prefetch("break_needs", queryset=Need.objects.select_related("category")))
        .order_by("position")
    )


@login_required
def pathway_detail(request, pt, pathway):
    pt = get_programme_territory_for_user(request, pt, Action.VIEW_DIAGNOSTIC)
    pathway = get_pathway(pt, pathway)
    steps = _steps(pathway)
    return render(
        request,
        "diagnostic/pathways/pathway_detail.html",
        _context(
            pt,
            pathway=pathway,
            steps=steps,
            break_count=sum(1 for step in steps if step.break_after),
            can_edit=can(request.user, Action.EDIT_DIAGNOSTIC, pt),
        ),
    )


@login_required
def step_add(request, pt, pathway):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    pathway = get_pathway(pt, pathway)
    form = StepForm(request.POST or None, programme_territory=pt)
    if request.method == "POST" and form.is_valid():
        try:
            services.step_add(pathway=pathway, acting_user=request.user, **form.service_kwargs())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "L'étape est ajoutée à la fin du parcours.")
            return redirect("pathways:detail", pt=pt.pk, pathway=pathway.pk)
    return render(
        request,
        "diagnostic/pathways/step_form.html",
        _context(pt, form=form, pathway=pathway, step=None),
    )


@login_required
def step_edit(request, pt, pathway, step):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    pathway = get_pathway(pt, pathway)
    step = get_step(pathway, step)
    form = StepForm(request.POST or None, instance=step, programme_territory=pt)
    if request.method == "POST" and form.is_valid():
        try:
            services.step_update(step=step, acting_user=request.user, **form.service_kwargs())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"L'étape {step.position} est enregistrée.")
            return redirect("pathways:detail", pt=pt.pk, pathway=pathway.pk)
    return render(
        request,
        "diagnostic/pathways/step_form.html",
        _context(pt, form=form, pathway=pathway, step=step),
    )


@login_required
def step_remove(request, pt, pathway, step):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    pathway = get_pathway(pt, pathway)
    step = get_step(pathway, step)
    if request.method == "POST":
        services.step_remove(step=step, acting_user=request.user)
        messages.success(request, f"L'étape {step.position} est retirée du parcours.")
        return redirect("pathways:detail", pt=pt.pk, pathway=pathway.pk)
    return render(
        request,
        "diagnostic/pathways/step_confirm_remove.html",
        _context(pt, pathway=pathway, step=step),
    )


@login_required
@require_POST
def step_move(request, pt, pathway, step):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    pathway = get_pathway(pt, pathway)
    step = get_step(pathway, step)
    direction = request.POST.get("direction")
    if direction not in (services.Direction.UP, services.Direction.DOWN):
        messages.error(request, "Déplacement inconnu : choisissez « monter » ou « descendre ».")
    elif services.step_move(step=step, direction=direction, acting_user=request.user):
        messages.success(request, f"L'étape est maintenant en position {step.position}.")
    else:
        messages.info(request, "L'étape est déjà à cette extrémité du parcours.")
    return redirect("pathways:detail", pt=pt.pk, pathway=pathway.pk)
