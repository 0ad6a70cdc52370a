"""Progress towards the targets: the selectors with a fixed ``today`` (totals, territories,
audiences, years, forecast, territories behind) and the page."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tablee.activities.selectors import (
    YearForecast,
    is_behind,
    programme_elapsed_share,
    target_progress,
    year_forecast,
)
from tablee.activities.tests.factories_sessions import SessionsWorld, at
from tablee.territories.models import Audience, ProgrammeTerritory, SessionTarget

pytestmark = pytest.mark.django_db

TODAY = datetime.date(2025, 7, 1)  # day 182 of 2025; day 548 of the 1,096 days of 2024–2026


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    world = SessionsWorld()
    ProgrammeTerritory.objects.filter(pk=world.t1.pk).update(target_sessions=58)
    ProgrammeTerritory.objects.filter(pk=world.t2.pk).update(target_sessions=10)
    for dimension, key, value in [
        ("audience", Audience.PEOPLE, 40),
        ("audience", Audience.PROFESSIONALS, 20),
        ("year", "2024", 20),
        ("year", "2025", 30),
    ]:
        SessionTarget.objects.create(
            programme=world.programme, dimension=dimension, key=key, value=value
        )
    return world


def sessions(world, count, *, day, status="held", pt=None, training=False):
    for index in range(count):
        start = at(day.year, day.month, day.day, 9) + datetime.timedelta(hours=index)
        world.session(
            programme_territory=pt or world.t1,
            format=world.training if training else world.cooking,
            starts_at=start,
            ends_at=start + datetime.timedelta(minutes=50),
            status=status,
        )


@pytest.fixture
def delivered(world):
    sessions(world, 8, day=datetime.date(2024, 10, 1))  # T1, 2024, people
    sessions(world, 9, day=datetime.date(2025, 2, 3))  # T1, 2025, people
    sessions(world, 3, day=datetime.date(2025, 3, 4), training=True)  # T1, 2025, professionals
    sessions(world, 4, day=datetime.date(2025, 9, 1), status="planned")  # T1, 2025
    sessions(world, 1, day=datetime.date(2025, 10, 1), status="postponed", training=True)
    sessions(world, 2, day=datetime.date(2025, 4, 1), status="cancelled")  # counts nowhere
    sessions(world, 5, day=datetime.date(2025, 1, 20), pt=world.t2)  # T2, 2025, people
    sessions(world, 1, day=datetime.date(2026, 1, 5), status="planned", pt=world.t2)


def test_target_progress_counts_held_planned_and_remaining(world, delivered):
    progress = target_progress(world.programme, today=TODAY)
    total = progress.total
    assert (total.target, total.held, total.planned) == (348, 25, 6)
    assert total.remaining == 348 - 25 - 6
    assert total.percent_held == 7

    t1, t2 = progress.territories  # ordered by EPCI name: CC Deux, CC Une
    assert (t1.label, t1.held, t1.planned, t1.target) == ("CC Deux", 5, 1, 10)
    assert (t2.label, t2.held, t2.planned, t2.target) == ("CC Une", 20, 5, 58)

    audiences = {line.key: line for line in progress.audiences}
    assert [line.key for line in progress.audiences] == [a.value for a in Audience]
    people = audiences[Audience.PEOPLE]
    assert (people.target, people.held, people.planned, people.remaining) == (40, 22, 5, 13)
    professionals = audiences[Audience.PROFESSIONALS]
    assert (professionals.held, professionals.planned) == (3, 1)
    elected = audiences[Audience.ELECTED]
    assert elected.target is None and elected.remaining is None and elected.percent_held is None

    years = {line.key: line for line in progress.years}
    assert list(years) == ["2024", "2025", "2026"]
    assert (years["2024"].held, years["2024"].planned, years["2024"].target) == (8, 0, 20)
    assert (years["2025"].held, years["2025"].planned, years["2025"].target) == (17, 5, 30)
    assert (years["2026"].held, years["2026"].planned, years["2026"].target) == (0, 1, None)


def test_a_territory_behind_its_pro_rata(world, delivered):
    share = programme_elapsed_share(world.programme, TODAY)
    assert share == pytest.approx(548 / 1096)
    progress = target_progress(world.programme, today=TODAY)
    deux, une = progress.territories
    # CC Une: 58 × 548 ÷ 1,096 = 29 expected; 20 held + 5 planned = 25: behind.
    assert une.pro_rata == 29 and une.behind
    # CC Deux: 10 × ½ = 5 expected; 5 held + 1 planned = 6: on pace.
    assert deux.pro_rata == 5 and not deux.behind
    assert progress.behind == [une]


def test_the_behind_rule():
    assert is_behind(target=58, held=20, planned=8, elapsed_share=0.5)  # 28 < 29
    assert not is_behind(target=58, held=20, planned=9, elapsed_share=0.5)  # 29 = 29
    assert not is_behind(target=0, held=0, planned=0, elapsed_share=0.9)  # no target
    assert not is_behind(target=58, held=0, planned=0, elapsed_share=0.0)  # not started


def test_elapsed_share_is_clamped_to_the_programme_period(world):
    assert programme_elapsed_share(world.programme, datetime.date(2023, 6, 1)) == 0
    assert programme_elapsed_share(world.programme, datetime.date(2024, 1, 1)) == 1 / 1096
    assert programme_elapsed_share(world.programme, datetime.date(2027, 6, 1)) == 1


def test_the_forecast_of_the_year_at_the_current_pace(world, delivered):
    forecast = target_progress(world.programme, today=TODAY).forecast
    assert forecast.year == 2025 and forecast.target == 30
    assert (forecast.held, forecast.planned) == (17, 5)
    assert (forecast.elapsed_days, forecast.days_in_year) == (182, 365)
    assert forecast.at_pace == round(17 / 182 * 365) == 34
    assert forecast.with_planned == 22
    assert forecast.reaches_target

    same = year_forecast(world.programme, today=TODAY)
    assert same == forecast
    local = year_forecast(world.programme, today=TODAY, programme_territory=world.t2)
    assert (local.held, local.planned, local.target) == (5, 0, None)
    assert local.at_pace == round(5 / 182 * 365)


def test_a_slow_year_threatens_its_target():
    slow = YearForecast(
        year=2024, target=96, held=10, planned=5, elapsed_days=183, days_in_year=366
    )
    assert slow.at_pace == 20 and slow.with_planned == 15
    assert slow.reaches_target is False
    assert YearForecast(2024, None, 0, 0, 1, 366).reaches_target is None
    assert YearForecast(2024, 10, 0, 0, 0, 366).at_pace == 0


def test_no_forecast_outside_the_programme_years(world, delivered):
    assert target_progress(world.programme, today=datetime.date(2027, 3, 1)).forecast is None


def test_territories_limited_to_a_scope(world, delivered):
    scope = ProgrammeTerritory.objects.filter(pk=world.t1.pk)
    progress = target_progress(world.programme, today=TODAY, programme_territories=scope)
    assert [line.label for line in progress.territories] == ["CC Une"]
    assert progress.total.held == 25  # the programme's total stays the programme's


def test_targets_of_another_programme_do_not_mix(world, delivered):
    from tablee.activities.tests.factories import SessionFactory

    SessionFactory(programme_territory=world.u, status="held", starts_at=at(2025, 2, 3))
    assert target_progress(world.programme, today=TODAY).total.held == 25


# ---- Page --------------------------------------------------------------------------------------


def targets_url(world):
    return reverse("activities:targets", args=[world.programme.pk])


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("coordinator", 200),
        ("territory_coordinator", 200),
        ("partner", 200),
        ("local_authority", 200),
        ("funder", 200),
        ("no_role", 404),
        ("other_coordinator", 404),
    ],
)
def test_who_opens_the_targets(client, world, role, status):
    client.force_login(getattr(world, role))
    assert client.get(targets_url(world)).status_code == status


def test_the_targets_page(client, world, delivered, django_assert_num_queries):
    client.force_login(world.coordinator)
    # session, user, memberships, programme, territories in scope, targets, grouped counts
    with django_assert_num_queries(7):
        response = client.get(targets_url(world))
    page = text(response)
    assert "25 séances réalisées sur 348" in page
    # The forecast is of the current year, while it is a year of the programme.
    forecast = response.context["progress"].forecast
    assert (f"Prévision pour {timezone.localdate().year}" in page) == (forecast is not None)
    assert "Par territoire" in page and "Par public" in page and "Par année" in page
    assert "<progress" in response.content.decode()
    sessions_url = reverse("activities:programme_sessions", args=[world.programme.pk])
    content = response.content.decode()
    assert f'href="{sessions_url}?statut=held&amp;territoire={world.t1.pk}"' in content
    assert f'href="{sessions_url}?statut=planned&amp;statut=postponed&amp;annee=2025"' in content


def test_a_figure_and_its_list_count_the_same_sessions(client, world, delivered):
    client.force_login(world.coordinator)
    progress = client.get(targets_url(world)).context["progress"]
    sessions_url = reverse("activities:programme_sessions", args=[world.programme.pk])
    people = next(line for line in progress.audiences if line.key == Audience.PEOPLE)
    response = client.get(sessions_url, {"statut": ["planned", "postponed"], "public": "people"})
    assert response.context["page"].paginator.count == people.planned
    t1 = next(line for line in progress.territories if line.key == str(world.t1.pk))
    response = client.get(sessions_url, {"statut": "held", "territoire": str(world.t1.pk)})
    assert response.context["page"].paginator.count == t1.held
    year = next(line for line in progress.years if line.key == "2025")
    response = client.get(sessions_url, {"statut": "held", "annee": "2025"})
    assert response.context["page"].paginator.count == year.held


def test_the_funder_sees_the_figures_without_the_links_to_sessions(client, world, delivered):
    client.force_login(world.funder)
    response = client.get(targets_url(world))
    assert "25 séances réalisées sur 348" in text(response)
    sessions_url = reverse("activities:programme_sessions", args=[world.programme.pk])
    assert sessions_url not in response.content.decode()


def test_the_local_authority_sees_its_territory_only(client, world, delivered):
    client.force_login(world.local_authority)
    progress = client.get(targets_url(world)).context["progress"]
    assert [line.label for line in progress.territories] == ["CC Une"]


def test_the_page_warns_of_a_territory_behind(client, world):
    # Past the programme's first week, a territory with nothing held or planned is behind.
    client.force_login(world.coordinator)
    page = text(client.get(targets_url(world)))
    assert "2 territoires en retard" in page
    assert "CC Une : 0 séances réalisées ou programmées" in page


def test_the_sessions_of_an_action(world):
    from tablee.activities.selectors import action_session_counts, sessions_of_action
    from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory

    action = ActionFactory(plan=ActionPlanFactory(programme_territory=world.t1))
    held = world.session(action=action, status="held", starts_at=at(2025, 2, 3))
    planned = world.session(action=action, starts_at=at(2025, 1, 3))
    world.session(action=action, status="postponed", starts_at=at(2025, 4, 3))
    world.session(action=action, status="cancelled", starts_at=at(2025, 5, 3))
    world.session(starts_at=at(2025, 2, 3))  # another session, without action
    assert list(sessions_of_action(action))[:2] == [planned, held]
    assert action_session_counts(action) == {"held": 1, "planned": 2, "cancelled": 1}
