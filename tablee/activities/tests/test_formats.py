"""The catalogue of formats: who may read and edit it, the empty state, bad input, conflicts."""

import html
import re

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.activities.models import ActivityFormat
from tablee.activities.tests.factories import ActivityFormatFactory, SessionFactory
from tablee.activities.tests.factories_sessions import SessionsWorld
from tablee.territories.tests.factories import ProgrammeFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return SessionsWorld()


def url(name, world, *args):
    return reverse(f"activities:{name}", args=[world.programme.pk, *args])


def format_data(**overrides):
    data = {
        "name": "Anti-gaspillage",
        "kind": "workshop",
        "audience": "people",
        "duration_minutes": "120",
        "objectives": "Cuisiner les restes, comprendre les dates de consommation.",
        "materials": "Plaques, ustensiles",
        "description": "",
        "is_active": "on",
    }
    data.update(overrides)
    return data


# ---- Who may see and write ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "role",
    [
        "admin",
        "coordinator",
        "territory_coordinator",
        "t2_coordinator",
        "partner",
        "local_authority",
    ],
)
def test_everyone_on_the_ground_reads_the_catalogue(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("format_list", world)).status_code == 200


def test_the_funder_is_refused_the_catalogue(client, world):
    client.force_login(world.funder)
    assert client.get(url("format_list", world)).status_code == 403


@pytest.mark.parametrize("role", ["no_role", "other_coordinator"])
def test_the_catalogue_of_a_programme_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("format_list", world)).status_code == 404
    assert client.get(url("format_create", world)).status_code == 404


@pytest.mark.parametrize("role", ["admin", "coordinator", "territory_coordinator"])
def test_coordinators_open_the_format_forms(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("format_create", world)).status_code == 200
    assert client.get(url("format_edit", world, world.cooking.pk)).status_code == 200


@pytest.mark.parametrize("role", ["partner", "local_authority", "funder"])
def test_others_may_not_edit_the_catalogue(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("format_create", world)).status_code == 403
    assert client.post(url("format_create", world), format_data()).status_code == 403
    edit = url("format_edit", world, world.cooking.pk)
    assert client.post(edit, format_data(version="1")).status_code == 403
    assert ActivityFormat.objects.count() == 2
    world.cooking.refresh_from_db()
    assert world.cooking.name == "Atelier cuisine"


def test_a_format_of_another_programme_answers_404(client, world):
    elsewhere = ActivityFormatFactory(programme=world.other_programme)
    client.force_login(world.coordinator)
    assert client.get(url("format_edit", world, elsewhere.pk)).status_code == 404


def test_anonymous_is_sent_to_the_login_page(client, world):
    response = client.get(url("format_list", world))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


# ---- List --------------------------------------------------------------------------------------


def test_list_shows_formats_with_their_session_counts(client, world, django_assert_num_queries):
    SessionFactory.create_batch(3, programme_territory=world.t1, format=world.cooking)
    SessionFactory(programme_territory=world.t2, format=world.training)
    ActivityFormatFactory(programme=world.programme, name="Visite de ferme", is_active=False)
    ActivityFormatFactory(programme=world.other_programme, name="Ailleurs")
    client.force_login(world.coordinator)
    # session, user, memberships, programme, formats with their session counts
    with django_assert_num_queries(5):
        response = client.get(url("format_list", world))
    formats = response.context["formats"]
    assert [f.name for f in formats] == [
        "Atelier cuisine",
        "Repérer et orienter la précarité alimentaire",
        "Visite de ferme",
    ]
    assert [f.session_count for f in formats] == [3, 1, 0]
    page = text(response)
    assert "2 h 30" in page and "3 h" in page
    assert "Retiré" in page
    assert "Ailleurs" not in page
    assert "Ajouter un format" in page


def test_empty_catalogue_invites_to_add_a_first_format(client):
    from tablee.accounts.models import Role
    from tablee.accounts.tests.factories import MembershipFactory

    programme = ProgrammeFactory()
    coordinator = MembershipFactory(role=Role.COORDINATOR, programme=programme).user
    client.force_login(coordinator)
    response = client.get(reverse("activities:format_list", args=[programme.pk]))
    page = text(response)
    assert "Le catalogue est vide." in page
    assert "Ajouter le premier format" in page


def test_readers_do_not_get_the_edit_links(client, world):
    client.force_login(world.partner)
    page = text(client.get(url("format_list", world)))
    assert "Atelier cuisine" in page
    assert "Ajouter un format" not in page
    assert "Modifier" not in page


# ---- Create and edit ---------------------------------------------------------------------------


def test_create_a_format(client, world):
    client.force_login(world.coordinator)
    response = client.post(url("format_create", world), format_data())
    assert response.status_code == 302
    created = ActivityFormat.objects.get(name="Anti-gaspillage")
    assert created.programme == world.programme
    assert created.duration_minutes == 120 and created.is_active
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
    assert event.detail == {"action": "format_create", "format": str(created.pk)}


@pytest.mark.parametrize(
    "overrides,field,message",
    [
        ({"name": ""}, "name", "Donnez un nom au format."),
        ({"name": "atelier CUISINE"}, "name", "Un format porte déjà ce nom"),
        ({"kind": ""}, "kind", "Choisissez le type : atelier ou formation."),
        ({"audience": "martians"}, "audience", "Sélectionnez un choix valide"),
        ({"duration_minutes": "5"}, "duration_minutes", "entre 15 minutes et 24 heures"),
        ({"duration_minutes": "2000"}, "duration_minutes", "entre 15 minutes et 24 heures"),
        ({"duration_minutes": "deux"}, "duration_minutes", "un nombre entier"),
    ],
)
def test_bad_formats_are_refused_and_nothing_is_written(client, world, overrides, field, message):
    client.force_login(world.coordinator)
    response = client.post(url("format_create", world), format_data(**overrides))
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    assert message in text(response)
    assert ActivityFormat.objects.count() == 2
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.ACTIVITY_CHANGED).exists()


def test_edit_a_format_and_withdraw_it(client, world):
    client.force_login(world.coordinator)
    data = format_data(name="Atelier cuisine du monde", version="1")
    del data["is_active"]
    response = client.post(url("format_edit", world, world.cooking.pk), data)
    assert response.status_code == 302
    world.cooking.refresh_from_db()
    assert world.cooking.name == "Atelier cuisine du monde"
    assert not world.cooking.is_active
    assert world.cooking.version == 2


def test_an_edit_conflict_shows_the_stored_values(client, world):
    ActivityFormat.objects.filter(pk=world.cooking.pk).update(name="Cuisine (modifié)", version=2)
    client.force_login(world.coordinator)
    response = client.post(
        url("format_edit", world, world.cooking.pk), format_data(name="Mon nom", version="1")
    )
    assert response.status_code == 200
    page = text(response)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Cuisine (modifié)" in page
    world.cooking.refresh_from_db()
    assert world.cooking.name == "Cuisine (modifié)"
