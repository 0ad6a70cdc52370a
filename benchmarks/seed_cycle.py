"""The later stages of the benchmark seed: plans, activities and the network of links.

They fill the territories of the programmes besides the demonstration one (which keeps its own
data, from load_demo, at every scale). Volumes follow the issues' national figures: about 5,000
actions, 70,000 sessions with 700,000 attendance rows, and 500,000 links; the region and
association scales get the same per-territory density. Rows are generated in memory a chunk at a
time and written with bulk inserts.

At national scale (1,248 territories besides the demonstration's six): 1,248 × 56 = 69,888
sessions; three audiences out of four are named and about 95 % of the sessions are held by the
seed's "today" (3 % cancelled), so 1,248 × 42 × 0.95 × 14 ≈ 699,000 attendance rows; and
1,248 × 400 = 499,200 links (measured: see benchmarks/README.md).
"""

import datetime
import random
from collections import defaultdict

# Per programme territory (the national scale has 1,248 besides the demonstration's six).
ACTIONS_PER_TERRITORY = 4
SESSIONS_PER_TERRITORY = 56
ATTENDANCE_PER_NAMED_SESSION = 14
# On average: a territory gets links in proportion to its structures (a large EPCI has more),
# never more than its possible pairs; the total is LINKS_PER_TERRITORY × territories.
LINKS_PER_TERRITORY = 400
FLUSH = 20_000  # rows kept in memory before a bulk insert


def _uuid(rng: random.Random):
    from benchmarks.generate import seeded_uuid

    return seeded_uuid(rng)


def _territories(ctx) -> list[tuple]:
    from tablee.territories.models import ProgrammeTerritory

    return list(
        ProgrammeTerritory.objects.filter(programme_id__in=ctx.programme_ids)
        .exclude(programme__is_demo=True)
        .order_by("territory_id")
        .values_list("pk", "territory_id", "programme_id")
    )


def _structures_by_epci(sirens: list[str]) -> dict[str, list[tuple]]:
    from tablee.directory.models import Structure

    found = defaultdict(list)
    for pk, siren, sector in (
        Structure.objects.filter(commune__territory_id__in=sirens)
        .order_by("pk")
        .values_list("pk", "commune__territory_id", "sector")
    ):
        found[siren].append((pk, sector))
    return found


def seed_plans(ctx) -> None:
    """One plan per territory with three axes and four actions (statuses, progress, pilots,
    budget lines for 2025 and 2026)."""
    from tablee.plans.models import Action, ActionBudgetLine, ActionPlan, ActionStatus, Axis

    rng = ctx.rng
    territories = _territories(ctx)
    if not territories:
        ctx.say("plans : ceux de la démonstration seulement")
        return
    structures = _structures_by_epci([siren for _, siren, _ in territories])
    statuses = list(ActionStatus.values)
    plans, axes, actions, budget, pilots = [], [], [], [], []
    for pt, siren, _ in territories:
        plan = ActionPlan(id=_uuid(rng), programme_territory_id=pt, title="Plan d'action (fictif)")
        plans.append(plan)
        plan_axes = [
            Axis(plan_id=plan.pk, position=n, title=f"Axe {n + 1} (fictif)") for n in range(3)
        ]
        axes.extend(plan_axes)
        for number in range(ACTIONS_PER_TERRITORY):
            start = datetime.date(2024, 1, 1) + datetime.timedelta(days=rng.randrange(600))
            action = Action(
                id=_uuid(rng),
                plan_id=plan.pk,
                code=f"A{number + 1}",
                title=f"Action {number + 1} du territoire (fictive)",
                status=rng.choice(statuses),
                progress=rng.randrange(0, 101, 5),
                weight=rng.randint(1, 5),
                start_date=start,
                end_date=start + datetime.timedelta(days=rng.randrange(90, 500)),
                audiences=["people"] if number % 2 else ["professionals", "volunteers"],
                position=number,
            )
            action._axis_index = number % 3
            actions.append(action)
            for year in (2025, 2026):
                budget.append(
                    ActionBudgetLine(
                        action_id=action.pk,
                        year=year,
                        funder="DREETS (fictif)",
                        planned=rng.randrange(1000, 20000),
                        spent=rng.randrange(0, 1000),
                    )
                )
            if structures[siren]:
                pilots.append((action.pk, rng.choice(structures[siren])[0]))
        for action in actions[-ACTIONS_PER_TERRITORY:]:
            action._axis = plan_axes[action._axis_index]
    ActionPlan.objects.bulk_create(plans, batch_size=2000)
    Axis.objects.bulk_create(axes, batch_size=2000)
    for action in actions:
        action.axis_id = action._axis.pk
    Action.objects.bulk_create(actions, batch_size=2000)
    ActionBudgetLine.objects.bulk_create(budget, batch_size=2000)
    through = Action.pilots.through
    through.objects.bulk_create(
        [through(action_id=a, structure_id=s) for a, s in pilots], batch_size=2000
    )
    ctx.counts.update(plans=ActionPlan.objects.count(), actions=Action.objects.count())
    ctx.say(f"plans : {len(plans)} plans, {len(actions)} actions, {len(budget)} lignes de budget")


def seed_activities(ctx) -> None:
    """Formats per programme, 56 sessions per territory over 2024–2026 (a quarter for people in
    food insecurity, with headcounts; the others with 14 named attendances each), hosted by
    structures of the territory."""
    from django.utils import timezone

    from tablee.activities.models import (
        ActivityFormat,
        Attendance,
        Headcount,
        Session,
    )
    from tablee.plans.models import Action
    from tablee.territories.models import Audience, SessionKind

    rng = ctx.rng
    territories = _territories(ctx)
    if not territories:
        ctx.say("ateliers : ceux de la démonstration seulement")
        return
    structures = _structures_by_epci([siren for _, siren, _ in territories])
    actions = defaultdict(list)
    for pk, pt in Action.objects.filter(
        plan__programme_territory_id__in=[pt for pt, _, _ in territories]
    ).values_list("pk", "plan__programme_territory_id"):
        actions[pt].append(pk)
    audiences = [Audience.PEOPLE, Audience.PROFESSIONALS, Audience.VOLUNTEERS, Audience.ELECTED]
    formats = {}
    format_rows = []
    for programme_id in sorted({p for _, _, p in territories}, key=str):
        for audience in audiences:
            kind = SessionKind.WORKSHOP if audience == Audience.PEOPLE else SessionKind.TRAINING
            fmt = ActivityFormat(
                id=_uuid(rng),
                programme_id=programme_id,
                name=f"Format {audience.label} (fictif)",
                kind=kind,
                audience=audience,
                duration_minutes=120,
            )
            formats[(programme_id, audience)] = fmt
            format_rows.append(fmt)
    ActivityFormat.objects.bulk_create(format_rows, batch_size=2000)

    tz = timezone.get_current_timezone()
    start = datetime.datetime(2024, 1, 8, 9, 0, tzinfo=tz)
    span_days = (datetime.date(2026, 12, 18) - start.date()).days
    today = datetime.datetime(2026, 11, 28, tzinfo=tz)
    sessions, hosts, attendances, headcounts = [], [], [], []
    totals = defaultdict(int)
    host_through = Session.host_structures.through

    def flush(force=False):
        if not force and len(attendances) + len(sessions) < FLUSH:
            return
        Session.objects.bulk_create(sessions, batch_size=2000)
        host_through.objects.bulk_create(hosts, batch_size=2000)
        Attendance.objects.bulk_create(attendances, batch_size=2000)
        Headcount.objects.bulk_create(headcounts, batch_size=2000)
        totals["sessions"] += len(sessions)
        totals["attendances"] += len(attendances)
        totals["headcounts"] += len(headcounts)
        for rows in (sessions, hosts, attendances, headcounts):
            rows.clear()

    for pt, siren, programme_id in territories:
        local = structures[siren]
        for number in range(SESSIONS_PER_TERRITORY):
            audience = audiences[number % 4]
            fmt = formats[(programme_id, audience)]
            begins = start + datetime.timedelta(
                days=rng.randrange(span_days), hours=rng.choice((0, 5))
            )
            status = Session.Status.HELD if begins < today else Session.Status.PLANNED
            if rng.random() < 0.03:
                status = Session.Status.CANCELLED
            place = rng.choice(local)[0] if local else None
            session = Session(
                id=_uuid(rng),
                programme_territory_id=pt,
                format_id=fmt.pk,
                kind=fmt.kind,
                title=fmt.name,
                audience=audience,
                starts_at=begins,
                ends_at=begins + datetime.timedelta(hours=2),
                place_structure_id=place,
                capacity=20,
                action_id=rng.choice(actions[pt]) if actions[pt] else None,
                status=status,
                cancel_reason="Intempéries (fictif)" if status == Session.Status.CANCELLED else "",
                import_key=f"bench-{pt}-{number}",
            )
            sessions.append(session)
            if place:
                hosts.append(host_through(session_id=session.pk, structure_id=place))
            if status != Session.Status.HELD:
                continue
            if audience == Audience.PEOPLE:
                headcounts.append(
                    Headcount(session_id=session.pk, audience=audience, count=rng.randint(4, 18))
                )
                continue
            for person in range(ATTENDANCE_PER_NAMED_SESSION):
                attendances.append(
                    Attendance(
                        id=_uuid(rng),
                        session_id=session.pk,
                        full_name=f"Participant·e fictif·ve {person + 1}",
                        audience=audience,
                        structure_id=rng.choice(local)[0] if local else None,
                        method=Attendance.Method.IMPORT,
                    )
                )
        flush()
    flush(force=True)
    ctx.counts.update(
        sessions=Session.objects.count(),
        attendances=Attendance.objects.count(),
        headcounts=Headcount.objects.count(),
    )
    ctx.say(
        f"ateliers : {totals['sessions']} séances, {totals['attendances']} présences nominatives, "
        f"{totals['headcounts']} comptages anonymes"
    )


def links_wanted(sizes: list[int], average: int = LINKS_PER_TERRITORY) -> list[int]:
    """Links for territories of ``sizes`` structures: in proportion to their structures, never
    more than their possible pairs, ``average`` per territory in all (or every pair, when the
    territories are too small for that). A small EPCI whose pairs are all taken leaves its share
    to the larger ones, so that the national total reaches the issue's 500,000."""
    pairs = [n * (n - 1) // 2 for n in sizes]
    total = min(average * len(sizes), sum(pairs))
    if not total:
        return [0] * len(sizes)

    def given(factor: float) -> list[int]:
        return [min(p, int(factor * n)) for n, p in zip(sizes, pairs, strict=True)]

    low, high = 0.0, float(max(pairs))  # links per structure: given(high) takes every pair
    for _ in range(60):
        middle = (low + high) / 2
        if sum(given(middle)) < total:
            low = middle
        else:
            high = middle
    return given(high)


def seed_network(ctx) -> None:
    """About 400 links per territory between its structures (in proportion to its structures:
    see links_wanted): mostly derived (met at a session), some entered by hand (referrals,
    partnerships), dated over the programme."""
    from tablee.network.models import Link, LinkKind, LinkSource

    rng = ctx.rng
    territories = _territories(ctx)
    if not territories:
        ctx.say("réseau : celui de la démonstration seulement")
        return
    structures = _structures_by_epci([siren for _, siren, _ in territories])
    ids_of = {siren: [pk for pk, _ in structures[siren]] for _, siren, _ in territories}
    quotas = links_wanted([len(ids_of[siren]) for _, siren, _ in territories])
    rows, total = [], 0
    first = datetime.date(2024, 1, 8)
    for (pt, siren, _), wanted in zip(territories, quotas, strict=True):
        ids = ids_of[siren]
        if wanted < 1:
            continue
        pairs = set()
        while len(pairs) < wanted:
            a, b = rng.sample(ids, 2)
            pairs.add((a, b) if str(a) < str(b) else (b, a))
        for a, b in sorted(pairs, key=lambda pair: (str(pair[0]), str(pair[1]))):
            manual = rng.random() < 0.1
            started = first + datetime.timedelta(days=rng.randrange(1050))
            rows.append(
                Link(
                    id=_uuid(rng),
                    programme_territory_id=pt,
                    structure_a_id=a,
                    structure_b_id=b,
                    kind=rng.choice([LinkKind.REFERRAL, LinkKind.PARTNERSHIP])
                    if manual
                    else LinkKind.MET,
                    source=LinkSource.MANUAL if manual else LinkSource.DERIVED,
                    started_on=started,
                    last_seen_on=started,
                    strength=rng.randint(1, 6),
                )
            )
        if len(rows) >= FLUSH:
            Link.objects.bulk_create(rows, batch_size=2000)
            total += len(rows)
            rows.clear()
    Link.objects.bulk_create(rows, batch_size=2000)
    total += len(rows)
    ctx.counts["links"] = Link.objects.count()
    ctx.say(f"réseau : {total} liens")
