"""The figures behind dashboards and reports: what is counted, over which period, in how many
queries, and that other programmes never weigh on them."""

import datetime

import pytest

from tablee.activities.models import Headcount, Session
from tablee.activities.tests.factories import SessionFactory, at
from tablee.directory.models import Sector
from tablee.plans.models import ActionStatus
from tablee.reports.selectors import (
    HELD,
    PLANNED,
    actions_done_on,
    collect_figures,
    collect_report_extras,
    programme_period,
    up_to,
)
from tablee.reports.tests.factories_reports import ReportWorld
from tablee.territories.models import Audience, SessionKind
from tablee.territories.tests.factories import ProgrammeTerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return ReportWorld()


def figures_of(world, period=None):
    territories = list(world.programme.territories.select_related("territory"))
    return collect_figures(
        world.programme, territories, period or programme_period(world.programme)
    )


def test_sessions_are_counted_by_status_audience_year_and_territory(world):
    figures = figures_of(world)
    assert figures.session_count(HELD) == 4
    assert figures.session_count(PLANNED) == 1
    assert figures.session_count(HELD, pt_id=world.t1.pk) == 3
    assert figures.session_count(HELD, audience=Audience.PEOPLE) == 3
    assert figures.session_count(HELD, year=2026) == 1
    assert figures.session_count(HELD, kind=SessionKind.TRAINING) == 1
    assert figures.target("audience", Audience.PEOPLE) == 120
    assert figures.target("year", 2025) == 130


def test_people_count_attendances_and_each_headcount_once(world):
    figures = figures_of(world)
    # 18 counted in all and by gender (10 + 8) are the same 18 people; the cancelled session's
    # 40 and programme Q's 50 do not count.
    assert figures.people_count(pt_id=world.t1.pk, audience=Audience.PEOPLE) == 30
    assert figures.people_count(pt_id=world.t1.pk, audience=Audience.PROFESSIONALS) == 12
    assert figures.people_count(pt_id=world.t2.pk) == 7
    assert figures.people_count() == 49
    assert figures.people_by_session[world.people_2025.pk] == 18


def test_a_breakdown_by_age_and_gender_alone_is_not_doubled(world):
    session = SessionFactory(
        programme_territory=world.t2,
        starts_at=at(2025, 9, 1),
        ends_at=at(2025, 9, 1, 16),
        status=Session.Status.HELD,
    )
    for age_band, gender, count in [
        ("18_25", "women", 4),
        ("18_25", "men", 3),
        ("26_59", "women", 5),
    ]:
        Headcount.objects.create(
            session=session, audience=Audience.PEOPLE, age_band=age_band, gender=gender, count=count
        )
    assert figures_of(world).people_by_session[session.pk] == 12


def test_structures_reached_by_sessions_and_meetings(world):
    figures = figures_of(world)
    reached = figures.structures_reached(pt_id=world.t1.pk)
    # The CCAS hosted and attended, the maison de santé co-organised and attended, the épicerie was
    # met; the place of a session alone does not make a structure "reached".
    assert set(reached) == {world.neighbour.pk, world.health.pk, world.own.pk}
    assert sorted(sector for sector, _ in reached.values()) == sorted(
        [Sector.SOCIAL, Sector.HEALTH, Sector.FOOD_AID]
    )
    assert figures.structures_reached(pt_id=world.t2.pk) == {}


def test_needs_actions_and_weighted_progress(world):
    figures = figures_of(world)
    assert figures.needs(pt_id=world.t1.pk) == (2, 1)
    # Addressed only by an abandoned action: not addressed.
    assert figures.needs(pt_id=world.t2.pk) == (1, 0)
    assert figures.action_count(pt_id=world.t1.pk) == 2
    # (50 × 2 + 100 × 1) / 3, the abandoned action of T2 left out.
    assert figures.action_progress() == pytest.approx(200 / 3)
    assert figures.action_count(status=ActionStatus.ABANDONED) == 1


def test_social_health_links_at_a_date(world):
    figures = figures_of(world)
    start = world.programme.start_date
    # The partnership that ended in June 2024 was active at the start; the CCAS–maison de santé
    # link started in 2025; the épicerie–CCAS link is not social–health.
    assert figures.social_health_links(start) == 1
    assert figures.social_health_links(datetime.date(2026, 1, 1)) == 1
    assert figures.social_health_links(datetime.date(2024, 12, 1)) == 0
    assert figures.active_links(datetime.date(2026, 1, 1)) == 2
    # T1 has one social structure (the CCAS), linked; T2 one medico-social structure, not linked.
    assert figures.social_linked_share(datetime.date(2026, 1, 1)) == (1, 2)


def test_questionnaires(world):
    figures = figures_of(world)
    answers, mean = figures.evaluation_summary(pt_id=world.t1.pk)
    assert (answers, mean) == (12, 4.5)
    assert figures.evaluation_summary()[0] == 15
    assert figures.fies_count() == 3


def test_a_year_counts_only_that_year(world):
    figures = figures_of(world, programme_period(world.programme, 2026))
    assert figures.session_count(HELD) == 1
    assert figures.people_count() == 12
    # Needs were identified in 2025.
    assert figures.needs() == (0, 0)


def test_a_period_without_data_is_empty_not_an_error(world):
    figures = figures_of(world, programme_period(world.programme, 2024))
    assert figures.is_empty
    assert figures.session_count(HELD) == 0
    assert figures.action_progress() is None
    assert figures.evaluation_summary() == (0, None)


def test_up_to_a_date_is_cumulative(world):
    figures = figures_of(world, up_to(datetime.date(2025, 12, 31)))
    assert figures.session_count(HELD) == 3
    assert figures.needs() == (3, 1)


def test_the_figures_take_eleven_queries_whatever_other_programmes_hold(
    world, django_assert_num_queries
):
    territories = list(world.programme.territories.select_related("territory"))
    period = programme_period(world.programme)
    # sessions, targets, named attendances, headcounts, structures reached (one UNION), needs,
    # actions, links, social structures of the directory, evaluations, FIES answers
    with django_assert_num_queries(11):
        collect_figures(world.programme, territories, period)
    for _ in range(3):
        pt = ProgrammeTerritoryFactory(programme=world.other_programme)
        for month in range(1, 4):
            session = SessionFactory(
                programme_territory=pt,
                starts_at=at(2025, month, 3),
                ends_at=at(2025, month, 3, 16),
                status=Session.Status.HELD,
            )
            Headcount.objects.create(session=session, audience=Audience.PEOPLE, count=20)
    with django_assert_num_queries(11):
        figures = collect_figures(world.programme, territories, period)
    assert figures.people_count() == 49


def test_report_extras(world, django_assert_num_queries):
    figures = figures_of(world)
    # budget, held sessions, consultation sessions, proposals, actions
    with django_assert_num_queries(5):
        extras = collect_report_extras(figures)
    assert [s.title for s in extras.held_sessions] == [
        "Atelier cuisine du CCAS",
        "Atelier cuisine de Rostrenen",
        "Formation repérer et orienter",
        "Atelier anti-gaspillage",
    ]
    assert extras.held_sessions[0].place.startswith("CCAS de Loudéac")
    assert extras.communes_reached() == 2  # Loudéac (three sessions) and Rostrenen


def test_actions_done_at_a_date_read_the_history(world):
    territories = list(world.programme.territories.all())
    assert actions_done_on(territories, datetime.date(2099, 1, 1))[world.t1.pk] == 1
    # Recorded today: nothing was done at the start of the programme.
    assert sum(actions_done_on(territories, world.programme.start_date).values()) == 0
