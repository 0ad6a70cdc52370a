"""Capacity and the waiting list: who gets a place, in which order, and who is told."""

import datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities import services_attendance as services
from tablee.activities.models import Registration, Session
from tablee.activities.tests.factories_attendance import (
    attend,
    future_session,
    ongoing_session,
    register,
    text,
)
from tablee.diagnostic.tests.factories_i import DiagnosticWorld

pytestmark = pytest.mark.django_db

BASE_URL = "https://tablee.example.org/"


@pytest.fixture
def world():
    return DiagnosticWorld()


def url(session, name="session", *args):
    return reverse(f"attendance:{name}", args=[session.programme_territory_id, session.pk, *args])


def person(world, n, **overrides):
    data = {
        "full_name": f"Personne fictive {n}",
        "email": f"personne{n}@example.org",
        "job_title": "",
        "structure": str(world.own.pk),
        "structure_name": "",
        "consent": "on",
    }
    data.update(overrides)
    return data


def statuses(session):
    return list(session.registrations.order_by("created_at").values_list("full_name", "status"))


def test_beyond_capacity_people_go_to_the_waiting_list_with_their_rank(
    client, world, django_capture_on_commit_callbacks
):
    session = future_session(world.t1, capacity=2)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(1, 5):
            response = client.post(url(session), person(world, n), follow=True)
    assert "est sur la liste d'attente" in text(response)
    assert statuses(session) == [
        ("Personne fictive 1", "confirmed"),
        ("Personne fictive 2", "confirmed"),
        ("Personne fictive 3", "waiting"),
        ("Personne fictive 4", "waiting"),
    ]
    subjects = [m.subject.split(" :")[0] for m in mail.outbox]
    assert subjects == [
        "Inscription confirmée",
        "Inscription confirmée",
        "Liste d'attente",
        "Liste d'attente",
    ]
    assert "vous êtes sur la liste d'attente (rang 2)" in mail.outbox[3].body
    page = text(client.get(url(session)))
    assert "Complet : plus aucune place" in page
    assert "2 personnes sur liste d'attente" in page


def test_a_session_without_capacity_never_fills(client, world):
    session = future_session(world.t1, capacity=None)
    register(session, 30)
    client.force_login(world.coordinator)
    client.post(url(session), person(world, 99))
    assert session.registrations.get(email="personne99@example.org").status == "confirmed"
    assert "Pas de limite de places" in text(client.get(url(session)))


def test_cancelling_a_place_promotes_the_first_of_the_waiting_list_and_tells_them(
    client, world, django_capture_on_commit_callbacks
):
    session = future_session(world.t1, capacity=2)
    first, second = register(session, 2)
    waiting = register(session, 3, status=Registration.Status.WAITING)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(session, "registration_cancel", first.pk), follow=True)
    assert (
        f"Place attribuée à la liste d'attente : {waiting[0].full_name} (prévenu·e par e-mail)"
        in text(response)
    )
    first.refresh_from_db()
    assert first.status == Registration.Status.CANCELLED
    assert [
        r.status
        for r in Registration.objects.filter(pk__in=[w.pk for w in waiting]).order_by("created_at")
    ] == ["confirmed", "waiting", "waiting"]
    cancelled_mail, promoted_mail = mail.outbox
    assert cancelled_mail.to == [first.email]
    assert cancelled_mail.subject.startswith("Désinscription enregistrée")
    assert promoted_mail.to == [waiting[0].email]
    assert promoted_mail.subject.startswith("Une place s'est libérée")
    assert "votre inscription est maintenant confirmée" in promoted_mail.body
    cancel = reverse("registration_public:cancel", args=[waiting[0].cancel_token])
    assert cancel in promoted_mail.body
    event = AuditEvent.objects.get(detail__action="registration_cancel")
    assert event.detail["promoted"] == "1"


def test_promotions_follow_the_order_of_arrival(django_capture_on_commit_callbacks):
    world = DiagnosticWorld()
    session = future_session(world.t1, capacity=1)
    [holder] = register(session)
    late, early = register(session, 2, status=Registration.Status.WAITING)
    # ``early`` registered first, even though its row was written second.
    Registration.objects.filter(pk=early.pk).update(
        created_at=late.created_at - datetime.timedelta(minutes=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.registration_cancel(
            registration=holder, acting_user=world.coordinator, base_url=BASE_URL
        )
    assert [r.pk for r in promoted] == [early.pk]
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.registration_cancel(
            registration=early, acting_user=world.coordinator, base_url=BASE_URL
        )
    assert [r.pk for r in promoted] == [late.pk]
    assert [m.to for m in mail.outbox] == [
        [holder.email],
        [early.email],
        [early.email],
        [late.email],
    ]


def test_cancelling_a_waiting_registration_promotes_nobody(django_capture_on_commit_callbacks):
    world = DiagnosticWorld()
    session = future_session(world.t1, capacity=1)
    register(session)
    first, second = register(session, 2, status=Registration.Status.WAITING)
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.registration_cancel(
            registration=first, acting_user=world.coordinator, base_url=BASE_URL
        )
    assert promoted == []
    second.refresh_from_db()
    assert second.status == Registration.Status.WAITING
    assert len(mail.outbox) == 1  # the cancellation notice only
    assert services.waiting_position(second) == 1


def test_a_raised_capacity_fills_from_the_waiting_list_first(
    client, world, django_capture_on_commit_callbacks
):
    session = future_session(world.t1, capacity=1)
    register(session)
    [waiting] = register(session, status=Registration.Status.WAITING)
    Session.objects.filter(pk=session.pk).update(capacity=3)
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url(session), person(world, 7))
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.CONFIRMED
    newcomer = session.registrations.get(email="personne7@example.org")
    assert newcomer.status == Registration.Status.CONFIRMED
    assert sorted(m.subject.split(" :")[0] for m in mail.outbox) == [
        "Inscription confirmée",
        "Une place s'est libérée",
    ]


def test_waiting_list_fill_is_there_for_a_capacity_change(django_capture_on_commit_callbacks):
    world = DiagnosticWorld()
    session = future_session(world.t1, capacity=1)
    register(session)
    waiting = register(session, 3, status=Registration.Status.WAITING)
    Session.objects.filter(pk=session.pk).update(capacity=3)
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.waiting_list_fill(
            session=session, acting_user=world.coordinator, base_url=BASE_URL
        )
    assert [r.pk for r in promoted] == [waiting[0].pk, waiting[1].pk]
    assert len(mail.outbox) == 2


def test_the_cancel_page_asks_before_cancelling(client, world):
    session = future_session(world.t1, capacity=1)
    [registration] = register(session)
    client.force_login(world.coordinator)
    response = client.get(url(session, "registration_cancel", registration.pk))
    assert response.status_code == 200
    assert f"Annuler l'inscription de {registration.full_name}" in text(response)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


@pytest.mark.parametrize("role", ["local_authority", "funder"])
def test_local_authority_and_funder_cannot_cancel(client, world, role):
    session = future_session(world.t1)
    [registration] = register(session)
    client.force_login(getattr(world, role))
    assert client.post(url(session, "registration_cancel", registration.pk)).status_code == 403
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_a_registration_of_another_session_answers_404(client, world):
    session, other = future_session(world.t1), future_session(world.t1)
    [registration] = register(other)
    client.force_login(world.coordinator)
    assert client.post(url(session, "registration_cancel", registration.pk)).status_code == 404


def test_a_registration_cannot_be_cancelled_twice(client, world):
    session = future_session(world.t1)
    [registration] = register(session, status=Registration.Status.CANCELLED)
    client.force_login(world.coordinator)
    response = client.post(url(session, "registration_cancel", registration.pk), follow=True)
    assert "Cette inscription est déjà annulée." in text(response)


def test_nobody_is_promoted_once_the_session_has_started(client, world):
    session = ongoing_session(world.t1, capacity=1)
    [registration] = register(session)
    [waiting] = register(session, status=Registration.Status.WAITING)
    client.force_login(world.coordinator)
    response = client.post(url(session, "registration_cancel", registration.pk), follow=True)
    assert "La séance a déjà commencé : l'inscription ne peut plus être annulée." in text(response)
    registration.refresh_from_db()
    waiting.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED
    assert waiting.status == Registration.Status.WAITING


def test_someone_marked_present_is_not_cancelled():
    world = DiagnosticWorld()
    session = future_session(world.t1)
    [registration] = register(session)
    attend(registration)
    with pytest.raises(ValidationError) as refusal:
        services.registration_cancel(
            registration=registration, acting_user=world.coordinator, base_url=BASE_URL
        )
    assert refusal.value.messages == [
        "Cette personne est notée présente : retirez d'abord sa présence."
    ]
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_no_promotion_on_a_cancelled_session(django_capture_on_commit_callbacks):
    world = DiagnosticWorld()
    session = future_session(world.t1, capacity=1)
    [registration] = register(session)
    [waiting] = register(session, status=Registration.Status.WAITING)
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    with django_capture_on_commit_callbacks(execute=True):
        promoted = services.registration_cancel(
            registration=registration, acting_user=None, base_url=BASE_URL
        )
    assert promoted == []
    waiting.refresh_from_db()
    assert waiting.status == Registration.Status.WAITING


def test_the_waiting_e_mail_gives_the_rank_at_the_time_of_sending(
    django_capture_on_commit_callbacks,
):
    world = DiagnosticWorld()
    session = future_session(world.t1, capacity=1)
    register(session)
    register(session, 2, status=Registration.Status.WAITING)
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.registration_create(
            session=session,
            full_name="Dominique Fictif",
            email="dominique@example.org",
            consent=True,
            structure_name="CCAS",
            acting_user=world.coordinator,
            base_url=BASE_URL,
        )
    assert registration.status == Registration.Status.WAITING
    [message] = mail.outbox
    assert "(rang 3)" in message.body
    assert registration.created_at <= timezone.now()
