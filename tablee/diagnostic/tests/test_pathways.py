"""Pathways (parcours types): permissions, timeline, ordered steps, breaks, bad input."""

from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tablee.accounts.models import AuditEvent
from tablee.diagnostic import services_pathways as services
from tablee.diagnostic.models import Pathway, PathwayStep
from tablee.diagnostic.tests.factories_j import (
    NeedForPathwayFactory,
    PathwayFactory,
    PathwayStepFactory,
)
from tablee.directory.tests.factories import DirectoryWorld

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return DirectoryWorld()


@pytest.fixture
def pathway(world):
    return PathwayFactory(programme_territory=world.t1, title="Premier colis")


def positions(pathway):
    return list(pathway.steps.order_by("position").values_list("description", "position"))


def make_steps(pathway, *descriptions):
    return [
        PathwayStepFactory(pathway=pathway, position=index, description=text)
        for index, text in enumerate(descriptions, start=1)
    ]


# ---- Permissions ------------------------------------------------------------------------------

VIEW_PAGES = ["list", "detail"]
EDIT_PAGES = ["create", "edit", "step_add"]


def page_url(name, world, pathway):
    if name in ("list", "create"):
        return reverse(f"pathways:{name}", args=[world.t1.pk])
    return reverse(f"pathways:{name}", args=[world.t1.pk, pathway.pk])


@pytest.mark.parametrize("name", VIEW_PAGES + EDIT_PAGES)
@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("admin", 200),
        ("coordinator", 200),
        ("territory_coordinator", 200),
        ("partner", 403),
        ("local_authority", 403),
        ("funder", 403),
        ("no_role", 404),
    ],
)
def test_pages_by_role(client, world, pathway, name, who, status):
    client.force_login(getattr(world, who))
    response = client.get(page_url(name, world, pathway))
    assert response.status_code == status


@pytest.mark.parametrize("name", VIEW_PAGES + EDIT_PAGES)
def test_anonymous_is_sent_to_sign_in(client, world, pathway, name):
    response = client.get(page_url(name, world, pathway))
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


def test_a_territory_outside_the_scope_answers_404(client, world):
    client.force_login(world.territory_coordinator)
    assert client.get(reverse("pathways:list", args=[world.t2.pk])).status_code == 404


def test_a_pathway_of_another_territory_answers_404_under_this_one(client, world):
    elsewhere = PathwayFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    url = reverse("pathways:detail", args=[world.t1.pk, elsewhere.pk])
    assert client.get(url).status_code == 404


def test_refused_roles_cannot_move_or_remove_steps(client, world, pathway):
    first, second = make_steps(pathway, "Accueil", "Orientation")
    for who in ("partner", "local_authority", "funder"):
        client.force_login(getattr(world, who))
        move = reverse("pathways:step_move", args=[world.t1.pk, pathway.pk, second.pk])
        remove = reverse("pathways:step_remove", args=[world.t1.pk, pathway.pk, second.pk])
        assert client.post(move, {"direction": "up"}).status_code == 403
        assert client.post(remove).status_code == 403
    assert positions(pathway) == [("Accueil", 1), ("Orientation", 2)]


# ---- List and timeline ------------------------------------------------------------------------


def test_list_shows_each_pathway_with_its_steps_and_breaks(
    client, world, django_assert_num_queries
):
    for index in range(3):
        pathway = PathwayFactory(programme_territory=world.t1, title=f"Parcours {index}")
        make_steps(pathway, "Accueil", "Orientation")
        PathwayStep.objects.filter(pathway=pathway, position=1).update(break_after="Pas de bus")
    PathwayFactory(programme_territory=world.t2, title="Ailleurs")
    client.force_login(world.coordinator)

    # session, user, memberships, programme territory, pathways with their counts
    with django_assert_num_queries(5):
        response = client.get(reverse("pathways:list", args=[world.t1.pk]))

    assert response.status_code == 200
    rows = [(p.title, p.step_count, p.break_count) for p in response.context["pathways"]]
    assert rows == [("Parcours 0", 2, 1), ("Parcours 1", 2, 1), ("Parcours 2", 2, 1)]
    assert "Ailleurs" not in response.content.decode()


def test_timeline_shows_steps_in_order_with_the_break_marked_in_words(
    client, world, pathway, django_assert_num_queries
):
    need = NeedForPathwayFactory(programme_territory=world.t1, title="Pas de transport le samedi")
    steps = make_steps(pathway, "Premier accueil", "Rendez-vous CCAS", "Colis")
    steps[0].structure = world.neighbour
    steps[0].delay_days = 12
    steps[0].distance_km = Decimal("18.5")
    steps[0].save()
    steps[1].break_after = "Le bus ne passe pas le jour de la distribution."
    steps[1].save()
    steps[1].break_needs.add(need)
    client.force_login(world.coordinator)

    # session, user, memberships, programme territory, pathway, steps with structures,
    # needs of the breaks with their category
    with django_assert_num_queries(7):
        response = client.get(reverse("pathways:detail", args=[world.t1.pk, pathway.pk]))

    html = response.content.decode()
    assert response.status_code == 200
    assert html.index("Premier accueil") < html.index("Rendez-vous CCAS") < html.index("Colis")
    assert "CCAS de Loudéac" in html
    assert "Délai : 12 jours" in html
    assert "Distance : 18,5 km" in html
    # The break is said in words and with a sign, not by a colour only.
    assert "Rupture après l'étape 2" in html
    assert "✕" in html
    assert "Le bus ne passe pas le jour de la distribution." in html
    assert "Pas de transport le samedi" in html
    assert "1 rupture" in html
    # Printable: the print stylesheet and the print button script are loaded.
    assert "css/pathway_print.css" in html
    assert "js/print_page.js" in html


# ---- Creating and editing ---------------------------------------------------------------------


def test_coordinator_creates_a_pathway(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("pathways:create", args=[world.t1.pk]),
        {"title": "Aide alimentaire d'urgence", "persona": "Homme seul, sans logement"},
    )
    pathway = Pathway.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("pathways:detail", args=[world.t1.pk, pathway.pk])
    assert pathway.programme_territory == world.t1
    assert pathway.created_by == world.coordinator
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED)
    assert event.detail == {"action": "pathway_create", "pathway": str(pathway.pk)}


def test_form_warns_that_the_persona_is_a_typical_situation(client, world):
    client.force_login(world.coordinator)
    html = client.get(reverse("pathways:create", args=[world.t1.pk])).content.decode()
    assert "Une situation type, jamais une personne réelle." in html


def test_a_pathway_without_persona_is_refused(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("pathways:create", args=[world.t1.pk]), {"title": "Sans persona", "persona": ""}
    )
    assert response.status_code == 200
    assert "Ce champ est obligatoire." in response.content.decode()
    assert not Pathway.objects.exists()


def test_editing_a_pathway_changed_meanwhile_is_refused(client, world, pathway):
    client.force_login(world.coordinator)
    services.pathway_update(
        pathway=pathway, version=1, title="Changé", persona="Autre", acting_user=world.admin
    )
    response = client.post(
        reverse("pathways:edit", args=[world.t1.pk, pathway.pk]),
        {"title": "Mon titre", "persona": "Ma situation", "version": 1},
    )
    assert response.status_code == 200
    assert "autre a modifié cette fiche pendant" in response.content.decode()
    pathway.refresh_from_db()
    assert (pathway.title, pathway.version) == ("Changé", 2)


# ---- Steps ------------------------------------------------------------------------------------


def step_data(**overrides):
    data = {
        "structure": "",
        "structure_type": "Épicerie solidaire",
        "description": "Achat à prix réduit",
        "delay_days": "7",
        "distance_km": "12,5",
        "break_after": "",
    }
    data.update(overrides)
    return data


def test_steps_are_added_at_the_end_with_their_break_and_needs(client, world, pathway):
    need = NeedForPathwayFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    url = reverse("pathways:step_add", args=[world.t1.pk, pathway.pk])

    client.post(url, step_data(structure=str(world.neighbour.pk), description="Accueil"))
    response = client.post(
        url,
        step_data(description="Colis", break_after="Trop loin", break_needs=[str(need.pk)]),
    )

    assert response.status_code == 302
    assert positions(pathway) == [("Accueil", 1), ("Colis", 2)]
    second = pathway.steps.get(position=2)
    assert second.distance_km == Decimal("12.5")
    assert list(second.break_needs.all()) == [need]
    assert pathway.steps.get(position=1).structure == world.neighbour


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"structure_type": ""}, "Choisissez une structure du territoire ou indiquez un type."),
        ({"description": ""}, "Ce champ est obligatoire."),
        ({"distance_km": "-3"}, "La distance ne peut pas être négative."),
        ({"delay_days": "-1"}, "Assurez-vous que cette valeur est supérieure ou égale à 0."),
    ],
)
def test_bad_steps_are_refused_and_nothing_is_written(client, world, pathway, overrides, message):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("pathways:step_add", args=[world.t1.pk, pathway.pk]), step_data(**overrides)
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not PathwayStep.objects.exists()


def test_a_structure_or_need_of_another_territory_cannot_be_chosen(client, world, pathway):
    foreign_need = NeedForPathwayFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    url = reverse("pathways:step_add", args=[world.t1.pk, pathway.pk])

    response = client.post(url, step_data(structure=str(world.sibling.pk)))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()

    response = client.post(url, step_data(break_needs=[str(foreign_need.pk)]))
    assert response.status_code == 200
    assert "Sélectionnez un choix valide" in response.content.decode()
    assert not PathwayStep.objects.exists()


def test_the_service_refuses_a_structure_of_another_territory(world, pathway):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        services.step_add(
            pathway=pathway,
            structure=world.sibling,
            description="Ailleurs",
            acting_user=world.coordinator,
        )
    assert not PathwayStep.objects.exists()


def test_move_up_and_down_swaps_neighbours_and_keeps_positions_contiguous(client, world, pathway):
    first, second, third = make_steps(pathway, "A", "B", "C")
    client.force_login(world.coordinator)

    def move(step, direction):
        url = reverse("pathways:step_move", args=[world.t1.pk, pathway.pk, step.pk])
        return client.post(url, {"direction": direction})

    assert move(third, "up").status_code == 302
    assert positions(pathway) == [("A", 1), ("C", 2), ("B", 3)]
    move(first, "down")
    assert positions(pathway) == [("C", 1), ("A", 2), ("B", 3)]
    # At the ends nothing moves.
    move(third, "up")
    assert positions(pathway) == [("C", 1), ("A", 2), ("B", 3)]
    move(second, "down")
    assert positions(pathway) == [("C", 1), ("A", 2), ("B", 3)]
    assert AuditEvent.objects.filter(detail__action="pathway_step_move").count() == 2


def test_an_unknown_direction_moves_nothing(client, world, pathway):
    first, second = make_steps(pathway, "A", "B")
    client.force_login(world.coordinator)
    url = reverse("pathways:step_move", args=[world.t1.pk, pathway.pk, second.pk])
    response = client.post(url, {"direction": "sideways"}, follow=True)
    assert "Déplacement inconnu" in response.content.decode()
    assert positions(pathway) == [("A", 1), ("B", 2)]


def test_moving_needs_a_post(client, world, pathway):
    (step,) = make_steps(pathway, "A")
    client.force_login(world.coordinator)
    url = reverse("pathways:step_move", args=[world.t1.pk, pathway.pk, step.pk])
    assert client.get(url, {"direction": "up"}).status_code == 405


def test_removing_a_step_closes_the_gap(client, world, pathway):
    steps = make_steps(pathway, "A", "B", "C", "D")
    client.force_login(world.coordinator)
    url = reverse("pathways:step_remove", args=[world.t1.pk, pathway.pk, steps[1].pk])

    assert "Retirer l'étape 2" in client.get(url).content.decode()
    assert positions(pathway) == [("A", 1), ("B", 2), ("C", 3), ("D", 4)]
    response = client.post(url)

    assert response.status_code == 302
    assert positions(pathway) == [("A", 1), ("C", 2), ("D", 3)]


def test_editing_a_step_keeps_its_position(client, world, pathway):
    steps = make_steps(pathway, "A", "B")
    client.force_login(world.coordinator)
    url = reverse("pathways:step_edit", args=[world.t1.pk, pathway.pk, steps[0].pk])
    response = client.post(url, step_data(description="A modifiée", break_after="Rupture"))
    assert response.status_code == 302
    assert positions(pathway) == [("A modifiée", 1), ("B", 2)]
    assert pathway.steps.get(position=1).break_after == "Rupture"


def test_a_step_of_another_pathway_answers_404(client, world, pathway):
    other = PathwayFactory(programme_territory=world.t1)
    (foreign,) = make_steps(other, "Ailleurs")
    client.force_login(world.coordinator)
    url = reverse("pathways:step_edit", args=[world.t1.pk, pathway.pk, foreign.pk])
    assert client.get(url).status_code == 404


def test_deleting_a_pathway_removes_its_steps_but_not_the_needs(client, world, pathway):
    need = NeedForPathwayFactory(programme_territory=world.t1)
    steps = make_steps(pathway, "A", "B")
    steps[0].break_needs.add(need)
    client.force_login(world.coordinator)
    url = reverse("pathways:delete", args=[world.t1.pk, pathway.pk])

    assert "ses 2 étapes seront supprimés" in client.get(url).content.decode()
    response = client.post(url)

    assert response["Location"] == reverse("pathways:list", args=[world.t1.pk])
    assert not Pathway.objects.exists()
    assert not PathwayStep.objects.exists()
    need.refresh_from_db()
    assert AuditEvent.objects.filter(detail__action="pathway_delete").count() == 1


@pytest.mark.parametrize("who", ["partner", "local_authority", "funder"])
def test_refused_roles_cannot_delete_a_pathway(client, world, pathway, who):
    client.force_login(getattr(world, who))
    assert (
        client.post(reverse("pathways:delete", args=[world.t1.pk, pathway.pk])).status_code == 403
    )
    assert Pathway.objects.filter(pk=pathway.pk).exists()


# ---- Positions stay 1..n whatever the sequence of changes -------------------------------------

operations = st.lists(
    st.tuples(st.sampled_from(["add", "remove", "up", "down"]), st.integers(0, 9)),
    max_size=15,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=operations)
def test_positions_stay_unique_and_contiguous(world, operations):
    pathway = PathwayFactory(programme_territory=world.t1)
    expected: list[str] = []
    for index, (operation, pick) in enumerate(operations):
        steps = list(pathway.steps.order_by("position"))
        if operation == "add" or not steps:
            services.step_add(
                pathway=pathway,
                structure_type="CCAS",
                description=f"s{index}",
                acting_user=world.coordinator,
            )
            expected.append(f"s{index}")
            continue
        step = steps[pick % len(steps)]
        at = expected.index(step.description)
        if operation == "remove":
            services.step_remove(step=step, acting_user=world.coordinator)
            expected.pop(at)
        elif operation == "up":
            services.step_move(step=step, direction="up", acting_user=world.coordinator)
            if at > 0:
                expected[at - 1], expected[at] = expected[at], expected[at - 1]
        else:
            services.step_move(step=step, direction="down", acting_user=world.coordinator)
            if at < len(expected) - 1:
                expected[at + 1], expected[at] = expected[at], expected[at + 1]
    stored = list(pathway.steps.order_by("position").values_list("description", "position"))
    assert stored == [(text, position) for position, text in enumerate(expected, start=1)]
