"""Factories for pathways and FIES questionnaires (engineer J's tests)."""

import secrets

import factory

from tablee.diagnostic.models import (
    Answer,
    BarrierCategory,
    Need,
    Pathway,
    PathwayStep,
    Survey,
    SurveyResponse,
)
from tablee.territories.tests.factories import ProgrammeTerritoryFactory


class NeedForPathwayFactory(factory.django.DjangoModelFactory):
    """A need of a territory, to link to the break of a step (categories come from migration 0002)."""

    class Meta:
        model = Need

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    category = factory.LazyFunction(lambda: BarrierCategory.objects.order_by("position").first())
    title = factory.Sequence(lambda n: f"Besoin {n}")
    source = Need.Source.MEETING


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
    description = factory.Sequence(lambda n: f"Étape {n}")


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Survey

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    title = factory.Sequence(lambda n: f"Questionnaire {n}")


class SurveyResponseFactory(factory.django.DjangoModelFactory):
    """Answers with ``yes_count`` "yes" first, then "no" (raw score = yes_count)."""

    class Meta:
        model = SurveyResponse
        exclude = ("yes_count",)

    survey = factory.SubFactory(SurveyFactory)
    yes_count = 0
    q1 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 1 else Answer.NO)
    q2 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 2 else Answer.NO)
    q3 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 3 else Answer.NO)
    q4 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 4 else Answer.NO)
    q5 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 5 else Answer.NO)
    q6 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 6 else Answer.NO)
    q7 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 7 else Answer.NO)
    q8 = factory.LazyAttribute(lambda o: Answer.YES if o.yes_count >= 8 else Answer.NO)
    channel = SurveyResponse.Channel.ONLINE
    submission_token = factory.LazyFunction(lambda: secrets.token_urlsafe(24))
