"""Validating a version of the plan at a steering committee, and the history of every change."""

import datetime

import pytest
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.plans.models import ActionStatus, ConsultationSession, PlanValidation
from tablee.plans.tests.factories import ConsultationSessionFactory
from tablee.plans.tests.factories_actions import (
    EDITORS,
    FUNDER,
    OUT_OF_SCOPE,
    READERS,
    PlanWorld,
    text,
    url,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = PlanWorld()
    world.committee = ConsultationSessionFactory(
        programme_territory=world.t1,
        kind=ConsultationSession.Kind.STEERING,
        title="Comité de pilotage de juin",
        date=datetime.date(2025, 6, 19),
    )
    return world


def validation_data(world, **overrides):
    return {
        "date": "2025-06-19",
        "committee": str(world.committee.pk),
        "validated_by": "Comité de pilotage : CC, DREETS, association, personnes concernées",
    } | overrides


# ---- Who may validate and read the history -----------------------------------------------------


@pytest.mark.parametrize("role", EDITORS)
def test_coordinators_validate_and_read_the_history(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("validate", world)).status_code == 200
    assert client.get(url("history", world)).status_code == 200


@pytest.mark.parametrize("role", READERS)
def test_readers_read_the_history_but_do_not_validate(client, world, role):
    world.action(code="A1")
    client.force_login(getattr(world, role))
    assert client.get(url("history", world)).status_code == 200
    assert client.get(url("validate", world)).status_code == 403
    assert client.post(url("validate", world), validation_data(world)).status_code == 403
    assert not PlanValidation.objects.exists()


@pytest.mark.parametrize("role", FUNDER)
def test_the_funder_is_refused(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("validate", world)).status_code == 403
    assert client.get(url("history", world)).status_code == 403


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    assert client.get(url("validate", world)).status_code == 404
    assert client.get(url("history", world)).status_code == 404


# ---- Validation ---------------------------------------------------------------------------------


def test_a_version_is_validated_with_a_snapshot_and_numbered(client, world):
    world.action(code="A1", title="Épicerie mobile", progress=30, status=ActionStatus.IN_PROGRESS)
    world.action(code="A2", title="Atelier cuisine", pilots=[world.own, world.neighbour])
    client.force_login(world.coordinator)
    response = client.get(url("validate", world))
    assert "Valider la version 1 du plan" in text(response)
    assert "Comité de pilotage de juin (19/06/2025)" in text(response)

    response = client.post(url("validate", world), validation_data(world))
    assert response["Location"] == url("history", world)
    validation = PlanValidation.objects.get()
    assert (validation.number, validation.committee, validation.recorded_by) == (
        1,
        world.committee,
        world.coordinator,
    )
    assert validation.snapshot == [
        {
            "code": "A1",
            "title": "Épicerie mobile",
            "status": "in_progress",
            "progress": 30,
            "pilots": ["Épicerie solidaire du Centre"],
        },
        {
            "code": "A2",
            "title": "Atelier cuisine",
            "status": "planned",
            "progress": 0,
            "pilots": ["CCAS de Loudéac", "Épicerie solidaire du Centre"],
        },
    ]
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_CHANGED)
    assert event.detail == {"action": "plan_validate", "plan": str(world.plan.pk), "number": "1"}

    # A later revision keeps the first version and numbers the next one.
    response = client.post(
        url("validate", world),
        validation_data(world, date="2026-01-20", committee="", validated_by="Bureau du PAT"),
    )
    assert response.status_code == 302
    assert list(PlanValidation.objects.values_list("number", "committee")) == [
        (2, None),
        (1, world.committee.pk),
    ]
    page = text(client.get(url("history", world)))
    assert "Version 2 validée le 20/01/2026 par Bureau du PAT" in page
    assert "Version 1 validée le 19/06/2025 par Comité de pilotage" in page
    assert "A1 Épicerie mobile En cours 30 % Épicerie solidaire du Centre" in page


def test_a_plan_without_action_cannot_be_validated(client, world):
    client.force_login(world.coordinator)
    response = client.post(url("validate", world), validation_data(world))
    assert response.status_code == 200
    assert "Le plan ne contient aucune action" in text(response)
    assert not PlanValidation.objects.exists()


def test_actions_without_pilot_are_named_and_nothing_is_written(client, world):
    world.action(code="A1", title="Épicerie mobile")
    world.action(code="A2", title="Atelier cuisine", pilots=[])
    world.action(code="A3", title="Formation des bénévoles", pilots=[])
    client.force_login(world.coordinator)
    response = client.get(url("validate", world))
    assert "Le plan ne peut pas encore être validé" in text(response)  # said before submitting
    response = client.post(url("validate", world), validation_data(world))
    page = text(response)
    assert (
        "Ces actions n’ont pas de structure pilote : A2 « Atelier cuisine », "
        "A3 « Formation des bénévoles »" in page
    )
    assert "Épicerie mobile" not in page.split("structure pilote :")[1][:80]
    assert not PlanValidation.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_CHANGED).exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"date": ""}, "Indiquez la date de validation."),
        ({"date": "32/13/2025"}, "Indiquez une date valide."),
        ({"validated_by": ""}, "Indiquez qui a validé le plan."),
        ({"committee": "workshop"}, "Sélectionnez un choix valide"),
    ],
)
def test_bad_validation_input_is_refused(client, world, overrides, message):
    world.action(code="A1")
    workshop = ConsultationSessionFactory(
        programme_territory=world.t1, kind=ConsultationSession.Kind.WORKSHOP
    )
    if overrides.get("committee") == "workshop":
        overrides = {"committee": str(workshop.pk)}  # a workshop is not a steering committee
    client.force_login(world.coordinator)
    response = client.post(url("validate", world), validation_data(world, **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert not PlanValidation.objects.exists()


def test_a_committee_of_another_territory_is_refused(client, world):
    world.action(code="A1")
    elsewhere = ConsultationSessionFactory(
        programme_territory=world.t2, kind=ConsultationSession.Kind.STEERING
    )
    client.force_login(world.coordinator)
    response = client.post(
        url("validate", world), validation_data(world, committee=str(elsewhere.pk))
    )
    assert "Sélectionnez un choix valide" in text(response)
    assert not PlanValidation.objects.exists()


# ---- History ------------------------------------------------------------------------------------


def edit(client, world, action, **overrides):
    data = {
        "code": action.code,
        "title": action.title,
        "axis": str(action.axis_id or ""),
        "description": action.description,
        "objectives": "",
        "pilots": [str(world.own.pk)],
        "elected_referent": "",
        "pat_axis": "",
        "participation_level": action.participation_level,
        "start_date": action.start_date.isoformat(),
        "end_date": action.end_date.isoformat(),
        "status": action.status,
        "priority": str(action.priority),
        "progress": str(action.progress),
        "weight": str(action.weight),
        "version": str(action.version),
    } | overrides
    response = client.post(url("action_edit", world, action.pk), data)
    assert response.status_code == 302
    action.refresh_from_db()


def test_the_history_says_who_changed_which_field_when(client, world, django_assert_num_queries):
    client.force_login(world.coordinator)
    client.post(
        url("action_create", world),
        {
            "code": "A1",
            "title": "Épicerie mobile",
            "axis": str(world.axis1.pk),
            "pilots": [str(world.own.pk)],
            "participation_level": "consultation",
            "start_date": "2025-03-01",
            "end_date": "2026-06-30",
            "status": "planned",
            "priority": "2",
            "progress": "0",
            "weight": "1",
        },
    )
    action = world.plan.actions.get()
    edit(client, world, action, status="in_progress", progress="25", axis=str(world.axis2.pk))
    client.force_login(world.territory_coordinator)
    edit(client, world, action, end_date="2026-12-31", audiences=["people"])
    other = world.action(code="B1", title="Action supprimée ensuite")
    client.post(url("action_delete", world, other.pk))

    client.force_login(world.local_authority)
    # session, user, memberships, programme territory, plan, validations, axes, history records
    with django_assert_num_queries(8):
        response = client.get(url("history", world))
    page = text(response)
    coordinator = world.coordinator.get_full_name()
    territory_coordinator = world.territory_coordinator.get_full_name()
    assert f"Création le {timezone.localtime(action.created_at):%d/%m/%Y}" in page
    assert (
        f"par {coordinator} Axe : Accès à l'alimentation → Pouvoir d'agir "
        "Statut : À venir → En cours Avancement (%) : 0 % → 25 %"
    ) in page
    assert f"par {territory_coordinator} Fin : 30/06/2026 → 31/12/2026" in page
    assert "Publics visés : (vide) → Personnes en situation de précarité alimentaire" in page
    assert "B1 — Action supprimée ensuite Supprimée" in page
    assert "Suppression le" in page

    response = client.get(url("history", world), {"action": str(action.pk)})
    page = text(response)
    assert "Modifications de l'action A1 — Épicerie mobile" in page
    assert "Action supprimée ensuite" not in page
    assert client.get(url("history", world), {"action": "inconnue"}).status_code == 404


def test_status_changes_show_on_the_action_page(client, world):
    action = world.action(code="A1", title="Épicerie mobile")
    client.force_login(world.coordinator)
    edit(client, world, action, status="in_progress")
    edit(client, world, action, status="late")
    page = text(client.get(url("action_detail", world, action.pk)))
    assert "créée « À venir »" in page
    assert "À venir → En cours" in page
    assert "En cours → En retard" in page
