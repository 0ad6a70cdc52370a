"""Links derived from meetings, co-construction sessions and held workshops."""

import datetime

import pytest
from django.core.management import call_command

from tablee.activities.models import Attendance, Session
from tablee.activities.tests.factories import RegistrationFactory, SessionFactory, at
from tablee.diagnostic.tests.factories_i import MeetingFactory
from tablee.directory.models import Sector
from tablee.directory.tests.factories import StructureFactory
from tablee.network.models import Link, LinkKind, LinkSource, NetworkRefresh
from tablee.network.services import ensure_fresh_links, refresh_derived_links
from tablee.network.tests.factories import NetworkWorld, manual_link
from tablee.plans.tests.factories import ConsultationSessionFactory
from tablee.territories.models import Audience

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return NetworkWorld()


def pair(first, second):
    return (first.pk, second.pk) if str(first.pk) < str(second.pk) else (second.pk, first.pk)


def derived(pt, kind=LinkKind.MET) -> dict:
    """``{(structure_a, structure_b): link}`` of the derived links of a kind."""
    return {
        (link.structure_a_id, link.structure_b_id): link
        for link in Link.objects.filter(
            programme_territory=pt, source=LinkSource.DERIVED, kind=kind
        )
    }


def held_session(pt, day, **fields):
    return SessionFactory(
        programme_territory=pt,
        status=Session.Status.HELD,
        starts_at=at(day.year, day.month, day.day, 10),
        ends_at=at(day.year, day.month, day.day, 12),
        **fields,
    )


def test_structures_met_together_are_linked_once_per_pair(world):
    first = MeetingFactory(
        programme_territory=world.t1,
        date=datetime.date(2024, 5, 2),
        structures=[world.own, world.neighbour, world.health_centre],
    )
    MeetingFactory(
        programme_territory=world.t1,
        date=datetime.date(2025, 1, 20),
        structures=[world.neighbour, world.health_centre],
    )

    counts = refresh_derived_links(programme_territory=world.t1)

    assert counts == {"created": 3, "updated": 0, "deleted": 0, "unchanged": 0}
    links = derived(world.t1)
    assert set(links) == {
        pair(world.own, world.neighbour),
        pair(world.own, world.health_centre),
        pair(world.neighbour, world.health_centre),
    }
    twice = links[pair(world.neighbour, world.health_centre)]
    assert (twice.started_on, twice.last_seen_on, twice.strength) == (
        first.date,
        datetime.date(2025, 1, 20),
        2,
    )
    once = links[pair(world.own, world.neighbour)]
    assert (once.started_on, once.last_seen_on, once.strength) == (first.date, first.date, 1)
    # Stored with the smaller id (as text) first, so that a pair cannot be stored twice.
    assert all(str(a) < str(b) for a, b in links)
    assert not derived(world.t1, LinkKind.CO_ORGANISED)


def test_co_construction_sessions_link_the_structures_represented(world):
    session = ConsultationSessionFactory(
        programme_territory=world.t1, date=datetime.date(2025, 3, 12)
    )
    session.structures.set([world.mecs, world.cmp])

    refresh_derived_links(programme_territory=world.t1)

    link = derived(world.t1)[pair(world.mecs, world.cmp)]
    assert (link.started_on, link.strength, link.note) == (session.date, 1, "")


def test_a_held_session_links_organisers_place_and_attendees(world):
    day = datetime.date(2025, 6, 5)
    session = held_session(world.t1, day, place_structure=world.mecs)
    session.host_structures.set([world.own])
    session.partner_structures.set([world.health_centre])
    # An attendee named with a structure, and a registrant whose structure was given at
    # registration only; a registrant who did not come does not count.
    Attendance.objects.create(
        session=session,
        full_name="Professionnel·le A",
        audience=Audience.PROFESSIONALS,
        structure=world.neighbour,
    )
    came = RegistrationFactory(session=session, structure=world.cmp)
    Attendance.objects.create(
        session=session, registration=came, full_name=came.full_name, audience=came.session.audience
    )
    absent = StructureFactory(name="Absente", commune=world.commune1, sector=Sector.HEALTH)
    RegistrationFactory(session=session, structure=absent)
    # A planned session links nobody yet.
    planned = SessionFactory(programme_territory=world.t1, place_structure=absent)
    planned.host_structures.set([world.own])

    refresh_derived_links(programme_territory=world.t1)

    present = [world.own, world.health_centre, world.mecs, world.neighbour, world.cmp]
    met = derived(world.t1)
    assert set(met) == {pair(a, b) for index, a in enumerate(present) for b in present[index + 1 :]}
    assert all(link.started_on == day and link.strength == 1 for link in met.values())
    co_organised = derived(world.t1, LinkKind.CO_ORGANISED)
    assert set(co_organised) == {pair(world.own, world.health_centre)}
    assert not Link.objects.filter(structure_a=absent).exists()
    assert not Link.objects.filter(structure_b=absent).exists()


def test_the_date_of_a_session_is_its_local_day(world):
    # 23:30 in Paris on 31 December is 22:30 UTC: the link starts on 31 December.
    session = SessionFactory(
        programme_territory=world.t1,
        status=Session.Status.HELD,
        starts_at=at(2024, 12, 31, 23, 30),
        ends_at=at(2025, 1, 1, 1, 0),
    )
    session.host_structures.set([world.own, world.neighbour])

    refresh_derived_links(programme_territory=world.t1)

    link = derived(world.t1)[pair(world.own, world.neighbour)]
    assert link.started_on == datetime.date(2024, 12, 31)


def test_refresh_is_idempotent_and_follows_the_records(world):
    meeting = MeetingFactory(
        programme_territory=world.t1,
        date=datetime.date(2025, 2, 1),
        structures=[world.own, world.neighbour, world.cmp],
    )
    referral = manual_link(world.t1, world.own, world.neighbour, kind=LinkKind.REFERRAL)
    # The same pair also met: the manual link and the derived one are two links.
    same_pair_manual = manual_link(
        world.t1, world.neighbour, world.cmp, kind=LinkKind.PARTNERSHIP, note="Convention"
    )
    assert refresh_derived_links(programme_territory=world.t1)["created"] == 3

    again = refresh_derived_links(programme_territory=world.t1)

    assert again == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 3}
    assert Link.objects.count() == 5

    # One structure leaves the meeting: its links go, unless another record supports them.
    meeting.structures.set([world.neighbour, world.cmp])
    meeting.date = datetime.date(2025, 2, 3)
    meeting.save()
    counts = refresh_derived_links(programme_territory=world.t1)

    assert counts == {"created": 0, "updated": 1, "deleted": 2, "unchanged": 0}
    assert set(derived(world.t1)) == {pair(world.neighbour, world.cmp)}
    assert derived(world.t1)[pair(world.neighbour, world.cmp)].started_on == meeting.date
    # Links entered by hand are never touched.
    referral.refresh_from_db()
    same_pair_manual.refresh_from_db()
    assert same_pair_manual.note == "Convention" and referral.version == 1

    meeting.delete()
    assert refresh_derived_links(programme_territory=world.t1)["deleted"] == 1
    assert set(Link.objects.values_list("source", flat=True)) == {LinkSource.MANUAL}


def test_each_territory_has_its_own_links(world):
    MeetingFactory(programme_territory=world.t1, structures=[world.own, world.neighbour])
    MeetingFactory(programme_territory=world.t2, structures=[world.sibling, world.own])

    refresh_derived_links(programme_territory=world.t1)

    assert Link.objects.filter(programme_territory=world.t1).count() == 1
    assert not Link.objects.filter(programme_territory=world.t2).exists()
    refresh_derived_links(programme_territory=world.t2)
    assert set(derived(world.t2)) == {pair(world.sibling, world.own)}


def test_ensure_fresh_links_recomputes_only_when_the_records_changed(
    world, django_assert_num_queries
):
    MeetingFactory(programme_territory=world.t1, structures=[world.own, world.neighbour])

    assert ensure_fresh_links(world.t1) == [world.t1]
    assert Link.objects.count() == 1
    # T2 had never been computed.
    assert ensure_fresh_links([world.t1, world.t2]) == [world.t2]
    # Nothing changed: one query reads the fingerprint of the sources of both territories.
    with django_assert_num_queries(1):
        assert ensure_fresh_links([world.t1, world.t2]) == []

    # Each kind of change is seen: a new meeting...
    MeetingFactory(programme_territory=world.t1, structures=[world.cmp, world.neighbour])
    assert ensure_fresh_links(world.t1) == [world.t1]
    assert Link.objects.count() == 2
    # ...a session held (its status changes)...
    session = SessionFactory(programme_territory=world.t1)
    session.host_structures.set([world.mecs, world.cmp])
    ensure_fresh_links(world.t1)
    assert Link.objects.count() == 2
    session.status = Session.Status.HELD
    session.save()
    assert ensure_fresh_links(world.t1) == [world.t1]
    assert derived(world.t1, LinkKind.CO_ORGANISED).keys() == {pair(world.mecs, world.cmp)}
    # ...a structure named on an attendance.
    attendance = Attendance.objects.create(
        session=session, full_name="Bénévole B", audience=Audience.VOLUNTEERS
    )
    ensure_fresh_links(world.t1)
    attendance.structure = world.health_centre
    attendance.save()
    assert ensure_fresh_links(world.t1) == [world.t1]
    assert pair(world.health_centre, world.mecs) in derived(world.t1)
    assert NetworkRefresh.objects.get(programme_territory=world.t1).fingerprint


def test_the_refresh_links_command_recomputes_everything(world, capsys):
    MeetingFactory(programme_territory=world.t1, structures=[world.own, world.neighbour])
    MeetingFactory(programme_territory=world.u, structures=[world.other, world.own])

    call_command("refresh_links")

    output = capsys.readouterr().out
    assert "3 territoire(s) recalculé(s) : 2 lien(s) créé(s)" in output
    call_command("refresh_links", "--programme", str(world.programme.pk))
    output = capsys.readouterr().out
    assert "2 territoire(s) recalculé(s) : 0 lien(s) créé(s)" in output
    assert "1 inchangé(s)" in output
