"""Attendance at the door: ticking registrants (htmx), walk-ins, anonymous headcounts."""

import datetime

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.activities.models import Attendance, Headcount, Registration, Session
from tablee.activities.tests.factories_attendance import (
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    TEAM_ROLES,
    attend,
    future_session,
    ongoing_session,
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
    return ongoing_session(world.t1, capacity=10)


@pytest.fixture
def people_session(world):
    return ongoing_session(world.t1, audience=Audience.PEOPLE, title="Atelier cuisine du marché")


def url(session, name="door", *args):
    return reverse(f"attendance:{name}", args=[session.programme_territory_id, session.pk, *args])


def toggle(client, session, registration, present=True, **headers):
    return client.post(
        url(session, "toggle", registration.pk), {"present": "1" if present else "0"}, **headers
    )


# ---- Who may record attendance -----------------------------------------------------------------


@pytest.mark.parametrize("role", TEAM_ROLES)
def test_the_team_opens_the_door_page(client, world, session, role):
    register(session, full_name="Alix Fictive")
    client.force_login(getattr(world, role))
    response = client.get(url(session))
    assert response.status_code == 200
    assert "Alix Fictive" in text(response)


@pytest.mark.parametrize("role", ["partner", *FORBIDDEN_ROLES])
def test_partners_local_authority_and_funder_are_refused(client, world, session, role):
    [registration] = register(session)
    client.force_login(getattr(world, role))
    assert client.get(url(session)).status_code == 403
    assert toggle(client, session, registration).status_code == 403
    assert client.post(url(session, "walk_in"), {"full_name": "X"}).status_code == 403
    assert client.post(url(session, "headcounts"), {}).status_code == 403
    assert not Attendance.objects.exists()


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_a_territory_out_of_scope_answers_404(client, world, session, role):
    [registration] = register(session)
    client.force_login(getattr(world, role))
    assert client.get(url(session)).status_code == 404
    assert toggle(client, session, registration).status_code == 404


def test_the_door_page_costs_the_same_with_many_registrants(
    client, world, session, django_assert_num_queries
):
    registrations = register(session, 6, structure=world.own)
    register(session, 2, status=Registration.Status.WAITING)
    register(session, status=Registration.Status.CANCELLED, full_name="Partie fictive")
    attend(registrations[0])
    Attendance.objects.create(
        session=session, full_name="Venue sans inscription", audience=Audience.VOLUNTEERS
    )
    client.force_login(world.coordinator)
    client.get(url(session))
    # session, user, memberships, territory, session, registrations (+ structure, attendance),
    # walk-ins (+ structure), structures of the walk-in form
    with django_assert_num_queries(8):
        response = client.get(url(session))
    page = text(response)
    assert "2 présent·es noté·es" in page
    assert "Partie fictive" not in page  # a cancelled registration is not at the door
    assert page.count("Liste d'attente") == 2
    assert "Venue sans inscription" in page


# ---- Ticking registrants -----------------------------------------------------------------------


def test_ticking_a_registrant_with_htmx_records_the_presence_and_answers_the_row(
    client, world, session
):
    [registration] = register(session, full_name="Alix Fictive", structure=world.own)
    client.force_login(world.coordinator)
    response = toggle(client, session, registration, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith("<li")
    assert "Présent·e" in html and "Retirer la présence" in html
    attendance = Attendance.objects.get()
    assert attendance.registration == registration
    assert attendance.method == Attendance.Method.DOOR
    assert attendance.full_name == "Alix Fictive"
    assert attendance.structure == world.own
    assert attendance.audience == Audience.PROFESSIONALS
    # Ticked twice (a double tap): still one presence.
    toggle(client, session, registration, HTTP_HX_REQUEST="true")
    assert Attendance.objects.count() == 1
    response = toggle(client, session, registration, present=False, HTTP_HX_REQUEST="true")
    assert "Noter présent·e" in response.content.decode()
    assert not Attendance.objects.exists()
    actions = list(
        AuditEvent.objects.filter(kind=AuditEvent.Kind.ACTIVITY_CHANGED)
        .order_by("created_at")
        .values_list("detail__action", flat=True)
    )
    assert actions == ["attendance_add", "attendance_remove"]


def test_without_javascript_the_tick_comes_back_to_the_door_page(client, world, session):
    [registration] = register(session)
    client.force_login(world.coordinator)
    response = toggle(client, session, registration)
    assert response.status_code == 302
    assert response["Location"] == url(session)
    assert Attendance.objects.count() == 1


def test_a_cancelled_registration_cannot_be_ticked(client, world, session):
    [registration] = register(session, status=Registration.Status.CANCELLED)
    client.force_login(world.coordinator)
    assert toggle(client, session, registration).status_code == 404
    assert not Attendance.objects.exists()


def test_attendance_on_a_cancelled_session_is_refused(client, world, session):
    [registration] = register(session)
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    client.force_login(world.coordinator)
    message = "Cette séance est annulée : aucune présence ne peut être enregistrée."
    assert message in text(client.get(url(session)))
    response = toggle(client, session, registration, HTTP_HX_REQUEST="true")
    assert message in text(response)
    response = client.post(
        url(session, "walk_in"),
        {"full_name": "Sam Fictif", "audience": Audience.PROFESSIONALS},
    )
    assert message in text(response)
    assert not Attendance.objects.exists()


def test_attendance_before_the_session_s_day_is_refused(client, world):
    session = future_session(world.t1, days=3)
    [registration] = register(session)
    client.force_login(world.coordinator)
    response = toggle(client, session, registration, follow=True)
    assert "La séance n'a pas encore eu lieu" in text(response)
    assert not Attendance.objects.exists()


def test_attendance_on_a_planned_session_that_has_started_is_fine(client, world):
    session = future_session(world.t1, days=-2)  # held two days ago, still « planned »
    [registration] = register(session)
    client.force_login(world.coordinator)
    toggle(client, session, registration)
    assert Attendance.objects.count() == 1


# ---- Walk-ins ----------------------------------------------------------------------------------


def walk_in(**overrides):
    data = {
        "full_name": "Sam Fictif",
        "email": "",
        "audience": Audience.VOLUNTEERS,
        "structure": "",
        "structure_name": "",
    }
    data.update(overrides)
    return data


def test_a_walk_in_from_the_directory(client, world, session):
    client.force_login(world.coordinator)
    response = client.post(url(session, "walk_in"), walk_in(structure=str(world.own.pk)))
    assert response.status_code == 302
    attendance = Attendance.objects.get()
    assert attendance.registration is None
    assert attendance.structure == world.own
    assert attendance.audience == Audience.VOLUNTEERS
    assert attendance.method == Attendance.Method.DOOR


def test_a_walk_in_s_structure_written_by_hand_is_found_in_the_directory(client, world, session):
    client.force_login(world.coordinator)
    client.post(url(session, "walk_in"), walk_in(structure_name="ccas de loudeac"))
    assert Attendance.objects.get().structure == world.neighbour


def test_a_structure_absent_from_the_directory_stays_next_to_the_name(client, world, session):
    client.force_login(world.coordinator)
    client.post(url(session, "walk_in"), walk_in(structure_name="Mairie de Plémet"))
    attendance = Attendance.objects.get()
    assert attendance.structure is None
    assert attendance.full_name == "Sam Fictif (Mairie de Plémet)"


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"full_name": ""}, "Ce champ est obligatoire."),
        ({"audience": Audience.PEOPLE}, "Sélectionnez un choix valide."),
        ({"email": "registered@example.org"}, "Cette personne est inscrite : cochez-la"),
        ({"email": "walked@example.org"}, "Cette personne est déjà notée présente."),
    ],
)
def test_bad_walk_ins_are_refused_in_french(client, world, session, overrides, message):
    register(session, email="registered@example.org")
    Attendance.objects.create(
        session=session,
        full_name="Déjà là",
        email="walked@example.org",
        audience=Audience.VOLUNTEERS,
    )
    client.force_login(world.coordinator)
    response = client.post(url(session, "walk_in"), walk_in(**overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert Attendance.objects.count() == 1


def test_a_walk_in_recorded_by_mistake_is_removed(client, world, session):
    attendance = Attendance.objects.create(
        session=session, full_name="Erreur", audience=Audience.VOLUNTEERS
    )
    client.force_login(world.coordinator)
    response = client.post(url(session, "attendance_delete", attendance.pk))
    assert response.status_code == 302
    assert not Attendance.objects.exists()


def test_no_name_is_ever_recorded_for_a_people_session(client, world, people_session):
    client.force_login(world.coordinator)
    page = text(client.get(url(people_session)))
    assert "on ne note jamais de nom" in page
    assert "Ajouter une personne venue sans inscription" not in page
    client.post(url(people_session, "walk_in"), walk_in())
    assert not Attendance.objects.exists()


# ---- Headcounts --------------------------------------------------------------------------------


def test_headcounts_by_audience_age_band_and_gender(client, world, people_session):
    client.force_login(world.coordinator)
    response = client.post(
        url(people_session, "headcounts"),
        {
            "hc-people-tous-tous": "5",
            "hc-people-26_59-women": "7",
            "hc-people-60_plus-men": "2",
            "hc-volunteers-tous-tous": "3",
            "hc-elected-tous-tous": "0",
        },
        follow=True,
    )
    assert "Le comptage est enregistré : 17 personne(s)." in text(response)
    rows = set(Headcount.objects.values_list("audience", "age_band", "gender", "count"))
    assert rows == {
        ("people", "", "", 5),
        ("people", "26_59", "women", 7),
        ("people", "60_plus", "men", 2),
        ("volunteers", "", "", 3),
    }
    # A second count replaces the first one.
    client.post(url(people_session, "headcounts"), {"hc-people-tous-tous": "12"})
    assert list(Headcount.objects.values_list("count", flat=True)) == [12]
    html = client.get(url(people_session)).content.decode()
    assert 'value="12"' in html
    event = AuditEvent.objects.filter(detail__action="headcounts_record").latest("created_at")
    assert event.detail["total"] == "12"


@pytest.mark.parametrize(
    "value,message",
    [
        (
            "-1",
            "« Personnes en situation de précarité alimentaire » : le nombre doit être compris entre 0 et 500.",
        ),
        (
            "501",
            "« Personnes en situation de précarité alimentaire » : le nombre doit être compris entre 0 et 500.",
        ),
        (
            "douze",
            "« Personnes en situation de précarité alimentaire » : indiquez un nombre entier.",
        ),
    ],
)
def test_headcounts_out_of_range_are_refused(client, world, people_session, value, message):
    Headcount.objects.create(session=people_session, audience=Audience.PEOPLE, count=4)
    client.force_login(world.coordinator)
    response = client.post(
        url(people_session, "headcounts"),
        {"hc-people-tous-tous": value, "hc-volunteers-tous-tous": "2"},
    )
    assert response.status_code == 200
    assert message in text(response)
    assert list(Headcount.objects.values_list("audience", "count")) == [("people", 4)]


def test_a_grid_cell_out_of_range_names_its_cell(client, world, people_session):
    client.force_login(world.coordinator)
    response = client.post(url(people_session, "headcounts"), {"hc-people-18_25-women": "900"})
    assert (
        "« Personnes en situation de précarité alimentaire, 18–25 ans, Femmes » : le nombre doit "
        "être compris entre 0 et 500." in text(response)
    )
    assert not Headcount.objects.exists()


def test_headcounts_on_a_cancelled_session_are_refused(client, world, people_session):
    Session.objects.filter(pk=people_session.pk).update(status=Session.Status.CANCELLED)
    client.force_login(world.coordinator)
    response = client.post(url(people_session, "headcounts"), {"hc-people-tous-tous": "8"})
    assert "Cette séance est annulée" in text(response)
    assert not Headcount.objects.exists()


def test_the_headcount_page_costs_a_fixed_number_of_queries(
    client, world, people_session, django_assert_num_queries
):
    for audience in (Audience.PEOPLE, Audience.VOLUNTEERS):
        Headcount.objects.create(session=people_session, audience=audience, count=3)
    client.force_login(world.coordinator)
    client.get(url(people_session))
    # session, user, memberships, territory, session, headcounts
    with django_assert_num_queries(6):
        response = client.get(url(people_session))
    assert response.status_code == 200


def test_a_postponed_session_takes_no_attendance(client, world, session):
    [registration] = register(session)
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.POSTPONED,
        starts_at=session.starts_at - datetime.timedelta(days=1),
        ends_at=session.ends_at - datetime.timedelta(days=1),
    )
    client.force_login(world.coordinator)
    response = toggle(client, session, registration, follow=True)
    assert "Cette séance est reportée" in text(response)
    assert not Attendance.objects.exists()
