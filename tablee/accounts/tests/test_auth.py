"""Signing in and out, lockout, CSRF, and choosing a new password by e-mail."""

import importlib
import re

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tablee.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("accounts:login")
WRONG_CREDENTIALS = "Adresse e-mail ou mot de passe incorrect."


@pytest.fixture
def camille():
    return UserFactory(email="camille@example.org", full_name="Camille Martin")


def signed_in_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


def test_login_page_is_in_french(client):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert '<label class="form-label" for="id_username">' in html
    assert "Adresse e-mail" in html
    assert "Mot de passe" in html
    assert f'href="{reverse("accounts:password_reset")}">Mot de passe oublié ?</a>' in html


def test_login_by_email_ignores_case(client, camille):
    response = client.post(LOGIN_URL, {"username": "Camille@Example.ORG", "password": PASSWORD})

    assert response.status_code == 302
    assert response.url == reverse("core:home")
    assert signed_in_user_id(client) == str(camille.pk)


def test_login_follows_next_inside_the_site(client, camille):
    target = reverse("accounts:user_list")
    response = client.post(
        LOGIN_URL, {"username": camille.email, "password": PASSWORD, "next": target}
    )

    assert response.status_code == 302
    assert response.url == target


def test_login_refuses_next_outside_the_site(client, camille):
    response = client.post(
        LOGIN_URL,
        {"username": camille.email, "password": PASSWORD, "next": "https://evil.example.com/"},
    )

    assert response.url == reverse("core:home")


@pytest.mark.parametrize(
    "email, password",
    [
        ("camille@example.org", "Mauvais-mot-2026!"),  # right account, wrong password
        ("personne@example.org", PASSWORD),  # no such account
        ("", ""),
    ],
)
def test_wrong_credentials_give_one_message_that_does_not_tell_if_the_account_exists(
    client, camille, email, password
):
    response = client.post(LOGIN_URL, {"username": email, "password": password})

    assert response.status_code == 200
    assert signed_in_user_id(client) is None
    if email:
        assert WRONG_CREDENTIALS in response.content.decode()


def test_deactivated_account_gets_the_same_message_as_a_wrong_password(client, camille):
    camille.is_active = False
    camille.save()

    response = client.post(LOGIN_URL, {"username": camille.email, "password": PASSWORD})

    assert WRONG_CREDENTIALS in response.content.decode()
    assert signed_in_user_id(client) is None


def test_five_failures_lock_the_account_from_this_address_for_fifteen_minutes(client, camille):
    for _ in range(4):
        response = client.post(LOGIN_URL, {"username": camille.email, "password": "Faux-2026!"})
        assert response.status_code == 200

    fifth = client.post(LOGIN_URL, {"username": "CAMILLE@example.org", "password": "Faux-2026!"})

    assert fifth.status_code == 429
    html = fifth.content.decode()
    assert "Connexion temporairement bloquée" in html
    assert "Vous pourrez réessayer dans 15 minutes." in html
    # Even the right password is refused while locked.
    locked = client.post(LOGIN_URL, {"username": camille.email, "password": PASSWORD})
    assert locked.status_code == 429
    assert signed_in_user_id(client) is None


def test_lockout_is_per_address_and_account(client, camille):
    for _ in range(5):
        client.post(LOGIN_URL, {"username": camille.email, "password": "Faux-2026!"})

    other_place = Client(REMOTE_ADDR="192.0.2.44")
    response = other_place.post(LOGIN_URL, {"username": camille.email, "password": PASSWORD})

    assert response.status_code == 302
    assert signed_in_user_id(other_place) == str(camille.pk)


def test_a_successful_login_clears_earlier_failures(client, camille):
    for _ in range(4):
        client.post(LOGIN_URL, {"username": camille.email, "password": "Faux-2026!"})
    client.post(LOGIN_URL, {"username": camille.email, "password": PASSWORD})
    client.post(reverse("accounts:logout"))

    for _ in range(4):
        response = client.post(LOGIN_URL, {"username": camille.email, "password": "Faux-2026!"})

    assert response.status_code == 200


def test_login_without_csrf_token_is_refused_with_a_french_page(camille):
    client = Client(enforce_csrf_checks=True)

    response = client.post(LOGIN_URL, {"username": camille.email, "password": PASSWORD})

    assert response.status_code == 403
    assert "Formulaire expiré ou invalide" in response.content.decode()
    assert signed_in_user_id(client) is None


def test_login_with_csrf_token_works_when_checks_are_enforced(camille):
    client = Client(enforce_csrf_checks=True)
    client.get(LOGIN_URL)
    token = client.cookies["csrftoken"].value

    response = client.post(
        LOGIN_URL,
        {"username": camille.email, "password": PASSWORD, "csrfmiddlewaretoken": token},
    )

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(camille.pk)


def test_logout_by_post_ends_the_session(client, camille):
    client.force_login(camille)

    response = client.post(reverse("accounts:logout"), follow=True)

    assert response.redirect_chain[-1][0] == LOGIN_URL
    assert "Vous êtes déconnecté·e." in response.content.decode()
    assert signed_in_user_id(client) is None


def test_logout_by_get_is_refused(client, camille):
    client.force_login(camille)

    response = client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert signed_in_user_id(client) == str(camille.pk)


def test_signed_in_user_visiting_login_is_sent_home(client, camille):
    client.force_login(camille)

    response = client.get(LOGIN_URL)

    assert response.status_code == 302
    assert response.url == reverse("core:home")


# ---- Password reset ------------------------------------------------------------------------


def reset_link_from(message) -> str:
    match = re.search(r"https?://testserver(/\S+)", message.body)
    assert match, "no link in the e-mail"
    return match.group(1)


def test_password_reset_pages_are_in_french(client):
    response = client.get(reverse("accounts:password_reset"))

    assert response.status_code == 200
    assert "Mot de passe oublié" in response.content.decode()
    assert "Adresse e-mail" in response.content.decode()


def test_password_reset_sends_a_french_email_whose_link_sets_a_new_password(client, camille):
    response = client.post(reverse("accounts:password_reset"), {"email": "Camille@example.org"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["camille@example.org"]
    assert message.subject == "Tablée : choisir un nouveau mot de passe"
    assert "Vous avez demandé à choisir un nouveau mot de passe" in message.body

    link = reset_link_from(message)
    form_page = client.get(link, follow=True)
    assert "Saisissez deux fois votre nouveau mot de passe." in form_page.content.decode()
    set_password_url = form_page.redirect_chain[-1][0]
    new_password = "Nouveau-Mot-de-passe-42!"
    done = client.post(
        set_password_url, {"new_password1": new_password, "new_password2": new_password}
    )
    assert done.status_code == 302
    assert done.url == reverse("accounts:password_reset_complete")

    camille.refresh_from_db()
    assert camille.check_password(new_password)
    login = client.post(LOGIN_URL, {"username": camille.email, "password": new_password})
    assert login.status_code == 302
    # The link served once: it no longer works.
    again = client.get(link, follow=True)
    assert "Ce lien n'est plus valable" in again.content.decode()


def test_password_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client, camille):
    response = client.post(reverse("accounts:password_reset"), {"email": "inconnu@example.org"})

    assert response.status_code == 302
    assert response.url == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_password_reset_with_a_forged_link_says_it_is_not_valid(client, camille):
    response = client.get(
        reverse("accounts:password_reset_confirm", kwargs={"uidb64": "MTIz", "token": "abc-def"})
    )

    assert response.status_code == 200
    assert "Ce lien n'est plus valable" in response.content.decode()


@pytest.mark.parametrize(
    "weak_password, french_error",
    [
        ("Court-1!", "Ce mot de passe est trop court."),
        ("toutenminuscules", "au moins une minuscule, une majuscule, un chiffre"),
        ("Tablee2026Sans", "caractère spécial"),
        ("123456789012", "Ce mot de passe est entièrement numérique."),
    ],
)
def test_a_weak_new_password_is_refused_with_a_french_message(
    client, camille, weak_password, french_error
):
    client.post(reverse("accounts:password_reset"), {"email": camille.email})
    form_page = client.get(reset_link_from(mail.outbox[0]), follow=True)
    set_password_url = form_page.redirect_chain[-1][0]

    response = client.post(
        set_password_url, {"new_password1": weak_password, "new_password2": weak_password}
    )

    assert response.status_code == 200
    assert french_error in response.content.decode()
    camille.refresh_from_db()
    assert camille.check_password(PASSWORD)


def test_real_settings_hash_passwords_with_argon2_first():
    # The test suite swaps in a fast hasher: read the settings module itself, not django.conf.
    real_settings = importlib.import_module("config.settings")

    assert real_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
