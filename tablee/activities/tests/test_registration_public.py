"""The public links of a session: registration without an account, cancellation, self check-in."""

import datetime

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.activities.models import Attendance, Registration, Session
from tablee.activities.tests.factories_attendance import (
    future_session,
    ongoing_session,
    register,
    text,
)
from tablee.core.tests.cached import cached_entries
from tablee.diagnostic.tests.factories_i import DiagnosticWorld
from tablee.territories.models import Audience

pytestmark = pytest.mark.django_db

CLIENT_IP = "203.0.113.9"


@pytest.fixture(autouse=True)
def _empty_cache():
    # The rate-limit counters live in the cache: each test starts from none.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world():
    return DiagnosticWorld()


@pytest.fixture
def session(world):
    session = future_session(world.t1, capacity=2)
    Session.objects.filter(pk=session.pk).update(registration_open=True)
    session.refresh_from_db()
    return session


def register_url(session):
    return reverse("registration_public:register", args=[session.registration_token])


def form(**overrides):
    data = {
        "full_name": "Morgan Fictif",
        "email": "morgan@example.org",
        "job_title": "Éducateur spécialisé",
        "structure_name": "MECS des Landes (fictive)",
        "consent": "on",
    }
    data.update(overrides)
    return data


def post(client, session, data, ip=CLIENT_IP):
    return client.post(register_url(session), data, REMOTE_ADDR=ip)


# ---- Registering -------------------------------------------------------------------------------


def test_the_form_shows_the_session_and_asks_for_consent(
    client, session, django_assert_num_queries
):
    # the session with its territory, programme, place and format
    with django_assert_num_queries(1):
        response = client.get(register_url(session))
    assert response.status_code == 200
    page = text(response)
    assert "S'inscrire : Repérer et orienter" in page
    assert "Repérer les signes de précarité alimentaire." in page
    assert "J'accepte que mon nom, ma fonction et ma structure soient conservés" in page


def test_a_public_registration_is_recorded_and_confirmed_by_e_mail(
    client, session, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, session, form(email="Morgan@Example.org"))
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "registration_public:sent", args=[session.registration_token]
    )
    registration = Registration.objects.get()
    assert registration.source == Registration.Source.PUBLIC
    assert registration.structure_name == "MECS des Landes (fictive)"
    assert registration.email == "morgan@example.org"
    [message] = mail.outbox
    assert message.subject.startswith("Inscription confirmée")
    assert registration.cancel_token in message.body
    page = text(client.get(response["Location"]))
    assert "Vérifiez votre boîte e-mail" in page
    event = AuditEvent.objects.get()
    assert event.actor is None
    assert event.detail["source"] == "public"


def test_an_address_already_registered_gets_the_same_page_and_an_e_mail_saying_so(
    client, session, django_capture_on_commit_callbacks
):
    [existing] = register(session, email="morgan@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        again = post(client, session, form(email="MORGAN@example.org", full_name="Autre nom"))
    with django_capture_on_commit_callbacks(execute=True):
        new = post(client, session, form(email="nouvelle@example.org"))
    # The visitor cannot tell the two apart: same status, same address, same page.
    assert again.status_code == new.status_code == 302
    assert again["Location"] == new["Location"]
    assert Registration.objects.count() == 2
    existing.refresh_from_db()
    assert existing.full_name != "Autre nom"
    already, confirmed = mail.outbox
    assert already.to == ["morgan@example.org"]
    assert already.subject.startswith("Vous êtes déjà inscrit·e")
    assert "vous étiez déjà inscrit·e à cette séance : rien n'a changé" in already.body
    assert existing.cancel_token in already.body
    assert confirmed.subject.startswith("Inscription confirmée")


def test_a_full_session_puts_the_public_on_the_waiting_list_without_saying_so_on_the_page(
    client, session, django_capture_on_commit_callbacks
):
    register(session, 2)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, session, form())
    assert response["Location"].endswith("/envoyee/")
    assert Registration.objects.get(email="morgan@example.org").status == "waiting"
    assert mail.outbox[0].subject.startswith("Liste d'attente")


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"consent": ""}, "Cochez cette case pour vous inscrire."),
        ({"email": "morgan@"}, "Saisissez une adresse de courriel valide."),
        ({"structure_name": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_public_registrations_are_refused_in_french(client, session, overrides, message):
    response = post(client, session, form(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert not Registration.objects.exists()


@pytest.mark.parametrize(
    "change,message",
    [
        ({"registration_open": False}, "Les inscriptions en ligne à cette séance sont fermées."),
        (
            {"status": Session.Status.CANCELLED},
            "Cette séance est annulée : les inscriptions sont fermées.",
        ),
        ({"past": True}, "Cette séance a déjà commencé ou est passée"),
        ({"audience": Audience.PEOPLE}, "seul un comptage anonyme est enregistré"),
    ],
)
def test_a_closed_link_registers_nobody(client, session, change, message):
    if change.pop("past", False):
        change = {
            "starts_at": session.starts_at - datetime.timedelta(days=10),
            "ends_at": session.ends_at - datetime.timedelta(days=10),
        }
    Session.objects.filter(pk=session.pk).update(**change)
    assert message in text(client.get(register_url(session)))
    response = post(client, session, form())
    assert message in text(response)
    assert not Registration.objects.exists()


def test_an_unknown_link_answers_404(client):
    assert client.get(reverse("registration_public:register", args=["inconnu"])).status_code == 404
    assert client.get(reverse("registration_public:sent", args=["inconnu"])).status_code == 404


def test_a_flood_from_one_client_is_stopped_with_429(client, session, settings):
    settings.TABLEE_REGISTRATION_RATE_PER_CLIENT = 3
    for n in range(3):
        assert post(client, session, form(email=f"p{n}@example.org")).status_code == 302
    response = post(client, session, form(email="p9@example.org"))
    assert response.status_code == 429
    assert "Trop de demandes en peu de temps" in text(response)
    assert Registration.objects.count() == 3
    # Another client is not held back by the first one.
    assert post(client, session, form(email="p8@example.org"), ip="198.51.100.4").status_code == 302


def test_a_flood_on_one_link_is_stopped_with_429(client, session, settings):
    settings.TABLEE_REGISTRATION_RATE_PER_LINK = 2
    post(client, session, form(email="a@example.org"), ip="198.51.100.1")
    post(client, session, form(email="b@example.org"), ip="198.51.100.2")
    assert post(client, session, form(email="c@example.org"), ip="198.51.100.3").status_code == 429
    assert Registration.objects.count() == 2


def test_the_client_s_address_is_not_kept(client, session):
    post(client, session, form())
    cached = cached_entries()
    assert cached
    assert all(CLIENT_IP not in f"{key} {value!r}" for key, value in cached)


def test_the_form_is_protected_against_cross_site_requests(session):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(register_url(session), form(), REMOTE_ADDR=CLIENT_IP).status_code == 403
    assert not Registration.objects.exists()
    browser.get(register_url(session))
    token = browser.cookies["csrftoken"].value
    response = browser.post(
        register_url(session), {**form(), "csrfmiddlewaretoken": token}, REMOTE_ADDR=CLIENT_IP
    )
    assert response.status_code == 302
    assert Registration.objects.count() == 1


# ---- Cancelling through the e-mail's link ------------------------------------------------------


def cancel_url(registration):
    return reverse("registration_public:cancel", args=[registration.cancel_token])


def test_the_cancel_link_asks_then_cancels_and_promotes_the_next(
    client, session, django_capture_on_commit_callbacks
):
    first, _ = register(session, 2)
    [waiting] = register(session, status=Registration.Status.WAITING)
    page = text(client.get(cancel_url(first)))
    assert "Confirmez-vous votre désinscription ?" in page
    first.refresh_from_db()
    assert first.status == Registration.Status.CONFIRMED
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(cancel_url(first))
    assert "Votre désinscription de « Repérer et orienter" in text(response)
    first.refresh_from_db()
    waiting.refresh_from_db()
    assert first.status == Registration.Status.CANCELLED
    assert waiting.status == Registration.Status.CONFIRMED
    assert [m.to for m in mail.outbox] == [[first.email], [waiting.email]]
    # The link again: nothing more to do.
    assert "Cette inscription était déjà annulée" in text(client.post(cancel_url(first)))
    assert len(mail.outbox) == 2


def test_the_cancel_link_after_the_start_explains_why_not(client, world):
    session = ongoing_session(world.t1)
    [registration] = register(session)
    response = client.post(cancel_url(registration))
    assert "La séance a déjà commencé" in text(response)
    registration.refresh_from_db()
    assert registration.status == Registration.Status.CONFIRMED


def test_an_unknown_cancel_link_answers_404(client):
    assert client.get(reverse("registration_public:cancel", args=["inconnu"])).status_code == 404


# ---- Self check-in -----------------------------------------------------------------------------


def checkin_url(session):
    return reverse("registration_public:checkin", args=[session.checkin_token])


def test_a_registrant_checks_in_with_their_e_mail(client, world):
    session = ongoing_session(world.t1)
    [registration] = register(session, email="alix@example.org", structure=world.own)
    response = client.post(
        checkin_url(session), {"email": "ALIX@example.org"}, REMOTE_ADDR=CLIENT_IP
    )
    assert "Votre présence est enregistrée" in text(response)
    attendance = Attendance.objects.get()
    assert attendance.registration == registration
    assert attendance.method == Attendance.Method.SELF
    assert attendance.structure == world.own
    response = client.post(
        checkin_url(session), {"email": "alix@example.org"}, REMOTE_ADDR=CLIENT_IP
    )
    assert "Votre présence était déjà enregistrée" in text(response)
    assert Attendance.objects.count() == 1


def test_someone_not_registered_checks_in_with_name_and_structure(client, world):
    session = ongoing_session(world.t1)
    response = client.post(
        checkin_url(session), {"email": "sacha@example.org"}, REMOTE_ADDR=CLIENT_IP
    )
    page = text(response)
    assert "Nous n'avons pas trouvé d'inscription avec cette adresse" in page
    assert 'value="sacha@example.org"' in response.content.decode()
    assert not Attendance.objects.exists()
    response = client.post(
        checkin_url(session),
        {
            "email": "sacha@example.org",
            "full_name": "Sacha Fictif",
            "structure_name": "CCAS de Loudéac",
        },
        REMOTE_ADDR=CLIENT_IP,
    )
    assert "Votre présence est enregistrée" in text(response)
    attendance = Attendance.objects.get()
    assert attendance.registration is None
    assert attendance.method == Attendance.Method.SELF
    assert attendance.structure == world.neighbour
    assert attendance.audience == Audience.PROFESSIONALS


def test_a_registrant_who_fills_the_walk_in_form_is_checked_in_as_registered(client, world):
    session = ongoing_session(world.t1)
    [registration] = register(session, email="alix@example.org")
    client.post(
        checkin_url(session),
        {"email": "alix@example.org", "full_name": "Alix", "structure_name": "Ailleurs"},
        REMOTE_ADDR=CLIENT_IP,
    )
    assert Attendance.objects.get().registration == registration


def test_the_walk_in_form_needs_name_and_structure(client, world):
    session = ongoing_session(world.t1)
    response = client.post(
        checkin_url(session),
        {"email": "sacha@example.org", "full_name": "", "structure_name": ""},
        REMOTE_ADDR=CLIENT_IP,
    )
    assert "Ce champ est obligatoire." in text(response)
    assert not Attendance.objects.exists()


@pytest.mark.parametrize(
    "when,message",
    [
        ("tomorrow", "L'émargement en ligne ouvre une heure avant la séance, le "),
        ("yesterday", "L'émargement en ligne de cette séance est clos."),
        ("cancelled", "Cette séance est annulée : aucune présence ne peut être enregistrée."),
    ],
)
def test_self_check_in_only_on_the_session_s_day(client, world, when, message):
    if when == "tomorrow":
        session = future_session(world.t1, days=1)
    elif when == "yesterday":
        session = future_session(world.t1, days=-2)
    else:
        session = ongoing_session(world.t1, status=Session.Status.CANCELLED)
    register(session, email="alix@example.org")
    assert message in text(client.get(checkin_url(session)))
    response = client.post(
        checkin_url(session), {"email": "alix@example.org"}, REMOTE_ADDR=CLIENT_IP
    )
    assert message in text(response)
    assert not Attendance.objects.exists()


def test_self_check_in_opens_an_hour_before_the_start(client, world):
    session = future_session(world.t1, days=0)
    Session.objects.filter(pk=session.pk).update(
        starts_at=session.starts_at + datetime.timedelta(minutes=50),
        ends_at=session.ends_at + datetime.timedelta(minutes=50),
    )
    register(session, email="alix@example.org")
    response = client.post(
        checkin_url(session), {"email": "alix@example.org"}, REMOTE_ADDR=CLIENT_IP
    )
    assert "Votre présence est enregistrée" in text(response)


def test_no_self_check_in_for_a_people_session(client, world):
    session = ongoing_session(world.t1, audience=Audience.PEOPLE)
    assert "ne prévoit pas d'émargement nominatif" in text(client.get(checkin_url(session)))


def test_self_check_in_is_rate_limited(client, world, settings):
    settings.TABLEE_CHECKIN_RATE_PER_CLIENT = 2
    session = ongoing_session(world.t1)
    for n in range(2):
        client.post(checkin_url(session), {"email": f"x{n}@example.org"}, REMOTE_ADDR=CLIENT_IP)
    response = client.post(checkin_url(session), {"email": "x9@example.org"}, REMOTE_ADDR=CLIENT_IP)
    assert response.status_code == 429


def test_an_unknown_check_in_link_answers_404(client):
    assert client.get(reverse("registration_public:checkin", args=["inconnu"])).status_code == 404


def test_a_link_closed_while_the_form_was_open_registers_nobody(world):
    from django.core.exceptions import ValidationError

    from tablee.activities import services_attendance as services

    session = future_session(world.t1)  # registration_open is False
    with pytest.raises(ValidationError) as refusal:
        services.registration_request_public(
            session=session,
            full_name="Morgan Fictif",
            email="morgan@example.org",
            consent=True,
            structure_name="MECS",
            base_url="https://tablee.example.org/",
        )
    assert refusal.value.messages == ["Les inscriptions en ligne à cette séance sont fermées."]
    assert not Registration.objects.exists()
