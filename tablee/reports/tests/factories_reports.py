"""A programme with something to report: sessions, people, needs, actions, links, evaluations.

``ReportWorld`` builds on the directory's world (programme P on T1 and T2, programme Q on U, one
person per role) and records, on P:

T1 (the busy territory)
- a workshop for people concerned held on 10/03/2025, hosted by the CCAS: 18 people, counted once
  in all and once by gender (10 + 8: the same 18 people), 12 evaluations (mean 4,5);
- a training for professionals held on 05/05/2025 at the épicerie, co-organised with the maison de
  santé: 12 named attendances (6 of the CCAS, 6 of the maison de santé);
- a workshop for people concerned held on 02/02/2026: 12 people;
- a session for volunteers planned on 15/12/2026, one cancelled on 10/06/2025;
- a meeting on 11/02/2025 with the épicerie and the CCAS, two needs, one addressed by an action
  in progress (50 %, weight 2), one done action (100 %, weight 1);
- links: CCAS–maison de santé (social–health) since 01/01/2025, épicerie–CCAS since 2023, and a
  social–health link that ended on 30/06/2024 (active at the start of the programme only);
- three anonymous FIES answers.
T2 (the small territory)
- a workshop for people concerned held on 01/04/2025: 7 people (masked for the funder), 3
  evaluations; one need addressed only by an abandoned action.
U, on programme Q: a session of 50 people that P's figures must never count.
"""

import datetime

from tablee.activities.models import Attendance, Evaluation, Headcount, Session
from tablee.activities.tests.factories import SessionFactory, at
from tablee.diagnostic.models import Survey, SurveyResponse
from tablee.diagnostic.tests.factories_i import MeetingFactory, NeedFactory
from tablee.directory.models import Sector
from tablee.directory.tests.factories import DirectoryWorld, StructureFactory
from tablee.network.models import LinkKind, LinkSource
from tablee.network.tests.factories import LinkFactory
from tablee.plans.models import ActionStatus
from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory
from tablee.reports.models import Report
from tablee.territories.models import Audience, SessionKind, SessionTarget

ROLES = [
    "admin",
    "coordinator",
    "territory_coordinator",
    "partner",
    "local_authority",
    "funder",
    "no_role",
]


def link(pt, one, other, **fields):
    first, second = sorted([one, other], key=lambda s: s.pk)
    return LinkFactory(programme_territory=pt, structure_a=first, structure_b=second, **fields)


def headcount(session, count, audience=Audience.PEOPLE, **fields):
    return Headcount.objects.create(session=session, audience=audience, count=count, **fields)


class ReportWorld:
    def __init__(self):
        self.directory = d = DirectoryWorld()
        for name in ["programme", "other_programme", "t1", "t2", "u", "own", "neighbour"]:
            setattr(self, name, getattr(d, name))
        for name in ["sibling", "other", *ROLES]:
            setattr(self, name, getattr(d, name))
        p = self.programme
        self.own.sector = Sector.FOOD_AID
        self.own.save()
        self.neighbour.sector = Sector.SOCIAL
        self.neighbour.save()
        self.sibling.sector = Sector.MEDICO_SOCIAL
        self.sibling.save()
        self.health = StructureFactory(
            name="Maison de santé de Loudéac", commune=d.commune1, sector=Sector.HEALTH
        )
        for dimension, key, value in [
            (SessionTarget.Dimension.AUDIENCE, Audience.PEOPLE, 120),
            (SessionTarget.Dimension.AUDIENCE, Audience.PROFESSIONALS, 100),
            (SessionTarget.Dimension.YEAR, "2025", 130),
        ]:
            SessionTarget.objects.create(programme=p, dimension=dimension, key=key, value=value)

        held = Session.Status.HELD
        self.people_2025 = SessionFactory(
            programme_territory=self.t1,
            title="Atelier cuisine du CCAS",
            starts_at=at(2025, 3, 10),
            ends_at=at(2025, 3, 10, 16),
            status=held,
            place_structure=self.neighbour,
            commune=d.commune1,
        )
        self.people_2025.host_structures.set([self.neighbour])
        headcount(self.people_2025, 18)
        headcount(self.people_2025, 10, gender="women")
        headcount(self.people_2025, 8, gender="men")
        for number in range(12):
            Evaluation.objects.create(session=self.people_2025, satisfaction=4 + number % 2)

        self.training = SessionFactory(
            programme_territory=self.t1,
            format__kind=SessionKind.TRAINING,
            format__audience=Audience.PROFESSIONALS,
            title="Formation repérer et orienter",
            starts_at=at(2025, 5, 5),
            ends_at=at(2025, 5, 5, 17),
            status=held,
            place_structure=self.own,
        )
        self.training.partner_structures.set([self.health])
        for number in range(12):
            Attendance.objects.create(
                session=self.training,
                full_name=f"Professionnel·le fictif·ve {number}",
                audience=Audience.PROFESSIONALS,
                structure=self.neighbour if number % 2 else self.health,
            )

        self.people_2026 = SessionFactory(
            programme_territory=self.t1,
            title="Atelier anti-gaspillage",
            starts_at=at(2026, 2, 2),
            ends_at=at(2026, 2, 2, 16),
            status=held,
            commune=d.commune1,
        )
        headcount(self.people_2026, 12)
        self.planned = SessionFactory(
            programme_territory=self.t1,
            format__audience=Audience.VOLUNTEERS,
            starts_at=at(2026, 12, 15),
            ends_at=at(2026, 12, 15, 16),
        )
        self.cancelled = SessionFactory(
            programme_territory=self.t1,
            starts_at=at(2025, 6, 10),
            ends_at=at(2025, 6, 10, 16),
            status=Session.Status.CANCELLED,
        )
        headcount(self.cancelled, 40)

        self.small = SessionFactory(
            programme_territory=self.t2,
            title="Atelier cuisine de Rostrenen",
            starts_at=at(2025, 4, 1),
            ends_at=at(2025, 4, 1, 16),
            status=held,
            commune=d.commune2,
        )
        headcount(self.small, 7)
        for number in range(3):
            Evaluation.objects.create(session=self.small, satisfaction=3 + number % 3)

        elsewhere = SessionFactory(
            programme_territory=self.u,
            starts_at=at(2025, 3, 1),
            ends_at=at(2025, 3, 1, 16),
            status=held,
        )
        headcount(elsewhere, 50)

        meeting = MeetingFactory(
            programme_territory=self.t1,
            date=datetime.date(2025, 2, 11),
            structures=[self.own, self.neighbour],
        )
        self.need_addressed = NeedFactory(
            programme_territory=self.t1, title="Pas de bus le samedi", meeting=meeting
        )
        self.need_open = NeedFactory(
            programme_territory=self.t1, title="Pas de congélateur", meeting=meeting
        )
        self.need_t2 = NeedFactory(
            programme_territory=self.t2,
            title="Colis sans produits frais",
            meeting=MeetingFactory(programme_territory=self.t2, date=datetime.date(2025, 3, 3)),
        )
        plan = ActionPlanFactory(programme_territory=self.t1)
        self.action = ActionFactory(
            plan=plan,
            title="Navette du samedi",
            status=ActionStatus.IN_PROGRESS,
            progress=50,
            weight=2,
            start_date=datetime.date(2025, 1, 1),
        )
        self.action.needs.set([self.need_addressed])
        self.done_action = ActionFactory(
            plan=plan, title="Atelier cuisine mensuel", status=ActionStatus.DONE, progress=100
        )
        abandoned = ActionFactory(
            plan=ActionPlanFactory(programme_territory=self.t2),
            status=ActionStatus.ABANDONED,
            start_date=datetime.date(2025, 1, 1),
        )
        abandoned.needs.set([self.need_t2])

        link(self.t1, self.neighbour, self.health, started_on=datetime.date(2025, 1, 1))
        link(
            self.t1,
            self.own,
            self.neighbour,
            kind=LinkKind.MET,
            source=LinkSource.DERIVED,
            started_on=datetime.date(2023, 6, 1),
        )
        link(
            self.t1,
            self.neighbour,
            self.health,
            kind=LinkKind.PARTNERSHIP,
            started_on=datetime.date(2023, 1, 1),
            ended_on=datetime.date(2024, 6, 30),
        )
        survey = Survey.objects.create(programme_territory=self.t1, title="Questionnaire")
        for number in range(3):
            SurveyResponse.objects.create(
                survey=survey,
                **{f"q{i}": "yes" if i <= number + 1 else "no" for i in range(1, 9)},
                channel=SurveyResponse.Channel.PAPER,
                submission_token=f"token-{number}",
            )


def make_report(world, **fields) -> Report:
    values = {
        "programme": world.programme,
        "kind": Report.Kind.FUNDER_REPORT,
        "title": "Rapport d'activité 2025",
        "period_start": datetime.date(2025, 1, 1),
        "period_end": datetime.date(2025, 12, 31),
    }
    values.update(fields)
    return Report.objects.create(**values)


def make_final_evaluation(world, **fields) -> Report:
    """The final evaluation of the whole programme (its start to its end)."""
    values = {
        "kind": Report.Kind.FINAL_EVALUATION,
        "title": "Évaluation finale",
        "period_start": world.programme.start_date,
        "period_end": world.programme.end_date,
    }
    values.update(fields)
    return make_report(world, **values)
