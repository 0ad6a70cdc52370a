"""The demonstration workshops and trainings: a catalogue of eight formats and, on each territory of
the demonstration programme, the sessions of 2024–2026 in proportion to its target: about 300 held
up to 20 November 2026, about 25 planned in December 2026 and one cancelled per territory. Held
sessions carry anonymous headcounts (people in food insecurity), fictional named attendances
(professionals, volunteers, elected officials) and anonymous evaluations; upcoming sessions have
registrations, and one of them is full with a waiting list. Everything is fictional.

``load_demo_activities(programme)`` is idempotent: each session is keyed on
``import_key = "demo-<SIREN>-<n>"`` and formats on their name, so a second run adds nothing. It
runs after ``load_demo_directory`` (places, host and partner structures) and links the sessions to
the actions of each territory's plan when they exist, including on a later run. Everything is
written with ``bulk_create``: the browser tests load the demonstration for each test.
"""

import datetime
import random
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.utils import timezone

from tablee.activities.models import (
    NAMED_AUDIENCES,
    ActivityFormat,
    Attendance,
    Evaluation,
    Headcount,
    Registration,
    Session,
)
from tablee.activities.services_sessions import eligible_facilitators
from tablee.directory.models import Sector, Structure
from tablee.plans.models import Action
from tablee.territories.models import Audience, SessionKind

KEY_PREFIX = "demo-"
COORDINATOR_EMAIL = "coordination@demo.tablee.fr"
LAST_HELD_DAY = datetime.date(2026, 11, 20)
PLANNED_MONTH = (datetime.date(2026, 12, 1), datetime.date(2026, 12, 18))
# Of the 348 sessions of the programme's target, the demonstration delivers 325: about 300 held
# and 25 planned. Four territories deliver their whole target; two fall behind (the targets page
# warns about them), with the number of sessions they deliver here.
HELD_SHARE = 300 / 325
BEHIND = {"242200715": 40, "200067197": 41}  # Kreiz-Breizh, Monts d'Arrée
# Held sessions per year: 2024 and 2025 whole, 2026 up to 20 November (its December is planned).
YEAR_WINDOWS = [
    (2024, datetime.date(2024, 1, 8), datetime.date(2024, 12, 13), 0.275),
    (2025, datetime.date(2025, 1, 6), datetime.date(2025, 12, 12), 0.39),
    (2026, datetime.date(2026, 1, 5), LAST_HELD_DAY, 0.335),
]
# How the sessions split between audiences (the programme's audience targets: 120, 80, 28, 120).
AUDIENCE_WEIGHTS = [
    (Audience.PROFESSIONALS, 120),
    (Audience.VOLUNTEERS, 80),
    (Audience.ELECTED, 28),
    (Audience.PEOPLE, 120),
]
START_HOURS = {
    Audience.PROFESSIONALS: (9, 30),
    Audience.VOLUNTEERS: (14, 0),
    Audience.ELECTED: (18, 0),
    Audience.PEOPLE: (14, 0),
}
CAPACITIES = {
    Audience.PROFESSIONALS: 15,
    Audience.VOLUNTEERS: 12,
    Audience.ELECTED: 20,
    Audience.PEOPLE: 12,
}
PLACE_SECTORS = {
    Audience.PROFESSIONALS: [Sector.SOCIAL, Sector.MEDICO_SOCIAL, Sector.HEALTH],
    Audience.VOLUNTEERS: [Sector.FOOD_AID],
    Audience.ELECTED: [Sector.LOCAL_AUTHORITY, Sector.SOCIAL],
    Audience.PEOPLE: [Sector.FOOD_AID, Sector.SOCIAL],
}
PARTNER_SECTORS = [Sector.HEALTH, Sector.SOCIAL, Sector.MEDICO_SOCIAL, Sector.FOOD_AID]
# Where the named participants of each audience work.
ATTENDEE_SECTORS = {
    Audience.PROFESSIONALS: [Sector.SOCIAL, Sector.MEDICO_SOCIAL, Sector.HEALTH],
    Audience.VOLUNTEERS: [Sector.FOOD_AID],
    Audience.ELECTED: [Sector.LOCAL_AUTHORITY],
}
EXTERNAL_FACILITATORS = [
    "Diététicienne (fictive)",
    "Animateur·ice de l'association (fictif·ve)",
    "Conseillère en économie sociale et familiale (fictive)",
]
CANCEL_REASONS = [
    "Salle indisponible (fictif)",
    "Trop peu d'inscrit·es (fictif)",
    "Intempéries (fictif)",
]
LEARNT = [
    "Des recettes simples avec les produits du colis.",
    "Où orienter une personne qui n'ose pas demander d'aide.",
    "Lire les dates de consommation.",
    "",
]


@dataclass(frozen=True)
class DemoFormat:
    name: str
    kind: str
    audience: str
    duration: int
    objectives: str
    materials: str = ""


FORMATS = [
    DemoFormat(
        "Atelier cuisine",
        SessionKind.WORKSHOP,
        Audience.PEOPLE,
        150,
        "Cuisiner ensemble un repas équilibré et peu coûteux avec des produits de saison.",
        "Plaques de cuisson, ustensiles, denrées de l'épicerie solidaire",
    ),
    DemoFormat(
        "Nutrition et santé",
        SessionKind.WORKSHOP,
        Audience.PEOPLE,
        120,
        "Comprendre les repères nutritionnels et les adapter à sa situation.",
        "Affiches des repères du PNNS, aliments à manipuler",
    ),
    DemoFormat(
        "Budget alimentaire",
        SessionKind.WORKSHOP,
        Audience.PEOPLE,
        120,
        "Prévoir ses courses, comparer les prix, cuisiner les restes.",
        "Tickets de caisse fictifs, calculatrices",
    ),
    DemoFormat(
        "Visite de ferme ou glanage",
        SessionKind.WORKSHOP,
        Audience.PEOPLE,
        180,
        "Découvrir une production locale et glaner les invendus des champs.",
        "Minibus, cagettes",
    ),
    DemoFormat(
        "Anti-gaspillage",
        SessionKind.WORKSHOP,
        Audience.VOLUNTEERS,
        120,
        "Trier et valoriser les invendus, conserver et transformer les denrées fragiles.",
        "Balance, bocaux, étiquettes",
    ),
    DemoFormat(
        "Formation « repérer et orienter la précarité alimentaire »",
        SessionKind.TRAINING,
        Audience.PROFESSIONALS,
        210,
        "Repérer les signes de précarité alimentaire et orienter vers les ressources du "
        "territoire.",
        "Annuaire du territoire imprimé, cas pratiques",
    ),
    DemoFormat(
        "Formation des bénévoles à l'accueil et à l'équilibre alimentaire",
        SessionKind.TRAINING,
        Audience.VOLUNTEERS,
        180,
        "Accueillir sans juger, composer des colis équilibrés.",
        "Livret du bénévole",
    ),
    DemoFormat(
        "Sensibilisation des élu·es",
        SessionKind.WORKSHOP,
        Audience.ELECTED,
        90,
        "Partager le diagnostic du territoire et les leviers d'une commune.",
        "Synthèse du diagnostic, carte de l'aide alimentaire",
    ),
]


def _formats(programme) -> dict[str, list[ActivityFormat]]:
    """The catalogue, created when missing; the formats of each audience, in catalogue order."""
    existing = {f.name: f for f in ActivityFormat.objects.filter(programme=programme)}
    missing = [
        ActivityFormat(
            programme=programme,
            name=demo.name,
            kind=demo.kind,
            audience=demo.audience,
            duration_minutes=demo.duration,
            objectives=demo.objectives,
            materials=demo.materials,
            description="Format de démonstration (fictif).",
        )
        for demo in FORMATS
        if demo.name not in existing
    ]
    for activity_format in ActivityFormat.objects.bulk_create(missing):
        existing[activity_format.name] = activity_format
    by_audience: dict[str, list[ActivityFormat]] = {}
    for demo in FORMATS:
        by_audience.setdefault(demo.audience, []).append(existing[demo.name])
    return by_audience


def _audiences(count: int, offset: int) -> list[str]:
    """``count`` audiences in the programme's proportions, evenly interleaved (smooth weighted
    round robin); ``offset`` turns the sequence so that territories do not all start alike."""
    total = sum(weight for _, weight in AUDIENCE_WEIGHTS)
    current = {audience: 0 for audience, _ in AUDIENCE_WEIGHTS}
    sequence = []
    for _ in range(count + offset):
        for audience, weight in AUDIENCE_WEIGHTS:
            current[audience] += weight
        chosen = max(current, key=current.get)
        current[chosen] -= total
        sequence.append(chosen)
    return sequence[offset:]


def _weekday(day: datetime.date) -> datetime.date:
    """Saturdays move back to Friday, Sundays forward to Monday."""
    if day.weekday() == 5:
        return day - datetime.timedelta(days=1)
    if day.weekday() == 6:
        return day + datetime.timedelta(days=1)
    return day


def _spread(count: int, first: datetime.date, last: datetime.date, shift: int):
    """``count`` weekdays spread evenly between ``first`` and ``last``."""
    span = (last - first).days
    return [
        min(_weekday(first + datetime.timedelta(days=int((k + 0.5) * span / count) + shift)), last)
        for k in range(count)
    ]


@dataclass
class Slot:
    """One demonstration session to create."""

    number: int
    day: datetime.date
    audience: str
    status: str


def _slots(delivered: int, territory_index: int) -> list[Slot]:
    """The sessions of one territory: ``delivered`` held over the three years or planned in
    December 2026, and one cancelled in 2025."""
    held = round(delivered * HELD_SHARE)
    planned = delivered - held
    days = []
    for index, (_, first, last, share) in enumerate(YEAR_WINDOWS):
        count = round(held * share) if index < len(YEAR_WINDOWS) - 1 else held - len(days)
        days += [(day, Session.Status.HELD) for day in _spread(count, first, last, territory_index)]
    days += [
        (day, Session.Status.PLANNED)
        for day in _spread(planned, *PLANNED_MONTH, shift=territory_index % 3)
    ]
    days.append((_weekday(datetime.date(2025, 3 + territory_index, 17)), Session.Status.CANCELLED))
    audiences = _audiences(len(days), territory_index * 5)
    return [
        Slot(number, day, audience, status)
        for number, ((day, status), audience) in enumerate(zip(days, audiences, strict=True))
    ]


class _Picker:
    """Deterministic choices among a territory's structures, by sector."""

    def __init__(self, structures):
        self.structures = structures
        self.by_sector: dict[str, list[Structure]] = {}
        for structure in structures:
            self.by_sector.setdefault(structure.sector, []).append(structure)

    def among(self, sectors, index: int, exclude=()) -> Structure | None:
        pool = [s for sector in sectors for s in self.by_sector.get(sector, []) if s not in exclude]
        if not pool:
            pool = [s for s in self.structures if s not in exclude]
        return pool[index % len(pool)] if pool else None


@transaction.atomic
def load_demo_activities(programme) -> dict[str, int]:
    """Create the demonstration catalogue and sessions of ``programme`` where missing; link the
    sessions to their territory's plan actions; returns the counts of what the programme holds."""
    formats = _formats(programme)
    existing = set(
        Session.objects.filter(
            programme_territory__programme=programme, import_key__startswith=KEY_PREFIX
        ).values_list("import_key", flat=True)
    )
    from tablee.demo.services import DEMO_TERRITORIES

    order = {siren: index for index, (siren, _, _) in enumerate(DEMO_TERRITORIES)}
    territories = sorted(
        programme.territories.select_related("territory"),
        key=lambda pt: (order.get(pt.territory_id, len(order)), pt.territory_id),
    )
    new_sessions, related = [], _Related()
    for index, pt in enumerate(territories):
        slots = _slots(BEHIND.get(pt.territory_id, pt.target_sessions), index)
        if all(_key(pt, slot) in existing for slot in slots):
            continue
        structures = list(
            Structure.objects.filter(commune__territory_id=pt.territory_id).order_by("name")
        )
        facilitator = eligible_facilitators(pt).filter(email=COORDINATOR_EMAIL).first()
        new_sessions += _territory_sessions(
            pt, slots, existing, formats, _Picker(structures), facilitator, related
        )
    Session.objects.bulk_create(new_sessions)
    related.write(new_sessions)
    _link_actions(programme)
    return _counts(programme)


def _key(pt, slot: Slot) -> str:
    return f"{KEY_PREFIX}{pt.territory_id}-{slot.number:03d}"


class _Related:
    """Rows that hang on the new sessions, written once the sessions exist."""

    def __init__(self):
        self.facilitators, self.hosts, self.partners = [], [], []
        self.headcounts, self.attendances, self.evaluations, self.registrations = [], [], [], []
        self.participant = 0
        self.facilitated_days: set[datetime.date] = set()
        # One upcoming session of the programme is full, with a waiting list.
        self.full_session_done = False

    def write(self, sessions) -> None:
        if not sessions:
            return
        Session.facilitators.through.objects.bulk_create(
            Session.facilitators.through(session_id=s, user_id=u) for s, u in self.facilitators
        )
        Session.host_structures.through.objects.bulk_create(
            Session.host_structures.through(session_id=s, structure_id=t) for s, t in self.hosts
        )
        Session.partner_structures.through.objects.bulk_create(
            Session.partner_structures.through(session_id=s, structure_id=t)
            for s, t in self.partners
        )
        Headcount.objects.bulk_create(self.headcounts)
        Attendance.objects.bulk_create(self.attendances)
        Evaluation.objects.bulk_create(self.evaluations)
        Registration.objects.bulk_create(self.registrations)
        # Arrivals and answers dated on the day of their session, not on the day of the load;
        # registrations one minute apart, so that the waiting list has an order.
        ids = [s.pk for s in sessions]
        starts = Session.objects.filter(pk=OuterRef("session_id"))
        Attendance.objects.filter(session_id__in=ids).update(
            checked_in_at=Subquery(starts.values("starts_at")[:1])
        )
        Evaluation.objects.filter(session_id__in=ids).update(
            created_at=Subquery(starts.values("ends_at")[:1])
        )
        base = datetime.datetime(2026, 11, 2, 9, tzinfo=timezone.get_current_timezone())
        for number, registration in enumerate(self.registrations):
            registration.created_at = base + datetime.timedelta(minutes=number)
        Registration.objects.bulk_update(self.registrations, ["created_at"])


def _territory_sessions(pt, slots, existing, formats, picker, facilitator, related):
    rng = random.Random(f"tablee-demo-{pt.territory_id}")
    sessions = []
    for slot in slots:
        key = _key(pt, slot)
        # The random draws happen for every slot, created or not, so that a session gets the same
        # values whichever sessions already exist.
        draws = _Draws(rng)
        if key in existing:
            continue
        audience_formats = formats[slot.audience]
        activity_format = audience_formats[slot.number % len(audience_formats)]
        hour, minute = START_HOURS[slot.audience]
        starts_at = timezone.make_aware(
            datetime.datetime.combine(slot.day, datetime.time(hour, minute))
        )
        place = picker.among(PLACE_SECTORS[slot.audience], slot.number)
        upcoming = slot.status == Session.Status.PLANNED
        named = slot.audience in NAMED_AUDIENCES
        session = Session(
            programme_territory=pt,
            format=activity_format,
            kind=activity_format.kind,
            title=activity_format.name,
            audience=slot.audience,
            starts_at=starts_at,
            ends_at=starts_at + datetime.timedelta(minutes=activity_format.duration_minutes),
            place_structure=place,
            commune_id=place.commune_id if place else None,
            place_address="" if place else "Salle des fêtes (adresse fictive)",
            external_facilitators=EXTERNAL_FACILITATORS[slot.number % len(EXTERNAL_FACILITATORS)],
            capacity=CAPACITIES[slot.audience],
            status=slot.status,
            cancel_reason=CANCEL_REASONS[slot.number % len(CANCEL_REASONS)]
            if slot.status == Session.Status.CANCELLED
            else "",
            registration_open=upcoming and named,
            import_key=key,
        )
        sessions.append(session)
        if facilitator and slot.day not in related.facilitated_days and slot.number % 3 == 0:
            related.facilitated_days.add(slot.day)
            related.facilitators.append((session.pk, facilitator.pk))
        if place:
            related.hosts.append((session.pk, place.pk))
        partners = {
            picker.among(_rotated(PARTNER_SECTORS, slot.number + k), slot.number + k, [place])
            for k in range(1 + slot.number % 2)
        }
        related.partners += [(session.pk, p.pk) for p in partners if p is not None]
        if slot.status == Session.Status.HELD:
            _held(session, slot, picker, draws, related)
        elif upcoming and named:
            full = not related.full_session_done and slot.audience == Audience.VOLUNTEERS
            related.full_session_done = related.full_session_done or full
            _registrations(session, slot, picker, draws, related, full=full)
    return sessions


def _rotated(items: list, by: int) -> list:
    by %= len(items)
    return items[by:] + items[:by]


class _Draws:
    """The random values of one slot, drawn in a fixed order."""

    def __init__(self, rng: random.Random):
        self.headcount = rng.randint(4, 18)
        self.attendees = rng.randint(3, 8)
        self.registrants = rng.randint(3, 8)
        self.satisfactions = [rng.choice([3, 4, 4, 5, 5]) for _ in range(rng.randint(2, 7))]
        self.intentions = [rng.choice(["yes", "yes", "maybe", "no", ""]) for _ in range(7)]
        self.learnt = [rng.randrange(len(LEARNT)) for _ in range(7)]


def _held(session, slot, picker, draws, related) -> None:
    if slot.audience == Audience.PEOPLE:
        related.headcounts.append(
            Headcount(session=session, audience=Audience.PEOPLE, count=draws.headcount)
        )
    else:
        for k in range(draws.attendees):
            related.participant += 1
            related.attendances.append(
                Attendance(
                    session=session,
                    full_name=f"Participant·e fictif·ve n°{related.participant}",
                    audience=slot.audience,
                    structure=picker.among(ATTENDEE_SECTORS[slot.audience], slot.number + k),
                    method=Attendance.Method.SHEET if k % 2 else Attendance.Method.DOOR,
                )
            )
    for k, satisfaction in enumerate(draws.satisfactions):
        related.evaluations.append(
            Evaluation(
                session=session,
                satisfaction=satisfaction,
                intends_to_change=draws.intentions[k],
                learnt=LEARNT[draws.learnt[k]],
                source=Evaluation.Source.PAPER if k % 3 else Evaluation.Source.ONLINE,
            )
        )


def _registrations(session, slot, picker, draws, related, *, full: bool) -> None:
    """Registrations of an upcoming session; the ``full`` one fills its places and has three
    people waiting."""
    confirmed = session.capacity if full else draws.registrants
    waiting = 3 if full else 0
    for k in range(confirmed + waiting):
        related.participant += 1
        number = related.participant
        related.registrations.append(
            Registration(
                session=session,
                full_name=f"Participant·e fictif·ve n°{number}",
                email=f"participant-{number}@demo.tablee.fr",
                job_title="Bénévole" if slot.audience == Audience.VOLUNTEERS else "",
                structure=picker.among(ATTENDEE_SECTORS[slot.audience], slot.number + k),
                status=Registration.Status.CONFIRMED
                if k < confirmed
                else Registration.Status.WAITING,
                source=Registration.Source.PUBLIC if k % 2 else Registration.Source.COORDINATOR,
                consent=True,
            )
        )


def _link_actions(programme) -> None:
    """Give each demonstration session without an action one of its territory's plan actions,
    preferring those aimed at the session's audience (the plans may be loaded after the
    sessions: a later run links them)."""
    unlinked = list(
        Session.objects.filter(
            programme_territory__programme=programme,
            import_key__startswith=KEY_PREFIX,
            action__isnull=True,
        ).order_by("import_key")
    )
    if not unlinked:
        return
    actions: dict = {}
    for action in (
        Action.objects.filter(plan__programme_territory__programme=programme)
        .order_by("position", "code")
        .select_related("plan")
    ):
        actions.setdefault(action.plan.programme_territory_id, []).append(action)
    changed = []
    for number, session in enumerate(unlinked):
        candidates = actions.get(session.programme_territory_id)
        if not candidates:
            continue
        aimed = [a for a in candidates if session.audience in (a.audiences or [])] or candidates
        session.action = aimed[number % len(aimed)]
        changed.append(session)
    Session.objects.bulk_update(changed, ["action"])


def _counts(programme) -> dict[str, int]:
    sessions = Session.objects.filter(
        programme_territory__programme=programme, import_key__startswith=KEY_PREFIX
    )
    figures = sessions.aggregate(
        total=Count("pk"),
        held=Count("pk", filter=Q(status=Session.Status.HELD)),
        planned=Count("pk", filter=Q(status=Session.Status.PLANNED)),
        cancelled=Count("pk", filter=Q(status=Session.Status.CANCELLED)),
    )
    return {
        "formats d'ateliers et formations": ActivityFormat.objects.filter(
            programme=programme
        ).count(),
        "séances": figures["total"],
        "séances réalisées": figures["held"],
        "séances programmées": figures["planned"],
        "séances annulées": figures["cancelled"],
        "inscriptions": Registration.objects.filter(session__in=sessions).count(),
        "présences nominatives": Attendance.objects.filter(session__in=sessions).count(),
        "comptages anonymes": Headcount.objects.filter(session__in=sessions).count(),
        "évaluations": Evaluation.objects.filter(session__in=sessions).count(),
    }
