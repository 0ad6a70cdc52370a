"""Testimonies (paroles) of people concerned: anonymous, with consent, for the association only."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent

# Aliased: pytest would take a name starting with "Test" for a test class.
from tablee.diagnostic.models import Testimony as RecordedTestimony
from tablee.diagnostic.tests.factories_i import (
    ALLOWED_ROLES,
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    DiagnosticWorld,
    NeedFactory,
)
from tablee.diagnostic.tests.factories_i import TestimonyFactory as ParoleFactory

pytestmark = pytest.mark.django_db

SECRET_TEXT = "On vient quand on peut, le bus ne passe pas le samedi."


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return DiagnosticWorld()


def url(name, world, *args):
    return reverse(f"diagnostic_records:{name}", args=[world.t1.pk, *args])


def parole_data(**overrides):
    data = {
        "consent_given": "on",
        "date": "2025-04-02",
        "context": "Distribution alimentaire, hiver",
        "text": "Le plus dur c'est la fin du mois, on fait avec ce qui reste.",
        "shareable": "",
        "needs": [],
    }
    data.update(overrides)
    return data


def page_urls(world):
    testimony = ParoleFactory(programme_territory=world.t1, text=SECRET_TEXT)
    return [
        url("testimony_list", world),
        url("testimony_create", world),
        url("testimony_edit", world, testimony.pk),
        url("testimony_delete", world, testimony.pk),
    ]


@pytest.mark.parametrize("role", ALLOWED_ROLES)
def test_coordinators_and_admin_open_every_testimony_page(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_partner_local_authority_and_funder_never_read_testimonies_here(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        response = client.get(address)
        assert response.status_code == 403, address
        assert SECRET_TEXT not in response.content.decode()
    assert client.post(url("testimony_create", world), parole_data()).status_code == 403
    assert RecordedTestimony.objects.count() == 1


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_a_territory_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 404, address


def test_anonymous_is_sent_to_the_login_page(client, world):
    for address in page_urls(world):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_a_testimony_of_another_territory_answers_404(client, world):
    elsewhere = ParoleFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    assert client.get(url("testimony_edit", world, elsewhere.pk)).status_code == 404
    assert client.post(url("testimony_delete", world, elsewhere.pk)).status_code == 404
    assert RecordedTestimony.objects.filter(pk=elsewhere.pk).exists()


def test_testimony_list(client, world, django_assert_num_queries):
    need = NeedFactory(programme_territory=world.t1, title="Transport le samedi")
    ParoleFactory(programme_territory=world.t1, text=SECRET_TEXT, needs=[need], shareable=True)
    ParoleFactory(programme_territory=world.t1, date=datetime.date(2025, 1, 5))
    ParoleFactory(programme_territory=world.t1, date=datetime.date(2025, 2, 5))
    ParoleFactory(programme_territory=world.t2, text="Ailleurs")
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, count, page of testimonies, their needs
    with django_assert_num_queries(7):
        response = client.get(url("testimony_list", world))
    dates = [t.date for t in response.context["page"].object_list]
    assert dates == sorted(dates, reverse=True) and len(dates) == 3
    page = text(response)
    assert SECRET_TEXT in page
    assert "Besoins liés : Transport le samedi" in page
    assert "Partageable" in page and "Interne" in page
    assert "Ailleurs" not in page


def test_coordinator_records_a_testimony_with_consent(client, world):
    need = NeedFactory(programme_territory=world.t1)
    client.force_login(world.territory_coordinator)
    response = client.get(url("testimony_create", world))
    page = text(response)
    assert "Cette parole doit rester anonyme" in page
    assert "aucun détail de santé" in page
    response = client.post(
        url("testimony_create", world), parole_data(needs=[str(need.pk)], shareable="on")
    )
    assert response.status_code == 302
    testimony = RecordedTestimony.objects.get()
    assert testimony.consent_given and testimony.shareable
    assert list(testimony.needs.all()) == [need]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED)
    assert event.detail == {"action": "testimony_create", "testimony": str(testimony.pk)}
    assert "fin du mois" not in str(event.detail)


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"consent_given": ""}, "consent_given", "Cochez la case de consentement"),
        ({"text": ""}, "text", ""),
        ({"context": ""}, "context", ""),
        ({"date": "pas une date"}, "date", ""),
        ({"needs": ["foreign"]}, "needs", ""),
    ],
)
def test_bad_testimony_input_is_refused_and_nothing_written(
    client, world, overrides, field, message
):
    if overrides.get("needs") == ["foreign"]:
        overrides = {"needs": [str(NeedFactory(programme_territory=world.t2).pk)]}
    client.force_login(world.coordinator)
    response = client.post(url("testimony_create", world), parole_data(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    if message:
        assert message in text(response)
    assert not RecordedTestimony.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED).exists()


def test_the_testimony_service_refuses_a_testimony_without_consent(world):
    from django.core.exceptions import ValidationError

    from tablee.diagnostic.services_records import testimony_create

    with pytest.raises(ValidationError) as error:
        testimony_create(
            programme_territory=world.t1,
            acting_user=world.coordinator,
            context="Atelier",
            text="Sans consentement",
            consent_given=False,
        )
    assert "consent_given" in error.value.error_dict
    assert not RecordedTestimony.objects.exists()


def test_coordinator_edits_a_testimony_and_conflicts_are_caught(client, world):
    testimony = ParoleFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    edit = url("testimony_edit", world, testimony.pk)
    assert client.get(edit).context["form"].initial["version"] == 1
    assert client.post(edit, parole_data(version="1", context="Atelier cuisine")).status_code == 302
    response = client.post(edit, parole_data(version="1", context="Autre contexte"))
    assert "Quelqu'un d'autre a modifié cette fiche" in text(response)
    testimony.refresh_from_db()
    assert testimony.context == "Atelier cuisine" and testimony.version == 2
    # Unticking consent on edit is refused too.
    response = client.post(edit, parole_data(version="2", consent_given=""))
    assert "consent_given" in response.context["form"].errors
    testimony.refresh_from_db()
    assert testimony.consent_given and testimony.version == 2


def test_a_testimony_is_deleted_after_confirmation(client, world):
    testimony = ParoleFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    response = client.get(url("testimony_delete", world, testimony.pk))
    assert "sera supprimée définitivement" in text(response)
    assert client.post(url("testimony_delete", world, testimony.pk)).status_code == 302
    assert not RecordedTestimony.objects.exists()
