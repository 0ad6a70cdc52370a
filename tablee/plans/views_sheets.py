"""The plan as a spreadsheet (export, import with a preview) and the PAT's « volet justice
sociale » as a PDF.

Between the preview and the confirmation the uploaded file waits in the person's session (base64,
2 MB at most): nothing is stored on disk, the confirmation checks every row again against the
plan as it is then, and applies the changes the preview showed or nothing.
"""

import base64
import hashlib

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.accounts.permissions import Action, can, sees_unmasked
from tablee.core.exports import XLSX_CONTENT_TYPE
from tablee.core.forms import StyledFormMixin
from tablee.core.spreadsheets import MAX_SHOWN_PROBLEMS, SpreadsheetRejected
from tablee.plans import services_sheets as services
from tablee.plans.models import ActionPlan
from tablee.plans.selectors_accountability import (
    budget_by_year_and_funder,
    calendar_rows,
    needs_heard,
    pat_actions,
    quarters,
    top_needs,
    weighted_progress,
)
from tablee.plans.spreadsheet import MAX_IMPORT_BYTES
from tablee.territories.models import ProgrammeTerritory

SESSION_KEY = "tablee.plan_import.{pt}"


class PlanImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Classeur du plan (XLSX)",
        widget=forms.FileInput(
            attrs={
                "accept": ".xlsx,.csv,application/vnd.openxmlformats-officedocument"
                ".spreadsheetml.sheet,text/csv"
            }
        ),
        help_text="Le classeur exporté depuis Tablée, modifié : 2 Mo au plus.",
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(
                "Le fichier dépasse 2 Mo : ce n'est sans doute pas l'export d'un plan."
            )
        return file


def get_plan_territory(request, pt, action: Action) -> tuple[ProgrammeTerritory, ActionPlan]:
    """The programme territory if in the user's scope (else 404), ``action`` allowed (else 403),
    and its action plan (404 when it has none yet)."""
    programme_territory = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related(
            "programme", "territory", "action_plan"
        ),
        pk=pt,
    )
    if not can(request.user, action, programme_territory):
        raise PermissionDenied
    try:
        plan = programme_territory.action_plan
    except ActionPlan.DoesNotExist:
        raise Http404("Ce territoire n'a pas encore de plan d'action.") from None
    return programme_territory, plan


# --- Export ------------------------------------------------------------------------------------


@login_required
def export(request, pt):
    pt, plan = get_plan_territory(request, pt, Action.VIEW_PLAN)
    content = services.plan_export(plan=plan, acting_user=request.user)
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    filename = f"plan-d-action-{slugify(pt.territory.name)}-{timezone.localdate():%Y-%m-%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


# --- Import ------------------------------------------------------------------------------------


def _store_upload(request, pt, name: str, data: bytes) -> None:
    request.session[SESSION_KEY.format(pt=pt.pk)] = {
        "name": name,
        "data": base64.b64encode(data).decode("ascii"),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _stored_upload(request, pt) -> tuple[str, bytes] | None:
    stored = request.session.get(SESSION_KEY.format(pt=pt.pk))
    if not stored:
        return None
    data = base64.b64decode(stored["data"])
    if hashlib.sha256(data).hexdigest() != stored["sha256"]:
        return None
    return stored["name"], data


def _forget_upload(request, pt) -> None:
    request.session.pop(SESSION_KEY.format(pt=pt.pk), None)


def _render_upload(request, pt, plan, form, rejected=None):
    return render(
        request,
        "plans/sheets/import.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "plan": plan,
            "form": form,
            "rejected": rejected,
            "max_shown": MAX_SHOWN_PROBLEMS,
            "pending": _stored_upload(request, pt) is not None,
        },
    )


@login_required
def import_upload(request, pt):
    pt, plan = get_plan_territory(request, pt, Action.EDIT_PLAN)
    form = PlanImportForm(request.POST or None, request.FILES or None)
    rejected = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = b"".join(upload.chunks())
        try:
            services.plan_import_preview(plan=plan, data=data)
        except SpreadsheetRejected as exc:
            rejected = exc
        else:
            _store_upload(request, pt, upload.name, data)
            return redirect("plan_sheets:import_preview", pt=pt.pk)
    return _render_upload(request, pt, plan, form, rejected)


@login_required
def import_preview(request, pt):
    pt, plan = get_plan_territory(request, pt, Action.EDIT_PLAN)
    stored = _stored_upload(request, pt)
    if stored is None:
        messages.info(request, "Choisissez d'abord le classeur à importer.")
        return redirect("plan_sheets:import", pt=pt.pk)
    name, data = stored
    try:
        import_plan = services.plan_import_preview(plan=plan, data=data)
    except SpreadsheetRejected as exc:
        # The plan changed since the upload and the file no longer fits it.
        _forget_upload(request, pt)
        return _render_upload(request, pt, plan, PlanImportForm(), exc)
    return render(
        request,
        "plans/sheets/import_preview.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "plan": plan,
            "file_name": name,
            "import_plan": import_plan,
            "counts": import_plan.counts,
        },
    )


@login_required
@require_POST
def import_confirm(request, pt):
    pt, plan = get_plan_territory(request, pt, Action.EDIT_PLAN)
    stored = _stored_upload(request, pt)
    if stored is None:
        messages.warning(
            request,
            "Aucun classeur n'attend d'être importé : il a peut-être déjà été importé. "
            "Vérifiez le plan, ou choisissez de nouveau le fichier.",
        )
        return redirect("plan_sheets:import", pt=pt.pk)
    _, data = stored
    try:
        result = services.plan_import_apply(
            plan=plan,
            data=data,
            acting_user=request.user,
            expected_fingerprint=request.POST.get("empreinte", ""),
        )
    except services.ImportOutdated as exc:
        messages.warning(request, exc.message)
        return redirect("plan_sheets:import_preview", pt=pt.pk)
    except SpreadsheetRejected as exc:
        _forget_upload(request, pt)
        return _render_upload(request, pt, plan, PlanImportForm(), exc)
    _forget_upload(request, pt)
    counts = result.counts
    if result.has_changes:
        messages.success(
            request,
            f"Import terminé : {counts['created']} action(s) créée(s), {counts['updated']} mise(s) "
            f"à jour, {counts['unchanged']} inchangée(s) ; budget : {counts['budget_created']} "
            f"ligne(s) créée(s), {counts['budget_updated']} mise(s) à jour.",
        )
    else:
        messages.info(request, "Le classeur ne change rien au plan : rien n'a été modifié.")
    return redirect("plans:detail", pt=pt.pk)


@login_required
@require_POST
def import_cancel(request, pt):
    pt, _ = get_plan_territory(request, pt, Action.EDIT_PLAN)
    _forget_upload(request, pt)
    messages.info(request, "Import annulé : rien n'a été modifié.")
    return redirect("plan_sheets:import", pt=pt.pk)


# --- The « volet justice sociale » of the PAT --------------------------------------------------


def pat_context(request, pt, plan) -> dict:
    masked = not sees_unmasked(request.user, pt)
    actions = pat_actions(plan)
    axes = list(plan.axes.all())
    groups = []
    for axis in axes:
        members = [a for a in actions if a.axis_id == axis.pk]
        if members:
            groups.append(
                {"axis": axis, "actions": members, "progress": weighted_progress(members)}
            )
    loose = [a for a in actions if a.axis_id is None]
    if loose:
        groups.append({"axis": None, "actions": loose, "progress": weighted_progress(loose)})
    programme = pt.programme
    dated = [a for a in actions if a.start_date and a.end_date]
    first = min([programme.start_date, *(a.start_date for a in dated)])
    last = max([programme.end_date, *(a.end_date for a in dated)])
    columns = quarters(first, last)
    indicators = [
        {
            "action": action,
            "indicator": indicator,
            "latest": next(iter(indicator.measures.all()), None),
        }
        for action in actions
        for indicator in action.indicators.all()
    ]
    return {
        "pt": pt,
        "programme": programme,
        "epci": pt.territory,
        "plan": plan,
        "validation": plan.validations.order_by("-number").first(),
        "heard": needs_heard(pt, masked=masked),
        "top_needs": top_needs(pt),
        "groups": groups,
        "actions": actions,
        "progress": weighted_progress(actions),
        "quarters": columns,
        "calendar": calendar_rows(actions, columns),
        "indicators": indicators,
        "budget": budget_by_year_and_funder(plan),
    }


@login_required
def pat_pdf(request, pt):
    # Imported here: WeasyPrint is slow to import and logs as it loads its stylesheets.
    from tablee.core.pdf import render_pdf

    pt, plan = get_plan_territory(request, pt, Action.VIEW_PLAN)
    context = pat_context(request, pt, plan)
    content = render_pdf("plans/pdf/pat.html", context, request=request)
    audit(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=f"volet justice sociale du PAT {pt.pk}",
        format="pdf",
        actions=len(context["actions"]),
        needs=context["heard"].need_total,
    )
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"pat-volet-justice-sociale-{slugify(pt.territory.name)}.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
