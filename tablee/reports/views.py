"""Dashboards (programme and territory), reports (list, create, edit, narratives, downloads) and
the full export of a programme's data.

Dashboards are for VIEW_DASHBOARD (coordinators, local authorities on their territory, funders);
reports for VIEW_REPORTS (read and download; a report's PDF for one territory needs VIEW_REPORTS on
that territory too) and EDIT_REPORTS (write); the full export for
EXPORT_ALL (a programme-wide coordinator or an admin). Lookups answer 404 outside the user's scope
and 403 without the permission.
"""

import datetime
import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.accounts.permissions import Action, can, sees_unmasked
from tablee.core.concurrency import EditConflict
from tablee.reports import services
from tablee.reports.blocks import PeopleView, dashboard_blocks, people_table
from tablee.reports.content import EMPTY_NARRATIVE, build_document, report_period
from tablee.reports.documents import CONTENT_TYPES, PDF_CONTENT_TYPE, WRITERS
from tablee.reports.forms import NarrativeForm, PeriodForm, ReportEditForm, ReportForm
from tablee.reports.full_export import build_full_export
from tablee.reports.links import RecordLinks
from tablee.reports.models import Report, ReportFile
from tablee.reports.narratives import editable_text, section_of, sections_of
from tablee.reports.selectors import collect_figures, collect_people
from tablee.territories.models import Programme, ProgrammeTerritory


def get_programme(request, pk, action: Action) -> Programme:
    """The programme if in the user's scope (else 404) and ``action`` allowed on it (else 403)."""
    programme = get_object_or_404(Programme.objects.for_user(request.user), pk=pk)
    if not can(request.user, action, programme):
        raise PermissionDenied
    return programme


def get_territory(request, pk, action: Action) -> ProgrammeTerritory:
    pt = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pk,
    )
    if not can(request.user, action, pt):
        raise PermissionDenied
    return pt


def get_report(programme: Programme, pk) -> Report:
    report = get_object_or_404(Report.objects.filter(programme=programme), pk=pk)
    report.programme = programme  # already read: spares a query
    return report


# ---- Dashboards --------------------------------------------------------------------------------


def _dashboard(request, *, programme, pt, visible: list, all_ids: list | None):
    """The dashboard of the ``visible`` territories (one for a territory's dashboard);
    ``all_ids`` are the ids of all the programme's territories (None: read them if needed)."""
    form = PeriodForm(request.GET or None, programme=programme)
    masked = not sees_unmasked(request.user, pt or programme)
    context = {
        "programme": programme,
        "pt": pt,
        "form": form,
        "masked": masked,
        "blocks": [],
        "period": None,
        "visible": visible,
        "restricted": all_ids is not None and len(visible) < len(all_ids),
        "territory_links": [],
        "can_view_reports": can(request.user, Action.VIEW_REPORTS, programme),
        "territory_report": _territory_report(request.user, pt) if pt else None,
        "querystring": "",
    }
    if form.is_bound and not form.is_valid():
        return render(request, "reports/dashboard.html", context)
    period = form.period()
    figures = collect_figures(programme, visible, period)
    if all_ids is None:
        all_ids = (
            list(
                ProgrammeTerritory.objects.filter(programme=programme).values_list("pk", flat=True)
            )
            if masked
            else [t.pk for t in visible]
        )
    all_shown = len(visible) == len(all_ids)
    if masked and not all_shown:
        # The part shown is masked as in the table of the whole programme, never on its own: two
        # pages masking the same figures differently would let a reader rebuild them.
        people, _ = collect_people(all_ids, period)
    else:
        all_ids, people = [t.pk for t in visible], figures.people
    view = PeopleView(people_table(people, all_ids, masked=masked), visible, all_shown=all_shown)
    blocks = dashboard_blocks(figures, people=view, masked=masked)
    RecordLinks(request.user, programme, {t.pk: t for t in visible}).apply(blocks)
    querystring = form.querystring()
    context.update(
        blocks=blocks,
        period=period,
        querystring=querystring,
        territory_links=[
            (
                t,
                reverse("reports:territory_dashboard", args=[t.pk])
                + (f"?{querystring}" if querystring else ""),
            )
            for t in visible
        ]
        if pt is None
        else [],
    )
    return render(request, "reports/dashboard.html", context)


def _territory_report(user, pt) -> dict | None:
    """What the territory's dashboard offers of its programme's latest report: its PDF for the
    territory, or what to do when there is no report yet (None when the user may not see it)."""
    if not can(user, Action.VIEW_REPORTS, pt):
        return None
    report = Report.objects.filter(programme_id=pt.programme_id).first()  # the latest period
    return {
        "report": report,
        "url": reverse("reports:territory_report_pdf", args=[pt.programme_id, report.pk, pt.pk])
        if report
        else "",
        "can_create": can(user, Action.EDIT_REPORTS, pt.programme),
    }


@login_required
def programme_dashboard(request, programme):
    programme = get_programme(request, programme, Action.VIEW_DASHBOARD)
    territories = list(
        ProgrammeTerritory.objects.filter(programme=programme).select_related("territory")
    )
    in_scope = set(
        ProgrammeTerritory.objects.for_user(request.user)
        .filter(programme=programme)
        .values_list("pk", flat=True)
    )
    visible = [t for t in territories if t.pk in in_scope]
    return _dashboard(
        request,
        programme=programme,
        pt=None,
        visible=visible,
        all_ids=[t.pk for t in territories],
    )


@login_required
def territory_dashboard(request, pt):
    pt = get_territory(request, pt, Action.VIEW_DASHBOARD)
    return _dashboard(request, programme=pt.programme, pt=pt, visible=[pt], all_ids=None)


# ---- Reports -----------------------------------------------------------------------------------


@login_required
def report_list(request, programme):
    programme = get_programme(request, programme, Action.VIEW_REPORTS)
    reports = list(Report.objects.filter(programme=programme).order_by("-period_end", "title"))
    return render(
        request,
        "reports/report_list.html",
        {
            "programme": programme,
            "pt": None,
            "reports": reports,
            "can_edit": can(request.user, Action.EDIT_REPORTS, programme),
            "can_export_all": can(request.user, Action.EXPORT_ALL, programme),
            "can_view_dashboard": can(request.user, Action.VIEW_DASHBOARD, programme),
        },
    )


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _initial_report(programme) -> dict:
    year = min(max(timezone.localdate().year, programme.start_date.year), programme.end_date.year)
    return {
        "kind": Report.Kind.FUNDER_REPORT,
        "title": f"Rapport d'activité {year}",
        "period_start": max(programme.start_date, datetime.date(year, 1, 1)),
        "period_end": min(programme.end_date, datetime.date(year, 12, 31)),
    }


@login_required
def report_create(request, programme):
    programme = get_programme(request, programme, Action.EDIT_REPORTS)
    form = ReportForm(request.POST or None, initial=_initial_report(programme))
    if request.method == "POST" and form.is_valid():
        try:
            report = services.report_create(
                programme=programme, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Le rapport est créé : rédigez ses sections.")
            return redirect("reports:report_detail", programme=programme.pk, pk=report.pk)
    return render(
        request,
        "reports/report_form.html",
        {"programme": programme, "pt": None, "form": form, "report": None, "conflict": None},
    )


@login_required
def report_edit(request, programme, pk):
    programme = get_programme(request, programme, Action.EDIT_REPORTS)
    report = get_report(programme, pk)
    form = ReportEditForm(request.POST or None, instance=report)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.report_update(report=report, version=version, acting_user=request.user, **data)
        except EditConflict as error:
            form.add_error(None, error.message)
            conflict = error.current
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "Le rapport est enregistré.")
            return redirect("reports:report_detail", programme=programme.pk, pk=report.pk)
    return render(
        request,
        "reports/report_form.html",
        {
            "programme": programme,
            "pt": None,
            "form": form,
            "report": report,
            "conflict": conflict,
        },
    )


@login_required
def report_detail(request, programme, pk):
    programme = get_programme(request, programme, Action.VIEW_REPORTS)
    report = get_report(programme, pk)
    document = build_document(report)
    RecordLinks(request.user, programme, {t.pk: t for t in document.territories}).apply(
        document.blocks
    )
    territory_pdfs = [
        (pt, reverse("reports:territory_report_pdf", args=[programme.pk, report.pk, pt.pk]))
        for pt in document.territories
        if can(request.user, Action.VIEW_REPORTS, pt)
    ]
    return render(
        request,
        "reports/report_detail.html",
        {
            "programme": programme,
            "pt": None,
            "report": report,
            "document": document,
            "territory_pdfs": territory_pdfs,
            "blocks": document.blocks,
            "for_pdf": False,
            "can_edit": can(request.user, Action.EDIT_REPORTS, programme),
            "formats": ReportFile.Format.choices,
            "empty_narrative": EMPTY_NARRATIVE,
        },
    )


@login_required
def section_edit(request, programme, pk, section):
    programme = get_programme(request, programme, Action.EDIT_REPORTS)
    report = get_report(programme, pk)
    section = section_of(report.kind, section)
    if section is None:
        raise Http404("Cette section n'existe pas dans ce rapport.")
    initial = {
        "text": editable_text(report.narratives.get(section.key, "")),
        "version": report.version,
    }
    form = NarrativeForm(request.POST or None, initial=initial)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.report_narrative_update(
                report=report,
                section_key=section.key,
                text=form.cleaned_data["text"],
                version=form.cleaned_data["version"],
                acting_user=request.user,
            )
        except EditConflict as error:
            form.add_error(None, error.message)
            conflict = error.current
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"La section « {section.title} » est enregistrée.")
            return redirect(
                reverse("reports:report_detail", args=[programme.pk, report.pk]) + f"#{section.key}"
            )
    return render(
        request,
        "reports/section_form.html",
        {
            "programme": programme,
            "pt": None,
            "report": report,
            "section": section,
            "form": form,
            "conflict": conflict,
            "sections": sections_of(report.kind),
        },
    )


@login_required
def report_download(request, programme, pk, fmt):
    programme = get_programme(request, programme, Action.VIEW_REPORTS)
    report = get_report(programme, pk)
    if fmt not in WRITERS:
        raise Http404("Format inconnu.")
    stored = services.report_file(report=report, fmt=fmt, acting_user=request.user)
    return FileResponse(
        stored.file.open("rb"),
        as_attachment=True,
        filename=f"{slugify(report.title) or 'rapport'}.{fmt}",
        content_type=CONTENT_TYPES[fmt],
    )


@login_required
def territory_report_pdf(request, programme, pk, pt):
    """The report's PDF for one territory of its programme (404 for a territory of another
    programme or outside the user's scope), generated on each request (about a second)."""
    programme = get_programme(request, programme, Action.VIEW_REPORTS)
    report = get_report(programme, pk)
    pt = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user)
        .filter(programme=programme)
        .select_related("territory"),
        pk=pt,
    )
    if not can(request.user, Action.VIEW_REPORTS, pt):
        raise PermissionDenied
    content = services.report_territory_pdf(report=report, pt=pt, acting_user=request.user)
    return FileResponse(
        io.BytesIO(content),
        as_attachment=True,
        filename=territory_report_filename(report, pt),
        content_type=PDF_CONTENT_TYPE,
    )


def territory_report_filename(report: Report, pt) -> str:
    """rapport-cc-du-pays-de-redon-2025.pdf, or with the dates when the period is not a year."""
    period = report_period(report)
    dates = str(period.year) if period.year else f"{period.start:%Y-%m-%d}-au-{period.end:%Y-%m-%d}"
    kind = "evaluation" if report.is_final_evaluation else "rapport"
    return f"{kind}-{slugify(pt.territory.name) or 'territoire'}-{dates}.pdf"


@login_required
def full_export(request, programme):
    programme = get_programme(request, programme, Action.EXPORT_ALL)
    archive, counts = build_full_export(programme)
    audit(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=f"export complet du programme {programme.pk}",
        format="zip",
        rows=sum(counts.values()),
        **{f"{name}": n for name, n in counts.items() if n},
    )
    filename = f"export-complet-{slugify(programme.name)}-{timezone.localdate():%Y-%m-%d}.zip"
    return FileResponse(
        archive, as_attachment=True, filename=filename, content_type="application/zip"
    )
