"""Scheduling sessions and series: who may, the computed times, bad input with nothing written,
overlapping facilitators, edits, status changes, the detail page, the filtered lists and the
XLSX export."""

import datetime
import html
import io
import re

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities.models import (
    Attendance,
    Evaluation,
    Registration,
    Session,
    SessionSeries,
)
from tablee.activities.tests.factories import HeadcountFactory, RegistrationFactory, at
from tablee.activities.tests.factories_sessions import (
    EDITORS,
    OUT_OF_SCOPE,
    READ_ONLY,
    READERS,
    SessionsWorld,
)
from tablee.activities.views_sessions import optional_url
from tablee.plans.models import ActionPlan
from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory
from tablee.territories.models import Audience

pytestmark = pytest.mark.django_db


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return SessionsWorld()


def url(name, world, *args, pt=None):
    return reverse(f"activities:{name}", args=[(pt or world.t1).pk, *args])


def session_data(world, **overrides):
    data = {
        "format": str(world.cooking.pk),
        "kind": "",
        "audience": "",
        "title": "",
        "date": "2025-03-14",
        "start_time": "14:00",
        "end_time": "",
        "place_structure": str(world.own.pk),
        "place_address": "",
        "commune": "",
        "facilitators": [str(world.coordinator.pk)],
        "external_facilitators": "Diététicienne (fictive)",
        "capacity": "12",
        "host_structures": [str(world.own.pk)],
        "partner_structures": [str(world.neighbour.pk)],
        "action": "",
        "notes": "",
        "repeat": "",
        "occurrences": "",
    }
    data.update(overrides)
    return data


def edit_data(world, session, **overrides):
    local = timezone.localtime(session.starts_at)
    data = session_data(
        world,
        format=str(session.format_id),
        title=session.title,
        date=f"{local:%Y-%m-%d}",
        start_time=f"{local:%H:%M}",
        end_time=f"{timezone.localtime(session.ends_at):%H:%M}",
        version=str(session.version),
    )
    del data["repeat"], data["occurrences"]
    data.update(overrides)
    return data


def plan_of(pt):
    """The territory's action plan (one per territory), created on first need."""
    return ActionPlan.objects.filter(programme_territory=pt).first() or ActionPlanFactory(
        programme_territory=pt
    )


def nothing_written(before: int) -> None:
    assert Session.objects.count() == before
    assert not SessionSeries.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ACTIVITY_CHANGED).exists()


# ---- Who may see and write ---------------------------------------------------------------------


def reading_urls(world, session):
    return [
        url("calendar", world),
        url("session_list", world),
        url("session_detail", world, session.pk),
        url("session_export", world),
    ]


def writing_urls(world, session):
    return [
        url("session_create", world),
        url("session_edit", world, session.pk),
        url("session_status", world, session.pk),
    ]


@pytest.mark.parametrize("role", READERS)
def test_everyone_on_the_ground_reads_the_sessions(client, world, role):
    session = world.session()
    client.force_login(getattr(world, role))
    for address in reading_urls(world, session):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", EDITORS)
def test_coordinators_and_admin_open_the_session_forms(client, world, role):
    session = world.session()
    client.force_login(getattr(world, role))
    for address in writing_urls(world, session):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", READ_ONLY)
def test_partner_and_local_authority_may_not_schedule(client, world, role):
    session = world.session()
    client.force_login(getattr(world, role))
    for address in writing_urls(world, session):
        assert client.get(address).status_code == 403, address
    assert client.post(url("session_create", world), session_data(world)).status_code == 403
    status = {"status": "cancelled", "reason": "Test", "version": "1"}
    assert client.post(url("session_status", world, session.pk), status).status_code == 403
    assert client.post(url("feed_renew", world)).status_code == 403
    session.refresh_from_db()
    assert session.status == Session.Status.PLANNED
    assert Session.objects.count() == 1


def test_the_funder_sees_no_session(client, world):
    session = world.session()
    client.force_login(world.funder)
    for address in reading_urls(world, session) + writing_urls(world, session):
        assert client.get(address).status_code == 403, address


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_a_territory_out_of_scope_answers_404(client, world, role):
    session = world.session()
    client.force_login(getattr(world, role))
    for address in reading_urls(world, session) + writing_urls(world, session):
        assert client.get(address).status_code == 404, address


def test_a_session_of_another_territory_answers_404(client, world):
    elsewhere = world.session(programme_territory=world.t2)
    client.force_login(world.coordinator)
    assert client.get(url("session_detail", world, elsewhere.pk)).status_code == 404
    assert client.get(url("session_edit", world, elsewhere.pk)).status_code == 404
    assert client.get(url("session_status", world, elsewhere.pk)).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, world):
    session = world.session()
    for address in reading_urls(world, session) + writing_urls(world, session):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


# ---- Create a session or a series --------------------------------------------------------------


def test_create_a_session_from_its_format(client, world):
    client.force_login(world.territory_coordinator)
    response = client.post(url("session_create", world), session_data(world))
    session = Session.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("session_detail", world, session.pk)
    # Kind, audience, title and end come from the format (2 h 30).
    assert session.kind == "workshop" and session.audience == Audience.PEOPLE
    assert session.title == "Atelier cuisine"
    assert session.starts_at == at(2025, 3, 14, 14)
    assert session.ends_at == at(2025, 3, 14, 16, 30)
    assert session.commune == world.own.commune
    assert session.capacity == 12
    assert list(session.facilitators.all()) == [world.coordinator]
    assert list(session.host_structures.all()) == [world.own]
    assert list(session.partner_structures.all()) == [world.neighbour]
    assert session.created_by == world.territory_coordinator
    assert session.series is None
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.detail == {"action": "session_create", "sessions": 1, "series": "", "overlaps": 0}


def test_create_at_an_address_with_an_action_of_the_plan(client, world):
    action = ActionFactory(plan=plan_of(world.t1), code="A1")
    client.force_login(world.coordinator)
    data = session_data(
        world,
        format=str(world.training.pk),
        place_structure="",
        place_address="Salle des fêtes, place de l'Église",
        commune=world.commune1.pk,
        end_time="17:00",
        title="Repérer la précarité alimentaire — session 1",
        action=str(action.pk),
        registration_open="on",
    )
    assert client.post(url("session_create", world), data).status_code == 302
    session = Session.objects.get()
    assert session.place_structure is None
    assert session.place_address == "Salle des fêtes, place de l'Église"
    assert session.commune == world.commune1
    assert session.ends_at == at(2025, 3, 14, 17)
    assert session.title == "Repérer la précarité alimentaire — session 1"
    assert session.kind == "training" and session.audience == Audience.PROFESSIONALS
    assert session.action == action
    assert session.registration_open


def test_the_format_given_in_the_address_prefills_the_form(client, world):
    client.force_login(world.coordinator)
    response = client.get(url("session_create", world), {"format": str(world.training.pk)})
    form = response.context["form"]
    assert form.initial["format"] == world.training.pk
    assert form.initial["audience"] == Audience.PROFESSIONALS
    assert form.initial["title"] == "Repérer et orienter la précarité alimentaire"
    defaults = response.context["format_defaults"]
    assert defaults[str(world.cooking.pk)]["duration"] == 150
    assert 'id="format-defaults"' in response.content.decode()


def test_a_weekly_series_keeps_its_local_time_over_the_change_of_hour(client, world):
    client.force_login(world.coordinator)
    data = session_data(world, date="2025-03-18", repeat="weekly", occurrences="4")
    response = client.post(url("session_create", world), data)
    assert response.status_code == 302
    series = SessionSeries.objects.get()
    sessions = list(series.sessions.order_by("starts_at"))
    assert [timezone.localtime(s.starts_at) for s in sessions] == [
        at(2025, 3, 18, 14),
        at(2025, 3, 25, 14),
        at(2025, 4, 1, 14),  # after the change to summer time: still 14:00 in Bretagne
        at(2025, 4, 8, 14),
    ]
    assert all(s.ends_at - s.starts_at == datetime.timedelta(minutes=150) for s in sessions)
    assert series.title == "Atelier cuisine"
    assert all(list(s.facilitators.all()) == [world.coordinator] for s in sessions)
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.detail["sessions"] == 4 and event.detail["series"] == str(series.pk)


def test_a_monthly_series_on_the_31st_falls_on_the_last_day_of_short_months(client, world):
    client.force_login(world.coordinator)
    data = session_data(world, date="2025-01-31", repeat="monthly", occurrences="3")
    assert client.post(url("session_create", world), data).status_code == 302
    days = [timezone.localdate(s.starts_at) for s in Session.objects.order_by("starts_at")]
    assert days == [
        datetime.date(2025, 1, 31),
        datetime.date(2025, 2, 28),
        datetime.date(2025, 3, 31),
    ]


def test_a_fortnightly_series(client, world):
    client.force_login(world.coordinator)
    data = session_data(world, date="2025-05-06", repeat="fortnightly", occurrences="3")
    assert client.post(url("session_create", world), data).status_code == 302
    days = [timezone.localdate(s.starts_at) for s in Session.objects.order_by("starts_at")]
    assert days == [
        datetime.date(2025, 5, 6),
        datetime.date(2025, 5, 20),
        datetime.date(2025, 6, 3),
    ]


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"end_time": "13:00"}, "end_time", "L'heure de fin doit être postérieure"),
        ({"end_time": "14:00"}, "end_time", "L'heure de fin doit être postérieure"),
        ({"capacity": "501"}, "capacity", "entre 1 et 500"),
        ({"capacity": "0"}, "capacity", "entre 1 et 500"),
        ({"capacity": "douze"}, "capacity", "nombre de places entier"),
        ({"date": "2023-12-31"}, "date", "du 01/01/2024 au 31/12/2026"),
        ({"date": "2027-01-04"}, "date", "du 01/01/2024 au 31/12/2026"),
        ({"date": "14 mars"}, "date", "Indiquez une date valide"),
        ({"date": ""}, "date", "Indiquez la date de la séance."),
        ({"start_time": "25:00"}, "start_time", "Indiquez une heure valide"),
        ({"format": ""}, "format", "Choisissez un format du catalogue."),
        ({"place_structure": ""}, "place_address", "Indiquez le lieu"),
        (
            {"place_structure": "", "place_address": "Salle des fêtes"},
            "commune",
            "Indiquez la commune de l'adresse.",
        ),
        (
            {"place_structure": "", "place_address": "Salle des fêtes", "commune": "COMMUNE2"},
            "commune",
            "Sélectionnez un choix valide",
        ),
        ({"place_structure": "SIBLING"}, "place_structure", "Sélectionnez un choix valide"),
        ({"partner_structures": ["SIBLING"]}, "partner_structures", "Sélectionnez un choix valide"),
        ({"facilitators": ["T2_COORDINATOR"]}, "facilitators", "Sélectionnez un choix valide"),
        ({"registration_open": "on"}, "registration_open", "réservées aux professionnel·les"),
        ({"repeat": "weekly"}, "occurrences", "Indiquez le nombre de séances de la série"),
        ({"repeat": "weekly", "occurrences": "1"}, "occurrences", "de 2 à 52 séances"),
        ({"repeat": "weekly", "occurrences": "53"}, "occurrences", "de 2 à 52 séances"),
        ({"repeat": "daily", "occurrences": "3"}, "repeat", "Sélectionnez un choix valide"),
        (
            {"date": "2026-12-01", "repeat": "weekly", "occurrences": "6"},
            "occurrences",
            "après la fin du programme",
        ),
    ],
)
def test_bad_sessions_are_refused_and_nothing_is_written(client, world, overrides, field, message):
    replacements = {
        "COMMUNE2": world.commune2.pk,
        "SIBLING": str(world.sibling.pk),
        "T2_COORDINATOR": str(world.t2_coordinator.pk),
    }
    for key, value in overrides.items():
        if isinstance(value, list):
            overrides[key] = [replacements.get(item, item) for item in value]
        else:
            overrides[key] = replacements.get(value, value)
    client.force_login(world.coordinator)
    response = client.post(url("session_create", world), session_data(world, **overrides))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors.get(field, []))
    assert message in errors, response.context["form"].errors
    assert message in text(response)
    nothing_written(0)


def test_a_format_of_another_programme_is_refused(client, world):
    from tablee.activities.tests.factories import ActivityFormatFactory

    elsewhere = ActivityFormatFactory(programme=world.other_programme)
    client.force_login(world.coordinator)
    response = client.post(url("session_create", world), session_data(world, format=elsewhere.pk))
    assert "Sélectionnez un choix valide" in " ".join(response.context["form"].errors["format"])
    nothing_written(0)


# ---- Overlapping facilitators ------------------------------------------------------------------


def test_an_overlapping_facilitator_needs_a_confirmation(client, world):
    busy = world.session(
        programme_territory=world.t2,
        title="Budget alimentaire",
        starts_at=at(2025, 3, 14, 15),
        ends_at=at(2025, 3, 14, 17),
    )
    busy.facilitators.set([world.coordinator])
    client.force_login(world.coordinator)
    response = client.post(url("session_create", world), session_data(world))
    assert response.status_code == 200
    page = text(response)
    assert "Chevauchement d'horaires" in page
    assert "anime déjà « Budget alimentaire » le 14/03/2025 de 15:00 à 17:00 (CC Deux)" in page
    assert "Je confirme : enregistrer malgré le chevauchement" in page
    nothing_written(1)

    confirmed = session_data(world, confirm_overlap="on")
    assert client.post(url("session_create", world), confirmed).status_code == 302
    assert Session.objects.count() == 2
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.detail["overlaps"] == 1


def test_a_series_warns_on_the_one_occurrence_that_overlaps(client, world):
    busy = world.session(starts_at=at(2025, 3, 28, 13), ends_at=at(2025, 3, 28, 15))
    busy.facilitators.set([world.coordinator])
    client.force_login(world.coordinator)
    data = session_data(world, date="2025-03-14", repeat="weekly", occurrences="3")
    response = client.post(url("session_create", world), data)
    assert response.status_code == 200
    assert [str(o.existing.pk) for o in response.context["overlaps"]] == [str(busy.pk)]
    nothing_written(1)


def test_cancelled_sessions_and_other_people_do_not_overlap(client, world):
    cancelled = world.session(
        starts_at=at(2025, 3, 14, 14), ends_at=at(2025, 3, 14, 16), status="cancelled"
    )
    cancelled.facilitators.set([world.coordinator])
    other = world.session(starts_at=at(2025, 3, 14, 14), ends_at=at(2025, 3, 14, 16))
    other.facilitators.set([world.territory_coordinator])
    back_to_back = world.session(starts_at=at(2025, 3, 14, 16, 30), ends_at=at(2025, 3, 14, 18))
    back_to_back.facilitators.set([world.coordinator])
    client.force_login(world.coordinator)
    assert client.post(url("session_create", world), session_data(world)).status_code == 302


# ---- Edit --------------------------------------------------------------------------------------


def test_edit_a_session(client, world):
    session = world.session(starts_at=at(2025, 6, 3, 9, 30), ends_at=at(2025, 6, 3, 11, 30))
    client.force_login(world.coordinator)
    data = edit_data(world, session, start_time="10:00", end_time="12:30", capacity="20")
    response = client.post(url("session_edit", world, session.pk), data)
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.starts_at == at(2025, 6, 3, 10)
    assert session.ends_at == at(2025, 6, 3, 12, 30)
    assert session.capacity == 20
    assert session.version == 2
    assert list(session.partner_structures.all()) == [world.neighbour]


def test_the_edit_form_shows_the_local_times(client, world):
    session = world.session(starts_at=at(2025, 7, 1, 18), ends_at=at(2025, 7, 1, 20))
    client.force_login(world.coordinator)
    form = client.get(url("session_edit", world, session.pk)).context["form"]
    assert form.initial["date"] == datetime.date(2025, 7, 1)
    assert form.initial["start_time"] == datetime.time(18)
    assert form.initial["end_time"] == datetime.time(20)
    assert "repeat" not in form.fields


def test_an_edit_conflict_writes_nothing(client, world):
    session = world.session(starts_at=at(2025, 6, 3, 9, 30), ends_at=at(2025, 6, 3, 11, 30))
    Session.objects.filter(pk=session.pk).update(title="Titre changé entre-temps", version=2)
    client.force_login(world.coordinator)
    data = edit_data(world, session, title="Mon titre", version="1")
    response = client.post(url("session_edit", world, session.pk), data)
    assert response.status_code == 200
    page = text(response)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Titre changé entre-temps" in page
    session.refresh_from_db()
    assert session.title == "Titre changé entre-temps" and session.version == 2


def test_capacity_cannot_fall_below_the_confirmed_registrations(client, world):
    session = world.session(format=world.training, capacity=10)
    RegistrationFactory.create_batch(3, session=session)
    RegistrationFactory(session=session, status=Registration.Status.CANCELLED)
    client.force_login(world.coordinator)
    data = edit_data(world, session, capacity="2")
    response = client.post(url("session_edit", world, session.pk), data)
    assert response.status_code == 200
    assert "3 personnes sont déjà inscrites" in text(response)
    session.refresh_from_db()
    assert session.capacity == 10 and session.version == 1
    # Three places are enough.
    data = edit_data(world, session, capacity="3")
    assert client.post(url("session_edit", world, session.pk), data).status_code == 302


def test_moving_a_session_onto_a_facilitator_busy_elsewhere_warns(client, world):
    session = world.session(starts_at=at(2025, 6, 3, 9, 30), ends_at=at(2025, 6, 3, 11, 30))
    session.facilitators.set([world.coordinator])
    busy = world.session(starts_at=at(2025, 6, 3, 14), ends_at=at(2025, 6, 3, 16))
    busy.facilitators.set([world.coordinator])
    client.force_login(world.coordinator)
    data = edit_data(world, session, start_time="15:00", end_time="16:00")
    response = client.post(url("session_edit", world, session.pk), data)
    assert response.status_code == 200
    assert "anime déjà" in text(response)
    session.refresh_from_db()
    assert session.starts_at == at(2025, 6, 3, 9, 30)
    data["confirm_overlap"] = "on"
    assert client.post(url("session_edit", world, session.pk), data).status_code == 302


# ---- Status ------------------------------------------------------------------------------------


def post_status(client, world, session, **data):
    data.setdefault("version", str(session.version))
    return client.post(url("session_status", world, session.pk), data)


def test_mark_a_past_session_held(client, world):
    session = world.session(starts_at=at(2025, 3, 4, 14), ends_at=at(2025, 3, 4, 16))
    client.force_login(world.coordinator)
    response = post_status(client, world, session, status="held")
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.HELD and session.version == 2
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.detail["action"] == "session_held"


def test_a_future_session_cannot_be_marked_held(client, world):
    future = timezone.now() + datetime.timedelta(days=3)
    session = world.session(starts_at=future, ends_at=future + datetime.timedelta(hours=2))
    client.force_login(world.coordinator)
    response = post_status(client, world, session, status="held")
    assert "qu'une fois commencée" in text(response)
    session.refresh_from_db()
    assert session.status == Session.Status.PLANNED and session.version == 1


def test_cancel_needs_a_reason(client, world):
    session = world.session(starts_at=at(2025, 3, 4, 14), ends_at=at(2025, 3, 4, 16))
    client.force_login(world.coordinator)
    response = post_status(client, world, session, status="cancelled", reason="  ")
    assert response.status_code == 200
    assert "Indiquez le motif de l'annulation." in text(response)
    session.refresh_from_db()
    assert session.status == Session.Status.PLANNED
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ACTIVITY_CHANGED).exists()

    response = post_status(client, world, session, status="cancelled", reason="Salle indisponible")
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert session.cancel_reason == "Salle indisponible"


def test_postpone_to_a_new_date_keeps_the_time_and_creates_nothing(client, world):
    session = world.session(starts_at=at(2025, 3, 4, 14), ends_at=at(2025, 3, 4, 16, 30))
    client.force_login(world.coordinator)
    response = post_status(
        client, world, session, status="postponed", reason="Neige", new_date="2025-04-08"
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.POSTPONED
    assert session.cancel_reason == "Neige"
    assert session.starts_at == at(2025, 4, 8, 14)
    assert session.ends_at == at(2025, 4, 8, 16, 30)
    assert Session.objects.count() == 1

    # Re-planned: the reason goes.
    response = post_status(client, world, session, status="planned")
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.PLANNED and session.cancel_reason == ""


def test_postpone_without_a_date_only_changes_the_status(client, world):
    session = world.session(starts_at=at(2025, 3, 4, 14), ends_at=at(2025, 3, 4, 16))
    client.force_login(world.coordinator)
    post_status(client, world, session, status="postponed", reason="Animatrice malade")
    session.refresh_from_db()
    assert session.status == Session.Status.POSTPONED
    assert session.starts_at == at(2025, 3, 4, 14)


@pytest.mark.parametrize(
    "data,message",
    [
        ({"status": "postponed", "reason": ""}, "Indiquez le motif du report."),
        (
            {"status": "postponed", "reason": "Neige", "new_date": "2027-02-01"},
            "du 01/01/2024 au 31/12/2026",
        ),
        ({"status": "cancelled", "reason": "x", "new_date": "2025-05-01"}, "que pour un report"),
        ({"status": "held", "version": "1", "new_date": "demain"}, "Indiquez une date valide"),
        ({"status": "planned"}, "n'est pas possible pour cette séance"),
        ({"status": "annulée"}, "n'est pas possible pour cette séance"),
    ],
)
def test_bad_status_changes_write_nothing(client, world, data, message):
    session = world.session(starts_at=at(2025, 3, 4, 14), ends_at=at(2025, 3, 4, 16))
    client.force_login(world.coordinator)
    response = post_status(client, world, session, **data)
    assert response.status_code == 200
    assert message in text(response)
    session.refresh_from_db()
    assert session.status == Session.Status.PLANNED and session.version == 1
    assert session.starts_at == at(2025, 3, 4, 14)


def test_a_held_session_cannot_be_cancelled_but_can_be_corrected(client, world):
    session = world.session(starts_at=at(2025, 3, 4, 14), ends_at=at(2025, 3, 4, 16), status="held")
    client.force_login(world.coordinator)
    response = post_status(client, world, session, status="cancelled", reason="Erreur")
    assert "n'est pas possible pour cette séance" in text(response)
    assert post_status(client, world, session, status="planned").status_code == 302


def test_a_stale_status_change_is_a_conflict(client, world):
    session = world.session(starts_at=at(2025, 3, 4, 14), ends_at=at(2025, 3, 4, 16))
    Session.objects.filter(pk=session.pk).update(version=3)
    client.force_login(world.coordinator)
    response = post_status(client, world, session, status="held", version="1")
    assert "Quelqu'un d'autre a modifié cette fiche" in text(response)
    session.refresh_from_db()
    assert session.status == Session.Status.PLANNED


# ---- Detail ------------------------------------------------------------------------------------


@pytest.fixture
def busy_session(world):
    action = ActionFactory(plan=plan_of(world.t1), code="A2")
    session = world.session(
        format=world.training,
        starts_at=at(2025, 3, 4, 14),
        ends_at=at(2025, 3, 4, 17),
        status="held",
        place_structure=world.own,
        commune=world.own.commune,
        capacity=12,
        action=action,
        notes="La salle était trop petite.",
        external_facilitators="Diététicienne (fictive)",
    )
    session.facilitators.set([world.coordinator])
    session.host_structures.set([world.own])
    session.partner_structures.set([world.neighbour])
    RegistrationFactory.create_batch(2, session=session)
    RegistrationFactory(session=session, status=Registration.Status.WAITING)
    Attendance.objects.create(
        session=session, full_name="Participant·e fictif·ve", audience=Audience.PROFESSIONALS
    )
    HeadcountFactory(session=session, audience=Audience.PEOPLE, count=5)
    HeadcountFactory(session=session, audience=Audience.VOLUNTEERS, count=3)
    Evaluation.objects.create(session=session, satisfaction=5)
    Evaluation.objects.create(session=session, satisfaction=4)
    return session


def test_detail_shows_the_facts_and_counts(client, world, busy_session, django_assert_num_queries):
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, the session with its counts,
    # facilitators, host structures, partner structures
    with django_assert_num_queries(8):
        response = client.get(url("session_detail", world, busy_session.pk))
    counts = response.context["counts"]
    assert counts == {
        "confirmed": 2,
        "waiting": 1,
        "attendances": 1,
        "headcount": 8,
        "evaluations": 2,
    }
    page = text(response)
    assert "mardi 4 mars 2025, de 14:00 à 17:00" in page
    assert "Épicerie solidaire du Centre" in page and "CCAS de Loudéac" in page
    assert "Diététicienne (fictive)" in page
    assert "A2 — " in page
    assert "La salle était trop petite." in page
    assert "Changer le statut" in page
    content = response.content.decode()
    for name in ("attendance:session", "evaluations:session"):
        address = optional_url(name, world.t1.pk, busy_session.pk)
        if address:
            assert f'href="{address}"' in content


@pytest.mark.parametrize("role", READ_ONLY)
def test_partners_see_the_session_without_names_notes_or_small_counts(
    client, world, busy_session, role
):
    client.force_login(getattr(world, role))
    response = client.get(url("session_detail", world, busy_session.pk))
    assert response.context["counts"]["confirmed"] == "< 11"
    assert response.context["counts"]["headcount"] == "< 11"
    page = text(response)
    assert "La salle était trop petite." not in page
    assert "Changer le statut" not in page and "Modifier" not in page
    assert "Participant·e fictif·ve" not in page
    assert "Inscriptions et présences" not in page


# ---- Lists -------------------------------------------------------------------------------------


@pytest.fixture
def listed(world):
    """Sessions of T1 and T2 in 2024 and 2025, of both formats and several statuses."""
    action = ActionFactory(plan=plan_of(world.t1))
    return {
        "held_2024": world.session(
            starts_at=at(2024, 5, 2), ends_at=at(2024, 5, 2, 16), status="held"
        ),
        "held_2025": world.session(
            format=world.training,
            starts_at=at(2025, 2, 3),
            ends_at=at(2025, 2, 3, 17),
            status="held",
            action=action,
        ),
        "planned_2025": world.session(starts_at=at(2025, 11, 5), ends_at=at(2025, 11, 5, 16)),
        "postponed_2025": world.session(
            starts_at=at(2025, 12, 31, 22), ends_at=at(2025, 12, 31, 23), status="postponed"
        ),
        "cancelled_2025": world.session(
            starts_at=at(2025, 6, 5), ends_at=at(2025, 6, 5, 16), status="cancelled"
        ),
        "t2_held_2025": world.session(
            programme_territory=world.t2,
            starts_at=at(2025, 3, 3),
            ends_at=at(2025, 3, 3, 16),
            status="held",
        ),
        "action": action,
    }


def listed_titles(response):
    return [s.pk for s in response.context["page"].object_list]


def test_session_list_filters_exactly(client, world, listed, django_assert_num_queries):
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, count, page of sessions, formats and
    # actions of the filter's selects
    with django_assert_num_queries(8):
        response = client.get(url("session_list", world))
    assert listed_titles(response) == [
        listed[k].pk
        for k in ("postponed_2025", "planned_2025", "cancelled_2025", "held_2025", "held_2024")
    ]
    cases = [
        ({"statut": "held"}, ["held_2025", "held_2024"]),
        ({"statut": ["planned", "postponed"]}, ["postponed_2025", "planned_2025"]),
        ({"annee": "2025"}, ["postponed_2025", "planned_2025", "cancelled_2025", "held_2025"]),
        ({"annee": "2024", "statut": "held"}, ["held_2024"]),
        ({"type": "training"}, ["held_2025"]),
        ({"public": "professionals"}, ["held_2025"]),
        ({"format": str(world.cooking.pk), "statut": "cancelled"}, ["cancelled_2025"]),
        ({"action": str(listed["action"].pk)}, ["held_2025"]),
    ]
    for params, expected in cases:
        response = client.get(url("session_list", world), params)
        assert listed_titles(response) == [listed[k].pk for k in expected], params


def test_a_session_late_on_31_december_belongs_to_its_local_year(client, world, listed):
    client.force_login(world.coordinator)
    # 22:00 in Bretagne on 31 December 2025 is 21:00 UTC: still 2025.
    response = client.get(url("session_list", world), {"annee": "2026"})
    assert listed_titles(response) == []


@pytest.mark.parametrize(
    "params",
    [{"statut": "done"}, {"annee": "2019"}, {"format": "pas-un-uuid"}, {"public": "martians"}],
)
def test_an_invalid_filter_shows_no_session(client, world, listed, params):
    client.force_login(world.coordinator)
    response = client.get(url("session_list", world), params)
    assert listed_titles(response) == []
    assert "Un filtre n'est pas valide" in text(response)


def test_session_list_sorts_and_paginates(client, world):
    for day in range(1, 53):
        world.session(
            title=f"Séance {day:02d}",
            starts_at=at(2025, 1, 1) + datetime.timedelta(days=day),
            ends_at=at(2025, 1, 1, 16) + datetime.timedelta(days=day),
        )
    client.force_login(world.coordinator)
    response = client.get(url("session_list", world), {"tri": "titre"})
    assert response.context["page"].object_list[0].title == "Séance 01"
    response = client.get(url("session_list", world), {"tri": "titre", "page": "2"})
    assert [s.title for s in response.context["page"].object_list] == ["Séance 51", "Séance 52"]
    assert "Page 2 sur 2" in text(response)
    assert 'aria-sort="ascending"' in response.content.decode()


def test_programme_sessions_cover_the_territories_in_scope(
    client, world, listed, django_assert_num_queries
):
    client.force_login(world.coordinator)
    programme_url = reverse("activities:programme_sessions", args=[world.programme.pk])
    # session, user, memberships, programme, count, page, formats, actions and territories of
    # the filter's selects
    with django_assert_num_queries(9):
        response = client.get(programme_url, {"statut": "held"})
    assert set(listed_titles(response)) == {
        listed["held_2024"].pk,
        listed["held_2025"].pk,
        listed["t2_held_2025"].pk,
    }
    response = client.get(programme_url, {"statut": "held", "territoire": str(world.t2.pk)})
    assert listed_titles(response) == [listed["t2_held_2025"].pk]
    assert "CC Deux" in text(response)

    # The local authority of T1 sees T1 only, and may not ask for T2.
    client.force_login(world.local_authority)
    response = client.get(programme_url, {"statut": "held"})
    assert set(listed_titles(response)) == {listed["held_2024"].pk, listed["held_2025"].pk}
    response = client.get(programme_url, {"territoire": str(world.t2.pk)})
    assert listed_titles(response) == []


@pytest.mark.parametrize("role", ["funder"])
def test_the_funder_is_refused_the_programme_sessions(client, world, role):
    client.force_login(getattr(world, role))
    programme_url = reverse("activities:programme_sessions", args=[world.programme.pk])
    assert client.get(programme_url).status_code == 403
    export_url = reverse("activities:programme_sessions_export", args=[world.programme.pk])
    assert client.get(export_url).status_code == 403


# ---- Export ------------------------------------------------------------------------------------


def read_xlsx(response) -> list[list]:
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_export_the_filtered_sessions(
    client, world, listed, busy_session, django_assert_num_queries
):
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, the sessions with their counts, host
    # structures, partner structures, audit event
    with django_assert_num_queries(8):
        response = client.get(url("session_export", world), {"statut": "held", "annee": "2025"})
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = read_xlsx(response)
    header = rows[0]
    assert header[:5] == ["Territoire", "Date", "Début", "Fin", "Intitulé"]
    records = [dict(zip(header, row, strict=True)) for row in rows[1:]]
    assert [r["Début"] for r in records] == ["14:00", "14:00"]
    busy = records[1]
    assert busy["Territoire"] == "CC Une"
    assert busy["Statut"] == "Réalisée"
    assert busy["Lieu"] == "Épicerie solidaire du Centre"
    assert busy["Structures partenaires"] == "CCAS de Loudéac"
    assert busy["Inscrit·es"] == 2 and busy["Comptage anonyme"] == 8 and busy["Évaluations"] == 2
    assert busy["Action du plan"].startswith("A2 — ")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.target == f"seances:{world.t1.pk}"
    assert event.detail == {"format": "xlsx", "sessions": 2, "filtered": True}


def test_the_export_masks_small_counts_for_partners(client, world, busy_session):
    client.force_login(world.partner)
    rows = read_xlsx(client.get(url("session_export", world)))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["Inscrit·es"] == "< 11"
    assert record["Comptage anonyme"] == "< 11"


def test_the_programme_export_has_every_territory_in_scope(client, world, listed):
    client.force_login(world.coordinator)
    response = client.get(
        reverse("activities:programme_sessions_export", args=[world.programme.pk]),
        {"statut": "held"},
    )
    rows = read_xlsx(response)
    assert sorted(row[0] for row in rows[1:]) == ["CC Deux", "CC Une", "CC Une"]


def test_wrong_prefill_parameters_are_ignored(client, world):
    client.force_login(world.coordinator)
    for params in ({"format": "pas-un-uuid"}, {"date": "hier"}, {"format": str(world.u.pk)}):
        response = client.get(url("session_create", world), params)
        assert response.status_code == 200
        assert response.context["form"].initial.get("format") is None


def test_the_django_admin_lists_sessions_without_their_tokens(client, world, busy_session):
    from tablee.accounts.tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for name in ("session", "activityformat", "sessionseries", "calendarfeed", "registration"):
        response = client.get(reverse(f"admin:activities_{name}_changelist"))
        assert response.status_code == 200, name
    response = client.get(reverse("admin:activities_session_change", args=[busy_session.pk]))
    assert response.status_code == 200
    content = response.content.decode()
    assert busy_session.registration_token not in content
    assert busy_session.evaluation_token not in content
