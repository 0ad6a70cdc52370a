"""The role × action matrix, written out from DESIGN.md "Roles", and the scope-filtered querysets.

The expected values are typed here by hand from the design, never read from ``GRANTS``: when the two
disagree, this test is the one that speaks for the design.
"""

import pytest
from django.contrib.auth.models import AnonymousUser

from tablee.accounts.models import Role
from tablee.accounts.permissions import Action, can
from tablee.accounts.tests.factories import MembershipFactory, UserFactory
from tablee.directory.models import Structure
from tablee.directory.tests.factories import StructureFactory
from tablee.territories.models import Programme, ProgrammeTerritory
from tablee.territories.tests.factories import (
    CommuneFactory,
    ProgrammeFactory,
    ProgrammeTerritoryFactory,
)

pytestmark = pytest.mark.django_db

# Who is who in the world built below:
#   admin       admin of the instance (no scope)
#   coord_prog  coordinator of programme P
#   coord_terr  coordinator of territory T1 only (one of P's territories)
#   partner     partner for a structure located in T1's EPCI
#   local_auth  local authority of territory T1
#   funder      funder of programme P
#   no_role     signed in, without any role
#   anonymous   not signed in
#
# The objects: programme P with territories T1 and T2 (two EPCI); programme Q with territory U.
#   own_programme = P, other_programme = Q
#   own_territory = T1, sibling_territory = T2 (same programme, another EPCI), other_territory = U
#   instance = no object (an instance-wide action)
# The structures: own_structure (the partner's, in T1), neighbour_structure (another one in T1),
#   sibling_structure (in T2), other_structure (in U).
#
# From DESIGN.md "Roles": admin may do everything, users and programmes included; a coordinator
# everything inside its scope (a territory coordinator does not edit the programme as a whole);
# a partner sees its territory and the programmes running there; a local authority reads its
# territory; a funder reads its programme's aggregates only, so never the named contacts.
# The national referential (public INSEE data) is open to every role; importing indicators is
# coordination work.
# The directory: a partner edits its own structure only (and sees its own contacts) but reads its
# territory's directory; a coordinator edits the structures of its territories; a local authority
# reads its territory's directory, without the contacts; the funder sees no directory. Creating,
# importing and exporting structures is coordination work.
# The diagnostic: meetings, needs, pathways, testimonies and questionnaires are the association's
# working records (coordinators only); its synthesis is read by everyone with a role on the
# territory: partner, local authority and the programme's funder (without unshared notes).
MATRIX = """
action                  object              admin coord_prog coord_terr partner local_auth funder no_role anonymous
view_referential        instance            yes   yes        yes        yes     yes        yes    no      no
create_programme        instance            yes   no         no         no      no         no     no      no
import_indicators       instance            yes   yes        yes        no      no         no     no      no
manage_users            instance            yes   no         no         no      no         no     no      no
view_audit              instance            yes   no         no         no      no         no     no      no
view_programme          own_programme       yes   yes        yes        yes     yes        yes    no      no
view_programme          other_programme     yes   no         no         no      no         no     no      no
edit_programme          own_programme       yes   yes        no         no      no         no     no      no
edit_programme          other_programme     yes   no         no         no      no         no     no      no
view_territory          own_territory       yes   yes        yes        yes     yes        yes    no      no
view_territory          sibling_territory   yes   yes        no         no      no         yes    no      no
view_territory          other_territory     yes   no         no         no      no         no     no      no
view_territory_contacts own_territory       yes   yes        yes        yes     yes        no     no      no
view_territory_contacts sibling_territory   yes   yes        no         no      no         no     no      no
view_territory_contacts other_territory     yes   no         no         no      no         no     no      no
edit_territory          own_territory       yes   yes        yes        no      no         no     no      no
edit_territory          sibling_territory   yes   yes        no         no      no         no     no      no
edit_territory          other_territory     yes   no         no         no      no         no     no      no
view_directory          instance            yes   yes        yes        yes     yes        no     no      no
view_directory          own_structure       yes   yes        yes        yes     yes        no     no      no
view_directory          neighbour_structure yes   yes        yes        yes     yes        no     no      no
view_directory          sibling_structure   yes   yes        no         no      no         no     no      no
view_directory          other_structure     yes   no         no         no      no         no     no      no
create_structure        instance            yes   yes        yes        no      no         no     no      no
create_structure        neighbour_structure yes   yes        yes        no      no         no     no      no
create_structure        sibling_structure   yes   yes        no         no      no         no     no      no
create_structure        other_structure     yes   no         no         no      no         no     no      no
edit_structure          own_structure       yes   yes        yes        yes     no         no     no      no
edit_structure          neighbour_structure yes   yes        yes        no      no         no     no      no
edit_structure          sibling_structure   yes   yes        no         no      no         no     no      no
edit_structure          other_structure     yes   no         no         no      no         no     no      no
view_structure_contacts own_structure       yes   yes        yes        yes     no         no     no      no
view_structure_contacts neighbour_structure yes   yes        yes        no      no         no     no      no
view_structure_contacts sibling_structure   yes   yes        no         no      no         no     no      no
view_structure_contacts other_structure     yes   no         no         no      no         no     no      no
import_structures       instance            yes   yes        yes        no      no         no     no      no
export_directory        instance            yes   yes        yes        no      no         no     no      no
view_diagnostic         own_territory       yes   yes        yes        no      no         no     no      no
view_diagnostic         sibling_territory   yes   yes        no         no      no         no     no      no
view_diagnostic         other_territory     yes   no         no         no      no         no     no      no
edit_diagnostic         own_territory       yes   yes        yes        no      no         no     no      no
edit_diagnostic         sibling_territory   yes   yes        no         no      no         no     no      no
edit_diagnostic         other_territory     yes   no         no         no      no         no     no      no
view_diagnostic_synthesis own_territory     yes   yes        yes        yes     yes        yes    no      no
view_diagnostic_synthesis sibling_territory yes   yes        no         no      no         yes    no      no
view_diagnostic_synthesis other_territory   yes   no         no         no      no         no     no      no
view_plan               own_territory       yes yes yes yes yes no no no
view_plan               sibling_territory   yes yes no no no no no no
view_plan               other_territory     yes no no no no no no no
edit_plan               own_territory       yes yes yes no no no no no
edit_plan               sibling_territory   yes yes no no no no no no
edit_plan               other_territory     yes no no no no no no no
propose                 own_territory       yes yes yes yes yes no no no
propose                 sibling_territory   yes yes no no no no no no
propose                 other_territory     yes no no no no no no no
comment_plan            own_territory       yes yes yes no yes no no no
comment_plan            sibling_territory   yes yes no no no no no no
comment_plan            other_territory     yes no no no no no no no
view_activities         own_territory       yes yes yes yes yes no no no
view_activities         sibling_territory   yes yes no no no no no no
view_activities         other_territory     yes no no no no no no no
edit_activities         own_territory       yes yes yes no no no no no
edit_activities         sibling_territory   yes yes no no no no no no
edit_activities         other_territory     yes no no no no no no no
register_to_session     own_territory       yes yes yes yes no no no no
register_to_session     sibling_territory   yes yes no no no no no no
register_to_session     other_territory     yes no no no no no no no
view_registrations      own_territory       yes yes yes no no no no no
view_registrations      sibling_territory   yes yes no no no no no no
view_registrations      other_territory     yes no no no no no no no
view_evaluations        own_territory       yes yes yes no no no no no
view_evaluations        sibling_territory   yes yes no no no no no no
view_evaluations        other_territory     yes no no no no no no no
view_network            own_territory       yes yes yes yes yes no no no
view_network            sibling_territory   yes yes no no no no no no
view_network            other_territory     yes no no no no no no no
edit_network            own_territory       yes yes yes no no no no no
edit_network            sibling_territory   yes yes no no no no no no
edit_network            other_territory     yes no no no no no no no
view_dashboard          own_territory       yes yes yes no yes yes no no
view_dashboard          sibling_territory   yes yes no no no yes no no
view_dashboard          other_territory     yes no no no no no no no
view_dashboard          own_programme       yes yes yes no yes yes no no
view_dashboard          other_programme     yes no no no no no no no
view_reports            own_programme       yes yes yes no no yes no no
view_reports            other_programme     yes no no no no no no no
edit_reports            own_programme       yes yes yes no no no no no
edit_reports            other_programme     yes no no no no no no no
export_all              own_programme       yes yes no no no no no no
export_all              other_programme     yes no no no no no no no
"""


def parse_matrix(text: str) -> list[tuple[str, str, str, bool]]:
    header, *rows = [line.split() for line in text.strip().splitlines()]
    people = header[2:]
    cases = []
    for action, obj, *answers in rows:
        assert len(answers) == len(people), f"row {action} {obj} has a missing cell"
        assert set(answers) <= {"yes", "no"}, f"row {action} {obj}: yes or no only"
        for person, answer in zip(people, answers, strict=True):
            cases.append((action, obj, person, answer == "yes"))
    return cases


CASES = parse_matrix(MATRIX)


def test_the_matrix_covers_every_action():
    assert {action for action, _, _, _ in CASES} == {action.value for action in Action}


@pytest.fixture
def world():
    """Two programmes, their territories, four structures, and one person per role."""
    programme_p = ProgrammeFactory(name="P")
    programme_q = ProgrammeFactory(name="Q")
    t1 = ProgrammeTerritoryFactory(programme=programme_p)
    t2 = ProgrammeTerritoryFactory(programme=programme_p)
    u = ProgrammeTerritoryFactory(programme=programme_q)
    structure = StructureFactory(name="own", commune=CommuneFactory(territory=t1.territory))
    neighbour = StructureFactory(name="neighbour", commune=CommuneFactory(territory=t1.territory))
    sibling = StructureFactory(name="sibling", commune=CommuneFactory(territory=t2.territory))
    other = StructureFactory(name="other", commune=CommuneFactory(territory=u.territory))

    def person(role=None, **scope):
        user = UserFactory()
        if role is not None:
            MembershipFactory(user=user, role=role, **scope)
        return user

    return {
        "people": {
            "admin": person(Role.ADMIN),
            "coord_prog": person(Role.COORDINATOR, programme=programme_p),
            "coord_terr": person(Role.COORDINATOR, programme_territory=t1),
            "partner": person(Role.PARTNER, structure=structure),
            "local_auth": person(Role.LOCAL_AUTHORITY, programme_territory=t1),
            "funder": person(Role.FUNDER, programme=programme_p),
            "no_role": person(),
            "anonymous": AnonymousUser(),
        },
        "objects": {
            "instance": None,
            "own_programme": programme_p,
            "other_programme": programme_q,
            "own_territory": t1,
            "sibling_territory": t2,
            "other_territory": u,
            "own_structure": structure,
            "neighbour_structure": neighbour,
            "sibling_structure": sibling,
            "other_structure": other,
        },
    }


@pytest.mark.parametrize(
    "action, obj, person, allowed",
    CASES,
    ids=[f"{action}-{obj}-{person}" for action, obj, person, _ in CASES],
)
def test_permission_matrix(world, action, obj, person, allowed):
    user = world["people"][person]
    target = world["objects"][obj]

    assert can(user, Action(action), target) is allowed


def test_a_deactivated_admin_may_do_nothing(world):
    admin = world["people"]["admin"]
    admin.is_active = False
    admin.save()

    assert not any(can(admin, action) for action in Action)
    assert not can(admin, Action.VIEW_PROGRAMME, world["objects"]["own_programme"])


def test_a_superuser_without_role_is_an_admin(world):
    superuser = UserFactory(is_superuser=True)

    assert all(can(superuser, action) for action in Action)
    assert can(superuser, Action.EDIT_TERRITORY, world["objects"]["other_territory"])


# ---- Querysets filtered by scope ---------------------------------------------------------------

PROGRAMMES_SEEN = {
    "admin": {"P", "Q"},
    "coord_prog": {"P"},
    "coord_terr": {"P"},
    "partner": {"P"},
    "local_auth": {"P"},
    "funder": {"P"},
    "no_role": set(),
    "anonymous": set(),
}

TERRITORIES_SEEN = {
    "admin": {"own_territory", "sibling_territory", "other_territory"},
    "coord_prog": {"own_territory", "sibling_territory"},
    "coord_terr": {"own_territory"},
    "partner": {"own_territory"},
    "local_auth": {"own_territory"},
    "funder": {"own_territory", "sibling_territory"},
    "no_role": set(),
    "anonymous": set(),
}


@pytest.mark.parametrize("person", sorted(PROGRAMMES_SEEN))
def test_programmes_for_user(world, person):
    names = list(Programme.objects.for_user(world["people"][person]).values_list("name", flat=True))

    assert sorted(names) == sorted(PROGRAMMES_SEEN[person])  # and no duplicates


@pytest.mark.parametrize("person", sorted(TERRITORIES_SEEN))
def test_programme_territories_for_user(world, person):
    seen = set(ProgrammeTerritory.objects.for_user(world["people"][person]))
    names = {name for name, obj in world["objects"].items() if obj in seen}

    assert len(seen) == len(names)
    assert names == TERRITORIES_SEEN[person]


STRUCTURES_SEEN = {
    "admin": {"own", "neighbour", "sibling", "other"},
    "coord_prog": {"own", "neighbour", "sibling"},
    "coord_terr": {"own", "neighbour"},
    "partner": {"own", "neighbour"},
    "local_auth": {"own", "neighbour"},
    "funder": set(),
    "no_role": set(),
    "anonymous": set(),
}


@pytest.mark.parametrize("person", sorted(STRUCTURES_SEEN))
def test_structures_for_user(world, person):
    names = list(Structure.objects.for_user(world["people"][person]).values_list("name", flat=True))

    assert sorted(names) == sorted(STRUCTURES_SEEN[person])  # and no duplicates


def test_a_partner_whose_epci_is_in_two_programmes_sees_both_once(world):
    partner = world["people"]["partner"]
    own_epci = world["objects"]["own_territory"].territory
    ProgrammeTerritoryFactory(programme=world["objects"]["other_programme"], territory=own_epci)

    names = list(Programme.objects.for_user(partner).values_list("name", flat=True))

    assert sorted(names) == ["P", "Q"]
    assert can(partner, Action.VIEW_PROGRAMME, world["objects"]["other_programme"])
