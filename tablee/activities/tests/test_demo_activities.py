"""The demonstration workshops and trainings: loaded on the real demonstration programme, in
proportion to the targets, linked to the directory and the plans, and idempotent."""

import datetime

import pytest
from django.db.models import Count
from django.utils import timezone

from tablee.activities.models import (
    ActivityFormat,
    Attendance,
    Evaluation,
    Headcount,
    Registration,
    Session,
)
from tablee.activities.selectors import target_progress
from tablee.activities.tests.factories import at
from tablee.demo.activities import BEHIND, load_demo_activities
from tablee.demo.services import DEMO_PROGRAMME_NAME, load_demo
from tablee.plans.tests.factories import ActionFactory
from tablee.territories.models import Audience, Programme
from tablee.territories.referential import load_referential

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded():
    """The referential, the demonstration programme and its sessions (about 7 s: few tests)."""
    load_referential()
    load_demo()
    programme = Programme.objects.get(name=DEMO_PROGRAMME_NAME, is_demo=True)
    return programme, load_demo_activities(programme)


def demo_sessions(programme):
    return Session.objects.filter(
        programme_territory__programme=programme, import_key__startswith="demo-"
    )


def test_the_demonstration_sessions(loaded):
    programme, demo_db = loaded
    _catalogue_and_targets(programme, demo_db)
    _places_and_structures(programme)
    _held_sessions(programme)
    _upcoming_sessions(programme)


def _catalogue_and_targets(programme, demo_db):
    assert ActivityFormat.objects.filter(programme=programme).count() == 8
    assert demo_db["formats d'ateliers et formations"] == 8
    sessions = demo_sessions(programme)
    held = sessions.filter(status="held")
    planned = sessions.filter(status="planned")
    assert 290 <= held.count() <= 310
    assert 20 <= planned.count() <= 30
    assert sessions.filter(status="cancelled").exclude(cancel_reason="").count() == 6
    assert not held.filter(starts_at__gte=at(2026, 11, 21, 0))
    assert all(timezone.localdate(s.starts_at).month == 12 for s in planned)
    assert demo_db["séances réalisées"] == held.count()

    # Four territories deliver their whole target, two fall behind.
    for pt in programme.territories.all():
        count = sessions.filter(programme_territory=pt).exclude(status="cancelled").count()
        assert count == BEHIND.get(pt.territory_id, pt.target_sessions), pt

    # Audiences and years roughly as the programme's targets split them.
    by_audience = dict(
        held.values_list("audience").annotate(n=Count("pk")).values_list("audience", "n")
    )
    assert by_audience[Audience.PROFESSIONALS] > by_audience[Audience.VOLUNTEERS]
    assert by_audience[Audience.VOLUNTEERS] > by_audience[Audience.ELECTED] >= 15
    progress = target_progress(programme, today=datetime.date(2026, 11, 28))
    assert sorted(line.key for line in progress.behind) == sorted(
        str(pt.pk) for pt in programme.territories.filter(territory_id__in=BEHIND)
    )
    assert progress.forecast.with_planned >= 120  # 2026 reaches its target with December
    years = {line.key: line for line in progress.years}
    assert 80 <= years["2024"].held <= 96 and 110 <= years["2025"].held <= 132
    assert progress.total.target == 348


def _places_and_structures(programme):
    sessions = demo_sessions(programme).select_related("place_structure__commune")
    for session in sessions:
        assert session.place_structure.commune.territory_id == (
            session.programme_territory.territory_id
        )
        assert session.ends_at > session.starts_at
    through = Session.partner_structures.through.objects.filter(session__in=sessions)
    sectors = set(through.values_list("structure__sector", flat=True))
    assert {"social", "health", "food_aid"} <= sectors
    assert Session.host_structures.through.objects.filter(session__in=sessions).count() == (
        sessions.count()
    )
    # The partner account's épicerie takes part in sessions of Loudéac.
    assert (
        sessions.filter(
            partner_structures__name="Épicerie solidaire du Centre Bretagne (fictive)"
        ).exists()
        or sessions.filter(
            place_structure__name="Épicerie solidaire du Centre Bretagne (fictive)"
        ).exists()
    )


def _held_sessions(programme):
    sessions = demo_sessions(programme)
    people = sessions.filter(status="held", audience=Audience.PEOPLE)
    headcounts = Headcount.objects.filter(session__in=people)
    assert headcounts.count() == people.count()
    assert all(4 <= h.count <= 18 for h in headcounts)
    # Nobody in food insecurity is named.
    assert not Attendance.objects.filter(session__audience=Audience.PEOPLE).exists()
    attendances = Attendance.objects.filter(session__in=sessions)
    assert attendances.count() > 500
    assert all(a.full_name.startswith("Participant·e fictif·ve n°") for a in attendances[:50])
    assert attendances.filter(structure__isnull=False).count() == attendances.count()
    first = attendances.select_related("session").first()
    assert first.checked_in_at == first.session.starts_at
    evaluations = Evaluation.objects.filter(session__in=sessions)
    assert evaluations.exclude(session__status="held").count() == 0
    assert set(evaluations.values_list("satisfaction", flat=True)) <= {3, 4, 5}


def _upcoming_sessions(programme):
    sessions = demo_sessions(programme).filter(status="planned")
    registrations = Registration.objects.filter(session__in=sessions)
    assert registrations.filter(status="confirmed").count() > 20
    waiting = registrations.filter(status="waiting")
    full = {r.session for r in waiting}
    assert len(full) == 1
    (session,) = full
    assert session.registrations.filter(status="confirmed").count() == session.capacity
    assert waiting.count() == 3
    assert session.registration_open
    assert not registrations.filter(session__audience=Audience.PEOPLE).exists()


def test_a_second_run_adds_nothing(loaded, django_assert_max_num_queries):
    programme, demo_db = loaded
    before = {
        model: model.objects.count()
        for model in (ActivityFormat, Session, Registration, Attendance, Headcount, Evaluation)
    }
    # Formats, existing keys, territories, then the counts: no write.
    with django_assert_max_num_queries(20):
        again = load_demo_activities(programme)
    assert again == demo_db
    after = {model: model.objects.count() for model in before}
    assert after == before

    # A session removed by hand comes back alone, with the same values.
    session = demo_sessions(programme).filter(status="held").order_by("import_key").last()
    key, starts_at, title = session.import_key, session.starts_at, session.title
    session.delete()
    counts = load_demo_activities(programme)
    assert counts["séances"] == demo_db["séances"]
    restored = demo_sessions(programme).get(import_key=key)
    assert (restored.starts_at, restored.title) == (starts_at, title)


def test_a_later_run_links_the_sessions_to_the_plan_actions(loaded):
    from django.db.models import F

    programme, _ = loaded
    # load_demo loads the plans first: every session delivers an action of its own territory.
    assert not demo_sessions(programme).filter(action__isnull=True).exists()
    assert not (
        demo_sessions(programme)
        .exclude(action__plan__programme_territory=F("programme_territory"))
        .exists()
    )
    # A plan rebuilt afterwards: the next run links its sessions again, by audience.
    pt = programme.territories.get(territory_id="200067460")
    plan = pt.action_plan
    demo_sessions(programme).filter(programme_territory=pt).update(action=None)
    plan.actions.all().delete()
    people = ActionFactory(plan=plan, code="A1", audiences=[Audience.PEOPLE])
    professionals = ActionFactory(plan=plan, code="A2", audiences=[Audience.PROFESSIONALS])
    load_demo_activities(programme)
    sessions = demo_sessions(programme).filter(programme_territory=pt)
    assert not sessions.filter(action__isnull=True).exists()
    assert set(sessions.filter(audience=Audience.PEOPLE).values_list("action", flat=True)) == {
        people.pk
    }
    assert set(
        sessions.filter(audience=Audience.PROFESSIONALS).values_list("action", flat=True)
    ) == {professionals.pk}
