"""What a session's changes do to its registrants: a cancelled or postponed session tells them by
e-mail, and a capacity raised promotes the waiting list into the new places."""

import datetime
import logging
import smtplib

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities import services_sessions
from tablee.activities.models import Registration, Session
from tablee.activities.tests.factories_attendance import future_session, register, text
from tablee.activities.tests.factories_sessions import SessionsWorld

pytestmark = pytest.mark.django_db

BASE_URL = "https://tablee.example.org/"


@pytest.fixture
def world():
    world = SessionsWorld()
    # The sessions are placed relative to today: the programme outlasts them whatever the date.
    world.programme.end_date = timezone.localdate() + datetime.timedelta(days=365)
    world.programme.save(update_fields=["end_date"])
    return world


def status_url(session) -> str:
    return reverse("activities:session_status", args=[session.programme_territory_id, session.pk])


def edit_url(session) -> str:
    return reverse("activities:session_edit", args=[session.programme_territory_id, session.pk])


def edit_data(world, session, **overrides) -> dict:
    start = timezone.localtime(session.starts_at)
    data = {
        "version": str(session.version),
        "format": str(session.format_id),
        "kind": session.kind,
        "audience": session.audience,
        "title": session.title,
        "date": f"{start:%Y-%m-%d}",
        "start_time": f"{start:%H:%M}",
        "end_time": f"{timezone.localtime(session.ends_at):%H:%M}",
        "place_structure": str(world.own.pk),
        "place_address": "",
        "commune": "",
        "external_facilitators": "",
        "capacity": str(session.capacity or ""),
        "action": "",
        "notes": "",
    }
    data.update(overrides)
    return data


def crowded_session(world, *, capacity=2, waiting=2):
    """A future training of T1, full, with ``waiting`` people on its waiting list and one person
    who cancelled."""
    day = timezone.localdate() + datetime.timedelta(days=7)
    starts_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(14)))
    session = future_session(
        world.t1,
        capacity=capacity,
        place_structure=world.own,
        starts_at=starts_at,
        ends_at=starts_at + datetime.timedelta(hours=3),
    )
    confirmed = register(session, capacity)
    queued = register(session, waiting, status=Registration.Status.WAITING)
    gone = register(session, 1, status=Registration.Status.CANCELLED)
    return session, confirmed, queued, gone


def addressees() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


# ---- Cancelled or postponed: the registrants are told --------------------------------------------


def test_cancelling_a_session_tells_the_confirmed_and_waiting_registrants(
    client, world, django_capture_on_commit_callbacks
):
    session, confirmed, queued, gone = crowded_session(world)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            status_url(session),
            {"version": "1", "status": "cancelled", "reason": "Salle inondée (fictif)"},
            follow=True,
        )
    assert (
        "La séance est maintenant « annulée ». 4 personnes inscrites (ou en liste d'attente) "
        "sont prévenues par e-mail." in text(response)
    )
    assert addressees() == sorted(r.email for r in confirmed + queued)
    assert gone[0].email not in addressees()
    day = timezone.localtime(session.starts_at)
    for message in mail.outbox:
        assert message.subject.startswith(f"Séance annulée : {session.title} le {day.day} ")
        assert "Motif : Salle inondée (fictif)" in message.body
        assert "est annulée" in message.body
        # Nobody's name, not even their own: the reason and the session only.
        for registration in confirmed + queued + gone:
            assert registration.full_name not in message.body
        others = {r.email for r in confirmed + queued} - set(message.to)
        assert not any(email in message.body for email in others)
    waiting_mail = next(m for m in mail.outbox if m.to == [queued[0].email])
    assert "vous étiez sur liste d'attente est annulée" in waiting_mail.body
    # Registrations stay as they were: the session's status says it all.
    assert session.registrations.filter(status=Registration.Status.CONFIRMED).count() == 2
    event = AuditEvent.objects.get(detail__action="session_cancelled")
    assert event.detail["told"] == 4
    assert "Salle" not in str(event.detail)


def test_postponing_to_a_new_date_tells_the_registrants_the_new_date(
    client, world, django_capture_on_commit_callbacks
):
    session, confirmed, queued, _ = crowded_session(world, waiting=1)
    before = timezone.localtime(session.starts_at)
    new_day = before.date() + datetime.timedelta(days=14)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            status_url(session),
            {
                "version": "1",
                "status": "postponed",
                "reason": "Intervenante malade",
                "new_date": f"{new_day:%Y-%m-%d}",
            },
        )
    assert response.status_code == 302
    session.refresh_from_db()
    assert timezone.localdate(session.starts_at) == new_day
    assert addressees() == sorted(r.email for r in confirmed + queued)
    message = next(m for m in mail.outbox if m.to == [confirmed[0].email])
    months = [
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre",
    ]  # fmt: skip
    new_label = f"{new_day.day} {months[new_day.month - 1]} {new_day.year}"
    assert message.subject == f"Séance reportée : {session.title}, nouvelle date le {new_label}"
    old_label = f"{before.day} {months[before.month - 1]} {before.year} à {before:%H}h{before:%M}"
    assert f"prévue le {old_label}" not in message.body  # the weekday comes first
    assert f"{old_label}, est reportée." in message.body
    assert "Nouvelle date : " in message.body and new_label in message.body
    assert f"de {before:%H}h{before:%M}" in message.body
    assert "Motif : Intervenante malade" in message.body
    assert confirmed[0].full_name not in message.body
    cancel = reverse("registration_public:cancel", args=[confirmed[0].cancel_token])
    assert BASE_URL.rstrip("/") not in message.body  # the address of the request, below
    assert f"http://testserver{cancel}" in message.body
    event = AuditEvent.objects.get(detail__action="session_postponed")
    assert event.detail["told"] == 3 and event.detail["moved"] is True


def test_postponing_without_a_date_says_the_date_is_to_come(
    client, world, django_capture_on_commit_callbacks
):
    session, confirmed, _, _ = crowded_session(world, waiting=0)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(status_url(session), {"version": "1", "status": "postponed", "reason": "Neige"})
    assert addressees() == sorted(r.email for r in confirmed)
    message = mail.outbox[0]
    assert message.subject == f"Séance reportée : {session.title}"
    assert "La nouvelle date n'est pas encore fixée" in message.body
    assert "Nouvelle date :" not in message.body


def test_holding_or_refusing_a_change_tells_nobody(
    client, world, django_capture_on_commit_callbacks
):
    session, _, _, _ = crowded_session(world)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        # No reason: refused, nothing written, nobody told.
        response = client.post(status_url(session), {"version": "1", "status": "cancelled"})
    assert "Indiquez le motif de l'annulation." in text(response)
    assert mail.outbox == []
    session.refresh_from_db()
    assert session.status == Session.Status.PLANNED

    started = future_session(world.t1, days=0, capacity=3, starts_at=timezone.now())
    register(started, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(status_url(started), {"version": "1", "status": "held"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_a_session_without_registrants_is_cancelled_without_e_mail(
    client, world, django_capture_on_commit_callbacks
):
    session = future_session(world.t1, capacity=5)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            status_url(session), {"version": "1", "status": "cancelled", "reason": "Trop peu"}
        )
    assert response.status_code == 302
    assert callbacks == [] and mail.outbox == []


def test_a_mail_server_down_does_not_stop_the_other_e_mails(
    world, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    session, confirmed, queued, _ = crowded_session(world)
    from django.core.mail.backends.locmem import EmailBackend

    original = EmailBackend.send_messages

    def refuse_the_first(backend, messages):
        if messages[0].to == [confirmed[0].email]:
            # smtplib names the refused addresses in its error.
            raise smtplib.SMTPRecipientsRefused({confirmed[0].email: (550, b"Unknown user")})
        return original(backend, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_the_first)
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        services_sessions.session_set_status(
            session=session,
            version=1,
            status=Session.Status.CANCELLED,
            reason="Tempête",
            acting_user=world.coordinator,
            base_url=BASE_URL,
        )
    assert addressees() == sorted(r.email for r in [confirmed[1], *queued])
    assert "non envoyé" in caplog.text and "SMTPRecipientsRefused" in caplog.text
    # No personal data in the logs: not the address, not in a traceback either.
    assert confirmed[0].email not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
    assert Session.objects.get(pk=session.pk).status == Session.Status.CANCELLED


# ---- A capacity raised promotes the waiting list -------------------------------------------------


def test_raising_the_capacity_promotes_the_waiting_list_up_to_the_new_capacity(
    client, world, django_capture_on_commit_callbacks
):
    session, confirmed, queued, _ = crowded_session(world, capacity=2, waiting=3)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit_url(session), edit_data(world, session, capacity="4"), follow=True
        )
    names = f"{queued[0].full_name}, {queued[1].full_name}"
    assert f"Places attribuées à la liste d'attente : {names} (prévenu·es par e-mail)." in text(
        response
    )
    statuses = dict(session.registrations.values_list("pk", "status"))
    assert [statuses[r.pk] for r in queued] == ["confirmed", "confirmed", "waiting"]
    assert all(statuses[r.pk] == "confirmed" for r in confirmed)
    assert addressees() == sorted([queued[0].email, queued[1].email])
    message = next(m for m in mail.outbox if m.to == [queued[0].email])
    assert message.subject.startswith("Une place s'est libérée")
    cancel = reverse("registration_public:cancel", args=[queued[0].cancel_token])
    assert f"http://testserver{cancel}" in message.body
    event = AuditEvent.objects.get(detail__action="waiting_list_fill")
    assert event.detail["promoted"] == "2"
    session.refresh_from_db()
    assert session.capacity == 4 and session.version == 2


def test_removing_the_limit_promotes_the_whole_waiting_list(
    client, world, django_capture_on_commit_callbacks
):
    session, _, queued, _ = crowded_session(world, capacity=2, waiting=3)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(edit_url(session), edit_data(world, session, capacity=""))
    assert not session.registrations.filter(status=Registration.Status.WAITING).exists()
    assert addressees() == sorted(r.email for r in queued)


@pytest.mark.parametrize("capacity", ["2", "3"])
def test_an_edit_that_does_not_raise_the_capacity_promotes_nobody(
    client, world, django_capture_on_commit_callbacks, capacity
):
    # 3 is a raise, but a session that is over takes nobody from its waiting list.
    session, _, queued, _ = crowded_session(world, capacity=2, waiting=2)
    if capacity == "3":
        yesterday = session.starts_at - datetime.timedelta(days=8)
        Session.objects.filter(pk=session.pk).update(
            starts_at=yesterday, ends_at=yesterday + datetime.timedelta(hours=3)
        )
        session.refresh_from_db()
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            edit_url(session), edit_data(world, session, capacity=capacity, title="Nouveau titre")
        )
    assert response.status_code == 302
    assert session.registrations.filter(status=Registration.Status.WAITING).count() == 2
    assert mail.outbox == []
    assert not AuditEvent.objects.filter(detail__action="waiting_list_fill").exists()


def test_a_cancelled_session_whose_capacity_is_raised_promotes_nobody(
    world, django_capture_on_commit_callbacks
):
    session, _, _, _ = crowded_session(world, capacity=2, waiting=2)
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    with django_capture_on_commit_callbacks(execute=True):
        updated = services_sessions.session_update(
            session=session,
            version=1,
            acting_user=world.coordinator,
            base_url=BASE_URL,
            capacity=10,
        )
    assert updated.promoted == []
    assert session.registrations.filter(status=Registration.Status.WAITING).count() == 2
    assert mail.outbox == []
