import datetime

import factory

from tablee.plans.models import (
    Action,
    ActionPlan,
    Axis,
    ConsultationSession,
    Proposal,
    StakeholderGroup,
)
from tablee.territories.tests.factories import ProgrammeTerritoryFactory


class ConsultationSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsultationSession

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    date = datetime.date(2025, 3, 12)
    title = factory.Sequence(lambda n: f"Atelier de concertation n°{n}")


class ProposalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Proposal

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    text = factory.Sequence(lambda n: f"Proposition n°{n} : un atelier cuisine mensuel")
    origin_group = StakeholderGroup.PEOPLE


class ActionPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionPlan

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    title = factory.Sequence(lambda n: f"Plan d'action n°{n}")


class AxisFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Axis

    plan = factory.SubFactory(ActionPlanFactory)
    title = factory.Sequence(lambda n: f"Axe {n}")
    position = factory.Sequence(lambda n: n)


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    plan = factory.SubFactory(ActionPlanFactory)
    code = factory.Sequence(lambda n: f"A{n}")
    title = factory.Sequence(lambda n: f"Action n°{n}")
    start_date = datetime.date(2025, 1, 1)
    end_date = datetime.date(2026, 6, 30)
