"""Registrations, waiting list, attendance, headcounts, signed sheets and reminders of a session.

Every write is keyword-only and atomic, takes the acting user (None on the public links) and writes
an ACTIVITY_CHANGED audit event with ids and counts only, never a name or an e-mail address. The
session row is locked while its places are counted, so that two registrations at the same moment
cannot both take the last place. E-mails leave once the transaction is committed.
"""

import dataclasses
import datetime
import logging
import uuid

import filetype
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.activities.models import (
    MAX_HEADCOUNT,
    NAMED_AUDIENCES,
    Attendance,
    Headcount,
    Registration,
    Session,
)
from tablee.core.text import fold
from tablee.directory.models import Structure
from tablee.territories.models import Audience

logger = logging.getLogger(__name__)

# Self check-in opens this long before the start and closes at the end of the session's day.
CHECKIN_OPENS_BEFORE = datetime.timedelta(hours=1)
# Reminders go to the registrants of the sessions starting within this delay.
REMINDER_HORIZON = datetime.timedelta(hours=48)
# The scanned signed attendance sheet: the type found in the content -> extensions it may carry.
SIGNED_SHEET_TYPES = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
}
SIGNED_SHEET_MAX_BYTES = 10 * 1024 * 1024

DUPLICATE_EMAIL = (
    "Cette adresse e-mail est déjà inscrite à cette séance (ou sur sa liste d'attente) : "
    "rien n'a été enregistré."
)
ACTIVE_STATUSES = [Registration.Status.CONFIRMED, Registration.Status.WAITING]


def _changed(*, acting_user, session: Session, action: str, **ids) -> None:
    audit(
        AuditEvent.Kind.ACTIVITY_CHANGED,
        actor=acting_user,
        target=str(session.pk),
        action=action,
        pt_id=str(session.programme_territory_id),
        **{key: str(value) for key, value in ids.items()},
    )


def _lock(session: Session) -> Session:
    """The session row, locked until the end of the transaction."""
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("programme_territory__programme")
        .get(pk=session.pk)
    )


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


# ---- Reading ----------------------------------------------------------------------------------


def place_label(session: Session) -> str:
    """Where the session takes place, as one line: the structure, the address, the commune."""
    parts = []
    if session.place_structure_id:
        parts.append(session.place_structure.name)
    if session.place_address:
        parts.append(session.place_address)
    if session.commune_id and not any(session.commune.name in part for part in parts):
        parts.append(session.commune.name)
    return ", ".join(parts) or "Lieu à préciser"


def duration_label(session: Session) -> str:
    """The length of the session in hours, as a certificate states it: « 2 h », « 3 h 30 »."""
    minutes = int((session.ends_at - session.starts_at).total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h {rest:02d}" if rest else f"{hours} h"


def waiting_position(registration: Registration) -> int:
    """The rank of a registration on its session's waiting list (1 = next to be promoted)."""
    return (
        registration.session.registrations.filter(
            status=Registration.Status.WAITING, created_at__lte=registration.created_at
        )
        .exclude(pk=registration.pk)
        .count()
        + 1
    )


def _confirmed_count(session: Session) -> int:
    return session.registrations.filter(status=Registration.Status.CONFIRMED).count()


def check_registration_allowed(session: Session, *, now=None) -> None:
    """Refuse, with a French message, a registration the session cannot take."""
    now = now or timezone.now()
    if not session.is_named_audience:
        raise ValidationError(
            "Les personnes en situation de précarité alimentaire ne s'inscrivent pas "
            "nominativement : seul un comptage anonyme est enregistré pour cette séance.",
            code="anonymous_audience",
        )
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(
            "Cette séance est annulée : les inscriptions sont fermées.", code="cancelled"
        )
    if session.status != Session.Status.PLANNED:
        raise ValidationError(
            f"Cette séance est « {session.get_status_display().lower()} » : les inscriptions "
            "sont fermées.",
            code="not_planned",
        )
    if session.starts_at <= now:
        raise ValidationError(
            "Cette séance a déjà commencé ou est passée : les inscriptions sont closes.",
            code="past",
        )


def _check_held(session: Session) -> None:
    if session.status == Session.Status.CANCELLED:
        raise ValidationError(
            "Cette séance est annulée : aucune présence ne peut être enregistrée.",
            code="cancelled",
        )
    if session.status == Session.Status.POSTPONED:
        raise ValidationError(
            "Cette séance est reportée : notez les présences sur la séance à sa nouvelle date.",
            code="postponed",
        )


def check_attendance_allowed(session: Session, *, now=None) -> None:
    """Refuse attendance on a cancelled or postponed session, or before the session's day (or
    the hour before its start, for a session just after midnight)."""
    now = now or timezone.now()
    _check_held(session)
    day = timezone.localdate(session.starts_at)
    start_of_day = datetime.datetime.combine(
        day, datetime.time.min, tzinfo=timezone.get_current_timezone()
    )
    if now < min(start_of_day, session.starts_at - CHECKIN_OPENS_BEFORE):
        raise ValidationError(
            f"La séance n'a pas encore eu lieu : les présences se notent à partir du jour de la "
            f"séance (le {day:%d/%m/%Y}).",
            code="future",
        )


def checkin_window(session: Session) -> tuple[datetime.datetime, datetime.datetime]:
    """When self check-in is open: from an hour before the start to the end of the last day."""
    last_day = timezone.localdate(session.ends_at)
    closes = datetime.datetime.combine(
        last_day + datetime.timedelta(days=1),
        datetime.time.min,
        tzinfo=timezone.get_current_timezone(),
    )
    return session.starts_at - CHECKIN_OPENS_BEFORE, closes


def check_checkin_allowed(session: Session, *, now=None) -> None:
    """Refuse a self check-in outside the session's day, or on a session that will not be held."""
    now = now or timezone.now()
    if not session.is_named_audience:
        raise ValidationError(
            "Cette séance ne prévoit pas d'émargement nominatif.", code="anonymous_audience"
        )
    _check_held(session)
    opens, closes = checkin_window(session)
    if now < opens:
        local = timezone.localtime(opens)
        raise ValidationError(
            f"L'émargement en ligne ouvre une heure avant la séance, le {local:%d/%m/%Y} à "
            f"{local:%H:%M}.",
            code="too_early",
        )
    if now >= closes:
        raise ValidationError("L'émargement en ligne de cette séance est clos.", code="too_late")


# ---- E-mails ----------------------------------------------------------------------------------


def _absolute(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _send(template: str, registration: Registration, *, base_url: str, **extra) -> None:
    """Send ``activities/emails/<template>_subject.txt`` / ``_body.txt`` to the registrant."""
    session = registration.session
    context = {
        "registration": registration,
        "session": session,
        "programme": session.programme_territory.programme,
        "place": place_label(session),
        "cancel_url": _absolute(
            base_url, reverse("registration_public:cancel", args=[registration.cancel_token])
        ),
        "position": None,
        **extra,
    }
    subject = render_to_string(f"activities/emails/{template}_subject.txt", context)
    body = render_to_string(f"activities/emails/{template}_body.txt", context)
    send_mail(" ".join(subject.split()), body, None, [registration.email])


def _send_on_commit(template: str, registration_id, *, base_url: str, **extra) -> None:
    """Send an e-mail once committed, reading the registration again (its final state)."""

    def send():
        registration = Registration.objects.select_related(
            "session__programme_territory__programme",
            "session__place_structure",
            "session__commune",
        ).get(pk=registration_id)
        position = None
        if registration.status == Registration.Status.WAITING:
            position = waiting_position(registration)
        _send(template, registration, base_url=base_url, position=position, **extra)

    # robust: a mail server that is down must not turn a recorded registration into an error page.
    transaction.on_commit(send, robust=True)


def registrants_notify(*, session: Session, template: str, base_url: str, **extra) -> int:
    """E-mail ``template`` to the confirmed and waiting registrants of ``session`` once the
    transaction is committed (the session as committed: a new date shows). Returns how many are
    told. A failed e-mail is logged and does not stop the others."""
    registration_ids = list(
        session.registrations.filter(status__in=ACTIVE_STATUSES)
        .order_by("created_at", "id")
        .values_list("pk", flat=True)
    )

    def send():
        registrations = Registration.objects.filter(pk__in=registration_ids).select_related(
            "session__programme_territory__programme",
            "session__place_structure",
            "session__commune",
        )
        for registration in registrations.order_by("created_at", "id"):
            try:
                _send(template, registration, base_url=base_url, **extra)
            except OSError as error:  # smtplib errors are OSErrors
                # The error's class only: smtplib's messages name the refused addresses.
                logger.error(
                    "E-mail « %s » non envoyé (inscription %s) : %s",
                    template,
                    registration.pk,
                    type(error).__name__,
                )

    if registration_ids:
        transaction.on_commit(send, robust=True)
    return len(registration_ids)


# ---- Registrations ----------------------------------------------------------------------------


def _fill_places(session: Session, *, now=None) -> list[Registration]:
    """Promote the waiting list, in order of arrival, into the places left (``session`` locked)."""
    now = now or timezone.now()
    if session.status != Session.Status.PLANNED or session.starts_at <= now:
        return []
    waiting = session.registrations.filter(status=Registration.Status.WAITING).order_by(
        "created_at", "id"
    )
    if session.capacity is not None:
        room = session.capacity - _confirmed_count(session)
        if room <= 0:
            return []
        waiting = waiting[:room]
    promoted = list(waiting)
    Registration.objects.filter(pk__in=[r.pk for r in promoted]).update(
        status=Registration.Status.CONFIRMED, updated_at=now
    )
    for registration in promoted:
        registration.status = Registration.Status.CONFIRMED
    return promoted


@transaction.atomic
def registration_create(
    *,
    session: Session,
    full_name: str,
    email: str,
    consent: bool,
    job_title: str = "",
    structure: Structure | None = None,
    structure_name: str = "",
    source: str = Registration.Source.COORDINATOR,
    acting_user=None,
    base_url: str,
) -> Registration:
    """Register a person to a session: confirmed while places are left, else on the waiting
    list. Refuses a second registration of the same e-mail (case-insensitive), a session that is
    not planned or already started, an anonymous audience, and a registration without consent.
    The person receives a confirmation e-mail with the link to cancel."""
    locked = _lock(session)
    check_registration_allowed(locked)
    email = normalise_email(email)
    full_name, structure_name = full_name.strip(), structure_name.strip()
    if not consent:
        raise ValidationError(
            {"consent": "Le consentement est nécessaire pour conserver le nom sur l'émargement."}
        )
    if structure is None and not structure_name:
        raise ValidationError(
            {
                "structure": "Indiquez la structure : choisissez-la dans l'annuaire ou écrivez son nom."
            }
        )
    if locked.registrations.filter(status__in=ACTIVE_STATUSES, email__iexact=email).exists():
        raise ValidationError({"email": DUPLICATE_EMAIL}, code="duplicate")
    # Places freed by a larger capacity go to the waiting list before a newcomer.
    promoted = _fill_places(locked)
    has_room = locked.capacity is None or _confirmed_count(locked) < locked.capacity
    registration = Registration(
        session=locked,
        full_name=full_name,
        email=email,
        job_title=job_title.strip(),
        structure=structure,
        structure_name="" if structure else structure_name,
        status=Registration.Status.CONFIRMED if has_room else Registration.Status.WAITING,
        source=source,
        consent=True,
    )
    registration.full_clean(exclude=["session", "structure"], validate_constraints=False)
    try:
        with transaction.atomic():
            registration.save()
    except IntegrityError:  # the same e-mail registered at the same moment
        raise ValidationError({"email": DUPLICATE_EMAIL}, code="duplicate") from None
    _changed(
        acting_user=acting_user,
        session=locked,
        action="registration_create",
        registration=registration.pk,
        status=registration.status,
        source=source,
        promoted=len(promoted),
    )
    template = (
        "registration_confirmed"
        if registration.status == Registration.Status.CONFIRMED
        else "registration_waiting"
    )
    _send_on_commit(template, registration.pk, base_url=base_url)
    for other in promoted:
        _send_on_commit("registration_promoted", other.pk, base_url=base_url)
    return registration


@dataclasses.dataclass
class PublicRegistration:
    registration: Registration
    created: bool


@transaction.atomic
def registration_request_public(
    *,
    session: Session,
    full_name: str,
    email: str,
    consent: bool,
    job_title: str = "",
    structure_name: str = "",
    base_url: str,
) -> PublicRegistration:
    """A registration through the public link. An e-mail already registered is not an error the
    visitor sees (that would tell anyone who is registered): nothing is written and the address
    receives an e-mail saying it was already registered."""
    locked = _lock(session)
    check_registration_allowed(locked)
    if not locked.registration_open:
        raise ValidationError(
            "Les inscriptions en ligne à cette séance sont fermées.", code="link_closed"
        )
    existing = (
        locked.registrations.filter(
            status__in=ACTIVE_STATUSES, email__iexact=normalise_email(email)
        )
        .order_by("created_at")
        .first()
    )
    if existing is not None:
        _send_on_commit("registration_already", existing.pk, base_url=base_url)
        return PublicRegistration(existing, created=False)
    registration = registration_create(
        session=locked,
        full_name=full_name,
        email=email,
        consent=consent,
        job_title=job_title,
        structure_name=structure_name,
        source=Registration.Source.PUBLIC,
        base_url=base_url,
    )
    return PublicRegistration(registration, created=True)


@transaction.atomic
def registration_cancel(
    *, registration: Registration, acting_user=None, base_url: str
) -> list[Registration]:
    """Cancel a registration; a confirmed place freed goes to the first person of the waiting
    list, who is told by e-mail. Returns the registrations promoted."""
    session = _lock(registration.session)
    locked = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    if locked.status == Registration.Status.CANCELLED:
        raise ValidationError("Cette inscription est déjà annulée.", code="already_cancelled")
    if session.starts_at <= timezone.now():
        raise ValidationError(
            "La séance a déjà commencé : l'inscription ne peut plus être annulée.", code="past"
        )
    if Attendance.objects.filter(registration=locked).exists():
        raise ValidationError(
            "Cette personne est notée présente : retirez d'abord sa présence.", code="attended"
        )
    locked.status = Registration.Status.CANCELLED
    locked.save(update_fields=["status", "updated_at"])
    promoted = _fill_places(session)
    _changed(
        acting_user=acting_user,
        session=session,
        action="registration_cancel",
        registration=locked.pk,
        promoted=len(promoted),
    )
    _send_on_commit("registration_cancelled", locked.pk, base_url=base_url)
    for other in promoted:
        _send_on_commit("registration_promoted", other.pk, base_url=base_url)
    return promoted


@transaction.atomic
def waiting_list_fill(*, session: Session, acting_user, base_url: str) -> list[Registration]:
    """Promote the waiting list into the places left, e.g. after the capacity was raised."""
    locked = _lock(session)
    promoted = _fill_places(locked)
    if promoted:
        _changed(
            acting_user=acting_user,
            session=locked,
            action="waiting_list_fill",
            promoted=len(promoted),
        )
    for other in promoted:
        _send_on_commit("registration_promoted", other.pk, base_url=base_url)
    return promoted


@transaction.atomic
def registration_link_set(*, session: Session, is_open: bool, acting_user) -> Session:
    """Open or close the public registration link of a session."""
    locked = _lock(session)
    if is_open:
        check_registration_allowed(locked)
    # The version moves on so that a session form opened before does not silently undo this.
    Session.objects.filter(pk=locked.pk).update(
        registration_open=is_open, version=F("version") + 1, updated_at=timezone.now()
    )
    locked.refresh_from_db()
    _changed(
        acting_user=acting_user,
        session=locked,
        action="registration_link_open" if is_open else "registration_link_close",
    )
    return locked


# ---- Attendance -------------------------------------------------------------------------------


@transaction.atomic
def attendance_set(
    *, registration: Registration, present: bool, acting_user, method=Attendance.Method.DOOR
) -> Attendance | None:
    """Tick (or untick) a registrant present. Returns the attendance, None once unticked."""
    session = _lock(registration.session)
    check_attendance_allowed(session)
    locked = Registration.objects.select_for_update(of=("self",)).get(pk=registration.pk)
    if locked.status == Registration.Status.CANCELLED:
        raise ValidationError("Cette inscription est annulée : cochez une autre personne.")
    attendance = Attendance.objects.filter(registration=locked).first()
    if present and attendance is None:
        attendance = Attendance.objects.create(
            session=session,
            registration=locked,
            full_name=locked.full_name,
            email=locked.email,
            audience=session.audience,
            structure=locked.structure,
            method=method,
        )
        _changed(
            acting_user=acting_user,
            session=session,
            action="attendance_add",
            attendance=attendance.pk,
            method=method,
        )
    elif not present and attendance is not None:
        attendance_id = attendance.pk
        attendance.delete()
        attendance = None
        _changed(
            acting_user=acting_user,
            session=session,
            action="attendance_remove",
            attendance=attendance_id,
        )
    return attendance


def _territory_structure(session: Session, name: str) -> Structure | None:
    """The structure of the session's territory whose name is ``name`` (accents and case aside)."""
    folded = fold(name)
    if not folded:
        return None
    return (
        Structure.objects.in_territory(session.programme_territory.territory_id)
        .filter(search_name=folded)
        .order_by("name")
        .first()
    )


@transaction.atomic
def walk_in_add(
    *,
    session: Session,
    full_name: str,
    audience: str,
    email: str = "",
    structure: Structure | None = None,
    structure_name: str = "",
    method=Attendance.Method.DOOR,
    acting_user=None,
) -> Attendance:
    """Record a person who came without registering. A structure written by hand is looked up in
    the territory's directory; one that is not there stays next to the name, in brackets."""
    locked = _lock(session)
    if not locked.is_named_audience:
        raise ValidationError(
            "Pour ce public, seul un comptage anonyme est enregistré : aucun nom.",
            code="anonymous_audience",
        )
    check_attendance_allowed(locked)
    if audience not in NAMED_AUDIENCES:
        raise ValidationError({"audience": "Choisissez un public nommé."})
    full_name, structure_name, email = (
        full_name.strip(),
        structure_name.strip(),
        normalise_email(email),
    )
    if not full_name:
        raise ValidationError({"full_name": "Indiquez le nom et le prénom."})
    if email:
        if locked.registrations.filter(status__in=ACTIVE_STATUSES, email__iexact=email).exists():
            raise ValidationError(
                {"email": "Cette personne est inscrite : cochez-la dans la liste des inscrit·es."}
            )
        if locked.attendances.filter(email__iexact=email).exists():
            raise ValidationError({"email": "Cette personne est déjà notée présente."})
    if structure is None and structure_name:
        structure = _territory_structure(locked, structure_name)
        if structure is None:
            full_name = f"{full_name} ({structure_name})"
    attendance = Attendance(
        session=locked,
        full_name=full_name[:200],
        email=email,
        audience=audience,
        structure=structure,
        method=method,
    )
    attendance.full_clean(exclude=["session", "registration", "structure"])
    attendance.save()
    _changed(
        acting_user=acting_user,
        session=locked,
        action="walk_in_add",
        attendance=attendance.pk,
        method=method,
    )
    return attendance


@transaction.atomic
def attendance_remove(*, attendance: Attendance, acting_user) -> None:
    """Remove a presence recorded by mistake."""
    session = _lock(attendance.session)
    check_attendance_allowed(session)
    attendance_id = attendance.pk
    attendance.delete()
    _changed(
        acting_user=acting_user,
        session=session,
        action="attendance_remove",
        attendance=attendance_id,
    )


@dataclasses.dataclass
class CheckIn:
    attendance: Attendance
    already: bool


@transaction.atomic
def self_check_in(*, session: Session, email: str) -> CheckIn | None:
    """A registrant checks in on their phone with their e-mail address. None when the address
    matches no registration: the person then checks in as a walk-in."""
    locked = _lock(session)
    check_checkin_allowed(locked)
    email = normalise_email(email)
    if not email:
        return None
    registration = (
        locked.registrations.filter(status__in=ACTIVE_STATUSES, email__iexact=email)
        .order_by("created_at")
        .first()
    )
    if registration is None:
        walk_in = locked.attendances.filter(email__iexact=email).first()
        return CheckIn(walk_in, already=True) if walk_in else None
    existing = Attendance.objects.filter(registration=registration).first()
    if existing is not None:
        return CheckIn(existing, already=True)
    attendance = attendance_set(
        registration=registration,
        present=True,
        acting_user=None,
        method=Attendance.Method.SELF,
    )
    return CheckIn(attendance, already=False)


@transaction.atomic
def self_walk_in(
    *, session: Session, full_name: str, email: str, structure_name: str
) -> Attendance:
    """A person who did not register checks in on their phone (the session's audience)."""
    locked = _lock(session)
    check_checkin_allowed(locked)
    return walk_in_add(
        session=locked,
        full_name=full_name,
        email=email,
        audience=locked.audience,
        structure_name=structure_name,
        method=Attendance.Method.SELF,
    )


# ---- Headcounts -------------------------------------------------------------------------------


def headcount_keys() -> list[tuple[str, str, str]]:
    """Every (audience, age band, gender) cell a headcount may fill; "" means not broken down."""
    return [
        (audience, age, gender)
        for audience in Audience.values
        for age in Headcount.AgeBand.values
        for gender in Headcount.Gender.values
    ]


def headcount_label(audience: str, age: str, gender: str) -> str:
    parts = [Audience(audience).label]
    if age:
        parts.append(Headcount.AgeBand(age).label)
    if gender:
        parts.append(Headcount.Gender(gender).label)
    return ", ".join(parts)


@transaction.atomic
def headcounts_record(*, session: Session, counts: dict, acting_user) -> int:
    """Replace the anonymous headcounts of a session. ``counts`` maps (audience, age band,
    gender) to a number from 0 to MAX_HEADCOUNT; the cells are disjoint, so the total is their
    sum. Returns that total."""
    locked = _lock(session)
    check_attendance_allowed(locked)
    allowed = set(headcount_keys())
    errors = []
    for key, number in counts.items():
        if key not in allowed:
            errors.append(ValidationError("Une case du comptage n'existe pas."))
        elif not isinstance(number, int) or not 0 <= number <= MAX_HEADCOUNT:
            errors.append(
                ValidationError(
                    f"« {headcount_label(*key)} » : le nombre doit être compris entre 0 et "
                    f"{MAX_HEADCOUNT}."
                )
            )
    if errors:
        raise ValidationError(errors)
    locked.headcounts.all().delete()
    rows = [
        Headcount(session=locked, audience=audience, age_band=age, gender=gender, count=number)
        for (audience, age, gender), number in counts.items()
        if number
    ]
    Headcount.objects.bulk_create(rows)
    total = sum(row.count for row in rows)
    _changed(
        acting_user=acting_user,
        session=locked,
        action="headcounts_record",
        rows=len(rows),
        total=total,
    )
    return total


# ---- Signed attendance sheet ------------------------------------------------------------------


def check_signed_sheet(upload) -> str:
    """The extension to store a scanned sheet under, read from its content; ValidationError if
    the file is empty, too large, not a PDF, PNG or JPEG, or named as another type than it is."""
    if upload.size > SIGNED_SHEET_MAX_BYTES:
        raise ValidationError(
            f"Le fichier dépasse la taille maximale de {SIGNED_SHEET_MAX_BYTES // (1024 * 1024)} "
            "Mo.",
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError("Le fichier est vide.", code="empty")
    upload.seek(0)
    kind = filetype.guess(upload.read(8192))
    upload.seek(0)
    if kind is None or kind.mime not in SIGNED_SHEET_TYPES:
        raise ValidationError(
            "Ce type de fichier n'est pas accepté (contenu vérifié) : déposez un PDF, un PNG ou "
            "un JPEG.",
            code="bad_type",
        )
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if extension not in SIGNED_SHEET_TYPES[kind.mime]:
        raise ValidationError(
            "Le contenu du fichier ne correspond pas à son extension : vérifiez le fichier.",
            code="extension_mismatch",
        )
    return kind.extension


@transaction.atomic
def signed_sheet_attach(*, session: Session, upload, acting_user) -> Session:
    """Attach the scanned signed attendance sheet, replacing the previous one (whose file goes
    once committed). The file is stored under a random name."""
    locked = _lock(session)
    check_attendance_allowed(locked)
    extension = check_signed_sheet(upload)
    previous = locked.signed_sheet.name
    storage = locked.signed_sheet.storage
    locked.signed_sheet.save(f"emargement-{uuid.uuid4().hex}.{extension}", upload, save=False)
    new_name = locked.signed_sheet.name
    try:
        Session.objects.filter(pk=locked.pk).update(
            signed_sheet=new_name, updated_at=timezone.now()
        )
        _changed(acting_user=acting_user, session=locked, action="signed_sheet_attach")
    except Exception:
        storage.delete(new_name)
        raise
    if previous:
        transaction.on_commit(lambda: storage.delete(previous))
    locked.refresh_from_db()
    return locked


# ---- Reminders --------------------------------------------------------------------------------


@dataclasses.dataclass
class ReminderCounts:
    sessions: int = 0
    sent: int = 0
    failed: int = 0


def reminders_send(*, base_url: str, now=None) -> ReminderCounts:
    """E-mail a reminder to each confirmed registrant of the planned sessions starting within
    48 hours, once: each registration is claimed (``reminder_sent_at``) before its e-mail leaves,
    so that two runs at the same time never send it twice; a failed e-mail is released for the
    next run."""
    now = now or timezone.now()
    counts = ReminderCounts()
    sessions = set()
    due = (
        Registration.objects.filter(
            status=Registration.Status.CONFIRMED,
            reminder_sent_at__isnull=True,
            session__status=Session.Status.PLANNED,
            session__starts_at__gt=now,
            session__starts_at__lte=now + REMINDER_HORIZON,
        )
        .select_related(
            "session__programme_territory__programme",
            "session__place_structure",
            "session__commune",
        )
        .order_by("session__starts_at", "created_at")
    )
    for registration in due:
        claimed = Registration.objects.filter(
            pk=registration.pk, reminder_sent_at__isnull=True
        ).update(reminder_sent_at=now)
        if not claimed:
            continue
        try:
            _send("session_reminder", registration, base_url=base_url)
        except OSError as error:  # smtplib errors are OSErrors
            # The error's class only: smtplib's messages name the refused addresses.
            logger.error(
                "Rappel non envoyé (inscription %s) : %s", registration.pk, type(error).__name__
            )
            Registration.objects.filter(pk=registration.pk).update(reminder_sent_at=None)
            counts.failed += 1
            continue
        counts.sent += 1
        sessions.add(registration.session_id)
    counts.sessions = len(sessions)
    if counts.sent or counts.failed:
        audit(
            AuditEvent.Kind.ACTIVITY_CHANGED,
            target="rappels de séances",
            action="reminders_send",
            sessions=counts.sessions,
            sent=counts.sent,
            failed=counts.failed,
        )
    return counts
