"""Catalogue, sessions, calendars, session lists (with their XLSX export) and targets.

Reading is VIEW_ACTIVITIES (coordination, partners, local authorities) on the territory or the
programme; writing is EDIT_ACTIVITIES. The targets page is also open with VIEW_DASHBOARD (the
funder). Partners and local authorities see the sessions, never a name: the counts of persons are
masked under 11 for them, the notes are the association's.
"""

import calendar as calendar_module
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.accounts.permissions import Action, can, sees_unmasked
from tablee.activities import services_sessions as services
from tablee.activities.forms_sessions import (
    ActivityFormatForm,
    SessionFilterForm,
    SessionForm,
    SessionStatusForm,
)
from tablee.activities.models import ActivityFormat, Session
from tablee.activities.selectors import (
    PLANNED_STATUSES,
    local_midnight,
    target_progress,
    with_counts,
)
from tablee.core.concurrency import EditConflict
from tablee.core.disclosure import mask_count
from tablee.core.exports import Column, xlsx_response
from tablee.core.pagination import paginate, sort_param
from tablee.directory.models import Structure
from tablee.territories.models import Programme, ProgrammeTerritory

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
# Errors of the services are keyed on the model's fields; the form shows date and times.
FORM_FIELD_OF = {"starts_at": "date", "ends_at": "end_time"}


# ---- Lookups ------------------------------------------------------------------------------------


def get_programme_territory(request, pt, action: Action) -> ProgrammeTerritory:
    """The programme territory if in the user's scope (else 404) and ``action`` allowed (else 403)."""
    programme_territory = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pt,
    )
    if not can(request.user, action, programme_territory):
        raise PermissionDenied
    return programme_territory


def get_programme(request, programme, *actions: Action) -> Programme:
    """The programme if in the user's scope (else 404) and one of ``actions`` allowed (else 403)."""
    found = get_object_or_404(Programme.objects.for_user(request.user), pk=programme)
    if not any(can(request.user, action, found) for action in actions):
        raise PermissionDenied
    return found


def territories_in_scope(request, programme):
    return ProgrammeTerritory.objects.for_user(request.user).filter(programme=programme)


def get_session(pt, pk, queryset=None) -> Session:
    queryset = Session.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.filter(programme_territory=pt), pk=pk)


def optional_url(name: str, *args) -> str:
    """The address of a page of another area, or "" while that area is not installed."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _apply_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            name = FORM_FIELD_OF.get(field, field)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _conflict(form, conflict: EditConflict) -> dict:
    form.add_error(None, conflict.message)
    return {"conflict": conflict.current}


# ---- Catalogue ----------------------------------------------------------------------------------


def duration_label(minutes: int) -> str:
    """90 -> "1 h 30", 120 -> "2 h", 45 -> "45 min"."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


@login_required
def format_list(request, programme):
    programme = get_programme(request, programme, Action.VIEW_ACTIVITIES)
    formats = list(
        programme.activity_formats.annotate(session_count=Count("sessions")).order_by(
            "-is_active", "name"
        )
    )
    for activity_format in formats:
        activity_format.duration_label = duration_label(activity_format.duration_minutes)
    context = {
        "programme": programme,
        "formats": formats,
        "can_edit": can(request.user, Action.EDIT_ACTIVITIES, programme),
    }
    return render(request, "activities/sessions/format_list.html", context)


@login_required
def format_create(request, programme):
    programme = get_programme(request, programme, Action.EDIT_ACTIVITIES)
    form = ActivityFormatForm(request.POST or None, instance=ActivityFormat(programme=programme))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            activity_format = services.format_create(
                programme=programme, acting_user=request.user, **data
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"Le format « {activity_format.name} » est ajouté.")
            return redirect("activities:format_list", programme=programme.pk)
    return _format_form(request, programme, form, None, {})


@login_required
def format_edit(request, programme, pk):
    programme = get_programme(request, programme, Action.EDIT_ACTIVITIES)
    activity_format = get_object_or_404(programme.activity_formats.all(), pk=pk)
    form = ActivityFormatForm(request.POST or None, instance=activity_format)
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.format_update(
                activity_format=activity_format,
                version=version,
                acting_user=request.user,
                **data,
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Le format est enregistré.")
            return redirect("activities:format_list", programme=programme.pk)
    return _format_form(request, programme, form, activity_format, extra)


def _format_form(request, programme, form, activity_format, extra):
    context = {"programme": programme, "form": form, "activity_format": activity_format, **extra}
    return render(request, "activities/sessions/format_form.html", context)


# ---- Calendars ----------------------------------------------------------------------------------


def _month_asked(request, today: datetime.date) -> datetime.date:
    """The first day of the month of ``?mois=YYYY-MM``; the current month when absent or wrong."""
    try:
        year, month = (int(part) for part in request.GET.get("mois", "").split("-"))
        if 1900 <= year <= 2200:
            return datetime.date(year, month, 1)
    except ValueError:
        pass
    return today.replace(day=1)


def _month_param(day: datetime.date) -> str:
    return f"{day:%Y-%m}"


def _calendar_context(request, sessions, *, today):
    """The month grid or the paginated list of ``sessions`` (one query for the sessions)."""
    view = "liste" if request.GET.get("vue") == "liste" else "mois"
    if view == "liste":
        past = request.GET.get("periode") == "passees"
        now = timezone.now()
        if past:
            listed = sessions.filter(starts_at__lt=now).order_by("-starts_at")
        else:
            listed = sessions.filter(starts_at__gte=now).order_by("starts_at")
        return {
            "view": view,
            "past": past,
            "page": paginate(request, listed),
            "querystring": "vue=liste&periode=passees" if past else "vue=liste",
        }
    first = _month_asked(request, today)
    weeks = calendar_module.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    start, end = weeks[0][0], weeks[-1][-1] + datetime.timedelta(days=1)
    by_day = {}
    for session in sessions.filter(
        starts_at__gte=local_midnight(start), starts_at__lt=local_midnight(end)
    ).order_by("starts_at"):
        by_day.setdefault(timezone.localdate(session.starts_at), []).append(session)
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return {
        "view": view,
        "month": first,
        "weekdays": WEEKDAYS,
        "weeks": [
            [
                {
                    "date": day,
                    "in_month": day.month == first.month,
                    "is_today": day == today,
                    "sessions": by_day.get(day, []),
                }
                for day in week
            ]
            for week in weeks
        ],
        "session_count": sum(
            len(items) for day, items in by_day.items() if day.month == first.month
        ),
        "previous_month": _month_param(previous),
        "next_month": _month_param(following),
        "current_month": _month_param(today),
    }


@login_required
def calendar(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_ACTIVITIES)
    can_edit = can(request.user, Action.EDIT_ACTIVITIES, pt)
    feed = services.calendar_feed_for(pt)
    feed_url = request.build_absolute_uri(reverse("calendar_feed:territory", args=[feed.token]))
    context = {
        "pt": pt,
        "programme": pt.programme,
        "scope_name": pt.territory.name,
        "programme_scope": False,
        "can_edit": can_edit,
        "feed_url": feed_url,
        "webcal_url": "webcal://" + feed_url.split("://", 1)[1],
        **_calendar_context(
            request,
            Session.objects.filter(programme_territory=pt),
            today=timezone.localdate(),
        ),
    }
    return render(request, "activities/sessions/calendar.html", context)


@login_required
def programme_calendar(request, programme):
    programme = get_programme(request, programme, Action.VIEW_ACTIVITIES)
    sessions = Session.objects.filter(
        programme_territory__in=territories_in_scope(request, programme).values("pk")
    ).select_related("programme_territory__territory")
    context = {
        "programme": programme,
        "scope_name": programme.name,
        "programme_scope": True,
        "can_edit": False,
        **_calendar_context(request, sessions, today=timezone.localdate()),
    }
    return render(request, "activities/sessions/calendar.html", context)


@login_required
@require_POST
def feed_renew(request, pt):
    pt = get_programme_territory(request, pt, Action.EDIT_ACTIVITIES)
    services.calendar_feed_renew(programme_territory=pt, acting_user=request.user)
    messages.success(
        request,
        "L'adresse de l'agenda est renouvelée : l'ancienne ne fonctionne plus. Abonnez à nouveau "
        "les téléphones et agendas qui la suivaient.",
    )
    return redirect("activities:calendar", pt=pt.pk)


# ---- Session lists and export -------------------------------------------------------------------


SESSION_SORTS = {
    "date": "starts_at",
    "titre": "title",
    "statut": "status",
    "public": "audience",
    "territoire": "programme_territory__territory__name",
}


def _list_sessions(queryset):
    return queryset.select_related(
        "format", "place_structure", "commune", "programme_territory__territory"
    )


def _session_list(request, *, programme, pt, territories, template_context):
    form = SessionFilterForm(
        request.GET, programme=programme, programme_territory=pt, territories=territories
    )
    sort, ordering = sort_param(request, SESSION_SORTS, "-date")
    base = (
        Session.objects.filter(programme_territory=pt)
        if pt is not None
        else Session.objects.filter(programme_territory__in=territories.values("pk"))
    )
    sessions = _list_sessions(form.apply(base)).order_by(ordering, "starts_at", "pk")
    query = form.querystring()
    context = {
        "programme": programme,
        "form": form,
        "page": paginate(request, sessions),
        "sort": sort,
        "querystring": "&".join(part for part in (query, f"tri={sort}") if part),
        "filter_querystring": query,
        "filtered": form.is_filtered() or not form.is_valid(),
        **template_context,
    }
    return render(request, "activities/sessions/session_list.html", context)


@login_required
def session_list(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_ACTIVITIES)
    return _session_list(
        request,
        programme=pt.programme,
        pt=pt,
        territories=None,
        template_context={
            "pt": pt,
            "programme_scope": False,
            "scope_name": pt.territory.name,
            "can_edit": can(request.user, Action.EDIT_ACTIVITIES, pt),
            "export_url": reverse("activities:session_export", args=[pt.pk]),
        },
    )


@login_required
def programme_sessions(request, programme):
    programme = get_programme(request, programme, Action.VIEW_ACTIVITIES)
    return _session_list(
        request,
        programme=programme,
        pt=None,
        territories=territories_in_scope(request, programme),
        template_context={
            "programme_scope": True,
            "scope_name": programme.name,
            "can_edit": False,
            "export_url": reverse("activities:programme_sessions_export", args=[programme.pk]),
        },
    )


EXPORT_COLUMNS = [
    Column("territory", "Territoire", 28),
    Column("date", "Date"),
    Column("start", "Début"),
    Column("end", "Fin"),
    Column("title", "Intitulé", 36),
    Column("format", "Format", 30),
    Column("kind", "Type"),
    Column("audience", "Public", 30),
    Column("status", "Statut"),
    Column("reason", "Motif d'annulation ou de report", 30),
    Column("place", "Lieu", 36),
    Column("commune", "Commune", 20),
    Column("hosts", "Structures d'accueil", 36),
    Column("partners", "Structures partenaires", 36),
    Column("action", "Action du plan", 30),
    Column("capacity", "Places"),
    Column("confirmed", "Inscrit·es"),
    Column("waiting", "Liste d'attente"),
    Column("attendances", "Présences nominatives"),
    Column("headcount", "Comptage anonyme"),
    Column("evaluations", "Évaluations"),
]


def session_place(session) -> str:
    if session.place_structure_id:
        return session.place_structure.name
    return session.place_address


def _export_rows(sessions, *, unmasked: bool, counter: list):
    shown = (lambda n: n) if unmasked else mask_count
    for session in sessions:
        counter[0] += 1
        start = timezone.localtime(session.starts_at)
        end = timezone.localtime(session.ends_at)
        yield {
            "territory": session.programme_territory.territory.name,
            "date": start.date(),
            "start": f"{start:%H:%M}",
            "end": f"{end:%H:%M}",
            "title": session.title,
            "format": session.format.name,
            "kind": session.get_kind_display(),
            "audience": session.get_audience_display(),
            "status": session.get_status_display(),
            "reason": session.cancel_reason,
            "place": session_place(session),
            "commune": session.commune.name if session.commune_id else "",
            "hosts": [s.name for s in session.host_structures.all()],
            "partners": [s.name for s in session.partner_structures.all()],
            "action": str(session.action) if session.action_id else "",
            "capacity": session.capacity,
            "confirmed": shown(session.confirmed_count),
            "waiting": shown(session.waiting_count),
            "attendances": shown(session.attendance_count),
            "headcount": shown(session.headcount_total),
            "evaluations": shown(session.evaluation_count),
        }


def _export(request, *, programme, pt, territories, obj, filename):
    form = SessionFilterForm(
        request.GET, programme=programme, programme_territory=pt, territories=territories
    )
    base = (
        Session.objects.filter(programme_territory=pt)
        if pt is not None
        else Session.objects.filter(programme_territory__in=territories.values("pk"))
    )
    ordered = Prefetch("host_structures", queryset=Structure.objects.order_by("name"))
    partners = Prefetch("partner_structures", queryset=Structure.objects.order_by("name"))
    sessions = (
        with_counts(_list_sessions(form.apply(base)))
        .select_related("action")
        .prefetch_related(ordered, partners)
        .order_by("starts_at", "pk")
    )
    counter = [0]
    rows = _export_rows(
        sessions.iterator(chunk_size=1000),
        unmasked=sees_unmasked(request.user, obj),
        counter=counter,
    )
    response = xlsx_response(filename, rows, EXPORT_COLUMNS, sheet_title="Séances")
    audit(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=f"seances:{obj.pk}",
        format="xlsx",
        sessions=counter[0],
        filtered=form.is_filtered(),
    )
    return response


@login_required
def session_export(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_ACTIVITIES)
    today = timezone.localdate()
    return _export(
        request,
        programme=pt.programme,
        pt=pt,
        territories=None,
        obj=pt,
        filename=f"seances-{pt.territory.siren}-{today:%Y%m%d}.xlsx",
    )


@login_required
def programme_sessions_export(request, programme):
    programme = get_programme(request, programme, Action.VIEW_ACTIVITIES)
    today = timezone.localdate()
    return _export(
        request,
        programme=programme,
        pt=None,
        territories=territories_in_scope(request, programme),
        obj=programme,
        filename=f"seances-programme-{today:%Y%m%d}.xlsx",
    )


# ---- A session ----------------------------------------------------------------------------------


@login_required
def session_detail(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.VIEW_ACTIVITIES)
    session = get_session(
        pt,
        pk,
        with_counts(Session.objects.all()).select_related(
            "format", "place_structure__commune", "commune", "action", "series"
        ),
    )
    user = request.user
    can_edit = can(user, Action.EDIT_ACTIVITIES, pt)
    shown = (lambda n: n) if sees_unmasked(user, pt) else mask_count
    counts = {
        "confirmed": shown(session.confirmed_count),
        "waiting": shown(session.waiting_count),
        "attendances": shown(session.attendance_count),
        "headcount": shown(session.headcount_total),
        "evaluations": shown(session.evaluation_count),
    }
    attendance_url = evaluations_url = ""
    if can(user, Action.VIEW_REGISTRATIONS, pt):
        attendance_url = optional_url("attendance:session", pt.pk, session.pk)
    if can(user, Action.VIEW_EVALUATIONS, pt):
        evaluations_url = optional_url("evaluations:session", pt.pk, session.pk)
    action_url = ""
    if session.action_id and can(user, Action.VIEW_PLAN, pt):
        action_url = optional_url("plans:action_detail", pt.pk, session.action_id)
    context = {
        "pt": pt,
        "programme": pt.programme,
        "session": session,
        "facilitators": list(session.facilitators.order_by("full_name", "email")),
        "host_structures": list(session.host_structures.order_by("name")),
        "partner_structures": list(session.partner_structures.order_by("name")),
        "counts": counts,
        "can_edit": can_edit,
        "can_see_notes": can_edit,
        "attendance_url": attendance_url,
        "evaluations_url": evaluations_url,
        "action_url": action_url,
        "status_form": SessionStatusForm(session=session) if can_edit else None,
        "is_planned": session.status in PLANNED_STATUSES,
    }
    return render(request, "activities/sessions/session_detail.html", context)


def _format_defaults(pt) -> dict:
    """What choosing a format pre-fills, for the page's script."""
    return {
        str(f.pk): {
            "kind": f.kind,
            "audience": f.audience,
            "title": f.name,
            "duration": f.duration_minutes,
        }
        for f in ActivityFormat.objects.filter(programme=pt.programme, is_active=True)
    }


@login_required
def session_create(request, pt):
    pt = get_programme_territory(request, pt, Action.EDIT_ACTIVITIES)
    initial = {}
    chosen = request.GET.get("format")
    if chosen:
        try:
            activity_format = pt.programme.activity_formats.filter(
                pk=chosen, is_active=True
            ).first()
        except ValidationError:
            activity_format = None
        if activity_format:
            initial.update(
                format=activity_format.pk,
                kind=activity_format.kind,
                audience=activity_format.audience,
                title=activity_format.name,
            )
    try:
        initial["date"] = datetime.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        pass
    form = SessionForm(
        request.POST or None,
        initial=initial,
        instance=Session(programme_territory=pt),
        programme_territory=pt,
    )
    extra = {}
    if request.method == "POST" and form.is_valid():
        try:
            sessions = services.session_create(
                programme_territory=pt, acting_user=request.user, **form.service_data()
            )
        except services.OverlapWarning as warning:
            form.add_error(None, warning)
            extra["overlaps"] = warning.overlaps
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            if len(sessions) > 1:
                messages.success(
                    request,
                    f"La série de {len(sessions)} séances est programmée, du "
                    f"{timezone.localtime(sessions[0].starts_at):%d/%m/%Y} au "
                    f"{timezone.localtime(sessions[-1].starts_at):%d/%m/%Y}.",
                )
            else:
                messages.success(request, "La séance est programmée.")
            return redirect("activities:session_detail", pt=pt.pk, pk=sessions[0].pk)
    return _session_form(request, pt, form, None, extra)


@login_required
def session_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_ACTIVITIES)
    session = get_session(pt, pk)
    form = SessionForm(request.POST or None, instance=session, programme_territory=pt)
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = form.service_data()
        version = form.cleaned_data["version"]
        try:
            updated = services.session_update(
                session=session,
                version=version,
                acting_user=request.user,
                base_url=request.build_absolute_uri("/"),
                **data,
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except services.OverlapWarning as warning:
            form.add_error(None, warning)
            extra["overlaps"] = warning.overlaps
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            text = "La séance est enregistrée."
            if updated.promoted:
                names = ", ".join(r.full_name for r in updated.promoted)
                text += (
                    f" Places attribuées à la liste d'attente : {names} (prévenu·es par e-mail)."
                )
            messages.success(request, text)
            return redirect("activities:session_detail", pt=pt.pk, pk=session.pk)
    return _session_form(request, pt, form, session, extra)


def _session_form(request, pt, form, session, extra):
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "session": session,
        "format_defaults": _format_defaults(pt),
        "overlaps": [],
        **extra,
    }
    return render(request, "activities/sessions/session_form.html", context)


@login_required
def session_status(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_ACTIVITIES)
    session = get_session(pt, pk)
    initial = {"status": request.GET.get("statut", "")}
    form = SessionStatusForm(request.POST or None, initial=initial, session=session)
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            updated = services.session_set_status(
                session=session,
                version=data["version"],
                status=data["status"],
                reason=data["reason"],
                new_date=data["new_date"],
                acting_user=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            text = f"La séance est maintenant « {updated.get_status_display().lower()} »."
            if updated.told:
                text += (
                    f" {updated.told} personne{'s' if updated.told > 1 else ''} inscrite"
                    f"{'s' if updated.told > 1 else ''} (ou en liste d'attente) "
                    f"{'sont prévenues' if updated.told > 1 else 'est prévenue'} par e-mail."
                )
            messages.success(request, text)
            if data["new_date"]:
                overlaps = services.find_overlaps(
                    facilitators=list(updated.facilitators.all()),
                    slots=[(updated.starts_at, updated.ends_at)],
                    exclude_ids=[updated.pk],
                )
                for overlap in overlaps:
                    messages.warning(request, f"Attention : {overlap}")
            return redirect("activities:session_detail", pt=pt.pk, pk=session.pk)
    context = {"pt": pt, "programme": pt.programme, "session": session, "form": form, **extra}
    return render(request, "activities/sessions/session_status.html", context)


# ---- Targets ------------------------------------------------------------------------------------


@login_required
def targets(request, programme):
    programme = get_programme(request, programme, Action.VIEW_ACTIVITIES, Action.VIEW_DASHBOARD)
    today = timezone.localdate()
    progress = target_progress(
        programme, today=today, programme_territories=territories_in_scope(request, programme)
    )
    can_list = can(request.user, Action.VIEW_ACTIVITIES, programme)
    context = {
        "programme": programme,
        "progress": progress,
        "today": today,
        "elapsed_percent": round(progress.elapsed_share * 100),
        "sessions_url": reverse("activities:programme_sessions", args=[programme.pk])
        if can_list
        else "",
    }
    return render(request, "activities/sessions/targets.html", context)
