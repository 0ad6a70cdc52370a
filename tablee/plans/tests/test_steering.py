"""Steering a plan: the table of actions with its column filters, sorting and pagination (page or
htmx fragment), alerts, and the timeline by quarter."""

import datetime

import pytest
from django.utils import timezone

from tablee.plans import selectors
from tablee.plans.models import ActionStatus
from tablee.plans.tests.factories_actions import (
    EDITORS,
    FUNDER,
    OUT_OF_SCOPE,
    READERS,
    PlanWorld,
    text,
    url,
)
from tablee.territories.models import Audience

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return PlanWorld()


@pytest.fixture
def actions(world):
    """Six actions across the two axes and without axis, with different pilots, audiences,
    needs, dates, statuses, progress and priorities."""
    from tablee.diagnostic.tests.factories_i import NeedFactory

    world.need = NeedFactory(programme_territory=world.t1, title="Pas de bus le samedi")
    made = {
        "A1": world.action(
            code="A1",
            title="Tournée de l'épicerie mobile",
            axis=world.axis1,
            status=ActionStatus.IN_PROGRESS,
            progress=40,
            priority=1,
            audiences=[Audience.PEOPLE],
            start_date=datetime.date(2025, 1, 1),
            end_date=datetime.date(2025, 12, 31),
        ),
        "A2": world.action(
            code="A2",
            title="Atelier cuisine",
            axis=world.axis1,
            status=ActionStatus.BLOCKED,
            progress=10,
            priority=2,
            audiences=[Audience.PEOPLE, Audience.VOLUNTEERS],
            start_date=datetime.date(2025, 6, 1),
            end_date=datetime.date(2026, 6, 30),
            pilots=[world.neighbour],
        ),
        "B1": world.action(
            code="B1",
            title="Formation des bénévoles",
            axis=world.axis2,
            status=ActionStatus.DONE,
            progress=100,
            priority=3,
            audiences=[Audience.VOLUNTEERS],
            start_date=datetime.date(2024, 3, 1),
            end_date=datetime.date(2024, 11, 30),
        ),
        "B2": world.action(
            code="B2",
            title="Comité des personnes concernées",
            axis=world.axis2,
            status=ActionStatus.LATE,
            progress=60,
            priority=1,
            audiences=[Audience.ELECTED],
            start_date=datetime.date(2026, 1, 1),
            end_date=datetime.date(2026, 12, 31),
            pilots=[world.own, world.neighbour],
        ),
        "C1": world.action(
            code="C1",
            title="Annuaire des aides",
            status=ActionStatus.PLANNED,
            progress=0,
            priority=2,
            start_date=None,
            end_date=None,
        ),
        "C2": world.action(
            code="C2",
            title="Bons d'achat",
            status=ActionStatus.ABANDONED,
            progress=0,
            priority=3,
            start_date=datetime.date(2025, 1, 1),
            end_date=None,
        ),
    }
    made["A1"].needs.set([world.need])
    made["B2"].needs.set([world.need])
    return made


def codes(response) -> list[str]:
    return [action.code for action, _ in response.context["rows"]]


# ---- Who may steer -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", EDITORS + READERS)
def test_the_plan_readers_open_the_steering_table_and_timeline(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("steering", world)).status_code == 200
    assert client.get(url("timeline", world)).status_code == 200


@pytest.mark.parametrize("role", FUNDER)
def test_the_funder_is_refused(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("steering", world)).status_code == 403
    assert client.get(url("timeline", world)).status_code == 403


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("steering", world)).status_code == 404
    assert client.get(url("timeline", world)).status_code == 404


# ---- The steering table -------------------------------------------------------------------------


def test_the_table_lists_every_action_in_few_queries(
    client, world, actions, django_assert_num_queries
):
    client.force_login(world.partner)
    # session, user, memberships, programme territory, plan, axes, count, page of actions with
    # their axis, their pilots, weighted progress, options of the pilot and need filters
    with django_assert_num_queries(12):
        response = client.get(url("steering", world))
    assert codes(response) == ["A1", "A2", "B1", "B2", "C1", "C2"]
    page = text(response)
    assert "6 actions — avancement pondéré : 42 %" in page  # (40+10+100+60+0) / 5
    assert "CCAS de Loudéac, Épicerie solidaire du Centre" in page


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"statut": "blocked"}, ["A2"]),
        ({"public": "volunteers"}, ["A2", "B1"]),
        ({"public": "people"}, ["A1", "A2"]),
        ({"axe": "aucun"}, ["C1", "C2"]),
        ({"annee": "2024"}, ["B1"]),
        ({"annee": "2025"}, ["A1", "A2", "C2"]),
        ({"annee": "2026"}, ["A2", "B2", "C2"]),
        ({"annee": "2026", "public": "elected"}, ["B2"]),
    ],
)
def test_column_filters(client, world, actions, filters, expected):
    client.force_login(world.coordinator)
    response = client.get(url("steering", world), filters)
    assert codes(response) == expected


def test_filters_on_pilot_need_and_axis(client, world, actions):
    client.force_login(world.coordinator)
    response = client.get(url("steering", world), {"pilote": str(world.neighbour.pk)})
    assert codes(response) == ["A2", "B2"]
    response = client.get(url("steering", world), {"besoin": str(world.need.pk)})
    assert codes(response) == ["A1", "B2"]
    response = client.get(url("steering", world), {"axe": str(world.axis2.pk)})
    assert codes(response) == ["B1", "B2"]
    assert "2 actions correspondent aux filtres — avancement pondéré : 80 %" in text(response)
    # Only the structures piloting an action and the needs an action treats are offered.
    form = response.context["form"]
    assert set(form.fields["pilote"].queryset) == {world.own, world.neighbour}
    assert list(form.fields["besoin"].queryset) == [world.need]


@pytest.mark.parametrize(
    "filters",
    [{"annee": "1990"}, {"statut": "perdue"}, {"pilote": "pas-un-uuid"}, {"axe": "999999"}],
)
def test_an_unknown_filter_is_reported_and_ignored(client, world, actions, filters):
    client.force_login(world.coordinator)
    response = client.get(url("steering", world), filters)
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == set(filters)
    page = text(response)
    assert all(" ".join(e.split()) in page for errors in form.errors.values() for e in errors)
    assert len(codes(response)) == 6


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("code", ["A1", "A2", "B1", "B2", "C1", "C2"]),
        ("-code", ["C2", "C1", "B2", "B1", "A2", "A1"]),
        ("intitule", ["C1", "A2", "C2", "B2", "B1", "A1"]),
        ("-avancement", ["B1", "B2", "A1", "A2", "C1", "C2"]),
        ("priorite", ["A1", "B2", "A2", "C1", "B1", "C2"]),
        ("statut", ["A2", "B2", "A1", "C1", "B1", "C2"]),  # what needs attention first
        ("inconnu", ["A1", "A2", "B1", "B2", "C1", "C2"]),
    ],
)
def test_sorting(client, world, actions, sort, expected):
    client.force_login(world.coordinator)
    response = client.get(url("steering", world), {"tri": sort})
    assert codes(response) == expected


def test_sorting_on_end_date_puts_undated_actions_last(client, world, actions):
    client.force_login(world.coordinator)
    response = client.get(url("steering", world), {"tri": "fin"})
    assert codes(response) == ["B1", "A1", "A2", "B2", "C1", "C2"]
    response = client.get(url("steering", world), {"tri": "-fin"})
    assert codes(response) == ["B2", "A2", "A1", "B1", "C1", "C2"]


def test_late_blocked_and_overdue_actions_are_highlighted_with_text(client, world):
    today = timezone.localdate()
    world.action(code="A1", status=ActionStatus.BLOCKED, end_date=today + datetime.timedelta(30))
    world.action(code="A2", status=ActionStatus.LATE, end_date=today + datetime.timedelta(30))
    # Still "en cours" once its end date has passed: its deadline is flagged.
    world.action(code="A3", status=ActionStatus.IN_PROGRESS, end_date=today - datetime.timedelta(1))
    world.action(code="A4", status=ActionStatus.DONE, end_date=today - datetime.timedelta(1))
    world.action(code="A5", status=ActionStatus.IN_PROGRESS, end_date=today + datetime.timedelta(1))
    client.force_login(world.coordinator)
    response = client.get(url("steering", world))
    page = text(response)
    assert "⚠ Bloquée" in page and "⚠ En retard" in page
    assert page.count("Échéance dépassée") == 1
    overdue = [action.code for action, late in response.context["rows"] if late]
    assert overdue == ["A3"]
    rows = response.content.decode().split("<tbody>")[1].split("<tr")[1:]
    highlighted = ["table-warning" in row for row in rows]
    assert highlighted == [True, True, True, False, False]


def test_pagination_keeps_filters_and_sort(client, world):
    for number in range(52):
        world.action(code=f"X{number:02d}", status=ActionStatus.IN_PROGRESS, pilots=[])
    client.force_login(world.coordinator)
    response = client.get(
        url("steering", world), {"statut": "in_progress", "tri": "-code", "page": 2}
    )
    assert codes(response) == ["X01", "X00"]
    assert "Page 2 sur 2" in text(response)
    assert "?statut=in_progress&amp;tri=-code&amp;page=1" in response.content.decode()


def test_htmx_gets_the_table_only_and_the_address_of_the_filters(client, world, actions):
    client.force_login(world.coordinator)
    response = client.get(
        url("steering", world),
        {"statut": "blocked", "public": "", "tri": "code"},
        headers={"HX-Request": "true", "HX-Target": "steering-results"},
    )
    content = response.content.decode()
    assert "<html" not in content
    assert content.lstrip().startswith('<div id="steering-results"')
    assert codes(response) == ["A2"]
    assert response["HX-Push-Url"] == url("steering", world) + "?statut=blocked&tri=code"
    # Another htmx request (not aimed at the table) gets the whole page.
    response = client.get(url("steering", world), headers={"HX-Request": "true"})
    assert "<html" in response.content.decode()


# ---- Timeline -----------------------------------------------------------------------------------


def test_timeline_by_quarter(client, world, actions, django_assert_num_queries):
    client.force_login(world.local_authority)
    # session, user, memberships, programme territory, plan, actions with their axis
    with django_assert_num_queries(6):
        response = client.get(url("timeline", world))
    quarters = [quarter.label for quarter, _ in response.context["quarters"]]
    # The programme's period (2024–2026) covers every dated action: twelve quarters.
    assert quarters[0] == "T1 2024" and quarters[-1] == "T4 2026" and len(quarters) == 12
    rows = {row.action.code: row.cells for row, _ in response.context["rows"]}
    assert rows["A1"] == [False] * 4 + [True] * 4 + [False] * 4
    assert rows["A2"] == [False] * 5 + [True] * 5 + [False] * 2
    assert rows["B1"] == [True] * 4 + [False] * 8
    # Begun in 2025 without an end date: it runs on, as in the year filter.
    assert rows["C2"] == [False] * 4 + [True] * 8
    assert "C1" not in rows
    running = '<span class="visually-hidden">en cours</span>'
    assert response.content.decode().count(running) == sum(sum(c) for c in rows.values())
    page = text(response)
    assert "Actions sans dates" in page and "Annuaire des aides" in page


def test_timeline_without_dated_actions_says_so(client, world):
    world.action(code="A1", start_date=None, end_date=None)
    client.force_login(world.coordinator)
    page = text(client.get(url("timeline", world)))
    assert "Aucune action datée" in page


def test_quarters_helpers():
    assert selectors.quarter_of(datetime.date(2025, 11, 3)) == selectors.Quarter(2025, 4)
    quarter = selectors.Quarter(2024, 1)
    assert (quarter.first_day, quarter.last_day) == (
        datetime.date(2024, 1, 1),
        datetime.date(2024, 3, 31),
    )
    labels = [
        q.label
        for q in selectors.quarters_between(datetime.date(2025, 11, 1), datetime.date(2026, 2, 1))
    ]
    assert labels == ["T4 2025", "T1 2026"]
    long = selectors.quarters_between(datetime.date(2000, 1, 1), datetime.date(2040, 1, 1))
    assert len(long) == selectors.MAX_QUARTERS
