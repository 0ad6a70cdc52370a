import datetime

import factory
from django.utils import timezone

from tablee.activities.models import ActivityFormat, Headcount, Registration, Session
from tablee.territories.models import Audience, SessionKind
from tablee.territories.tests.factories import ProgrammeTerritoryFactory


def at(year, month, day, hour=14, minute=0) -> datetime.datetime:
    """An aware datetime in the project's time zone."""
    return datetime.datetime(year, month, day, hour, minute, tzinfo=timezone.get_current_timezone())


class ActivityFormatFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActivityFormat

    programme = factory.SubFactory("tablee.territories.tests.factories.ProgrammeFactory")
    name = factory.Sequence(lambda n: f"Atelier cuisine n°{n}")
    kind = SessionKind.WORKSHOP
    audience = Audience.PEOPLE
    duration_minutes = 120


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    programme_territory = factory.SubFactory(ProgrammeTerritoryFactory)
    format = factory.SubFactory(
        ActivityFormatFactory, programme=factory.SelfAttribute("..programme_territory.programme")
    )
    kind = factory.SelfAttribute("format.kind")
    audience = factory.SelfAttribute("format.audience")
    title = factory.SelfAttribute("format.name")
    starts_at = factory.Sequence(lambda n: at(2025, 1 + n % 12, 1 + n % 27))
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + datetime.timedelta(hours=2))


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Registration

    session = factory.SubFactory(SessionFactory, audience=Audience.PROFESSIONALS)
    full_name = factory.Sequence(lambda n: f"Professionnel·le fictif·ve {n}")
    email = factory.Sequence(lambda n: f"pro{n}@example.org")
    consent = True


class HeadcountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Headcount

    session = factory.SubFactory(SessionFactory)
    audience = Audience.PEOPLE
    count = 12
