"""The plan page of a territory: empty state and creation, axes, weighted progress roll-ups, links
to the other parts of the plan, and who may see or change it."""

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.plans import selectors
from tablee.plans.models import Action, ActionPlan, ActionStatus, Axis
from tablee.plans.tests.factories import ActionFactory, ActionPlanFactory
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
    return PlanWorld()


# ---- Who may see and change the plan -----------------------------------------------------------


def page_urls(world):
    return [
        url("detail", world),
        url("plan_edit", world),
        url("axis_create", world),
        url("axis_edit", world, world.axis1.pk),
        url("axis_delete", world, world.axis1.pk),
    ]


@pytest.mark.parametrize("role", EDITORS)
def test_coordinators_and_admin_open_every_plan_page(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", READERS)
def test_partner_and_local_authority_read_the_plan_but_change_nothing(client, world, role):
    client.force_login(getattr(world, role))
    response = client.get(url("detail", world))
    assert response.status_code == 200
    assert "Ajouter une action" not in text(response)
    for address in page_urls(world)[1:]:
        assert client.get(address).status_code == 403, address
    response = client.post(url("axis_create", world), {"title": "Un axe de plus"})
    assert response.status_code == 403
    assert client.post(url("axis_move", world, world.axis2.pk), {"sens": "haut"}).status_code == 403
    assert Axis.objects.count() == 2
    assert list(world.plan.axes.values_list("title", flat=True)) == [
        "Accès à l'alimentation",
        "Pouvoir d'agir",
    ]


@pytest.mark.parametrize("role", FUNDER)
def test_the_funder_reads_aggregates_only_not_the_plan(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 403, address


@pytest.mark.parametrize("role", OUT_OF_SCOPE)
def test_a_territory_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 404, address


def test_anonymous_is_sent_to_the_login_page(client, world):
    for address in page_urls(world):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_an_axis_of_another_plan_answers_404(client, world):
    other_plan = ActionPlanFactory(programme_territory=world.t2)
    elsewhere = Axis.objects.create(plan=other_plan, title="Ailleurs")
    client.force_login(world.coordinator)
    assert client.get(url("axis_edit", world, elsewhere.pk)).status_code == 404
    assert client.post(url("axis_delete", world, elsewhere.pk)).status_code == 404
    assert Axis.objects.filter(pk=elsewhere.pk).exists()


# ---- Empty state and creation -------------------------------------------------------------------


def test_without_a_plan_the_coordinator_gets_a_form_to_start_it(client, world):
    world.plan.delete()
    client.force_login(world.territory_coordinator)
    response = client.get(url("detail", world))
    page = text(response)
    assert "n'est pas encore rédigé" in page
    assert "Créer le plan d'action" in page

    response = client.post(
        url("plan_create", world),
        {"title": "Plan d'action 2025–2026", "summary": "Trois axes issus de la concertation."},
    )
    assert response.status_code == 302
    plan = ActionPlan.objects.get(programme_territory=world.t1)
    assert plan.title == "Plan d'action 2025–2026"
    assert plan.history.get().history_user == world.territory_coordinator
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.PLAN_CHANGED)
    assert event.detail == {"action": "plan_create", "plan": str(plan.pk)}


def test_without_a_plan_readers_see_an_empty_state_without_form(client, world):
    world.plan.delete()
    client.force_login(world.local_authority)
    response = client.get(url("detail", world))
    assert response.status_code == 200
    assert "L'équipe de coordination le rédigera" in text(response)
    assert response.context["form"] is None


def test_a_plan_without_title_is_refused_and_nothing_is_written(client, world):
    world.plan.delete()
    client.force_login(world.coordinator)
    response = client.post(url("plan_create", world), {"title": "", "summary": ""})
    assert response.status_code == 400
    assert "Donnez un titre au plan d'action." in text(response)
    assert not ActionPlan.objects.exists()


def test_a_second_plan_cannot_be_created(client, world):
    client.force_login(world.coordinator)
    response = client.post(url("plan_create", world), {"title": "Un autre plan"})
    assert response.status_code == 302
    assert ActionPlan.objects.get().title == "Plan d'action de CC Une (fictif)"


def test_pages_that_need_a_plan_send_back_to_the_plan_page(client, world):
    world.plan.delete()
    client.force_login(world.coordinator)
    for name in ("action_create", "steering", "timeline", "history", "validate"):
        response = client.get(url(name, world))
        assert response.status_code == 302, name
        assert response["Location"] == url("detail", world)


def test_editing_the_plan_with_a_stale_version_shows_both_values(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        url("plan_edit", world), {"title": "Plan révisé", "summary": "", "version": 1}
    )
    assert response.status_code == 302
    world.plan.refresh_from_db()
    assert (world.plan.title, world.plan.version) == ("Plan révisé", 2)

    response = client.post(
        url("plan_edit", world), {"title": "Mon titre", "summary": "", "version": 1}
    )
    assert response.status_code == 200
    page = text(response)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Plan révisé" in page  # the stored value, next to the form with "Mon titre"
    assert 'value="Mon titre"' in response.content.decode()
    world.plan.refresh_from_db()
    assert world.plan.title == "Plan révisé"


# ---- The plan page ------------------------------------------------------------------------------


def test_plan_page_groups_actions_by_axis_with_weighted_progress(
    client, world, django_assert_num_queries
):
    world.action(code="A1", title="Épicerie mobile", axis=world.axis1, progress=100, weight=3)
    world.action(code="A2", title="Atelier cuisine", axis=world.axis1, progress=0, weight=1)
    world.action(
        code="B1",
        title="Comité des personnes concernées",
        axis=world.axis2,
        progress=40,
        status=ActionStatus.BLOCKED,
    )
    world.action(code="C1", title="Action sans axe", progress=20, pilots=[])
    world.action(code="C2", title="Action abandonnée", progress=0, status=ActionStatus.ABANDONED)
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, plan, axes, actions, their pilots,
    # last validations
    with django_assert_num_queries(9):
        response = client.get(url("detail", world))
    groups = response.context["groups"]
    assert [g.title for g in groups] == ["Accès à l'alimentation", "Pouvoir d'agir", "Sans axe"]
    assert groups[0].progress.value == 75  # (100 × 3 + 0 × 1) / 4
    assert groups[1].progress.value == 40
    # The abandoned action is left out: (20 × 1) / 1.
    assert groups[2].progress.value == 20
    # Plan: (300 + 0 + 40 + 20) / (3 + 1 + 1 + 1) = 60.
    assert response.context["progress"].value == 60
    page = text(response)
    assert "Avancement pondéré du plan 60 %" in page
    assert "1 action en retard ou bloquée" in page
    assert "⚠ Bloquée" in page  # a badge with its text, not a colour only
    assert "Épicerie mobile" in page and "Action sans axe" in page


def test_plan_page_links_to_steering_timeline_history_and_optional_pages(client, world):
    client.force_login(world.coordinator)
    response = client.get(url("detail", world))
    content = response.content.decode()
    for name in ("steering", "timeline", "history", "validate", "action_create", "axis_create"):
        assert f'href="{url(name, world)}"' in content, name
    # Pages of other parts of Tablée appear once they exist, never as a broken link.
    for key, name in (
        ("export_url", "plan_sheets:export"),
        ("import_url", "plan_sheets:import"),
        ("pat_pdf_url", "plan_sheets:pat_pdf"),
        ("public_url", "accountability:territory"),
        ("consultation_url", "consultation:index"),
    ):
        address = response.context[key]
        if address:
            assert address == reverse(name, args=[world.t1.pk])
            assert f'href="{address}"' in content


def test_progress_rollups_of_the_selectors(world, django_assert_num_queries):
    world.action(code="A1", progress=50, weight=2)
    world.action(code="A2", progress=100, weight=2)
    world.action(code="A3", progress=0, weight=1, status=ActionStatus.ABANDONED)
    with django_assert_num_queries(1):
        progress = selectors.plan_progress(world.plan)
    assert progress == selectors.Progress(value=75, weight=4, count=2)
    with django_assert_num_queries(1):
        assert selectors.territory_progress(world.t1) == progress
    assert selectors.territory_progress(world.t2) == selectors.Progress(None, 0, 0)
    actions = list(Action.objects.all())
    assert selectors.rollup(actions) == progress


def test_programme_plan_progress_gives_each_territory(world, django_assert_num_queries):
    world.action(code="A1", progress=30, weight=1, status=ActionStatus.LATE)
    world.action(code="A2", progress=90, weight=2)
    t2_plan = ActionPlanFactory(programme_territory=world.t2)
    ActionFactory(plan=t2_plan, code="A1", progress=10)
    ActionFactory(plan=t2_plan, code="A2", progress=50, status=ActionStatus.BLOCKED)
    ActionFactory(plan=ActionPlanFactory(programme_territory=world.u), progress=100)
    # territories, plans, one aggregate over every action of the programme
    with django_assert_num_queries(3):
        rows = selectors.programme_plan_progress(world.programme)
    by_name = {row.programme_territory.territory.name: row for row in rows}
    assert set(by_name) == {"CC Une", "CC Deux"}
    assert by_name["CC Une"].progress.value == 70  # (30 + 180) / 3
    assert by_name["CC Une"].alert_count == 1
    assert by_name["CC Deux"].progress.value == 30
    assert by_name["CC Deux"].alert_count == 1
    assert by_name["CC Une"].has_plan and by_name["CC Deux"].has_plan


def test_a_territory_without_plan_has_no_progress(world):
    world.plan.delete()
    rows = selectors.programme_plan_progress(world.programme)
    assert [(r.has_plan, r.progress.value) for r in rows] == [(False, None), (False, None)]


# ---- Axes ---------------------------------------------------------------------------------------


def test_coordinator_adds_and_renames_an_axis(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        url("axis_create", world), {"title": "Santé et alimentation", "description": ""}
    )
    axis = Axis.objects.get(title="Santé et alimentation")
    assert response["Location"] == url("detail", world) + f"#axe-{axis.pk}"
    assert axis.position == 3
    response = client.post(
        url("axis_edit", world, axis.pk), {"title": "Santé", "description": "Avec la MSP."}
    )
    assert response.status_code == 302
    axis.refresh_from_db()
    assert (axis.title, axis.description) == ("Santé", "Avec la MSP.")
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PLAN_CHANGED).count() == 2


@pytest.mark.parametrize(
    ("title", "message"),
    [
        ("", "Donnez un intitulé à l'axe."),
        ("Pouvoir d'agir", "Le plan a déjà un axe « Pouvoir d'agir »."),
    ],
)
def test_a_bad_axis_is_refused_and_nothing_is_written(client, world, title, message):
    client.force_login(world.coordinator)
    response = client.post(url("axis_create", world), {"title": title})
    assert response.status_code == 200
    assert message in text(response)
    assert Axis.objects.count() == 2


def test_axes_are_reordered(client, world):
    third = Axis.objects.create(plan=world.plan, title="Troisième", position=3)
    client.force_login(world.coordinator)
    client.post(url("axis_move", world, third.pk), {"sens": "haut"})
    assert list(world.plan.axes.values_list("title", flat=True)) == [
        "Accès à l'alimentation",
        "Troisième",
        "Pouvoir d'agir",
    ]
    client.post(url("axis_move", world, world.axis1.pk), {"sens": "bas"})
    assert list(world.plan.axes.values_list("title", flat=True)) == [
        "Troisième",
        "Accès à l'alimentation",
        "Pouvoir d'agir",
    ]
    # The first cannot go higher; an unknown direction changes nothing.
    client.post(url("axis_move", world, third.pk), {"sens": "haut"})
    response = client.post(url("axis_move", world, third.pk), {"sens": "gauche"}, follow=True)
    assert "Déplacement inconnu" in text(response)
    assert list(world.plan.axes.values_list("position", flat=True)) == [1, 2, 3]
    assert world.plan.axes.first() == third
    assert client.get(url("axis_move", world, third.pk)).status_code == 405


def test_deleting_an_axis_asks_first_and_keeps_its_actions_without_axis(client, world):
    first = world.action(code="A1", axis=world.axis1)
    second = world.action(code="A2", axis=world.axis1)
    client.force_login(world.coordinator)
    response = client.get(url("axis_delete", world, world.axis1.pk))
    assert "Ses 2 actions restent dans le plan, « sans axe »." in text(response)
    assert Axis.objects.filter(pk=world.axis1.pk).exists()

    response = client.post(url("axis_delete", world, world.axis1.pk), follow=True)
    assert "2 actions sont désormais « sans axe »" in text(response)
    assert not Axis.objects.filter(pk=world.axis1.pk).exists()
    for action in (first, second):
        action.refresh_from_db()
        assert action.axis is None and action.version == 2
        assert action.history.first().history_user == world.coordinator
    assert response.context["groups"][-1].title == "Sans axe"
