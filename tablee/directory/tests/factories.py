import factory

from tablee.directory.models import Structure
from tablee.territories.tests.factories import CommuneFactory


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure

    name = factory.Sequence(lambda n: f"Structure {n}")
    commune = factory.SubFactory(CommuneFactory)
