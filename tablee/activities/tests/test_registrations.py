"""The registrations page of a session: who sees it, registering people, bad input, partners."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.activities.models import Registration, Session
from tablee.activities.tests.factories_attendance import (
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    TEAM_ROLES,
    future_session,
    register,
    text,
)
from tablee.diagnostic.tests.factories_i import DiagnosticWorld
from tablee.territories.models import Audience

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return DiagnosticWorld()


@pytest.fixture
def session(world):
    return future_session(world.t1, capacity=20)


def url(session, name="session", *args):
    return reverse(f"attendance:{name}", args=[session.programme_territory_id, session.pk, *args])


def person(world, **overrides):
    data = {
        "full_name": "Camille Fictive",
        "email": "Camille.Fictive@Example.org",
        "job_title": "Conseillère en économie sociale et familiale",
        "structure": str(world.neighbour.pk),
        "structure_name": "",
        "consent": "on",
    }
    data.update(overrides)
    return data


# ---- Who may open the page ---------------------------------------------------------------------


@pytest.mark.parametrize("role", TEAM_ROLES)
def test_the_team_sees_every_registration(client, world, session, role):
    mine, theirs = register(session, structure=world.own)[0], register(session)[0]
    client.force_login(getattr(world, role))
    response = client.get(url(session))
    assert response.status_code == 200
    page = text(response)
    assert mine.full_name in page and theirs.full_name in page
    assert "Inscrire une personne" in page


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_local_authority_and_funder_are_refused(client, world, session, role):
    client.force_login(getattr(world, role))
    assert client.get(url(session)).status_code == 403
    assert client.post(url(session), person(world)).status_code == 403
    assert not Registration.objects.exists()


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_a_territory_out_of_scope_answers_404(client, world, session, role):
    client.force_login(getattr(world, role))
    assert client.get(url(session)).status_code == 404
    assert client.post(url(session), person(world)).status_code == 404


def test_a_session_of_another_territory_answers_404(client, world):
    elsewhere = future_session(world.t2)
    client.force_login(world.coordinator)
    address = reverse("attendance:session", args=[world.t1.pk, elsewhere.pk])
    assert client.get(address).status_code == 404


def test_anonymous_is_sent_to_login(client, session):
    response = client.get(url(session))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_the_page_lists_confirmed_waiting_and_cancelled_in_a_fixed_number_of_queries(
    client, world, django_assert_num_queries
):
    session = future_session(world.t1, capacity=3)
    register(session, 3, structure=world.own)
    waiting = register(session, 2, status=Registration.Status.WAITING)
    register(session, 2, status=Registration.Status.CANCELLED, job_title="Ancien·ne")
    client.force_login(world.coordinator)
    client.get(url(session))  # warm the session and the permission cache of this client
    # session, user, memberships, territory, session, registrations (+ structure, attendance),
    # attendances, structures of the form's list
    with django_assert_num_queries(8):
        response = client.get(url(session))
    page = text(response)
    assert "3 inscrit·es sur 3 places" in page
    assert "Complet : plus aucune place" in page
    assert "2 personnes sur liste d'attente" in page
    assert page.index(waiting[0].full_name) < page.index(waiting[1].full_name)
    assert "Désinscrit·es" in page


# ---- Registering a person ----------------------------------------------------------------------


def test_registering_a_person_confirms_and_sends_the_e_mail_with_the_cancel_link(
    client, world, session, django_capture_on_commit_callbacks
):
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(session), person(world))
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.email == "camille.fictive@example.org"
    assert registration.status == Registration.Status.CONFIRMED
    assert registration.source == Registration.Source.COORDINATOR
    assert registration.structure == world.neighbour
    assert registration.consent
    [message] = mail.outbox
    assert message.to == ["camille.fictive@example.org"]
    assert message.subject.startswith("Inscription confirmée : Repérer et orienter")
    cancel = reverse("registration_public:cancel", args=[registration.cancel_token])
    assert f"http://testserver{cancel}" in message.body
    assert "Votre inscription est confirmée" in message.body
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.detail["action"] == "registration_create"
    assert event.detail["registration"] == str(registration.pk)
    assert "camille" not in str(event.detail).lower()


def test_a_structure_outside_the_directory_can_be_written_by_hand(client, world, session):
    client.force_login(world.coordinator)
    client.post(url(session), person(world, structure="", structure_name="Mairie de Plémet"))
    registration = Registration.objects.get()
    assert registration.structure is None
    assert registration.structure_name == "Mairie de Plémet"


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"consent": ""}, "Le consentement de la personne est nécessaire."),
        (
            {"structure": "", "structure_name": ""},
            "Indiquez la structure : choisissez-la dans l'annuaire ou écrivez son nom.",
        ),
        ({"email": "pas-une-adresse"}, "Saisissez une adresse de courriel valide."),
        ({"full_name": ""}, "Ce champ est obligatoire."),
    ],
)
def test_bad_registrations_are_refused_in_french(client, world, session, overrides, message):
    client.force_login(world.coordinator)
    response = client.post(url(session), person(world, **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert not Registration.objects.exists()


def test_the_same_e_mail_twice_is_refused_whatever_its_case(
    client, world, session, django_capture_on_commit_callbacks
):
    register(session, email="camille.fictive@example.org")
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(session), person(world, email="CAMILLE.fictive@example.ORG "))
    assert response.status_code == 200
    assert "Cette adresse e-mail est déjà inscrite à cette séance" in text(response)
    assert Registration.objects.count() == 1
    assert not mail.outbox
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ACTIVITY_CHANGED).exists()


def test_someone_who_cancelled_may_register_again(client, world, session):
    register(session, email="camille.fictive@example.org", status=Registration.Status.CANCELLED)
    client.force_login(world.coordinator)
    assert client.post(url(session), person(world)).status_code == 302
    assert Registration.objects.filter(status=Registration.Status.CONFIRMED).count() == 1


@pytest.mark.parametrize(
    "change,message",
    [
        (
            {"status": Session.Status.CANCELLED},
            "Cette séance est annulée : les inscriptions sont fermées.",
        ),
        (
            {"starts_at_shift": -datetime.timedelta(days=8)},
            "Cette séance a déjà commencé ou est passée : les inscriptions sont closes.",
        ),
        (
            {"status": Session.Status.POSTPONED},
            "Cette séance est « reportée » : les inscriptions sont fermées.",
        ),
    ],
)
def test_a_cancelled_or_past_session_takes_no_registration(client, world, session, change, message):
    shift = change.pop("starts_at_shift", None)
    if shift:
        change["starts_at"] = session.starts_at + shift
        change["ends_at"] = session.ends_at + shift
    Session.objects.filter(pk=session.pk).update(**change)
    client.force_login(world.coordinator)
    page = text(client.get(url(session)))
    assert message in page
    assert "Nom et prénom" not in page  # no form
    response = client.post(url(session), person(world), follow=True)
    assert message in text(response)
    assert not Registration.objects.exists()


def test_a_session_for_people_in_food_insecurity_records_headcounts_only(client, world):
    session = future_session(world.t1, audience=Audience.PEOPLE)
    client.force_login(world.coordinator)
    page = text(client.get(url(session)))
    assert "Aucune inscription nominative pour ce public." in page
    assert "seul un comptage anonyme est noté" in page
    assert "Inscrire une personne" not in page
    client.post(url(session), person(world))
    assert not Registration.objects.exists()


def test_the_public_link_and_the_check_in_link_come_with_their_qr_codes(client, world, session):
    Session.objects.filter(pk=session.pk).update(registration_open=True)
    client.force_login(world.coordinator)
    html = client.get(url(session)).content.decode()
    public = reverse("registration_public:register", args=[session.registration_token])
    checkin = reverse("registration_public:checkin", args=[session.checkin_token])
    assert f"http://testserver{public}" in html
    assert f"http://testserver{checkin}" in html
    assert html.count('src="data:image/svg+xml') == 2
    assert "alt=\"QR code du lien d'inscription en ligne" in html


# ---- The public link, opened and closed --------------------------------------------------------


def test_the_team_opens_and_closes_the_public_link(client, world, session):
    client.force_login(world.coordinator)
    client.post(url(session, "registration_link"), {"ouvert": "1"})
    session.refresh_from_db()
    assert session.registration_open
    assert session.version == 2  # a session form opened before now sees a conflict
    client.post(url(session, "registration_link"), {"ouvert": "0"})
    session.refresh_from_db()
    assert not session.registration_open
    actions = list(
        AuditEvent.objects.filter(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
        .order_by("created_at")
        .values_list("detail__action", flat=True)
    )
    assert actions == ["registration_link_open", "registration_link_close"]


def test_the_link_of_a_past_session_does_not_open(client, world):
    past = future_session(world.t1, days=-3)
    client.force_login(world.coordinator)
    response = client.post(url(past, "registration_link"), {"ouvert": "1"}, follow=True)
    assert "les inscriptions sont closes" in text(response)
    past.refresh_from_db()
    assert not past.registration_open


@pytest.mark.parametrize("role", ["partner", "local_authority", "funder"])
def test_only_the_team_opens_the_public_link(client, world, session, role):
    client.force_login(getattr(world, role))
    assert client.post(url(session, "registration_link"), {"ouvert": "1"}).status_code == 403
    session.refresh_from_db()
    assert not session.registration_open


def test_the_link_toggle_is_post_only(client, world, session):
    client.force_login(world.coordinator)
    assert client.get(url(session, "registration_link")).status_code == 405


# ---- Partners ----------------------------------------------------------------------------------


def test_a_partner_sees_only_the_registrations_of_its_own_structure(client, world, session):
    colleague = register(session, structure=world.own, full_name="Collègue de l'épicerie")[0]
    stranger = register(session, structure=world.neighbour, full_name="Agent du CCAS")[0]
    by_hand = register(session, structure_name="Mairie", full_name="Élue de la mairie")[0]
    client.force_login(world.partner)
    response = client.get(url(session))
    assert response.status_code == 200
    page = text(response)
    assert colleague.full_name in page
    assert stranger.full_name not in page and stranger.email not in page
    assert by_hand.full_name not in page
    assert "17 places restantes" in page  # a count, not the names behind it
    assert "Liste d'attente" not in page and "Désinscrit·es" not in page


def test_a_partner_registers_a_colleague_with_its_structure_fixed(
    client, world, session, django_capture_on_commit_callbacks
):
    client.force_login(world.partner)
    page = client.get(url(session)).content.decode()
    assert world.own.name in page
    assert world.neighbour.name not in page  # the list offers the partner's structure only
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url(session), person(world, structure=str(world.own.pk)))
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.structure == world.own
    assert registration.source == Registration.Source.PARTNER
    assert len(mail.outbox) == 1


def test_a_partner_cannot_register_someone_of_another_structure(client, world, session):
    client.force_login(world.partner)
    response = client.post(
        url(session), person(world, structure=str(world.neighbour.pk), structure_name="Autre")
    )
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in text(response)
    assert not Registration.objects.exists()


def test_the_partner_form_is_prefilled_with_the_partner_s_own_name(client, world, session):
    client.force_login(world.partner)
    html = client.get(url(session)).content.decode()
    assert f'value="{world.partner.email}"' in html


def test_a_partner_cancels_its_colleague_but_not_someone_else(client, world, session):
    colleague = register(session, structure=world.own)[0]
    stranger = register(session, structure=world.neighbour)[0]
    client.force_login(world.partner)
    assert client.get(url(session, "registration_cancel", stranger.pk)).status_code == 404
    assert client.post(url(session, "registration_cancel", stranger.pk)).status_code == 404
    assert client.post(url(session, "registration_cancel", colleague.pk)).status_code == 302
    colleague.refresh_from_db()
    stranger.refresh_from_db()
    assert colleague.status == Registration.Status.CANCELLED
    assert stranger.status == Registration.Status.CONFIRMED


def test_a_partner_of_another_territory_does_not_reach_the_session(client, world):
    elsewhere = future_session(world.t2)
    client.force_login(world.partner)
    assert client.get(url(elsewhere)).status_code == 404


def test_a_partner_is_told_a_people_session_takes_no_registration(client, world):
    session = future_session(world.t1, audience=Audience.PEOPLE)
    client.force_login(world.partner)
    page = text(client.get(url(session)))
    assert "on ne s'y inscrit pas nominativement" in page


def test_a_registration_in_the_past_is_shown_with_its_date(client, world, session):
    registration = register(session)[0]
    Registration.objects.filter(pk=registration.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=2)
    )
    client.force_login(world.coordinator)
    assert (timezone.localdate() - datetime.timedelta(days=2)).strftime("%d/%m/%Y") in text(
        client.get(url(session))
    )
