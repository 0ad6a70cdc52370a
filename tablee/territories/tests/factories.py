import datetime

import factory

from tablee.territories.models import (
    Commune,
    Departement,
    Programme,
    ProgrammeTerritory,
    Region,
    Territory,
)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = "53"
    name = "Bretagne"


class DepartementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Departement
        django_get_or_create = ("code",)

    code = "22"
    name = "Côtes-d'Armor"
    region = factory.SubFactory(RegionFactory)


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    siren = factory.Sequence(lambda n: f"2{n:08d}")
    name = factory.Sequence(lambda n: f"CC Test n°{n}")
    kind = Territory.Kind.CC
    population = 20000
    departement = factory.SubFactory(DepartementFactory)


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune

    code = factory.Sequence(lambda n: f"22{n % 1000:03d}" if n < 1000 else f"{n:05d}")
    name = factory.Sequence(lambda n: f"Commune {n}")
    population = 1500
    latitude = 48.2
    longitude = -2.75
    departement = factory.SubFactory(DepartementFactory)
    territory = factory.SubFactory(TerritoryFactory)


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    name = factory.Sequence(lambda n: f"Programme test {n}")
    funder = "DREETS Bretagne"
    start_date = datetime.date(2024, 1, 1)
    end_date = datetime.date(2026, 12, 31)
    target_sessions = 348


class ProgrammeTerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeTerritory

    programme = factory.SubFactory(ProgrammeFactory)
    territory = factory.SubFactory(TerritoryFactory)
    pat_name = "PAT du territoire"
    pat_contact_name = "Camille Exemple"
    pat_contact_email = "pat@example.org"
    target_sessions = 58
