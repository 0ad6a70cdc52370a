"""The calendars: a territory's month grid and list, the programme's calendar over the territories
in scope, and the subscription address of the iCal feed."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities.models import CalendarFeed
from tablee.activities.tests.factories_sessions import SessionsWorld, at

pytestmark = pytest.mark.django_db


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return SessionsWorld()


def calendar_url(world, pt=None):
    return reverse("activities:calendar", args=[(pt or world.t1).pk])


def programme_url(world):
    return reverse("activities:programme_calendar", args=[world.programme.pk])


@pytest.fixture
def march(world):
    """Sessions around March 2025: the grid runs from Monday 24 February to Sunday 6 April."""
    return {
        "in_march": world.session(
            title="Atelier cuisine du printemps",
            starts_at=at(2025, 3, 14, 14),
            ends_at=at(2025, 3, 14, 16),
        ),
        "cancelled": world.session(
            title="Budget alimentaire",
            starts_at=at(2025, 3, 20, 9, 30),
            ends_at=at(2025, 3, 20, 11),
            status="cancelled",
        ),
        "late_february": world.session(
            title="Fin février", starts_at=at(2025, 2, 25, 10), ends_at=at(2025, 2, 25, 12)
        ),
        "april": world.session(
            title="Hors de la grille", starts_at=at(2025, 4, 10, 10), ends_at=at(2025, 4, 10, 12)
        ),
        "t2": world.session(
            programme_territory=world.t2,
            title="Ailleurs",
            starts_at=at(2025, 3, 14, 10),
            ends_at=at(2025, 3, 14, 12),
        ),
    }


# ---- Month view --------------------------------------------------------------------------------


def test_month_grid(client, world, march, django_assert_num_queries):
    client.force_login(world.coordinator)
    client.get(calendar_url(world))  # creates the feed's address once
    # session, user, memberships, programme territory, iCal feed, sessions of the grid
    with django_assert_num_queries(6):
        response = client.get(calendar_url(world), {"mois": "2025-03"})
    context = response.context
    assert context["month"] == datetime.date(2025, 3, 1)
    weeks = context["weeks"]
    assert weeks[0][0]["date"] == datetime.date(2025, 2, 24)
    assert weeks[-1][-1]["date"] == datetime.date(2025, 4, 6)
    cells = {cell["date"]: cell for week in weeks for cell in week}
    assert [s.pk for s in cells[datetime.date(2025, 3, 14)]["sessions"]] == [march["in_march"].pk]
    assert not cells[datetime.date(2025, 2, 25)]["in_month"]
    assert [s.pk for s in cells[datetime.date(2025, 2, 25)]["sessions"]] == [
        march["late_february"].pk
    ]
    assert context["session_count"] == 2
    assert context["previous_month"] == "2025-02" and context["next_month"] == "2025-04"
    content = response.content.decode()
    assert (
        "<caption" in content and '<th scope="col"><abbr title="lundi">lun.</abbr></th>' in content
    )
    page = text(response)
    assert "Mars 2025" in page
    assert "14:00 Atelier cuisine du printemps" in page
    assert "09:30 Budget alimentaire — annulée" in page
    assert "Ailleurs" not in page and "Hors de la grille" not in page
    detail = reverse("activities:session_detail", args=[world.t1.pk, march["in_march"].pk])
    assert f'href="{detail}"' in content


def test_december_leads_to_january_of_the_next_year(client, world):
    client.force_login(world.coordinator)
    response = client.get(calendar_url(world), {"mois": "2025-12"})
    assert response.context["next_month"] == "2026-01"
    assert response.context["previous_month"] == "2025-11"


@pytest.mark.parametrize("month", ["2025-13", "mars", "", "0-01", "2025-03-01"])
def test_a_wrong_month_shows_the_current_one(client, world, month):
    client.force_login(world.coordinator)
    response = client.get(calendar_url(world), {"mois": month})
    assert response.context["month"] == timezone.localdate().replace(day=1)


def test_today_is_marked_in_words(client, world):
    client.force_login(world.coordinator)
    response = client.get(calendar_url(world))
    assert 'aria-current="date"' in response.content.decode()
    assert "aujourd'hui" in text(response)


# ---- List view ---------------------------------------------------------------------------------


def test_list_view_shows_upcoming_sessions_first(client, world, django_assert_num_queries):
    now = timezone.now()
    soon = world.session(
        title="Bientôt",
        starts_at=now + datetime.timedelta(days=1),
        ends_at=now + datetime.timedelta(days=1, hours=2),
    )
    later = world.session(
        title="Plus tard",
        starts_at=now + datetime.timedelta(days=10),
        ends_at=now + datetime.timedelta(days=10, hours=2),
    )
    past = world.session(
        title="Passée",
        starts_at=now - datetime.timedelta(days=3),
        ends_at=now - datetime.timedelta(days=3) + datetime.timedelta(hours=2),
    )
    older = world.session(
        title="Plus ancienne",
        starts_at=now - datetime.timedelta(days=30),
        ends_at=now - datetime.timedelta(days=30) + datetime.timedelta(hours=2),
    )
    client.force_login(world.coordinator)
    client.get(calendar_url(world))
    # session, user, memberships, programme territory, iCal feed, count, page of sessions
    with django_assert_num_queries(7):
        response = client.get(calendar_url(world), {"vue": "liste"})
    assert [s.pk for s in response.context["page"].object_list] == [soon.pk, later.pk]
    response = client.get(calendar_url(world), {"vue": "liste", "periode": "passees"})
    assert [s.pk for s in response.context["page"].object_list] == [past.pk, older.pk]
    assert "Séances passées" in text(response)


def test_list_view_is_paginated(client, world):
    start = timezone.now() + datetime.timedelta(days=1)
    for index in range(51):
        moment = start + datetime.timedelta(hours=3 * index)
        world.session(starts_at=moment, ends_at=moment + datetime.timedelta(hours=2))
    client.force_login(world.coordinator)
    response = client.get(calendar_url(world), {"vue": "liste", "page": "2"})
    assert len(response.context["page"].object_list) == 1
    assert "vue=liste&amp;page=1" in response.content.decode()


# ---- Programme calendar ------------------------------------------------------------------------


def test_programme_calendar_shows_every_territory_in_scope(
    client, world, march, django_assert_num_queries
):
    client.force_login(world.coordinator)
    # session, user, memberships, programme, sessions of the grid with their territories
    with django_assert_num_queries(5):
        response = client.get(programme_url(world), {"mois": "2025-03"})
    page = text(response)
    assert "14:00 Atelier cuisine du printemps (CC Une)" in page
    assert "10:00 Ailleurs (CC Deux)" in page
    assert response.context["session_count"] == 3
    assert "S'abonner" not in page  # a feed is per territory

    client.force_login(world.local_authority)
    page = text(client.get(programme_url(world), {"mois": "2025-03"}))
    assert "Atelier cuisine du printemps" in page
    assert "Ailleurs" not in page


def test_programme_calendar_list_view(client, world):
    now = timezone.now()
    world.session(
        programme_territory=world.t2,
        title="À Rostrenen",
        starts_at=now + datetime.timedelta(days=2),
        ends_at=now + datetime.timedelta(days=2, hours=2),
    )
    client.force_login(world.coordinator)
    page = text(client.get(programme_url(world), {"vue": "liste"}))
    assert "À Rostrenen" in page and "CC Deux" in page


@pytest.mark.parametrize(
    "role,status",
    [
        ("admin", 200),
        ("coordinator", 200),
        ("territory_coordinator", 200),
        ("t2_coordinator", 200),
        ("partner", 200),
        ("local_authority", 200),
        ("funder", 403),
        ("no_role", 404),
        ("other_coordinator", 404),
    ],
)
def test_who_opens_the_programme_calendar(client, world, role, status):
    client.force_login(getattr(world, role))
    assert client.get(programme_url(world)).status_code == status


# ---- Subscription address ----------------------------------------------------------------------


def test_the_calendar_shows_the_subscription_address(client, world):
    client.force_login(world.partner)
    response = client.get(calendar_url(world))
    feed = CalendarFeed.objects.get(programme_territory=world.t1)
    assert response.context["feed_url"] == f"http://testserver/agenda/{feed.token}.ics"
    assert response.context["webcal_url"] == f"webcal://testserver/agenda/{feed.token}.ics"
    page = text(response)
    assert "S'abonner à l'agenda" in page
    assert "Renouveler l'adresse secrète" not in page  # for the coordination only
    # A second visit keeps the same address.
    client.get(calendar_url(world))
    assert CalendarFeed.objects.get(programme_territory=world.t1).token == feed.token


def test_renewing_the_address_closes_the_old_one(client, world):
    client.force_login(world.coordinator)
    assert "Renouveler l'adresse secrète" in text(client.get(calendar_url(world)))
    old = CalendarFeed.objects.get(programme_territory=world.t1).token
    response = client.post(reverse("activities:feed_renew", args=[world.t1.pk]))
    assert response.status_code == 302
    new = CalendarFeed.objects.get(programme_territory=world.t1).token
    assert new != old
    assert client.get(f"/agenda/{old}.ics").status_code == 404
    assert client.get(f"/agenda/{new}.ics").status_code == 200
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.detail == {"action": "calendar_feed_renew"}
    assert event.target == str(world.t1.pk)


def test_renewing_needs_a_post(client, world):
    client.force_login(world.coordinator)
    assert client.get(reverse("activities:feed_renew", args=[world.t1.pk])).status_code == 405
