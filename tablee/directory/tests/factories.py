import factory

from tablee.directory.models import Contact, Service, ServiceStop, Structure
from tablee.territories.tests.factories import CommuneFactory


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure

    name = factory.Sequence(lambda n: f"Structure {n}")
    commune = factory.SubFactory(CommuneFactory)


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    structure = factory.SubFactory(StructureFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "Un service de test."


class ServiceStopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ServiceStop

    service = factory.SubFactory(ServiceFactory, is_itinerant=True)
    commune = factory.SelfAttribute("service.structure.commune")
    address = "Place de la mairie"
    opening_hours = "Tu 10:00-12:00"
    position = factory.Sequence(lambda n: n)


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    structure = factory.SubFactory(StructureFactory)
    full_name = factory.Sequence(lambda n: f"Contact fictif {n}")
    job_title = "Travailleur·se social·e"
    email = factory.Sequence(lambda n: f"contact{n}@example.org")


class DirectoryWorld:
    """Two programmes and four structures, one person per role (the permission matrix's world).

    Programme P runs on EPCI T1 and T2, programme Q on EPCI U. ``own`` is the partner's structure
    and ``neighbour`` another one in T1; ``sibling`` is in T2, ``other`` in U.
    """

    def __init__(self):
        from tablee.accounts.models import Role
        from tablee.accounts.tests.factories import MembershipFactory, UserFactory
        from tablee.territories.tests.factories import ProgrammeFactory, ProgrammeTerritoryFactory

        self.programme = ProgrammeFactory(name="P")
        self.other_programme = ProgrammeFactory(name="Q")
        self.t1 = ProgrammeTerritoryFactory(programme=self.programme, territory__name="CC Une")
        self.t2 = ProgrammeTerritoryFactory(programme=self.programme, territory__name="CC Deux")
        self.u = ProgrammeTerritoryFactory(
            programme=self.other_programme, territory__name="CC Autre Programme"
        )
        self.commune1 = CommuneFactory(
            territory=self.t1.territory, name="Loudéac", latitude=48.18, longitude=-2.75
        )
        self.commune2 = CommuneFactory(
            territory=self.t2.territory, name="Rostrenen", latitude=48.23, longitude=-3.31
        )
        self.commune3 = CommuneFactory(
            territory=self.u.territory, name="Vitré", latitude=48.12, longitude=-1.2
        )
        self.own = StructureFactory(name="Épicerie solidaire du Centre", commune=self.commune1)
        self.neighbour = StructureFactory(name="CCAS de Loudéac", commune=self.commune1)
        self.sibling = StructureFactory(name="CADA de Rostrenen", commune=self.commune2)
        self.other = StructureFactory(name="CHRS de Vitré", commune=self.commune3)

        def person(role=None, **scope):
            user = UserFactory()
            if role is not None:
                MembershipFactory(user=user, role=role, **scope)
            return user

        self.admin = person(Role.ADMIN)
        self.coordinator = person(Role.COORDINATOR, programme=self.programme)
        self.territory_coordinator = person(Role.COORDINATOR, programme_territory=self.t1)
        self.partner = person(Role.PARTNER, structure=self.own)
        self.local_authority = person(Role.LOCAL_AUTHORITY, programme_territory=self.t1)
        self.funder = person(Role.FUNDER, programme=self.programme)
        self.no_role = person()
