"""The iCal feed of a territory: public behind its secret address, parsed by the icalendar
library, one event per session, no personal data."""

import datetime

import pytest
from django.urls import reverse
from icalendar import Calendar

from tablee.activities.models import Registration
from tablee.activities.services_sessions import calendar_feed_for
from tablee.activities.tests.factories import RegistrationFactory
from tablee.activities.tests.factories_sessions import SessionsWorld, at

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return SessionsWorld()


@pytest.fixture
def sessions(world):
    held = world.session(
        title="Atelier cuisine de saison",
        starts_at=at(2025, 3, 14, 14),
        ends_at=at(2025, 3, 14, 16, 30),
        status="held",
        place_structure=world.own,
        commune=world.own.commune,
        notes="Note interne à ne pas diffuser",
    )
    held.facilitators.set([world.coordinator])
    summer = world.session(
        format=world.training,
        title="Repérer et orienter",
        starts_at=at(2025, 7, 1, 9, 30),
        ends_at=at(2025, 7, 1, 12, 30),
        place_address="Salle des fêtes",
        commune=world.commune1,
    )
    RegistrationFactory(session=summer, full_name="Camille Inscrite", email="camille@example.org")
    cancelled = world.session(
        title="Budget alimentaire",
        starts_at=at(2025, 5, 2, 10),
        ends_at=at(2025, 5, 2, 12),
        status="cancelled",
        cancel_reason="Animatrice absente",
    )
    postponed = world.session(
        title="Anti-gaspillage",
        starts_at=at(2025, 6, 2, 10),
        ends_at=at(2025, 6, 2, 12),
        status="postponed",
        cancel_reason="Salle fermée",
    )
    world.session(programme_territory=world.t2, title="Autre territoire")
    return {"held": held, "summer": summer, "cancelled": cancelled, "postponed": postponed}


def feed_url(world):
    return reverse("calendar_feed:territory", args=[calendar_feed_for(world.t1).token])


def test_the_feed_parses_and_holds_one_event_per_session(
    client, world, sessions, django_assert_num_queries
):
    address = feed_url(world)
    # feed with its territory, sessions with their format and place
    with django_assert_num_queries(2):
        response = client.get(address)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert "noindex" in response["X-Robots-Tag"]
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["X-WR-CALNAME"]) == "Ateliers et formations — CC Une"
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"{s.pk}@tablee" for s in sessions.values()}

    held = events[f"{sessions['held'].pk}@tablee"]
    assert held.decoded("DTSTART") == datetime.datetime(2025, 3, 14, 13, tzinfo=datetime.UTC)
    assert held.decoded("DTEND") == datetime.datetime(2025, 3, 14, 15, 30, tzinfo=datetime.UTC)
    assert str(held["SUMMARY"]) == "Atelier cuisine de saison"
    assert str(held["STATUS"]) == "CONFIRMED"
    assert str(held["LOCATION"]).startswith("Épicerie solidaire du Centre")
    description = str(held["DESCRIPTION"])
    assert "Public : Personnes en situation de précarité alimentaire" in description
    assert "Format : Atelier cuisine" in description

    summer = events[f"{sessions['summer'].pk}@tablee"]
    # Summer time: 09:30 in Bretagne is 07:30 UTC.
    assert summer.decoded("DTSTART") == datetime.datetime(2025, 7, 1, 7, 30, tzinfo=datetime.UTC)
    assert str(summer["LOCATION"]) == "Salle des fêtes, Loudéac"
    assert "Professionnel·les du social" in str(summer["DESCRIPTION"])

    cancelled = events[f"{sessions['cancelled'].pk}@tablee"]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert str(cancelled["SUMMARY"]) == "Annulé : Budget alimentaire"
    assert str(events[f"{sessions['postponed'].pk}@tablee"]["STATUS"]) == "TENTATIVE"


def test_the_feed_holds_no_personal_data(client, world, sessions):
    content = client.get(feed_url(world)).content.decode()
    unfolded = content.replace("\r\n ", "")
    for secret in (
        world.coordinator.full_name,
        world.coordinator.email,
        "Camille Inscrite",
        "camille@example.org",
        "Note interne",
        "Animatrice absente",
        "Salle fermée",
        "Autre territoire",
    ):
        assert secret not in unfolded, secret
    assert Registration.objects.count() == 1


def test_an_unknown_token_answers_404(client, world):
    calendar_feed_for(world.t1)
    assert client.get("/agenda/pas-le-bon-jeton.ics").status_code == 404
    assert client.get(reverse("calendar_feed:territory", args=["x" * 22])).status_code == 404


def test_the_feed_needs_no_login_but_only_reads(client, world):
    address = feed_url(world)
    assert client.get(address).status_code == 200
    assert client.head(address).status_code == 200
    assert client.post(address).status_code == 405


def test_an_empty_territory_gives_an_empty_calendar(client, world):
    calendar = Calendar.from_ical(client.get(feed_url(world)).content)
    assert calendar.walk("VEVENT") == []
    assert str(calendar["VERSION"]) == "2.0"
