"""The iCal feed of a territory's sessions: public, behind a secret address that a phone calendar
subscribes to (no login). It holds no personal data: no facilitator, no registrant, no note, no
reason of cancellation; only what the sessions are, when and where."""

import datetime

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_safe
from icalendar import Calendar, Event

from tablee.activities.models import CalendarFeed, Session

# How a session's status reads in a calendar application (RFC 5545, STATUS of a VEVENT).
ICAL_STATUS = {
    Session.Status.PLANNED: "CONFIRMED",
    Session.Status.HELD: "CONFIRMED",
    Session.Status.POSTPONED: "TENTATIVE",
    Session.Status.CANCELLED: "CANCELLED",
}


def _utc(moment: datetime.datetime) -> datetime.datetime:
    return moment.astimezone(datetime.UTC)


def session_location(session: Session) -> str:
    parts = []
    if session.place_structure_id:
        structure = session.place_structure
        parts += [structure.name, structure.address, structure.commune.name]
    else:
        parts += [session.place_address, session.commune.name if session.commune_id else ""]
    return ", ".join(part for part in parts if part)


def session_event(session: Session) -> Event:
    """One VEVENT: a stable UID, times in UTC, the status, the audience and the format."""
    event = Event()
    event.add("uid", f"{session.pk}@tablee")
    event.add("dtstamp", _utc(session.updated_at))
    event.add("last-modified", _utc(session.updated_at))
    event.add("sequence", session.version)
    event.add("dtstart", _utc(session.starts_at))
    event.add("dtend", _utc(session.ends_at))
    prefix = "Annulé : " if session.status == Session.Status.CANCELLED else ""
    event.add("summary", f"{prefix}{session.title}")
    location = session_location(session)
    if location:
        event.add("location", location)
    event.add("status", ICAL_STATUS[session.status])
    event.add(
        "description",
        f"{session.get_kind_display()} — statut : {session.get_status_display().lower()}\n"
        f"Public : {session.get_audience_display()}\n"
        f"Format : {session.format.name}",
    )
    return event


def territory_calendar(feed: CalendarFeed) -> Calendar:
    """The whole calendar of the feed's territory. Cancelled sessions stay in it, marked
    CANCELLED, so that the phones which had them show the cancellation."""
    pt = feed.programme_territory
    cal = Calendar()
    cal.add("prodid", "-//Tablée//Ateliers et formations//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"Ateliers et formations — {pt.territory.name}")
    cal.add("x-wr-timezone", "Europe/Paris")
    sessions = (
        Session.objects.filter(programme_territory=pt)
        .select_related("format", "place_structure__commune", "commune")
        .order_by("starts_at", "pk")
    )
    for session in sessions:
        cal.add_component(session_event(session))
    return cal


@require_safe
def territory_feed(request, token):
    feed = get_object_or_404(
        CalendarFeed.objects.select_related("programme_territory__territory"), token=token
    )
    response = HttpResponse(
        territory_calendar(feed).to_ical(), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="agenda.ics"'
    # A secret address: no search engine, no shared cache.
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "private, max-age=900"
    return response
