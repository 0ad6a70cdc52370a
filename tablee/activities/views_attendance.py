"""Registrations, waiting list and attendance of a session, the attendance sheet and the
certificates.

The team (VIEW_REGISTRATIONS) sees every registration; a partner (REGISTER_TO_SESSION) registers
the people of its own structure and sees only those, never the whole list. Attendance at the door
and the signed sheet are for EDIT_ACTIVITIES. People in food insecurity are never named: their
sessions record anonymous headcounts only.
"""

import io
import zipfile

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.permissions import Action, can, memberships_of
from tablee.activities import services_attendance as services
from tablee.activities.forms_attendance import (
    HeadcountForm,
    RegistrationForm,
    SignedSheetForm,
    WalkInForm,
)
from tablee.activities.models import Headcount, Registration, Session
from tablee.directory.models import Structure
from tablee.territories.models import Audience, ProgrammeTerritory, SessionKind

# Blank lines of the attendance sheet when the session has no capacity (walk-ins sign there).
BLANK_LINES = 10
MAX_BLANK_LINES = 60


def get_programme_territory(request, pt) -> ProgrammeTerritory:
    """The programme territory if it is in the user's scope, else 404."""
    return get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pt,
    )


def get_session_for_user(request, pt, pk, action: Action) -> tuple[ProgrammeTerritory, Session]:
    """The territory and its session (404 outside the scope), if ``action`` is allowed (else 403)."""
    programme_territory = get_programme_territory(request, pt)
    if not can(request.user, action, programme_territory):
        raise PermissionDenied
    return programme_territory, _session(programme_territory, pk)


def _session(pt, pk) -> Session:
    session = get_object_or_404(
        Session.objects.select_related("format", "place_structure", "commune"),
        pk=pk,
        programme_territory=pt,
    )
    session.programme_territory = pt
    return session


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


def _apply_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def territory_structures(user, pt):
    return Structure.objects.for_user(user).in_territory(pt.territory).order_by("name")


def partner_structures(user, pt) -> list:
    """The structures of the territory through which the user is a partner."""
    return [
        m.structure
        for m in memberships_of(user)
        if m.role == Role.PARTNER
        and m.structure_id
        and m.structure.commune.territory_id == pt.territory_id
    ]


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=6, border=2)


def _refusal(check, session) -> str:
    """The French reason why ``check`` refuses the session, or "" when it accepts it."""
    try:
        check(session)
    except ValidationError as error:
        return error.messages[0]
    return ""


def _with_presence(registrations) -> list[Registration]:
    """The registrations, each with ``present``: templates must not touch a missing reverse
    one-to-one (it raises instead of answering None)."""
    rows = list(registrations)
    for registration in rows:
        registration.present = hasattr(registration, "attendance")
    return rows


def _summary(session, registrations) -> dict:
    confirmed = [r for r in registrations if r.status == Registration.Status.CONFIRMED]
    waiting = [r for r in registrations if r.status == Registration.Status.WAITING]
    places_left = None
    if session.capacity is not None:
        places_left = max(session.capacity - len(confirmed), 0)
    return {"confirmed": confirmed, "waiting": waiting, "places_left": places_left}


# ---- The registrations page -------------------------------------------------------------------


@login_required
def session_page(request, pt, pk):
    """The team's page (every registration) or a partner's (its own structure's only)."""
    programme_territory = get_programme_territory(request, pt)
    if can(request.user, Action.VIEW_REGISTRATIONS, programme_territory):
        return _team_page(request, programme_territory, _session(programme_territory, pk))
    if can(request.user, Action.REGISTER_TO_SESSION, programme_territory):
        return _partner_page(request, programme_territory, _session(programme_territory, pk))
    raise PermissionDenied


def _register(request, pt, session, form, source):
    """Validate and record a registration posted from the page; None when the form has errors."""
    if not form.is_valid():
        return None
    try:
        registration = services.registration_create(
            session=session,
            source=source,
            acting_user=request.user,
            base_url=_base_url(request),
            **form.service_arguments(),
        )
    except ValidationError as error:
        _apply_errors(form, error)
        return None
    if registration.status == Registration.Status.CONFIRMED:
        messages.success(
            request, f"{registration.full_name} est inscrit·e : un e-mail lui est envoyé."
        )
    else:
        messages.warning(
            request,
            f"La séance est complète : {registration.full_name} est sur la liste d'attente et "
            "en est informé·e par e-mail.",
        )
    return redirect("attendance:session", pt=pt.pk, pk=session.pk)


def _team_page(request, pt, session):
    registration_refusal = _refusal(services.check_registration_allowed, session)
    form = None
    if not registration_refusal:
        form = RegistrationForm(
            request.POST or None, structures=territory_structures(request.user, pt)
        )
        if request.method == "POST":
            done = _register(request, pt, session, form, Registration.Source.COORDINATOR)
            if done:
                return done
    elif request.method == "POST":
        messages.error(request, registration_refusal)
        return redirect("attendance:session", pt=pt.pk, pk=session.pk)
    registrations = _with_presence(
        session.registrations.select_related("structure", "attendance").order_by("created_at", "id")
    )
    attendances = list(session.attendances.select_related("structure", "registration"))
    can_edit = can(request.user, Action.EDIT_ACTIVITIES, pt)
    public_url = request.build_absolute_uri(
        reverse("registration_public:register", args=[session.registration_token])
    )
    checkin_url = request.build_absolute_uri(
        reverse("registration_public:checkin", args=[session.checkin_token])
    )
    named = session.is_named_audience
    context = {
        "pt": pt,
        "programme": pt.programme,
        "session": session,
        "place": services.place_label(session),
        "registration_refusal": registration_refusal,
        "form": form,
        "cancelled": [r for r in registrations if r.status == Registration.Status.CANCELLED],
        "attendances": attendances,
        "can_edit": can_edit,
        "public_url": public_url,
        "public_qr": qr_data_uri(public_url) if named and session.registration_open else "",
        "checkin_url": checkin_url,
        "checkin_qr": qr_data_uri(checkin_url) if named else "",
        "signed_sheet_form": SignedSheetForm() if can_edit else None,
        "headcount_total": sum(h.count for h in session.headcounts.all()) if not named else 0,
        "certificate_label": certificate_label(session),
        **_summary(session, registrations),
    }
    return render(request, "activities/attendance/session.html", context)


def _partner_page(request, pt, session):
    structures = partner_structures(request.user, pt)
    registration_refusal = _refusal(services.check_registration_allowed, session)
    form = None
    if not registration_refusal:
        initial = {"full_name": request.user.full_name, "email": request.user.email}
        form = RegistrationForm(
            request.POST or None,
            initial=initial,
            structures=None,
            fixed_structures=Structure.objects.filter(pk__in=[s.pk for s in structures]),
        )
        if request.method == "POST":
            done = _register(request, pt, session, form, Registration.Source.PARTNER)
            if done:
                return done
    elif request.method == "POST":
        messages.error(request, registration_refusal)
        return redirect("attendance:session", pt=pt.pk, pk=session.pk)
    own = list(
        session.registrations.filter(structure__in=[s.pk for s in structures])
        .exclude(status=Registration.Status.CANCELLED)
        .select_related("structure")
        .order_by("created_at", "id")
    )
    # Places left are a count: a partner sees it, not the names behind it.
    confirmed_count = session.registrations.filter(status=Registration.Status.CONFIRMED).count()
    places_left = None
    if session.capacity is not None:
        places_left = max(session.capacity - confirmed_count, 0)
    context = {
        "pt": pt,
        "programme": pt.programme,
        "session": session,
        "place": services.place_label(session),
        "registration_refusal": registration_refusal,
        "form": form,
        "own": own,
        "structures": structures,
        "places_left": places_left,
    }
    return render(request, "activities/attendance/partner.html", context)


def _registration_for_user(request, pt, session, registration_pk) -> Registration:
    """A registration the user may cancel: any for the team, its structure's for a partner."""
    registrations = session.registrations.select_related("structure")
    if not can(request.user, Action.VIEW_REGISTRATIONS, pt):
        if not can(request.user, Action.REGISTER_TO_SESSION, pt):
            raise PermissionDenied
        structures = [s.pk for s in partner_structures(request.user, pt)]
        registrations = registrations.filter(structure__in=structures)
    return get_object_or_404(registrations, pk=registration_pk)


@login_required
def registration_cancel(request, pt, pk, registration):
    programme_territory = get_programme_territory(request, pt)
    session = _session(programme_territory, pk)
    registration = _registration_for_user(request, programme_territory, session, registration)
    back = reverse("attendance:session", args=[programme_territory.pk, session.pk])
    if request.method == "POST":
        try:
            promoted = services.registration_cancel(
                registration=registration, acting_user=request.user, base_url=_base_url(request)
            )
        except ValidationError as error:
            messages.error(request, error.messages[0])
        else:
            text = f"L'inscription de {registration.full_name} est annulée."
            if promoted:
                names = ", ".join(r.full_name for r in promoted)
                text += f" Place attribuée à la liste d'attente : {names} (prévenu·e par e-mail)."
            messages.success(request, text)
        return redirect(back)
    return render(
        request,
        "activities/attendance/cancel_confirm.html",
        {
            "pt": programme_territory,
            "programme": programme_territory.programme,
            "session": session,
            "registration": registration,
            "cancel_url": back,
        },
    )


@login_required
@require_POST
def registration_link(request, pt, pk):
    """Open or close the public registration link."""
    pt, session = get_session_for_user(request, pt, pk, Action.EDIT_ACTIVITIES)
    is_open = request.POST.get("ouvert") == "1"
    try:
        services.registration_link_set(session=session, is_open=is_open, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(
            request,
            "Le lien d'inscription en ligne est ouvert."
            if is_open
            else "Le lien d'inscription en ligne est fermé.",
        )
    return redirect("attendance:session", pt=pt.pk, pk=session.pk)


# ---- Attendance at the door -------------------------------------------------------------------


def _door_context(request, pt, session, *, walk_in_form=None, headcount_form=None) -> dict:
    named = session.is_named_audience
    context = {
        "pt": pt,
        "programme": pt.programme,
        "session": session,
        "place": services.place_label(session),
        "refusal": _refusal(services.check_attendance_allowed, session),
        "registrants": [],
        "walk_ins": [],
        "walk_in_form": None,
        "headcount_groups": [],
        "headcount_form": None,
    }
    if named:
        context["registrants"] = _with_presence(
            session.registrations.exclude(status=Registration.Status.CANCELLED)
            .select_related("structure", "attendance")
            .order_by("full_name", "id")
        )
        context["walk_ins"] = list(
            session.attendances.filter(registration__isnull=True)
            .select_related("structure")
            .order_by("full_name")
        )
        context["walk_in_form"] = walk_in_form or WalkInForm(
            initial={"audience": session.audience},
            structures=territory_structures(request.user, pt),
        )
    else:
        form = headcount_form or HeadcountForm(headcounts=list(session.headcounts.all()))
        context["headcount_form"] = form
        context["headcount_groups"] = form.audience_groups(session.audience)
    context["present_count"] = sum(r.present for r in context["registrants"]) + len(
        context["walk_ins"]
    )
    return context


@login_required
def door(request, pt, pk):
    """The tablet page at the door: tick registrants, add walk-ins, or count people."""
    pt, session = get_session_for_user(request, pt, pk, Action.EDIT_ACTIVITIES)
    return render(request, "activities/attendance/door.html", _door_context(request, pt, session))


@login_required
@require_POST
def attendance_toggle(request, pt, pk, registration):
    pt, session = get_session_for_user(request, pt, pk, Action.EDIT_ACTIVITIES)
    registration = get_object_or_404(
        session.registrations.exclude(status=Registration.Status.CANCELLED).select_related(
            "structure"
        ),
        pk=registration,
    )
    present = request.POST.get("present") == "1"
    error = ""
    try:
        services.attendance_set(
            registration=registration, present=present, acting_user=request.user
        )
    except ValidationError as refusal:
        error = refusal.messages[0]
    if request.htmx:
        [registration] = _with_presence(
            session.registrations.select_related("structure", "attendance").filter(
                pk=registration.pk
            )
        )
        return render(
            request,
            "activities/attendance/includes/registrant.html",
            {"pt": pt, "session": session, "registrant": registration, "error": error},
        )
    if error:
        messages.error(request, error)
    return redirect("attendance:door", pt=pt.pk, pk=session.pk)


@login_required
@require_POST
def walk_in(request, pt, pk):
    pt, session = get_session_for_user(request, pt, pk, Action.EDIT_ACTIVITIES)
    form = WalkInForm(request.POST, structures=territory_structures(request.user, pt))
    if form.is_valid():
        try:
            attendance = services.walk_in_add(
                session=session, acting_user=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"{attendance.full_name} est noté·e présent·e.")
            return redirect("attendance:door", pt=pt.pk, pk=session.pk)
    context = _door_context(request, pt, session, walk_in_form=form)
    return render(request, "activities/attendance/door.html", context)


@login_required
@require_POST
def attendance_delete(request, pt, pk, attendance):
    pt, session = get_session_for_user(request, pt, pk, Action.EDIT_ACTIVITIES)
    attendance = get_object_or_404(session.attendances.all(), pk=attendance)
    try:
        services.attendance_remove(attendance=attendance, acting_user=request.user)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"La présence de {attendance.full_name} est retirée.")
    return redirect("attendance:door", pt=pt.pk, pk=session.pk)


@login_required
@require_POST
def headcounts(request, pt, pk):
    pt, session = get_session_for_user(request, pt, pk, Action.EDIT_ACTIVITIES)
    form = HeadcountForm(request.POST, headcounts=list(session.headcounts.all()))
    if form.is_valid():
        try:
            total = services.headcounts_record(
                session=session, counts=form.counts(), acting_user=request.user
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, f"Le comptage est enregistré : {total} personne(s).")
            return redirect("attendance:door", pt=pt.pk, pk=session.pk)
    context = _door_context(request, pt, session, headcount_form=form)
    return render(request, "activities/attendance/door.html", context)


# ---- Signed sheet -----------------------------------------------------------------------------


@login_required
@require_POST
def signed_sheet_upload(request, pt, pk):
    pt, session = get_session_for_user(request, pt, pk, Action.EDIT_ACTIVITIES)
    form = SignedSheetForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.signed_sheet_attach(
                session=session, upload=form.cleaned_data["file"], acting_user=request.user
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            messages.success(request, "La feuille d'émargement signée est enregistrée.")
            return redirect("attendance:session", pt=pt.pk, pk=session.pk)
    context = {"pt": pt, "programme": pt.programme, "session": session, "form": form}
    return render(request, "activities/attendance/signed_sheet_form.html", context, status=400)


@login_required
def signed_sheet(request, pt, pk):
    """The scanned sheet, for those who read registrations: never a public media address."""
    pt, session = get_session_for_user(request, pt, pk, Action.VIEW_REGISTRATIONS)
    if not session.signed_sheet:
        raise Http404("Aucune feuille signée.")
    try:
        handle = session.signed_sheet.open("rb")
    except FileNotFoundError:
        raise Http404("Fichier introuvable.") from None
    extension = session.signed_sheet.name.rsplit(".", 1)[-1].lower()
    content_type = {"pdf": "application/pdf", "png": "image/png"}.get(extension, "image/jpeg")
    audit(
        AuditEvent.Kind.NAMED_RECORD_READ,
        actor=request.user,
        target=str(session.pk),
        document="signed_sheet",
    )
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"emargement-signe-{_file_stem(session)}.{extension}",
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# ---- PDF documents ----------------------------------------------------------------------------


def _file_stem(session) -> str:
    return f"{slugify(session.title)[:60]}-{timezone.localdate(session.starts_at):%Y-%m-%d}"


def _facilitators(session) -> list[str]:
    names = [user.get_full_name() for user in session.facilitators.order_by("full_name")]
    if session.external_facilitators:
        names.append(session.external_facilitators)
    return names


def _document_context(pt, session) -> dict:
    return {
        "pt": pt,
        "programme": pt.programme,
        "session": session,
        "place": services.place_label(session),
        "facilitators": _facilitators(session),
        "duration": services.duration_label(session),
    }


def certificate_label(session) -> str:
    if session.kind == SessionKind.TRAINING:
        return "Attestation de formation"
    return "Attestation de présence"


def _pdf_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


@login_required
def sheet_pdf(request, pt, pk):
    """The attendance sheet to print and sign: registrants and blank lines, or for people in food
    insecurity a headcount grid without any name."""
    from tablee.core.pdf import render_pdf  # WeasyPrint is slow to import

    pt, session = get_session_for_user(request, pt, pk, Action.VIEW_REGISTRATIONS)
    registrants = []
    if session.is_named_audience:
        registrants = list(
            session.registrations.filter(status=Registration.Status.CONFIRMED)
            .select_related("structure")
            .order_by("full_name")
        )
    if session.capacity:
        blank = max(session.capacity - len(registrants), 3)
    else:
        blank = BLANK_LINES
    context = {
        **_document_context(pt, session),
        "registrants": registrants,
        "blank_lines": range(min(blank, MAX_BLANK_LINES)),
        "other_audiences": [a for a in Audience if a.value != session.audience],
        "age_bands": [a for a in Headcount.AgeBand if a.value],
        "genders": [g for g in Headcount.Gender if g.value],
    }
    content = render_pdf("activities/pdf/attendance_sheet.html", context, request=request)
    audit(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=str(session.pk),
        document="attendance_sheet",
        format="pdf",
        registrants=len(registrants),
    )
    return _pdf_response(content, f"emargement-{_file_stem(session)}.pdf")


def _attendances(session):
    return session.attendances.select_related("structure", "registration__structure").order_by(
        "full_name", "id"
    )


def _structure_name(attendance) -> str:
    if attendance.structure_id:
        return attendance.structure.name
    if attendance.registration_id:
        registration = attendance.registration
        return (
            registration.structure.name
            if registration.structure_id
            else registration.structure_name
        )
    return ""


def _certificate_pdf(request, pt, session, attendance) -> bytes:
    from tablee.core.pdf import render_pdf

    context = {
        **_document_context(pt, session),
        "attendance": attendance,
        "structure_name": _structure_name(attendance),
        "label": certificate_label(session),
    }
    return render_pdf("activities/pdf/certificate.html", context, request=request)


def _certificate_session(request, pt, pk):
    pt, session = get_session_for_user(request, pt, pk, Action.VIEW_REGISTRATIONS)
    if not session.is_named_audience:
        raise Http404("Pas d'attestation nominative pour ce public.")
    return pt, session


@login_required
def certificate(request, pt, pk, attendance):
    pt, session = _certificate_session(request, pt, pk)
    attendance = get_object_or_404(_attendances(session), pk=attendance)
    content = _certificate_pdf(request, pt, session, attendance)
    audit(
        AuditEvent.Kind.NAMED_RECORD_READ,
        actor=request.user,
        target=str(attendance.pk),
        document="certificate",
        session=str(session.pk),
    )
    return _pdf_response(
        content, f"attestation-{slugify(attendance.full_name)[:60]}-{_file_stem(session)}.pdf"
    )


@login_required
def certificates_zip(request, pt, pk):
    """Every certificate of the session, one PDF per person, in a ZIP built in memory."""
    pt, session = _certificate_session(request, pt, pk)
    attendances = list(_attendances(session))
    if not attendances:
        messages.error(request, "Aucune présence n'est enregistrée : pas d'attestation à produire.")
        return redirect("attendance:session", pt=pt.pk, pk=session.pk)
    buffer = io.BytesIO()
    names = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for number, attendance in enumerate(attendances, start=1):
            name = f"attestation-{slugify(attendance.full_name)[:60] or number}.pdf"
            if name in names:
                name = name.replace(".pdf", f"-{number}.pdf")
            names.add(name)
            archive.writestr(name, _certificate_pdf(request, pt, session, attendance))
    audit(
        AuditEvent.Kind.EXPORT,
        actor=request.user,
        target=str(session.pk),
        document="certificates",
        format="zip",
        certificates=len(attendances),
        attendances=[str(a.pk) for a in attendances],
    )
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = content_disposition_header(
        True, f"attestations-{_file_stem(session)}.zip"
    )
    return response
