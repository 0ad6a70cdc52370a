"""The audit trail: what is written on sign-in, failure, lockout, sign-out and account changes, and
the administrators' page that lists it. No event may hold an e-mail address."""

import json
import re
from html import unescape

import pytest
from django.core import mail
from django.urls import reverse

from tablee.accounts import services
from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory
from tablee.territories.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")
Kind = AuditEvent.Kind


@pytest.fixture
def camille():
    return UserFactory(email="camille@example.org", full_name="Camille Martin")


@pytest.fixture
def admin_account():
    return MembershipFactory(user__full_name="Alex Admin", role=Role.ADMIN).user


def events(kind=None) -> list[AuditEvent]:
    queryset = AuditEvent.objects.order_by("created_at", "pk")
    return list(queryset.filter(kind=kind) if kind else queryset)


def assert_no_email_anywhere():
    """Neither the typed e-mail nor any other address is stored in an event."""
    for event in AuditEvent.objects.all():
        stored = event.target + json.dumps(event.detail)
        assert "@" not in stored, f"{event.kind} holds an e-mail address"


def test_login_is_recorded_with_the_account(client, camille):
    client.post(LOGIN_URL, {"username": "Camille@Example.org", "password": PASSWORD})

    [event] = events(Kind.LOGIN)
    assert event.actor == camille
    assert_no_email_anywhere()


def test_failure_on_an_existing_account_names_the_account_not_the_typed_email(client, camille):
    client.post(LOGIN_URL, {"username": "CAMILLE@example.org", "password": "Faux-2026!"})

    [event] = events()
    assert event.kind == Kind.LOGIN_FAILED
    assert event.actor == camille
    assert_no_email_anywhere()


def test_failure_on_an_unknown_email_has_no_actor_and_keeps_nothing_of_the_email(client, camille):
    client.post(LOGIN_URL, {"username": "inconnu@example.org", "password": "Faux-2026!"})

    [event] = events()
    assert event.kind == Kind.LOGIN_FAILED
    assert event.actor is None
    assert event.target == ""
    assert event.detail == {}


def test_lockout_is_recorded_once_per_locked_attempt(client, camille):
    for _ in range(5):
        client.post(LOGIN_URL, {"username": camille.email, "password": "Faux-2026!"})

    assert len(events(Kind.LOGIN_FAILED)) == 5
    [lockout] = events(Kind.LOCKOUT)
    assert lockout.actor == camille

    # A further attempt while locked, even with the right password, is one more lockout event.
    client.post(LOGIN_URL, {"username": camille.email, "password": PASSWORD})
    assert len(events(Kind.LOCKOUT)) == 2
    assert events(Kind.LOGIN) == []
    assert_no_email_anywhere()


def test_lockout_of_an_unknown_email_has_no_actor(client):
    for _ in range(5):
        client.post(LOGIN_URL, {"username": "inconnu@example.org", "password": "Faux-2026!"})

    [lockout] = events(Kind.LOCKOUT)
    assert lockout.actor is None
    assert_no_email_anywhere()


def test_logout_is_recorded(client, camille):
    client.force_login(camille)

    client.post(reverse("accounts:logout"))

    [event] = events(Kind.LOGOUT)
    assert event.actor == camille


def test_logout_without_a_session_records_nothing(client):
    client.post(reverse("accounts:logout"))

    assert events(Kind.LOGOUT) == []


def test_password_reset_is_recorded_when_the_new_password_is_saved(client, camille):
    client.post(reverse("accounts:password_reset"), {"email": camille.email})
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)
    assert events(Kind.PASSWORD_RESET) == []  # asking for a link changes nothing yet

    form_page = client.get(link, follow=True)
    new_password = "Nouveau-Mot-de-passe-42!"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )

    [event] = events(Kind.PASSWORD_RESET)
    assert event.actor == camille


def test_account_changes_record_ids_only(admin_account, django_capture_on_commit_callbacks):
    programme = ProgrammeFactory()
    with django_capture_on_commit_callbacks(execute=True):
        invited = services.user_invite(
            email="invitee@example.org",
            full_name="Invitée Exemple",
            role=Role.FUNDER,
            scope=programme,
            acting_user=admin_account,
            base_url="https://tablee.example.org",
        )
    extra = services.membership_add(
        user=invited, role=Role.ADMIN, scope=None, acting_user=admin_account
    )
    extra_id = str(extra.pk)
    services.membership_remove(membership=extra, acting_user=admin_account)
    services.user_deactivate(user=invited, acting_user=admin_account)

    invitation, added, removed, deactivated = events()
    assert [e.kind for e in (invitation, added, removed, deactivated)] == [
        Kind.USER_INVITED,
        Kind.MEMBERSHIP_ADDED,
        Kind.MEMBERSHIP_REMOVED,
        Kind.USER_DEACTIVATED,
    ]
    assert all(e.actor == admin_account for e in (invitation, added, removed, deactivated))
    assert all(e.target == str(invited.pk) for e in (invitation, added, removed, deactivated))
    assert invitation.detail == {
        "user": str(invited.pk),
        "membership": str(invited.memberships.get().pk),
        "role": "funder",
        "scope_kind": "programme",
        "scope_id": str(programme.pk),
    }
    assert removed.detail["membership"] == extra_id
    assert removed.detail["scope_kind"] == "instance"
    assert_no_email_anywhere()


# ---- The audit page --------------------------------------------------------------------------


def text(response) -> str:
    return unescape(response.content.decode())


def test_audit_list_shows_events_newest_first(
    client, admin_account, camille, django_assert_num_queries
):
    client.post(LOGIN_URL, {"username": "inconnu@example.org", "password": "x"})
    client.post(LOGIN_URL, {"username": camille.email, "password": "x"})
    client.force_login(admin_account)  # writes a login event too

    # 1 session, 2 signed-in user, 3 their memberships, 4 count of events,
    # 5 the page of events with their actors.
    with django_assert_num_queries(5):
        response = client.get(reverse("accounts:audit_list"))

    assert response.status_code == 200
    html = text(response)
    assert "3 événements" in html
    rows = [e.kind for e in response.context["page"].object_list]
    assert rows == [Kind.LOGIN, Kind.LOGIN_FAILED, Kind.LOGIN_FAILED]
    assert "Échec de connexion" in html
    assert "Camille Martin" in html
    assert "Inconnu·e" in html


def test_audit_list_filters_by_kind(client, admin_account, camille):
    client.post(LOGIN_URL, {"username": camille.email, "password": "x"})
    client.force_login(admin_account)

    response = client.get(reverse("accounts:audit_list"), {"type": Kind.LOGIN_FAILED})

    assert [e.kind for e in response.context["page"].object_list] == [Kind.LOGIN_FAILED]
    assert "1 événement" in text(response)


def test_audit_list_ignores_an_unknown_kind(client, admin_account):
    client.force_login(admin_account)

    response = client.get(reverse("accounts:audit_list"), {"type": "n_importe_quoi"})

    assert response.status_code == 200
    assert len(response.context["page"].object_list) == 1  # the admin's own login


def test_audit_list_is_paginated(client, admin_account):
    AuditEvent.objects.bulk_create([AuditEvent(kind=Kind.EXPORT) for _ in range(60)])
    client.force_login(admin_account)

    first = client.get(reverse("accounts:audit_list"), {"type": Kind.EXPORT})
    second = client.get(reverse("accounts:audit_list"), {"type": Kind.EXPORT, "page": 2})

    assert len(first.context["page"].object_list) == 50
    assert "Page 1 sur 2" in text(first)
    assert "type=export&page=2" in text(first)
    assert len(second.context["page"].object_list) == 10


def test_audit_list_is_refused_to_a_coordinator(client):
    coordinator = MembershipFactory(role=Role.COORDINATOR, programme=ProgrammeFactory()).user
    client.force_login(coordinator)

    response = client.get(reverse("accounts:audit_list"))

    assert response.status_code == 403


def test_audit_list_links_account_events_to_the_account(client, admin_account, camille):
    services.user_deactivate(user=camille, acting_user=admin_account)
    client.force_login(admin_account)

    response = client.get(reverse("accounts:audit_list"), {"type": Kind.USER_DEACTIVATED})

    assert reverse("accounts:user_detail", args=[camille.pk]) in text(response)
    assert "Désactivation d'un compte" in text(response)
