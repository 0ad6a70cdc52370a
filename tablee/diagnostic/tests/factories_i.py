"""Factories of the diagnostic records: meetings, attachments, needs, testimonies."""

import datetime

import factory

from tablee.diagnostic.models import BarrierCategory, Meeting, Need, Testimony
from tablee.territories.tests.factories import ProgrammeTerritoryFactory


def barrier_category(code: str = "economique") -> BarrierCategory:
    """A category of the taxonomy seeded by migration 0002 (created if a test flushed it)."""
    category, _ = BarrierCategory.objects.get_or_create(
        code=code, defaults={"label": code.capitalize()}
    )
    return category


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting
        skip_postgeneration_save = True

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    date = datetime.date(2025, 3, 14)
    format = Meeting.Format.INTERVIEW
    title = factory.Sequence(lambda n: f"Rencontre {n}")
    social_workers = 2
    volunteers = 1

    @factory.post_generation
    def structures(self, create, extracted, **kwargs):
        if create and extracted:
            self.structures.set(extracted)


class NeedFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Need
        skip_postgeneration_save = True

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    category = factory.LazyFunction(barrier_category)
    title = factory.Sequence(lambda n: f"Besoin {n}")
    description = "Pas de transport vers l'épicerie solidaire le samedi."
    severity = 2
    source = Need.Source.MEETING

    @factory.post_generation
    def structures(self, create, extracted, **kwargs):
        if create and extracted:
            self.structures.set(extracted)


class TestimonyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Testimony
        skip_postgeneration_save = True

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    date = datetime.date(2025, 4, 2)
    context = "Distribution alimentaire, hiver"
    text = "On vient quand on peut, le bus ne passe pas le samedi."
    consent_given = True

    @factory.post_generation
    def needs(self, create, extracted, **kwargs):
        if create and extracted:
            self.needs.set(extracted)


class DiagnosticWorld:
    """The directory's world (programme P on T1 and T2, one person per role) plus a coordinator of
    T2 only, who must not reach T1's diagnostic."""

    def __init__(self):
        from tablee.accounts.models import Role
        from tablee.accounts.tests.factories import MembershipFactory
        from tablee.directory.tests.factories import DirectoryWorld

        self.directory = DirectoryWorld()
        for name in (
            "programme",
            "t1",
            "t2",
            "u",
            "own",
            "neighbour",
            "sibling",
            "other",
            "admin",
            "coordinator",
            "territory_coordinator",
            "partner",
            "local_authority",
            "funder",
            "no_role",
        ):
            setattr(self, name, getattr(self.directory, name))
        self.t2_coordinator = MembershipFactory(
            role=Role.COORDINATOR, programme_territory=self.t2
        ).user


ALLOWED_ROLES = ["admin", "coordinator", "territory_coordinator"]
FORBIDDEN_ROLES = ["partner", "local_authority", "funder"]
OUT_OF_SCOPE_ROLES = ["t2_coordinator", "no_role"]
