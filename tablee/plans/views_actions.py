"""The action plan of a programme territory: the plan and its axes, the actions and their story,
budget, indicators, follow-up notes, documents and comments, the validation of a version, the
history, the steering table and the timeline.

The association's coordinators edit (EDIT_PLAN); partners and the local authority read
(VIEW_PLAN) and the local authority comments (COMMENT_PLAN). The funder reads aggregated
dashboards only: every page here answers 403 to it, and 404 outside the user's territories.
"""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import F, Max, Prefetch, Sum
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tablee.accounts.permissions import Action as Perm
from tablee.accounts.permissions import can
from tablee.core.concurrency import EditConflict
from tablee.core.pagination import paginate, sort_param
from tablee.diagnostic.models import Testimony
from tablee.plans import selectors
from tablee.plans import services_actions as services
from tablee.plans.forms_actions import (
    ActionForm,
    AxisForm,
    BudgetLineForm,
    CommentForm,
    DocumentForm,
    IndicatorForm,
    MeasureForm,
    PlanForm,
    ProgressUpdateForm,
    SteeringFilterForm,
    ValidationForm,
)
from tablee.plans.models import (
    Action,
    ActionPlan,
    Axis,
    Proposal,
)
from tablee.territories.models import ProgrammeTerritory


def get_programme_territory(request, pt, permission: Perm) -> ProgrammeTerritory:
    """The programme territory if in the user's scope (else 404) and ``permission`` granted (else
    403)."""
    programme_territory = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pt,
    )
    if not can(request.user, permission, programme_territory):
        raise PermissionDenied
    return programme_territory


def get_plan(pt) -> ActionPlan:
    plan = get_object_or_404(ActionPlan, programme_territory=pt)
    plan.programme_territory = pt
    return plan


def get_action(plan, pk) -> Action:
    action = get_object_or_404(Action.objects.select_related("axis"), pk=pk, plan=plan)
    action.plan = plan
    return action


def optional_url(name: str, *args) -> str:
    """The address of a page another part of Tablée provides, or "" while it does not exist."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _conflict(form, conflict: EditConflict) -> dict:
    form.add_error(None, conflict.message)
    return {"conflict": conflict.current}


def _apply_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _base(pt) -> dict:
    return {"pt": pt, "programme": pt.programme}


def _no_plan_yet(request, pt):
    messages.info(request, "Ce territoire n'a pas encore de plan d'action.")
    return redirect("plans:detail", pt=pt.pk)


# ---- The plan ---------------------------------------------------------------------------------


def _plan_links(pt) -> dict:
    return {
        "consultation_url": optional_url("consultation:index", pt.pk),
        "export_url": optional_url("plan_sheets:export", pt.pk),
        "import_url": optional_url("plan_sheets:import", pt.pk),
        "pat_pdf_url": optional_url("plan_sheets:pat_pdf", pt.pk),
        "public_url": optional_url("accountability:territory", pt.pk),
    }


@login_required
def plan_detail(request, pt):
    pt = get_programme_territory(request, pt, Perm.VIEW_PLAN)
    plan = ActionPlan.objects.filter(programme_territory=pt).first()
    if plan is None:
        can_edit = can(request.user, Perm.EDIT_PLAN, pt)
        return _empty_plan(request, pt, PlanForm() if can_edit else None)
    plan.programme_territory = pt
    return render(request, "plans/actions/plan_detail.html", _plan_context(request, pt, plan))


def _empty_plan(request, pt, form, status=200):
    context = {**_base(pt), "plan": None, "form": form, **_plan_links(pt)}
    return render(request, "plans/actions/plan_detail.html", context, status=status)


def _plan_context(request, pt, plan) -> dict:
    groups = selectors.plan_axis_groups(plan)
    actions = [action for group in groups for action in group.actions]
    today = timezone.localdate()
    validations = list(plan.validations.select_related("committee")[:3])
    can_edit = can(request.user, Perm.EDIT_PLAN, pt)
    return {
        **_base(pt),
        "plan": plan,
        "groups": groups,
        "axis_count": sum(1 for group in groups if group.axis),
        "progress": selectors.rollup(actions),
        "action_count": len(actions),
        "alert_count": sum(1 for a in actions if a.is_alert),
        "overdue": {a.pk for a in actions if selectors.is_overdue(a, today)},
        "validations": validations,
        "can_edit": can_edit,
        **_plan_links(pt),
    }


@login_required
@require_POST
def plan_create(request, pt):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    if ActionPlan.objects.filter(programme_territory=pt).exists():
        return redirect("plans:detail", pt=pt.pk)
    form = PlanForm(request.POST)
    if form.is_valid():
        try:
            services.plan_create(
                programme_territory=pt,
                title=form.cleaned_data["title"],
                summary=form.cleaned_data["summary"],
                acting_user=request.user,
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(
                request, "Le plan d'action est créé : ajoutez ses axes et ses actions."
            )
            return redirect("plans:detail", pt=pt.pk)
    return _empty_plan(request, pt, form, status=400)


@login_required
def plan_edit(request, pt):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    form = PlanForm(request.POST or None, instance=plan)
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.plan_update(plan=plan, version=version, acting_user=request.user, **data)
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Le plan d'action est enregistré.")
            return redirect("plans:detail", pt=pt.pk)
    context = {**_base(pt), "plan": plan, "form": form, **extra}
    return render(request, "plans/actions/plan_form.html", context)


# ---- Axes -------------------------------------------------------------------------------------


def get_axis(plan, axis_pk) -> Axis:
    axis = get_object_or_404(Axis, pk=axis_pk, plan=plan)
    axis.plan = plan
    return axis


def _plan_anchor(pt, anchor: str = "") -> str:
    return reverse("plans:detail", args=[pt.pk]) + (f"#{anchor}" if anchor else "")


@login_required
def axis_create(request, pt):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    form = AxisForm(request.POST or None, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            axis = services.axis_create(plan=plan, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"L'axe « {axis.title} » est ajouté.")
            return redirect(_plan_anchor(pt, f"axe-{axis.pk}"))
    context = {**_base(pt), "plan": plan, "form": form, "axis": None}
    return render(request, "plans/actions/axis_form.html", context)


@login_required
def axis_edit(request, pt, axis):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    axis = get_axis(plan, axis)
    form = AxisForm(request.POST or None, instance=axis, plan=plan)
    if request.method == "POST" and form.is_valid():
        try:
            services.axis_update(axis=axis, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "L'axe est enregistré.")
            return redirect(_plan_anchor(pt, f"axe-{axis.pk}"))
    context = {**_base(pt), "plan": plan, "form": form, "axis": axis}
    return render(request, "plans/actions/axis_form.html", context)


@login_required
@require_POST
def axis_move(request, pt, axis):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    axis = get_axis(plan, axis)
    direction = request.POST.get("sens")
    if direction not in ("haut", "bas"):
        messages.error(request, "Déplacement inconnu : choisissez « monter » ou « descendre ».")
    else:
        services.axis_move(axis=axis, up=direction == "haut", acting_user=request.user)
        messages.success(request, f"L'axe « {axis.title} » est déplacé.")
    return redirect(_plan_anchor(pt, f"axe-{axis.pk}"))


@login_required
def axis_delete(request, pt, axis):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    axis = get_axis(plan, axis)
    cancel_url = _plan_anchor(pt, f"axe-{axis.pk}")
    if request.method == "POST":
        moved = services.axis_delete(axis=axis, acting_user=request.user)
        if moved:
            messages.success(
                request,
                f"L'axe est supprimé ; {moved} action{'s' if moved > 1 else ''} "
                f"{'sont' if moved > 1 else 'est'} désormais « sans axe ».",
            )
        else:
            messages.success(request, "L'axe est supprimé.")
        return redirect("plans:detail", pt=pt.pk)
    count = axis.actions.count()
    explanation = f"L'axe « {axis.title} » sera supprimé."
    if count:
        explanation += (
            f" Ses {count} actions restent dans le plan, « sans axe »."
            if count > 1
            else " Son action reste dans le plan, « sans axe »."
        )
    context = {
        **_base(pt),
        "title": "Supprimer l'axe",
        "explanation": explanation,
        "cancel_url": cancel_url,
    }
    return render(request, "plans/actions/confirm_delete.html", context)


# ---- Actions ----------------------------------------------------------------------------------


def _proposal_from_query(request, pt) -> Proposal | None:
    pk = request.GET.get("proposition")
    if not pk:
        return None
    try:
        return (
            Proposal.objects.filter(programme_territory=pt, pk=pk).prefetch_related("needs").first()
        )
    except ValidationError:  # not a UUID
        return None


def _initial_from_proposal(proposal: Proposal) -> dict:
    first_line = proposal.text.strip().splitlines()[0] if proposal.text.strip() else ""
    title = first_line if len(first_line) <= 200 else first_line[:199] + "…"
    return {
        "title": title,
        "description": proposal.text,
        "proposals": [proposal.pk],
        "needs": [need.pk for need in proposal.needs.all()],
    }


@login_required
def action_create(request, pt):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = ActionPlan.objects.filter(programme_territory=pt).first()
    if plan is None:
        return _no_plan_yet(request, pt)
    plan.programme_territory = pt
    proposal = _proposal_from_query(request, pt)
    initial = {"code": services.next_code(plan)}
    axis = request.GET.get("axe")
    if axis and axis.isdigit():
        initial["axis"] = axis
    if proposal is not None:
        initial.update(_initial_from_proposal(proposal))
    form = ActionForm(request.POST or None, initial=initial, plan=plan, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        try:
            action = services.action_create(plan=plan, acting_user=request.user, **data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"L'action « {action.code} — {action.title} » est créée.")
            return redirect("plans:action_detail", pt=pt.pk, pk=action.pk)
    return _action_form(request, pt, plan, form, None, {"from_proposal": proposal})


@login_required
def action_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    form = ActionForm(request.POST or None, instance=action, plan=plan, user=request.user)
    extra = {"from_proposal": None}
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        version = form.cleaned_data["version"]
        try:
            services.action_update(action=action, version=version, acting_user=request.user, **data)
        except EditConflict as conflict:
            extra.update(_conflict(form, conflict))
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "L'action est enregistrée.")
            return redirect("plans:action_detail", pt=pt.pk, pk=action.pk)
    return _action_form(request, pt, plan, form, action, extra)


def _action_form(request, pt, plan, form, action, extra):
    context = {**_base(pt), "plan": plan, "form": form, "action": action, **extra}
    return render(request, "plans/actions/action_form.html", context)


@login_required
def action_delete(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    if request.method == "POST":
        services.action_delete(action=action, acting_user=request.user)
        messages.success(request, f"L'action « {action.code} » est supprimée.")
        return redirect("plans:detail", pt=pt.pk)
    context = {
        **_base(pt),
        "title": "Supprimer l'action",
        "explanation": f"L'action « {action.code} — {action.title} » sera supprimée, avec son "
        "budget, ses indicateurs, ses notes de suivi, ses documents et ses commentaires. "
        "L'historique du plan garde la trace de sa suppression.",
        "cancel_url": reverse("plans:action_detail", args=[pt.pk, action.pk]),
    }
    return render(request, "plans/actions/confirm_delete.html", context)


@login_required
def action_detail(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.VIEW_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    return render(
        request, "plans/actions/action_detail.html", _detail_context(request, pt, plan, action)
    )


def _detail_context(request, pt, plan, action, *, document_form=None, comment_form=None) -> dict:
    """Everything an action page shows: its story from the needs to the sessions that delivered it."""
    user = request.user
    can_edit = can(user, Perm.EDIT_PLAN, pt)
    can_comment = can(user, Perm.COMMENT_PLAN, pt)
    # Those who do not read the diagnostic see the shareable testimonies only, as in the synthesis.
    reads_diagnostic = can(user, Perm.VIEW_DIAGNOSTIC, pt)
    testimonies = Testimony.objects.order_by("-date")
    if not reads_diagnostic:
        testimonies = testimonies.filter(shareable=True)
    needs = list(
        action.needs.select_related("category", "meeting").prefetch_related(
            Prefetch("structures"), Prefetch("testimonies", queryset=testimonies)
        )
    )
    proposals = list(
        action.proposals.select_related("session").prefetch_related("votes").order_by("created_at")
    )
    sessions_url = optional_url("activities:session_list", pt.pk)
    # The sessions of the activities app that delivered the action (reverse relation: the plans
    # app does not import the activities app, which comes later in the cycle).
    sessions = [
        (session, optional_url("activities:session_detail", pt.pk, session.pk))
        for session in action.sessions.order_by("starts_at")
    ]
    budget_lines = list(action.budget_lines.all())
    indicators = list(action.indicators.prefetch_related("measures"))
    return {
        **_base(pt),
        "plan": plan,
        "action": action,
        "overdue": selectors.is_overdue(action, timezone.localdate()),
        "pilots": list(action.pilots.select_related("commune").order_by("name")),
        "partners": list(action.partners.select_related("commune").order_by("name")),
        "needs": needs,
        "reads_diagnostic": reads_diagnostic,
        "proposals": proposals,
        "sessions": sessions,
        "sessions_url": sessions_url,
        "status_changes": selectors.status_changes(action),
        "updates": list(action.updates.select_related("author")),
        "budget_lines": budget_lines,
        "budget_planned": sum(line.planned for line in budget_lines),
        "budget_spent": sum(line.spent for line in budget_lines),
        "indicators": indicators,
        "documents": list(action.documents.all()),
        "comments": list(action.comments.select_related("author")),
        "can_edit": can_edit,
        "can_comment": can_comment,
        "document_form": document_form or (DocumentForm() if can_edit else None),
        "comment_form": comment_form or (CommentForm() if can_comment else None),
        "max_document_mb": settings.TABLEE_MAX_ATTACHMENT_BYTES // (1024 * 1024),
        "consultation_url": optional_url("consultation:index", pt.pk),
    }


# ---- Budget -----------------------------------------------------------------------------------


def get_budget_line(action, line_pk):
    line = get_object_or_404(action.budget_lines.all(), pk=line_pk)
    line.action = action
    return line


@login_required
def action_budget(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    initial = {"year": timezone.localdate().year}
    form = BudgetLineForm(request.POST or None, initial=initial, action=action)
    if request.method == "POST" and form.is_valid():
        try:
            services.budget_line_add(action=action, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La ligne de budget est ajoutée.")
            return redirect("plans:action_budget", pt=pt.pk, pk=action.pk)
    lines = list(action.budget_lines.all())
    years = {}
    for line in lines:
        planned, spent = years.get(line.year, (0, 0))
        years[line.year] = (planned + line.planned, spent + line.spent)
    context = {
        **_base(pt),
        "plan": plan,
        "action": action,
        "form": form,
        "lines": lines,
        "years": sorted(years.items()),
        "total": action.budget_lines.aggregate(planned=Sum("planned"), spent=Sum("spent")),
    }
    return render(
        request,
        "plans/actions/budget.html",
        context,
        status=400 if request.method == "POST" else 200,
    )


@login_required
def budget_edit(request, pt, pk, line):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    line = get_budget_line(action, line)
    form = BudgetLineForm(request.POST or None, instance=line, action=action)
    if request.method == "POST" and form.is_valid():
        try:
            services.budget_line_update(line=line, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La ligne de budget est enregistrée.")
            return redirect("plans:action_budget", pt=pt.pk, pk=action.pk)
    context = {**_base(pt), "plan": plan, "action": action, "form": form, "line": line}
    return render(request, "plans/actions/budget_form.html", context)


@login_required
def budget_delete(request, pt, pk, line):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    line = get_budget_line(action, line)
    cancel_url = reverse("plans:action_budget", args=[pt.pk, action.pk])
    if request.method == "POST":
        services.budget_line_delete(line=line, acting_user=request.user)
        messages.success(request, "La ligne de budget est supprimée.")
        return redirect(cancel_url)
    context = {
        **_base(pt),
        "title": "Supprimer la ligne de budget",
        "explanation": f"La ligne « {line.funder} » de {line.year} sera supprimée.",
        "cancel_url": cancel_url,
    }
    return render(request, "plans/actions/confirm_delete.html", context)


# ---- Indicators -------------------------------------------------------------------------------


def get_indicator(action, indicator_pk):
    indicator = get_object_or_404(action.indicators.all(), pk=indicator_pk)
    indicator.action = action
    return indicator


def _indicators_page(request, pt, plan, action, form, measure_forms=None, status=200):
    indicators = list(action.indicators.prefetch_related("measures"))
    measure_forms = measure_forms or {}
    context = {
        **_base(pt),
        "plan": plan,
        "action": action,
        "form": form,
        "rows": [
            (indicator, measure_forms.get(indicator.pk) or MeasureForm(prefix=f"m{indicator.pk}"))
            for indicator in indicators
        ],
    }
    return render(request, "plans/actions/indicators.html", context, status=status)


@login_required
def action_indicators(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    form = IndicatorForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                services.indicator_add(action=action, acting_user=request.user, **form.cleaned_data)
            except ValidationError as error:
                _apply_service_errors(form, error)
            else:
                messages.success(request, "L'indicateur est ajouté.")
                return redirect("plans:action_indicators", pt=pt.pk, pk=action.pk)
        return _indicators_page(request, pt, plan, action, form, status=400)
    return _indicators_page(request, pt, plan, action, form)


@login_required
def indicator_edit(request, pt, pk, indicator):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    indicator = get_indicator(action, indicator)
    form = IndicatorForm(request.POST or None, instance=indicator)
    if request.method == "POST" and form.is_valid():
        try:
            services.indicator_update(
                indicator=indicator, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "L'indicateur est enregistré.")
            return redirect("plans:action_indicators", pt=pt.pk, pk=action.pk)
    context = {**_base(pt), "plan": plan, "action": action, "form": form, "indicator": indicator}
    return render(request, "plans/actions/indicator_form.html", context)


@login_required
def indicator_delete(request, pt, pk, indicator):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    indicator = get_indicator(action, indicator)
    cancel_url = reverse("plans:action_indicators", args=[pt.pk, action.pk])
    if request.method == "POST":
        services.indicator_delete(indicator=indicator, acting_user=request.user)
        messages.success(request, "L'indicateur est supprimé.")
        return redirect(cancel_url)
    context = {
        **_base(pt),
        "title": "Supprimer l'indicateur",
        "explanation": f"L'indicateur « {indicator.label} » sera supprimé avec ses mesures.",
        "cancel_url": cancel_url,
    }
    return render(request, "plans/actions/confirm_delete.html", context)


@login_required
@require_POST
def measure_add(request, pt, pk, indicator):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    indicator = get_indicator(action, indicator)
    form = MeasureForm(request.POST, prefix=f"m{indicator.pk}")
    if form.is_valid():
        try:
            services.measure_add(indicator=indicator, acting_user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"La mesure de « {indicator.label} » est enregistrée.")
            return redirect("plans:action_indicators", pt=pt.pk, pk=action.pk)
    return _indicators_page(
        request, pt, plan, action, IndicatorForm(), {indicator.pk: form}, status=400
    )


# ---- Follow-up notes --------------------------------------------------------------------------


@login_required
def update_add(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    form = ProgressUpdateForm(request.POST or None, action=action)
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            services.progress_update_add(action=action, acting_user=request.user, **data)
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La note de suivi est enregistrée.")
            return redirect(reverse("plans:action_detail", args=[pt.pk, action.pk]) + "#suivi")
    context = {**_base(pt), "plan": plan, "action": action, "form": form, **extra}
    return render(request, "plans/actions/update_form.html", context)


# ---- Documents --------------------------------------------------------------------------------


def get_document(action, document_pk):
    document = get_object_or_404(action.documents.all(), pk=document_pk)
    document.action = action
    return document


@login_required
@require_POST
def document_add(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        services.document_add(
            action=action, upload=form.cleaned_data["file"], acting_user=request.user
        )
        messages.success(request, "Le document est ajouté.")
        return redirect(reverse("plans:action_detail", args=[pt.pk, action.pk]) + "#documents")
    context = _detail_context(request, pt, plan, action, document_form=form)
    return render(request, "plans/actions/action_detail.html", context, status=400)


@login_required
def document_download(request, pt, pk, document):
    """The file, only for those who may read the plan: never a public media address."""
    pt = get_programme_territory(request, pt, Perm.VIEW_PLAN)
    plan = get_plan(pt)
    document = get_document(get_action(plan, pk), document)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        raise Http404("Fichier introuvable.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def document_delete(request, pt, pk, document):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    document = get_document(action, document)
    cancel_url = reverse("plans:action_detail", args=[pt.pk, action.pk]) + "#documents"
    if request.method == "POST":
        services.document_remove(document=document, acting_user=request.user)
        messages.success(request, "Le document est supprimé.")
        return redirect(cancel_url)
    context = {
        **_base(pt),
        "title": "Supprimer le document",
        "explanation": f"Le document « {document.original_name} » sera supprimé définitivement.",
        "cancel_url": cancel_url,
    }
    return render(request, "plans/actions/confirm_delete.html", context)


# ---- Comments ---------------------------------------------------------------------------------


@login_required
@require_POST
def comment_add(request, pt, pk):
    pt = get_programme_territory(request, pt, Perm.COMMENT_PLAN)
    plan = get_plan(pt)
    action = get_action(plan, pk)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_add(
                action=action, text=form.cleaned_data["text"], acting_user=request.user
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Votre commentaire est publié.")
            return redirect(
                reverse("plans:action_detail", args=[pt.pk, action.pk]) + "#commentaires"
            )
    context = _detail_context(request, pt, plan, action, comment_form=form)
    return render(request, "plans/actions/action_detail.html", context, status=400)


# ---- Validation and history -------------------------------------------------------------------


@login_required
def plan_validate(request, pt):
    pt = get_programme_territory(request, pt, Perm.EDIT_PLAN)
    plan = ActionPlan.objects.filter(programme_territory=pt).first()
    if plan is None:
        return _no_plan_yet(request, pt)
    plan.programme_territory = pt
    form = ValidationForm(request.POST or None, programme_territory=pt)
    if request.method == "POST" and form.is_valid():
        try:
            validation = services.plan_validate(
                plan=plan, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(
                request, f"La version {validation.number} du plan est enregistrée comme validée."
            )
            return redirect("plans:history", pt=pt.pk)
    actions = list(plan.actions.order_by("position", "code").prefetch_related("pilots"))
    context = {
        **_base(pt),
        "plan": plan,
        "form": form,
        "blocker": services.validation_blockers(actions),
        "action_count": len(actions),
        "next_number": (plan.validations.aggregate(last=Max("number"))["last"] or 0) + 1,
        "consultation_url": optional_url("consultation:index", pt.pk),
    }
    return render(request, "plans/actions/validate.html", context)


@login_required
def plan_history(request, pt):
    pt = get_programme_territory(request, pt, Perm.VIEW_PLAN)
    plan = ActionPlan.objects.filter(programme_territory=pt).first()
    if plan is None:
        return _no_plan_yet(request, pt)
    plan.programme_territory = pt
    only = None
    raw = request.GET.get("action")
    if raw:
        only = plan.actions.filter(pk=raw).first() if _is_uuid(raw) else None
        if only is None:
            raise Http404("Action introuvable.")
    labels = dict(Action.Status.choices)
    validations = list(plan.validations.select_related("committee", "recorded_by"))
    for validation in validations:
        validation.rows = [
            {**row, "status_label": labels.get(row.get("status"), row.get("status"))}
            for row in validation.snapshot
        ]
    context = {
        **_base(pt),
        "plan": plan,
        "validations": validations,
        "histories": selectors.plan_history(plan, action_id=only.pk if only else None),
        "only": only,
        "can_edit": can(request.user, Perm.EDIT_PLAN, pt),
    }
    return render(request, "plans/actions/history.html", context)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# ---- Steering and timeline --------------------------------------------------------------------

STEERING_SORTS = {
    "code": "code",
    "intitule": "title",
    "statut": "status_rank",
    "avancement": "progress",
    "fin": "end_date",
    "priorite": "priority",
}
STEERING_COLUMNS = [
    ("code", "Code"),
    ("intitule", "Intitulé"),
    ("statut", "Statut"),
    ("avancement", "Avancement"),
    ("fin", "Fin"),
    ("priorite", "Priorité"),
]
STEERING_TARGET = "steering-results"


@login_required
def steering(request, pt):
    pt = get_programme_territory(request, pt, Perm.VIEW_PLAN)
    plan = ActionPlan.objects.filter(programme_territory=pt).first()
    if plan is None:
        return _no_plan_yet(request, pt)
    plan.programme_territory = pt
    axes = list(plan.axes.all())
    form = SteeringFilterForm(request.GET, plan=plan, user=request.user, axes=axes)
    sort, ordering = sort_param(request, STEERING_SORTS, "code")
    if ordering.lstrip("-") == "end_date":
        # Undated actions last in both directions, on SQLite and PostgreSQL alike.
        column = F("end_date")
        ordering = (
            column.desc(nulls_last=True) if sort.startswith("-") else column.asc(nulls_last=True)
        )
    actions = selectors.filter_actions(plan.actions.all(), **form.filters())
    page = paginate(
        request,
        actions.annotate(status_rank=selectors.status_rank())
        .select_related("axis")
        .prefetch_related("pilots")
        .order_by(ordering, "code", "pk"),
    )
    query = form.querystring()
    today = timezone.localdate()
    context = {
        **_base(pt),
        "plan": plan,
        "form": form,
        "page": page,
        "rows": [(action, selectors.is_overdue(action, today)) for action in page.object_list],
        "progress": selectors.actions_progress(actions),
        "sort": sort,
        "sort_columns": STEERING_COLUMNS,
        "querystring": "&".join(part for part in (query, f"tri={sort}") if part),
        "filter_querystring": query,
        "target": STEERING_TARGET,
    }
    partial = request.htmx and request.htmx.target == STEERING_TARGET
    template = (
        "plans/actions/includes/steering_results.html" if partial else "plans/actions/steering.html"
    )
    response = render(request, template, context)
    if partial:
        # The address bar shows the filters and sort in use only, not every empty field.
        address = context["querystring"]
        if request.GET.get("page"):
            address = "&".join(part for part in (address, f"page={page.number}") if part)
        response["HX-Push-Url"] = f"{request.path}?{address}" if address else request.path
    return response


@login_required
def timeline(request, pt):
    pt = get_programme_territory(request, pt, Perm.VIEW_PLAN)
    plan = ActionPlan.objects.filter(programme_territory=pt).first()
    if plan is None:
        return _no_plan_yet(request, pt)
    plan.programme_territory = pt
    actions = list(
        plan.actions.select_related("axis").order_by("axis__position", "position", "code")
    )
    quarters, rows = selectors.timeline(actions, pt.programme)
    today = timezone.localdate()
    current = selectors.quarter_of(today)
    context = {
        **_base(pt),
        "plan": plan,
        "quarters": [(quarter, quarter == current) for quarter in quarters],
        "rows": [(row, selectors.is_overdue(row.action, today)) for row in rows],
        "undated": [a for a in actions if not a.start_date and not a.end_date],
    }
    return render(request, "plans/actions/timeline.html", context)
