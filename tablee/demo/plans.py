"""The demonstration co-construction and action plans: on each territory of the demonstration
programme, an atelier de concertation and a comité de pilotage, proposals from several groups with
their votes, and an action plan of three axes and six actions, validated once. Everything is
fictional and labelled "(fictif)".

``load_demo_plans(programme)`` is idempotent: records are keyed on their territory and their title
(or text, or code), and an action or a plan is saved only when a value differs, so that running it
again adds neither rows nor history records. It runs after ``load_demo_directory`` (the pilots
are its structures) and ``load_demo_diagnostic`` (the needs the proposals and actions answer).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from tablee.demo.diagnostic import NEEDS as DEMO_NEEDS
from tablee.diagnostic.models import Need
from tablee.directory.models import Structure
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionIndicator,
    ActionPlan,
    ActionStatus,
    Axis,
    ConsultationSession,
    IndicatorMeasure,
    ParticipantCount,
    ParticipationLevel,
    PlanValidation,
    ProgressUpdate,
    Proposal,
    ProposalVote,
    StakeholderGroup,
)
from tablee.territories.models import Audience

G = StakeholderGroup
DEMO_NOTE = "Séance fictive de démonstration."
STATE_FUNDER = "DREETS Bretagne"

WORKSHOP = (
    "Atelier de concertation sur le plan d'action (fictif)",
    datetime.date(2025, 4, 15),
    {
        G.PROFESSIONALS: 9,
        G.VOLUNTEERS: 7,
        G.ELECTED: 3,
        G.PEOPLE: 11,
        G.AUTHORITY: 2,
        G.ASSOCIATION: 3,
    },
)
STEERING = (
    "Comité de pilotage du plan d'action (fictif)",
    datetime.date(2025, 6, 19),
    {
        G.PROFESSIONALS: 5,
        G.VOLUNTEERS: 2,
        G.ELECTED: 4,
        G.PEOPLE: 3,
        G.AUTHORITY: 3,
        G.ASSOCIATION: 2,
    },
)
VALIDATED_BY = (
    "Comité de pilotage : communauté de communes, DREETS Bretagne, association et "
    "représentant·es des personnes concernées (fictif)"
)


@dataclass(frozen=True)
class DemoProposal:
    text: str
    group: str
    votes: dict
    needs: tuple[int, ...]  # indexes in tablee.demo.diagnostic.NEEDS


PROPOSALS = [
    DemoProposal(
        "Un camion d'épicerie solidaire qui passe dans les villages le samedi (fictif)",
        G.PEOPLE,
        {G.PEOPLE: 14, G.PROFESSIONALS: 6, G.VOLUNTEERS: 5, G.ELECTED: 2, G.AUTHORITY: 2},
        (1, 0),
    ),
    DemoProposal(
        "Un transport solidaire vers la distribution, avec des bénévoles chauffeurs (fictif)",
        G.VOLUNTEERS,
        {G.PEOPLE: 9, G.VOLUNTEERS: 7, G.PROFESSIONALS: 3},
        (1,),
    ),
    DemoProposal(
        "Des ateliers pour cuisiner autrement les produits du colis (fictif)",
        G.PEOPLE,
        {G.PEOPLE: 11, G.VOLUNTEERS: 4, G.ASSOCIATION: 2},
        (3,),
    ),
    DemoProposal(
        "Des temps de formation communs entre travailleur·ses sociaux·les et soignant·es (fictif)",
        G.PROFESSIONALS,
        {G.PROFESSIONALS: 8, G.AUTHORITY: 2, G.PEOPLE: 3},
        (4, 6),
    ),
    DemoProposal(
        "Associer les personnes concernées au suivi du plan, avec un défraiement (fictif)",
        G.PEOPLE,
        {G.PEOPLE: 12, G.ASSOCIATION: 3, G.ELECTED: 1},
        (7,),
    ),
    DemoProposal(
        "Inviter les élu·es à une distribution pour comprendre la réalité du terrain (fictif)",
        G.ASSOCIATION,
        {G.ASSOCIATION: 3, G.PEOPLE: 6, G.ELECTED: 2},
        (5,),
    ),
    DemoProposal(
        "Un guide papier des aides alimentaires dans chaque mairie (fictif)",
        G.ELECTED,
        {G.ELECTED: 3, G.PEOPLE: 4, G.PROFESSIONALS: 2},
        (6,),
    ),
    DemoProposal(
        "Des bons d'achat au marché de producteurs locaux (fictif)",
        G.AUTHORITY,
        {G.AUTHORITY: 2, G.PEOPLE: 8, G.VOLUNTEERS: 1},
        (0,),
    ),
]

AXES = [
    ("Accès à une alimentation de qualité (fictif)", "Aller vers les personnes et les villages."),
    ("Lien entre le social et la santé (fictif)", "Mieux repérer et orienter ensemble."),
    ("Pouvoir d'agir des personnes concernées (fictif)", "Décider avec, pas seulement pour."),
]


@dataclass(frozen=True)
class DemoAction:
    code: str
    title: str
    axis: int
    status: str
    progress: int
    weight: int
    priority: int
    audiences: tuple[str, ...]
    participation: str
    start: datetime.date
    end: datetime.date
    pilots: tuple[str, ...]  # keys of the demonstration directory's kinds of structure
    partners: tuple[str, ...]
    needs: tuple[int, ...]
    proposals: tuple[int, ...]
    budget: dict = field(default_factory=dict)  # year -> (State, EPCI) planned amounts
    description: str = ""


ACTIONS = [
    DemoAction(
        "A1",
        "Épicerie solidaire itinérante dans les communes sans commerce (fictif)",
        0,
        ActionStatus.IN_PROGRESS,
        45,
        3,
        Action.Priority.HIGH,
        (Audience.PEOPLE,),
        ParticipationLevel.CO_CONSTRUCTION,
        datetime.date(2025, 3, 1),
        datetime.date(2026, 12, 31),
        ("epicerie",),
        ("ccas", "mairie"),
        (1, 0),
        (0, 1),
        {2025: (6000, 2000), 2026: (6000, 2500)},
        "Une tournée hebdomadaire dans quatre communes, le samedi matin (action fictive).",
    ),
    DemoAction(
        "A2",
        "Ateliers cuisine avec les produits des colis (fictif)",
        0,
        ActionStatus.DONE,
        100,
        2,
        Action.Priority.MEDIUM,
        (Audience.PEOPLE, Audience.VOLUNTEERS),
        ParticipationLevel.CONCERTATION,
        datetime.date(2025, 1, 15),
        datetime.date(2025, 12, 15),
        ("antenne",),
        ("centre-sante",),
        (3,),
        (2,),
        {2025: (2500, 800)},
        "Dix ateliers animés avec une diététicienne, recettes choisies par les participant·es.",
    ),
    DemoAction(
        "B1",
        "Formation croisée des travailleur·ses sociaux·les et des soignant·es (fictif)",
        1,
        ActionStatus.LATE,
        20,
        2,
        Action.Priority.HIGH,
        (Audience.PROFESSIONALS,),
        ParticipationLevel.CONSULTATION,
        datetime.date(2025, 2, 1),
        datetime.date(2025, 10, 31),
        ("ccas",),
        ("msp", "centre-sante"),
        (4, 6),
        (3,),
        {2025: (3000, 0), 2026: (1500, 500)},
        "Deux demi-journées communes sur le repérage et l'orientation (action fictive).",
    ),
    DemoAction(
        "B2",
        "Repérage de la précarité alimentaire en consultation (fictif)",
        1,
        ActionStatus.BLOCKED,
        10,
        1,
        Action.Priority.MEDIUM,
        (Audience.PROFESSIONALS,),
        ParticipationLevel.INFORMATION,
        datetime.date(2025, 9, 1),
        datetime.date(2026, 6, 30),
        ("centre-sante", "msp"),
        ("ccas",),
        (4,),
        (),
        {2026: (1000, 500)},
        "Un questionnaire court en salle d'attente ; en attente de la convention (fictif).",
    ),
    DemoAction(
        "C1",
        "Comité des personnes concernées du plan (fictif)",
        2,
        ActionStatus.IN_PROGRESS,
        50,
        2,
        Action.Priority.HIGH,
        (Audience.PEOPLE,),
        ParticipationLevel.CO_CONSTRUCTION,
        datetime.date(2025, 4, 1),
        datetime.date(2026, 12, 31),
        ("antenne",),
        ("mairie",),
        (7,),
        (4,),
        {2025: (1200, 300), 2026: (1200, 300)},
        "Quatre réunions par an, défrayées, pour suivre et réorienter le plan (action fictive).",
    ),
    DemoAction(
        "C2",
        "Accueil des élu·es à une distribution alimentaire (fictif)",
        2,
        ActionStatus.PLANNED,
        0,
        1,
        Action.Priority.LOW,
        (Audience.ELECTED,),
        ParticipationLevel.INFORMATION,
        datetime.date(2026, 1, 15),
        datetime.date(2026, 6, 30),
        ("mairie",),
        ("antenne",),
        (5,),
        (5,),
        {2026: (0, 400)},
        "Une matinée d'immersion suivie d'un temps d'échange (action fictive).",
    ),
]
INDICATOR = ("Communes desservies par l'épicerie itinérante (fictif)", "communes", 0, 8)
MEASURE = (datetime.date(2025, 12, 1), 5, "Après neuf mois de tournée (fictif)")
UPDATE = (
    datetime.date(2025, 12, 15),
    "Cinq communes desservies ; le passage du samedi est attendu, la tournée du mercredi "
    "attire peu de monde et sera revue (note fictive).",
)


def _upsert(model, lookup: dict, values: dict):
    """Create, or update only when a value differs: no new row and no history record when
    nothing changed."""
    instance = model.objects.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        instance.save()
        return instance
    changed = {name: value for name, value in values.items() if getattr(instance, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(instance, name, value)
        if hasattr(instance, "version"):
            instance.version += 1
        instance.save()
    return instance


def _structures(pt) -> dict[str, Structure]:
    """The demonstration structures of the territory by kind ("ccas", "epicerie"...)."""
    prefix = f"{pt.territory_id}-"
    return {
        structure.source_id.removeprefix(prefix): structure
        for structure in Structure.objects.filter(
            is_demo=True, source="demo", source_id__startswith=prefix
        )
    }


def _session(pt, kind, spec, structures, shift) -> ConsultationSession:
    title, date, counts = spec
    session = _upsert(
        ConsultationSession,
        {"programme_territory": pt, "title": title},
        {
            "kind": kind,
            "date": date + datetime.timedelta(days=shift),
            "place": "Salle des fêtes de la commune centre (fictive)",
            "notes": DEMO_NOTE,
        },
    )
    session.structures.set(structures)
    for group, count in counts.items():
        ParticipantCount.objects.update_or_create(
            session=session, group=group, defaults={"count": count}
        )
    return session


@transaction.atomic
def load_demo_plans(programme) -> dict[str, int]:
    """Create or refresh the fictional co-construction and plan of each territory of
    ``programme``; returns counts."""
    counts = dict.fromkeys(
        [
            "séances de concertation",
            "propositions",
            "plans d'action",
            "axes",
            "actions",
            "lignes de budget",
            "indicateurs",
            "notes de suivi",
            "validations",
        ],
        0,
    )
    need_titles = [title for title, *_ in DEMO_NEEDS]
    territories = programme.territories.select_related("territory").order_by("territory_id")
    for index, pt in enumerate(territories):
        shift = index * 2  # the territories do not all meet the same day
        structures = _structures(pt)
        kinds = sorted(structures)
        local = list(
            Structure.objects.filter(is_demo=True, commune__territory_id=pt.territory_id)
            .exclude(source="demo")
            .order_by("name")
        )
        needs = {
            need.title: need
            for need in Need.objects.filter(programme_territory=pt, title__in=need_titles)
        }

        def pick(keys, structures=structures):
            return [structures[key] for key in keys if key in structures]

        def linked_needs(indexes, needs=needs):
            return [needs[need_titles[i]] for i in indexes if need_titles[i] in needs]

        workshop = _session(
            pt,
            ConsultationSession.Kind.WORKSHOP,
            WORKSHOP,
            pick(kinds[:4]),
            shift,
        )
        steering = _session(
            pt, ConsultationSession.Kind.STEERING, STEERING, pick(["ccas", "mairie"]), shift
        )
        proposals = []
        for spec in PROPOSALS:
            proposal = _upsert(
                Proposal,
                {"programme_territory": pt, "text": spec.text},
                {"session": workshop, "origin_group": spec.group},
            )
            proposal.needs.set(linked_needs(spec.needs))
            for group, votes in spec.votes.items():
                ProposalVote.objects.update_or_create(
                    proposal=proposal, group=group, defaults={"votes": votes}
                )
            proposals.append(proposal)

        plan = _upsert(
            ActionPlan,
            {"programme_territory": pt},
            {
                "title": f"Plan d'action alimentation de {pt.territory.name} 2025–2026 (fictif)",
                "summary": "Plan fictif de démonstration, co-construit lors d'un atelier de "
                "concertation et validé en comité de pilotage.",
            },
        )
        axes = [
            _upsert(
                Axis, {"plan": plan, "title": title}, {"position": position, "description": text}
            )
            for position, (title, text) in enumerate(AXES, start=1)
        ]
        actions = []
        for position, spec in enumerate(ACTIONS, start=1):
            action = _upsert(
                Action,
                {"plan": plan, "code": spec.code},
                {
                    "axis": axes[spec.axis],
                    "title": spec.title,
                    "description": spec.description,
                    "audiences": list(spec.audiences),
                    "elected_referent": "Vice-président·e aux solidarités (fictif)",
                    "pat_axis": pt.pat_name or "Accessibilité alimentaire",
                    "participation_level": spec.participation,
                    "start_date": spec.start,
                    "end_date": spec.end,
                    "status": spec.status,
                    "priority": spec.priority,
                    "progress": spec.progress,
                    "weight": spec.weight,
                    "position": position,
                },
            )
            action.pilots.set(pick(spec.pilots))
            action.partners.set(pick(spec.partners) + (local if spec.code == "A1" else []))
            action.needs.set(linked_needs(spec.needs))
            action.proposals.set([proposals[i] for i in spec.proposals])
            for year, (state, epci) in spec.budget.items():
                for funder, amount in ((STATE_FUNDER, state), (pt.territory.name, epci)):
                    if amount:
                        spent = Decimal(amount) * Decimal("0.7") if year == 2025 else Decimal(0)
                        ActionBudgetLine.objects.update_or_create(
                            action=action,
                            year=year,
                            funder=funder,
                            defaults={"planned": Decimal(amount), "spent": spent},
                        )
                        counts["lignes de budget"] += 1
            actions.append(action)
        retained = {i for spec in ACTIONS for i in spec.proposals}
        Proposal.objects.filter(
            pk__in=[proposals[i].pk for i in retained], status=Proposal.Status.OPEN
        ).update(status=Proposal.Status.RETAINED)

        first = actions[0]
        label, unit, baseline, target = INDICATOR
        indicator, _ = ActionIndicator.objects.update_or_create(
            action=first,
            label=label,
            defaults={"unit": unit, "baseline": baseline, "target": target, "position": 1},
        )
        date, value, note = MEASURE
        IndicatorMeasure.objects.update_or_create(
            indicator=indicator, date=date, defaults={"value": value, "note": note}
        )
        date, note = UPDATE
        ProgressUpdate.objects.update_or_create(
            action=first,
            date=date,
            defaults={"status": first.status, "progress": first.progress, "note": note},
        )
        if not plan.validations.filter(number=1).exists():
            PlanValidation.objects.create(
                plan=plan,
                number=1,
                date=steering.date,
                committee=steering,
                validated_by=VALIDATED_BY,
                snapshot=[
                    {
                        "code": action.code,
                        "title": action.title,
                        "status": action.status,
                        "progress": action.progress,
                        "pilots": sorted(s.name for s in action.pilots.all()),
                    }
                    for action in actions
                ],
            )
        counts["séances de concertation"] += 2
        counts["propositions"] += len(proposals)
        counts["plans d'action"] += 1
        counts["axes"] += len(axes)
        counts["actions"] += len(actions)
        counts["indicateurs"] += 1
        counts["notes de suivi"] += 1
        counts["validations"] += plan.validations.count()
    return counts
