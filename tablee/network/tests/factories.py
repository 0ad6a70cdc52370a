import datetime

import factory

from tablee.network.models import Link, LinkKind, LinkSource


class LinkFactory(factory.django.DjangoModelFactory):
    """Pass structure_a and structure_b (smaller id first) and the programme territory."""

    class Meta:
        model = Link

    kind = LinkKind.REFERRAL
    source = LinkSource.MANUAL
    started_on = datetime.date(2025, 1, 1)


class NetworkWorld:
    """The directory's world (programme P on T1 and T2, Q on U, one person per role) with a few
    more structures of T1 of each sector that matters here, and a coordinator of T2 only.

    T1: ``own`` (food aid, the partner's), ``neighbour`` (social: a CCAS), ``health_centre`` and
    ``cmp`` (health), ``mecs`` (medico-social). T2: ``sibling``; U: ``other``.
    """

    def __init__(self):
        from tablee.accounts.models import Role
        from tablee.accounts.tests.factories import MembershipFactory
        from tablee.directory.models import Sector
        from tablee.directory.tests.factories import DirectoryWorld, StructureFactory

        self.directory = DirectoryWorld()
        for name in (
            "programme",
            "other_programme",
            "t1",
            "t2",
            "u",
            "commune1",
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
        self.own.sector = Sector.FOOD_AID
        self.own.save()
        self.neighbour.sector = Sector.SOCIAL
        self.neighbour.save()
        self.health_centre = StructureFactory(
            name="Centre de santé de Loudéac", commune=self.commune1, sector=Sector.HEALTH
        )
        self.cmp = StructureFactory(
            name="CMP de Loudéac", commune=self.commune1, sector=Sector.HEALTH
        )
        self.mecs = StructureFactory(
            name="MECS de Loudéac", commune=self.commune1, sector=Sector.MEDICO_SOCIAL
        )
        self.t2_coordinator = MembershipFactory(
            role=Role.COORDINATOR, programme_territory=self.t2
        ).user


def manual_link(pt, first, second, **fields):
    """A link entered by hand between two structures, stored in the model's pair order."""
    if str(first.pk) > str(second.pk):
        first, second = second, first
    return LinkFactory(programme_territory=pt, structure_a=first, structure_b=second, **fields)


# Who reaches the network pages of T1 (VIEW_NETWORK), who is refused (403), who finds nothing (404).
VIEW_ROLES = ["admin", "coordinator", "territory_coordinator", "partner", "local_authority"]
EDIT_ROLES = ["admin", "coordinator", "territory_coordinator"]
READ_ONLY_ROLES = ["partner", "local_authority"]
FORBIDDEN_ROLES = ["funder"]
OUT_OF_SCOPE_ROLES = ["t2_coordinator", "no_role"]
