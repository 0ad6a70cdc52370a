"""Links derived from the records of a programme territory.

Structures that meet at the same meeting, co-construction session or held workshop are linked
("met"); the host and partner structures of a held session are also linked as co-organisers. The
derived links of a territory are a pure function of those records: ``refresh_derived_links``
recomputes them (creating, updating and deleting derived links, never touching links entered by
hand), and ``ensure_fresh_links`` does so only when the records changed since the last time, which
it tells from a fingerprint of the sources read in a single query.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import Count, F, Max, OuterRef, Subquery, UUIDField
from django.db.models.functions import Coalesce
from django.utils import timezone

from tablee.activities.models import Attendance, Registration, Session
from tablee.diagnostic.models import Meeting
from tablee.network.models import Link, LinkKind, LinkSource, NetworkRefresh
from tablee.plans.models import ConsultationSession
from tablee.territories.models import ProgrammeTerritory

# Bumped when the way links are derived changes: every territory is then recomputed once.
DERIVATION_VERSION = 1
BATCH_SIZE = 500


def _source_parts() -> dict[str, Subquery]:
    """Scalar subqueries, on a ProgrammeTerritory queryset, summing up the records links derive
    from: how many there are and when they last changed. Tables without a modification date
    (the structures of a meeting...) give their row count and highest row id instead."""
    meeting_structures = Meeting.structures.through.objects
    consultation_structures = ConsultationSession.structures.through.objects
    hosts = Session.host_structures.through.objects
    partners = Session.partner_structures.through.objects
    sources = [
        ("meetings", Meeting.objects, "programme_territory", "updated_at"),
        ("meeting_structures", meeting_structures, "meeting__programme_territory", "id"),
        ("consultations", ConsultationSession.objects, "programme_territory", "updated_at"),
        (
            "consultation_structures",
            consultation_structures,
            "consultationsession__programme_territory",
            "id",
        ),
        ("sessions", Session.objects, "programme_territory", "updated_at"),
        ("hosts", hosts, "session__programme_territory", "id"),
        ("partners", partners, "session__programme_territory", "id"),
        ("attendances", Attendance.objects, "session__programme_territory", "checked_in_at"),
        ("registrations", Registration.objects, "session__programme_territory", "updated_at"),
    ]
    parts = {}
    for name, manager, territory_path, latest in sources:
        rows = manager.filter(**{territory_path: OuterRef("pk")}).order_by().values(territory_path)
        parts[f"fp_{name}_count"] = Subquery(rows.annotate(value=Count("pk")).values("value"))
        parts[f"fp_{name}_latest"] = Subquery(rows.annotate(value=Max(latest)).values("value"))
    # An attendance whose structure is filled in later changes no date: count those with one.
    attended = Attendance.objects.filter(
        session__programme_territory=OuterRef("pk"), structure__isnull=False
    )
    parts["fp_attendance_structures"] = Subquery(
        attended.order_by()
        .values("session__programme_territory")
        .annotate(value=Count("pk"))
        .values("value")
    )
    return parts


def _fingerprint(row: dict) -> str:
    values = [DERIVATION_VERSION] + [row[key] for key in sorted(row) if key.startswith("fp_")]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


def source_fingerprints(programme_territories) -> dict:
    """``{pt id: (current fingerprint, stored fingerprint or None)}``, in one query."""
    ids = [pt.pk for pt in programme_territories]
    if not ids:
        return {}
    parts = _source_parts()
    rows = (
        ProgrammeTerritory.objects.filter(pk__in=ids)
        .order_by()
        .annotate(**parts, stored_fingerprint=F("network_refresh__fingerprint"))
        .values("pk", "stored_fingerprint", *parts)
    )
    return {row["pk"]: (_fingerprint(row), row["stored_fingerprint"]) for row in rows}


def ensure_fresh_links(programme_territories) -> list:
    """Recompute the derived links of the given programme territories (one, or an iterable)
    whose records changed since the last computation; return those recomputed.

    Costs one query when nothing changed, whatever the number of territories."""
    if isinstance(programme_territories, ProgrammeTerritory):
        programme_territories = [programme_territories]
    programme_territories = list(programme_territories)
    fingerprints = source_fingerprints(programme_territories)
    refreshed = []
    for pt in programme_territories:
        current, stored = fingerprints[pt.pk]
        if current != stored:
            refresh_derived_links(programme_territory=pt, fingerprint=current)
            refreshed.append(pt)
    return refreshed


@dataclass
class _Pair:
    first: date
    last: date
    events: int = 1

    def add(self, day: date) -> None:
        self.first = min(self.first, day)
        self.last = max(self.last, day)
        self.events += 1


@dataclass
class _Event:
    day: date
    structures: set = field(default_factory=set)
    organisers: set = field(default_factory=set)


def _events(programme_territory) -> list[_Event]:
    """Every event of the territory with the structures present (and, for held sessions, the
    structures that organised it). Six queries."""
    events: dict[tuple[str, object], _Event] = {}

    def event(key, day) -> _Event:
        if key not in events:
            events[key] = _Event(day=day)
        return events[key]

    meeting_rows = Meeting.structures.through.objects.filter(
        meeting__programme_territory=programme_territory
    ).values_list("meeting_id", "meeting__date", "structure_id")
    for meeting_id, day, structure_id in meeting_rows:
        event(("meeting", meeting_id), day).structures.add(structure_id)

    consultation_rows = ConsultationSession.structures.through.objects.filter(
        consultationsession__programme_territory=programme_territory
    ).values_list("consultationsession_id", "consultationsession__date", "structure_id")
    for session_id, day, structure_id in consultation_rows:
        event(("consultation", session_id), day).structures.add(structure_id)

    held = Session.objects.filter(
        programme_territory=programme_territory, status=Session.Status.HELD
    )
    session_days = {}
    for session_id, starts_at, place_id in held.values_list(
        "pk", "starts_at", "place_structure_id"
    ):
        day = timezone.localdate(starts_at)
        session_days[session_id] = day
        if place_id:
            event(("session", session_id), day).structures.add(place_id)
    in_held = {
        "session__programme_territory": programme_territory,
        "session__status": Session.Status.HELD,
    }
    for through in (Session.host_structures.through, Session.partner_structures.through):
        for session_id, structure_id in through.objects.filter(**in_held).values_list(
            "session_id", "structure_id"
        ):
            current = event(("session", session_id), session_days[session_id])
            current.structures.add(structure_id)
            current.organisers.add(structure_id)
    # A named attendee's structure, or failing that the structure given at registration.
    attendee_structures = (
        Attendance.objects.filter(**in_held)
        .annotate(
            attendee_structure=Coalesce(
                "structure_id", "registration__structure_id", output_field=UUIDField()
            )
        )
        .exclude(attendee_structure=None)
        .values_list("session_id", "attendee_structure")
    )
    for session_id, structure_id in attendee_structures:
        event(("session", session_id), session_days[session_id]).structures.add(structure_id)
    return list(events.values())


def ordered_pair(first_id, second_id) -> tuple:
    """The pair as stored: ``structure_a`` is the one whose id is smaller as text."""
    return (first_id, second_id) if str(first_id) < str(second_id) else (second_id, first_id)


def _pairs(structure_ids: Iterable) -> Iterable[tuple]:
    ordered = sorted(set(structure_ids), key=str)
    for index, first in enumerate(ordered):
        for second in ordered[index + 1 :]:
            yield first, second


def derived_pairs(events: Iterable[_Event]) -> dict[tuple, _Pair]:
    """``{(structure_a, structure_b, kind): _Pair}`` of every pair sharing an event."""
    pairs: dict[tuple, _Pair] = {}
    for current in events:
        for kind, members in (
            (LinkKind.MET, current.structures),
            (LinkKind.CO_ORGANISED, current.organisers),
        ):
            for first, second in _pairs(members):
                key = (first, second, kind)
                if key in pairs:
                    pairs[key].add(current.day)
                else:
                    pairs[key] = _Pair(first=current.day, last=current.day)
    return pairs


@transaction.atomic
def refresh_derived_links(*, programme_territory, fingerprint: str | None = None) -> dict:
    """Recompute the derived links of ``programme_territory`` from its records.

    Every pair of distinct structures that shared a meeting, a co-construction session or a held
    session gets a "met" link (started on the first shared event, last seen on the latest,
    strength = number of shared events); host and partner structures of a held session also get a
    "co-organised" link. Derived links no longer supported by any record are deleted; links
    entered by hand are never touched. Idempotent; returns the counts of created, updated,
    deleted and unchanged links.
    """
    # One computation at a time per territory: the second waits, then finds nothing to do.
    NetworkRefresh.objects.get_or_create(programme_territory=programme_territory)
    refresh = NetworkRefresh.objects.select_for_update(of=("self",)).get(
        programme_territory=programme_territory
    )
    if fingerprint is None:
        fingerprint = source_fingerprints([programme_territory])[programme_territory.pk][0]

    wanted = derived_pairs(_events(programme_territory))
    existing = {
        (link.structure_a_id, link.structure_b_id, link.kind): link
        for link in Link.objects.filter(
            programme_territory=programme_territory, source=LinkSource.DERIVED
        )
    }
    now = timezone.now()
    to_create, to_update = [], []
    unchanged = 0
    for (first, second, kind), pair in wanted.items():
        link = existing.pop((first, second, kind), None)
        if link is None:
            to_create.append(
                Link(
                    programme_territory=programme_territory,
                    structure_a_id=first,
                    structure_b_id=second,
                    kind=kind,
                    source=LinkSource.DERIVED,
                    started_on=pair.first,
                    last_seen_on=pair.last,
                    strength=pair.events,
                )
            )
        elif (link.started_on, link.last_seen_on, link.strength, link.ended_on) != (
            pair.first,
            pair.last,
            pair.events,
            None,
        ):
            link.started_on, link.last_seen_on, link.strength = pair.first, pair.last, pair.events
            link.ended_on = None
            link.updated_at = now
            to_update.append(link)
        else:
            unchanged += 1
    stale = [link.pk for link in existing.values()]
    # ignore_conflicts: a pair created meanwhile by another process is not an error.
    Link.objects.bulk_create(to_create, batch_size=BATCH_SIZE, ignore_conflicts=True)
    Link.objects.bulk_update(
        to_update,
        ["started_on", "last_seen_on", "strength", "ended_on", "updated_at"],
        batch_size=BATCH_SIZE,
    )
    for start in range(0, len(stale), BATCH_SIZE):
        Link.objects.filter(pk__in=stale[start : start + BATCH_SIZE]).delete()
    refresh.fingerprint = fingerprint
    refresh.save()
    return {
        "created": len(to_create),
        "updated": len(to_update),
        "deleted": len(stale),
        "unchanged": unchanged,
    }


def refresh_all_links(programme_territories=None) -> dict:
    """Recompute the derived links of every programme territory (or of those given); totals."""
    if programme_territories is None:
        programme_territories = ProgrammeTerritory.objects.order_by("pk")
    totals = {"territories": 0, "created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    for pt in programme_territories:
        counts = refresh_derived_links(programme_territory=pt)
        totals["territories"] += 1
        for key, value in counts.items():
            totals[key] += value
    return totals
