"""Writes of the catalogue and the sessions: formats, sessions and series, status changes and the
secret address of a territory's iCal feed.

Every function is keyword-only, atomic, takes the acting user and writes one audit event with ids
and counts only (never a note: it may hold personal data).
"""

import calendar
import datetime
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent, Membership, Role, User
from tablee.activities import services_attendance
from tablee.activities.models import (
    MAX_HEADCOUNT,
    ActivityFormat,
    CalendarFeed,
    Registration,
    Session,
    SessionSeries,
    new_token,
)
from tablee.core.concurrency import check_version
from tablee.directory.models import Structure
from tablee.plans.models import Action

FORMAT_FIELDS = [
    "name",
    "kind",
    "audience",
    "duration_minutes",
    "objectives",
    "materials",
    "description",
    "is_active",
]
SESSION_FIELDS = [
    "format",
    "kind",
    "title",
    "audience",
    "starts_at",
    "ends_at",
    "place_structure",
    "place_address",
    "commune",
    "external_facilitators",
    "capacity",
    "action",
    "registration_open",
    "notes",
]
MAX_OCCURRENCES = 52


class Repeat:
    """How a series repeats (the form's choices)."""

    WEEKLY = "weekly"
    FORTNIGHTLY = "fortnightly"
    MONTHLY = "monthly"
    CHOICES = [
        ("", "Une seule séance"),
        (WEEKLY, "Chaque semaine"),
        (FORTNIGHTLY, "Toutes les deux semaines"),
        (MONTHLY, "Chaque mois"),
    ]


# The status changes offered from each status; "planned" from cancelled or postponed is the
# re-planning, from held a correction.
TRANSITIONS = {
    Session.Status.PLANNED: [
        Session.Status.HELD,
        Session.Status.POSTPONED,
        Session.Status.CANCELLED,
    ],
    Session.Status.POSTPONED: [
        Session.Status.PLANNED,
        Session.Status.HELD,
        Session.Status.POSTPONED,
        Session.Status.CANCELLED,
    ],
    Session.Status.CANCELLED: [Session.Status.PLANNED],
    Session.Status.HELD: [Session.Status.PLANNED],
}


def _changed(*, acting_user, target, action: str, **ids) -> None:
    audit(
        AuditEvent.Kind.ACTIVITY_CHANGED,
        actor=acting_user,
        target=str(target),
        action=action,
        **{key: value if isinstance(value, int) else str(value) for key, value in ids.items()},
    )


# ---- Catalogue ----------------------------------------------------------------------------------


def _check_format(activity_format: ActivityFormat) -> None:
    duplicate = ActivityFormat.objects.filter(
        programme_id=activity_format.programme_id, name__iexact=activity_format.name.strip()
    ).exclude(pk=activity_format.pk)
    if duplicate.exists():
        raise ValidationError(
            {"name": "Un format porte déjà ce nom dans le catalogue du programme."}
        )
    activity_format.full_clean(exclude=["programme"])


@transaction.atomic
def format_create(*, programme, acting_user, **fields) -> ActivityFormat:
    """Add a format to the programme's catalogue (its name is unique in the programme)."""
    activity_format = ActivityFormat(
        programme=programme, **{name: fields[name] for name in FORMAT_FIELDS if name in fields}
    )
    _check_format(activity_format)
    activity_format.save()
    _changed(
        acting_user=acting_user,
        target=programme.pk,
        action="format_create",
        format=activity_format.pk,
    )
    return activity_format


@transaction.atomic
def format_update(*, activity_format: ActivityFormat, version: int, acting_user, **fields):
    """Update a format; EditConflict if it changed since ``version`` was read. Sessions already
    scheduled keep their own kind, audience, title and times."""
    locked = ActivityFormat.objects.select_for_update(of=("self",)).get(pk=activity_format.pk)
    check_version(locked, version, FORMAT_FIELDS)
    for name in FORMAT_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    _check_format(locked)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    _changed(
        acting_user=acting_user,
        target=locked.programme_id,
        action="format_update",
        format=locked.pk,
    )
    return locked


# ---- Sessions: checks ---------------------------------------------------------------------------


def eligible_facilitators(programme_territory):
    """Accounts that may facilitate a session of the territory: the active coordinators whose
    scope covers it (the whole programme or this territory)."""
    memberships = coordinators_covering(programme_territory)
    return User.objects.filter(is_active=True, pk__in=memberships.values("user_id")).order_by(
        "full_name", "email"
    )


def coordinators_covering(programme_territory):
    """Memberships that make someone a coordinator of the territory."""
    return Membership.objects.filter(role=Role.COORDINATOR).filter(
        Q(programme_id=programme_territory.programme_id)
        | Q(programme_territory=programme_territory)
    )


def validate_session_date(day: datetime.date, programme) -> None:
    """Refuse a date outside the programme period."""
    if day < programme.start_date or day > programme.end_date:
        raise ValidationError(
            f"La date doit être comprise dans la période du programme, du "
            f"{programme.start_date:%d/%m/%Y} au {programme.end_date:%d/%m/%Y}.",
            code="outside_programme",
        )


def validate_capacity(capacity, confirmed: int) -> None:
    """Refuse a capacity above the limit or under the confirmed registrations."""
    if capacity is None:
        return
    if capacity < 1 or capacity > MAX_HEADCOUNT:
        raise ValidationError(
            f"Le nombre de places doit être compris entre 1 et {MAX_HEADCOUNT}.",
            code="capacity_range",
        )
    if capacity < confirmed:
        raise ValidationError(
            f"{confirmed} personne{'s sont' if confirmed > 1 else ' est'} déjà inscrite"
            f"{'s' if confirmed > 1 else ''} : le nombre de places ne peut pas être inférieur à "
            f"{confirmed}.",
            code="capacity_below_registrations",
        )


def _check_session(
    session: Session, programme_territory, *, facilitators, host_structures, partner_structures
) -> None:
    """Every rule of a session, as a ValidationError keyed on the model's field names."""
    errors = {}
    programme = programme_territory.programme
    territory_id = programme_territory.territory_id
    if session.format_id is None or session.format.programme_id != programme.pk:
        errors["format"] = "Choisissez un format du catalogue du programme."
    if not session.title.strip():
        errors["title"] = "Donnez un intitulé à la séance."
    if session.starts_at and session.ends_at and session.ends_at <= session.starts_at:
        errors["ends_at"] = "La fin doit être postérieure au début."
    if session.starts_at:
        try:
            validate_session_date(timezone.localdate(session.starts_at), programme)
        except ValidationError as error:
            errors["starts_at"] = error.messages
    confirmed = 0
    if not session._state.adding:
        confirmed = session.registrations.filter(status=Registration.Status.CONFIRMED).count()
    try:
        validate_capacity(session.capacity, confirmed)
    except ValidationError as error:
        errors["capacity"] = error.messages
    if session.place_structure_id:
        if session.place_structure.commune.territory_id != territory_id:
            errors["place_structure"] = "Choisissez une structure du territoire."
    elif not session.place_address.strip():
        errors["place_address"] = (
            "Indiquez le lieu : une structure de l'annuaire, ou une adresse et sa commune."
        )
    elif session.commune_id is None:
        errors["commune"] = "Indiquez la commune de l'adresse."
    if session.commune_id and session.commune.territory_id != territory_id:
        errors["commune"] = "Choisissez une commune de l'EPCI."
    if session.action_id and session.action.plan.programme_territory_id != programme_territory.pk:
        errors["action"] = "Choisissez une action du plan de ce territoire."
    for name, structures in (
        ("host_structures", host_structures),
        ("partner_structures", partner_structures),
    ):
        if any(s.commune.territory_id != territory_id for s in structures or ()):
            errors[name] = "Choisissez des structures du territoire."
    if facilitators:
        allowed = set(
            eligible_facilitators(programme_territory)
            .filter(pk__in=[f.pk for f in facilitators])
            .values_list("pk", flat=True)
        )
        if any(f.pk not in allowed for f in facilitators):
            errors["facilitators"] = "Choisissez des membres de la coordination du territoire."
    if session.registration_open and not session.is_named_audience:
        errors["registration_open"] = (
            "Les inscriptions nominatives sont réservées aux professionnel·les, aux bénévoles et "
            "aux élu·es : les personnes accompagnées ne s'inscrivent pas par leur nom."
        )
    if errors:
        raise ValidationError(errors)
    # Uniqueness (random tokens) and the end-after-start constraint are settled above.
    session.full_clean(
        validate_unique=False,
        validate_constraints=False,
        exclude=[
            "programme_territory",
            "format",
            "place_structure",
            "commune",
            "action",
            "series",
            "created_by",
            "facilitators",
            "host_structures",
            "partner_structures",
        ],
    )


@dataclass(frozen=True)
class Overlap:
    """A facilitator already busy at that time: ``existing`` is their other session."""

    facilitator: User
    existing: Session
    starts_at: datetime.datetime  # of the session being scheduled

    def __str__(self):
        start = timezone.localtime(self.existing.starts_at)
        end = timezone.localtime(self.existing.ends_at)
        return (
            f"{self.facilitator.get_full_name()} anime déjà « {self.existing.title} » le "
            f"{start:%d/%m/%Y} de {start:%H:%M} à {end:%H:%M} "
            f"({self.existing.programme_territory.territory.name})."
        )


class OverlapWarning(ValidationError):
    """Some facilitators already have a session at that time: saving needs a confirmation."""

    def __init__(self, overlaps: list[Overlap]):
        self.overlaps = overlaps
        super().__init__(
            "Des animateur·ices ont déjà une séance sur ce créneau. Vérifiez, puis cochez la "
            "case de confirmation pour enregistrer quand même.",
            code="overlap",
        )


def find_overlaps(*, facilitators, slots, exclude_ids=()) -> list[Overlap]:
    """The sessions (not cancelled) of ``facilitators`` that overlap one of ``slots``
    ((start, end) pairs), apart from ``exclude_ids``: one query."""
    if not facilitators or not slots:
        return []
    overlapping = Q(pk__in=[])
    for start, end in slots:
        overlapping |= Q(session__starts_at__lt=end, session__ends_at__gt=start)
    links = (
        Session.facilitators.through.objects.filter(overlapping, user__in=list(facilitators))
        .exclude(session__status=Session.Status.CANCELLED)
        .exclude(session_id__in=list(exclude_ids))
        .select_related("user", "session__programme_territory__territory")
        .order_by("session__starts_at")
    )
    found = []
    for link in links:
        for start, end in slots:
            if link.session.starts_at < end and link.session.ends_at > start:
                found.append(Overlap(link.user, link.session, start))
                break
    return found


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later; the 31st becomes the last day of a shorter month."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def series_slots(starts_at, ends_at, *, repeat: str, occurrences: int):
    """The (start, end) of each session of a series, at the same local time each day (a change
    of daylight saving time does not move the sessions)."""
    local_start = timezone.localtime(starts_at)
    duration = ends_at - starts_at
    slots = []
    for index in range(occurrences if repeat else 1):
        if repeat == Repeat.WEEKLY:
            day = local_start.date() + datetime.timedelta(weeks=index)
        elif repeat == Repeat.FORTNIGHTLY:
            day = local_start.date() + datetime.timedelta(weeks=2 * index)
        elif repeat == Repeat.MONTHLY:
            day = add_months(local_start.date(), index)
        else:
            day = local_start.date()
        start = timezone.make_aware(datetime.datetime.combine(day, local_start.time()))
        slots.append((start, start + duration))
    return slots


# ---- Sessions: writes ---------------------------------------------------------------------------


@transaction.atomic
def session_create(
    *,
    programme_territory,
    acting_user,
    facilitators=(),
    host_structures=(),
    partner_structures=(),
    repeat: str = "",
    occurrences: int = 1,
    confirm_overlap: bool = False,
    **fields,
) -> list[Session]:
    """Schedule a session, or a series of ``occurrences`` sessions repeating every week, every
    two weeks or every month (all or nothing). Raises OverlapWarning when a facilitator is busy
    at one of the times, unless ``confirm_overlap``."""
    if repeat and not 2 <= occurrences <= MAX_OCCURRENCES:
        raise ValidationError(
            {"occurrences": f"Une série compte de 2 à {MAX_OCCURRENCES} séances."}
        )
    template = Session(
        programme_territory=programme_territory,
        created_by=acting_user,
        **{name: fields[name] for name in SESSION_FIELDS if name in fields},
    )
    if template.place_structure_id:
        template.commune = template.place_structure.commune
    checks = {
        "facilitators": facilitators,
        "host_structures": host_structures,
        "partner_structures": partner_structures,
    }
    _check_session(template, programme_territory, **checks)
    slots = series_slots(
        template.starts_at, template.ends_at, repeat=repeat, occurrences=occurrences
    )
    last_day = timezone.localdate(slots[-1][0])
    if last_day > programme_territory.programme.end_date:
        raise ValidationError(
            {
                "occurrences": f"La dernière séance de la série tomberait le {last_day:%d/%m/%Y}, "
                f"après la fin du programme ({programme_territory.programme.end_date:%d/%m/%Y}) : "
                "réduisez le nombre de séances."
            }
        )
    overlaps = find_overlaps(facilitators=facilitators, slots=slots)
    if overlaps and not confirm_overlap:
        raise OverlapWarning(overlaps)
    series = None
    if len(slots) > 1:
        series = SessionSeries.objects.create(
            programme_territory=programme_territory, title=template.title, created_by=acting_user
        )
    sessions = []
    for start, end in slots:
        session = Session(
            programme_territory=programme_territory,
            created_by=acting_user,
            series=series,
            **{name: getattr(template, name) for name in SESSION_FIELDS},
        )
        session.starts_at, session.ends_at = start, end
        session.save()
        session.facilitators.set(facilitators)
        session.host_structures.set(host_structures)
        session.partner_structures.set(partner_structures)
        sessions.append(session)
    _changed(
        acting_user=acting_user,
        target=programme_territory.pk,
        action="session_create",
        sessions=len(sessions),
        series=series.pk if series else "",
        overlaps=len(overlaps),
    )
    return sessions


@transaction.atomic
def session_update(
    *,
    session: Session,
    version: int,
    acting_user,
    facilitators=None,
    host_structures=None,
    partner_structures=None,
    confirm_overlap: bool = False,
    base_url: str,
    **fields,
) -> Session:
    """Update a session; EditConflict if it changed since ``version`` was read, OverlapWarning
    when a facilitator is busy at the new time (unless ``confirm_overlap``), ValidationError
    when the capacity falls under the confirmed registrations. A capacity raised promotes the
    waiting list into the new places (told by e-mail, with links under ``base_url``): those
    promoted are in the returned session's ``promoted`` list."""
    locked = (
        Session.objects.select_for_update(of=("self",))
        .select_related("programme_territory__programme")
        .get(pk=session.pk)
    )
    check_version(locked, version, SESSION_FIELDS)
    previous_capacity = locked.capacity
    for name in SESSION_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    if locked.place_structure_id:
        locked.commune = locked.place_structure.commune
    pt = locked.programme_territory
    current = {
        "facilitators": facilitators if facilitators is not None else locked.facilitators.all(),
        "host_structures": host_structures
        if host_structures is not None
        else locked.host_structures.all(),
        "partner_structures": partner_structures
        if partner_structures is not None
        else locked.partner_structures.all(),
    }
    _check_session(locked, pt, **current)
    overlaps = []
    if locked.status != Session.Status.CANCELLED:
        overlaps = find_overlaps(
            facilitators=list(current["facilitators"]),
            slots=[(locked.starts_at, locked.ends_at)],
            exclude_ids=[locked.pk],
        )
    if overlaps and not confirm_overlap:
        raise OverlapWarning(overlaps)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    if facilitators is not None:
        locked.facilitators.set(facilitators)
    if host_structures is not None:
        locked.host_structures.set(host_structures)
    if partner_structures is not None:
        locked.partner_structures.set(partner_structures)
    _changed(
        acting_user=acting_user,
        target=pt.pk,
        action="session_update",
        session=locked.pk,
        overlaps=len(overlaps),
    )
    promoted = []
    if previous_capacity is not None and (
        locked.capacity is None or locked.capacity > previous_capacity
    ):
        promoted = services_attendance.waiting_list_fill(
            session=locked, acting_user=acting_user, base_url=base_url
        )
    locked.promoted = promoted
    return locked


@transaction.atomic
def session_set_status(
    *,
    session: Session,
    version: int,
    status: str,
    acting_user,
    reason: str = "",
    new_date: datetime.date | None = None,
    now: datetime.datetime | None = None,
    base_url: str,
) -> Session:
    """Mark a session held, cancelled (a reason is required), postponed (a reason is required;
    an optional new date moves it, at the same time of day) or planned again. Nothing else is
    created: a postponed session stays the same session. The confirmed and waiting registrants
    of a session cancelled or postponed are told by e-mail once committed (the reason, and the
    new date when there is one; links under ``base_url``); the returned session's ``told`` says
    how many."""
    locked = (
        Session.objects.select_for_update(of=("self",))
        .select_related("programme_territory__programme")
        .get(pk=session.pk)
    )
    check_version(locked, version, ["status", "cancel_reason", "starts_at", "ends_at"])
    reason = (reason or "").strip()
    if status not in TRANSITIONS.get(locked.status, []):
        raise ValidationError(
            {
                "status": f"Une séance « {locked.get_status_display().lower()} » ne peut pas "
                f"passer au statut « {Session.Status(status).label.lower()} »."
                if status in Session.Status.values
                else "Choisissez un statut."
            }
        )
    if status in (Session.Status.CANCELLED, Session.Status.POSTPONED) and not reason:
        word = "de l'annulation" if status == Session.Status.CANCELLED else "du report"
        raise ValidationError({"reason": f"Indiquez le motif {word}."})
    if status == Session.Status.HELD and locked.starts_at > (now or timezone.now()):
        raise ValidationError(
            {"status": "Une séance ne peut être marquée réalisée qu'une fois commencée."}
        )
    previous_start = locked.starts_at
    if status == Session.Status.POSTPONED and new_date:
        validate_and_move(locked, new_date)
    locked.status = status
    locked.cancel_reason = (
        reason
        if status
        in (
            Session.Status.CANCELLED,
            Session.Status.POSTPONED,
        )
        else ""
    )
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    told = 0
    if status == Session.Status.CANCELLED:
        told = services_attendance.registrants_notify(
            session=locked, template="session_cancelled", base_url=base_url
        )
    elif status == Session.Status.POSTPONED:
        told = services_attendance.registrants_notify(
            session=locked,
            template="session_postponed",
            base_url=base_url,
            moved=bool(new_date),
            previous_start=previous_start,
        )
    _changed(
        acting_user=acting_user,
        target=locked.programme_territory_id,
        action=f"session_{status}",
        session=locked.pk,
        moved=bool(new_date),
        told=told,
    )
    locked.told = told
    return locked


def validate_and_move(session: Session, new_date: datetime.date) -> None:
    """Move ``session`` to ``new_date`` at the same local time, inside the programme period."""
    try:
        validate_session_date(new_date, session.programme_territory.programme)
    except ValidationError as error:
        raise ValidationError({"new_date": error.messages}) from None
    local_start = timezone.localtime(session.starts_at)
    duration = session.ends_at - session.starts_at
    session.starts_at = timezone.make_aware(datetime.datetime.combine(new_date, local_start.time()))
    session.ends_at = session.starts_at + duration


def territory_structures_for_sessions(programme_territory):
    """The directory structures of the territory offered as place, host or partner."""
    return (
        Structure.objects.in_territory(programme_territory.territory)
        .select_related("commune")
        .order_by("name")
    )


def territory_actions(programme_territory):
    """The actions of the territory's plan, which a session may deliver."""
    return Action.objects.filter(plan__programme_territory=programme_territory).order_by(
        "position", "code"
    )


# ---- iCal feed ----------------------------------------------------------------------------------


def calendar_feed_for(programme_territory) -> CalendarFeed:
    """The territory's iCal feed, created the first time someone needs its address."""
    feed, _ = CalendarFeed.objects.get_or_create(programme_territory=programme_territory)
    return feed


@transaction.atomic
def calendar_feed_renew(*, programme_territory, acting_user) -> CalendarFeed:
    """Give the feed a new secret address: the old one answers 404 from now on (a leaked address
    is closed this way)."""
    feed, created = CalendarFeed.objects.select_for_update(of=("self",)).get_or_create(
        programme_territory=programme_territory
    )
    if not created:
        feed.token = new_token()
        feed.save(update_fields=["token"])
    _changed(acting_user=acting_user, target=programme_territory.pk, action="calendar_feed_renew")
    return feed
