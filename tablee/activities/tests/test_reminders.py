"""`send_session_reminders`: one reminder per confirmed registrant, 48 hours ahead, never twice."""

import datetime
import io
import logging

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities import services_attendance as services
from tablee.activities.models import Registration, Session
from tablee.activities.tests.factories_attendance import future_session, register
from tablee.diagnostic.tests.factories_i import DiagnosticWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return DiagnosticWorld()


def run(*args) -> str:
    out = io.StringIO()
    call_command("send_session_reminders", *args, stdout=out)
    return out.getvalue()


def test_confirmed_registrants_of_the_next_48_hours_get_one_reminder(world):
    tomorrow = future_session(world.t1, days=1, title="Atelier budget")
    in_two_days = future_session(world.t1, days=2, title="Formation repérage")
    Session.objects.filter(pk=in_two_days.pk).update(
        starts_at=in_two_days.starts_at - datetime.timedelta(minutes=5),
        ends_at=in_two_days.ends_at - datetime.timedelta(minutes=5),
    )
    later = future_session(world.t1, days=3)
    past = future_session(world.t1, days=-1)
    cancelled = future_session(world.t1, days=1, status=Session.Status.CANCELLED)
    expected = register(tomorrow, 2) + register(in_two_days)
    register(tomorrow, status=Registration.Status.WAITING)
    register(tomorrow, status=Registration.Status.CANCELLED)
    for other in (later, past, cancelled):
        register(other)

    output = run("--adresse-du-site", "https://tablee.example.org")

    assert output.strip() == "3 rappel(s) envoyé(s) pour 2 séance(s)."
    assert sorted(m.to[0] for m in mail.outbox) == sorted(r.email for r in expected)
    message = next(m for m in mail.outbox if m.to == [expected[0].email])
    assert message.subject.startswith("Rappel : Atelier budget le ")
    assert "Nous vous attendons bientôt" in message.body
    assert f"https://tablee.example.org/inscription/annuler/{expected[0].cancel_token}/" in (
        message.body
    )
    reminded = Registration.objects.filter(reminder_sent_at__isnull=False)
    assert set(reminded.values_list("pk", flat=True)) == {r.pk for r in expected}
    event = AuditEvent.objects.get(detail__action="reminders_send")
    assert event.detail["sent"] == 3


def test_a_second_run_sends_nothing_again(world):
    session = future_session(world.t1, days=1)
    register(session, 2)
    run()
    assert len(mail.outbox) == 2
    assert run().strip() == "0 rappel(s) envoyé(s) pour 0 séance(s)."
    assert len(mail.outbox) == 2
    assert AuditEvent.objects.filter(detail__action="reminders_send").count() == 1


def test_someone_promoted_after_the_first_run_is_reminded_by_the_next(world):
    session = future_session(world.t1, days=1)
    register(session)
    [waiting] = register(session, status=Registration.Status.WAITING)
    run()
    Registration.objects.filter(pk=waiting.pk).update(status=Registration.Status.CONFIRMED)
    assert run().strip() == "1 rappel(s) envoyé(s) pour 1 séance(s)."
    assert mail.outbox[-1].to == [waiting.email]


def test_a_failed_e_mail_is_released_for_the_next_run(world, settings, caplog):
    session = future_session(world.t1, days=1)
    [registration] = register(session)
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 1
    with caplog.at_level(logging.ERROR):
        counts = services.reminders_send(base_url="https://tablee.example.org")
    assert (counts.sent, counts.failed) == (0, 1)
    assert "Rappel non envoyé" in caplog.text
    assert registration.email not in caplog.text
    assert all(record.exc_info is None for record in caplog.records)
    registration.refresh_from_db()
    assert registration.reminder_sent_at is None
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    counts = services.reminders_send(base_url="https://tablee.example.org")
    assert (counts.sent, counts.failed) == (1, 0)


def test_the_window_is_measured_from_now(world):
    session = future_session(world.t1, days=3)
    [registration] = register(session)
    now = timezone.now()
    assert services.reminders_send(base_url="http://x", now=now).sent == 0
    later = now + datetime.timedelta(days=1, hours=12)
    assert services.reminders_send(base_url="http://x", now=later).sent == 1
    registration.refresh_from_db()
    assert registration.reminder_sent_at == later
