"""Factories of the diagnostic records for the synthesis tests (engineer K)."""

import datetime
import secrets

import factory

from tablee.diagnostic.models import (
    BarrierCategory,
    Meeting,
    Need,
    Pathway,
    PathwayStep,
    Survey,
    SurveyResponse,
    Testimony,
)
from tablee.territories.tests.factories import ProgrammeTerritoryFactory


def barrier(code: str = "economique") -> BarrierCategory:
    """A category of the taxonomy seeded by migration 0002."""
    return BarrierCategory.objects.get(code=code)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    date = datetime.date(2025, 3, 14)
    format = Meeting.Format.INTERVIEW
    title = "Rencontre de test"
    social_workers = 2
    notes = "Notes internes de la rencontre."


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    category = factory.LazyFunction(lambda: BarrierCategory.objects.order_by("position").first())
    title = factory.Sequence(lambda n: f"Besoin {n}")
    source = Need.Source.MEETING
    severity = 2


class PathwayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pathway

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    title = factory.Sequence(lambda n: f"Parcours {n}")
    persona = "Mère seule avec deux enfants, sans voiture, commune rurale"


class PathwayStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PathwayStep

    pathway = factory.SubFactory(PathwayFactory)
    position = factory.Sequence(lambda n: n + 1)
    structure_type = "CCAS"
    description = "Premier accueil"


class TestimonyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Testimony

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    date = datetime.date(2025, 2, 1)
    context = "Distribution alimentaire, hiver"
    text = factory.Sequence(lambda n: f"Parole anonyme numéro {n}.")
    consent_given = True
    shareable = False


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    title = "Questionnaire de test"


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    """Answers with ``yes`` "yes" answers first (raw score = yes), the rest "no"."""

    class Meta:
        model = SurveyResponse

    class Params:
        yes = 0

    survey = factory.SubFactory(SurveyFactory)
    channel = SurveyResponse.Channel.PAPER
    submission_token = factory.LazyFunction(lambda: secrets.token_hex(16))

    @factory.lazy_attribute
    def q1(self):
        return "yes" if self.yes >= 1 else "no"

    q2 = factory.LazyAttribute(lambda o: "yes" if o.yes >= 2 else "no")
    q3 = factory.LazyAttribute(lambda o: "yes" if o.yes >= 3 else "no")
    q4 = factory.LazyAttribute(lambda o: "yes" if o.yes >= 4 else "no")
    q5 = factory.LazyAttribute(lambda o: "yes" if o.yes >= 5 else "no")
    q6 = factory.LazyAttribute(lambda o: "yes" if o.yes >= 6 else "no")
    q7 = factory.LazyAttribute(lambda o: "yes" if o.yes >= 7 else "no")
    q8 = factory.LazyAttribute(lambda o: "yes" if o.yes >= 8 else "no")
