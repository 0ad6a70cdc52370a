"""Links entered by hand: create, edit (with a version check), end, delete; bad input writes
nothing."""

import datetime
import html
import re

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.tests.factories_i import MeetingFactory
from tablee.network.models import Link, LinkKind, LinkSource
from tablee.network.services import ensure_fresh_links
from tablee.network.tests.factories import (
    EDIT_ROLES,
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    READ_ONLY_ROLES,
    NetworkWorld,
    manual_link,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    world = NetworkWorld()
    world.link = manual_link(
        world.t1,
        world.neighbour,
        world.health_centre,
        kind=LinkKind.REFERRAL,
        started_on=datetime.date(2025, 2, 1),
        note="Orientations vers les consultations",
    )
    return world


def url(name, world, *args):
    return reverse(f"network:{name}", args=[world.t1.pk, *args])


def create_data(world, **overrides):
    data = {
        "structure": str(world.mecs.pk),
        "linked_structure": str(world.cmp.pk),
        "kind": LinkKind.PARTNERSHIP,
        "started_on": "2025-05-20",
        "note": "Convention de partenariat pour les ateliers",
    }
    data.update(overrides)
    return data


def edit_data(link, **overrides):
    data = {
        "version": str(link.version),
        "kind": link.kind,
        "started_on": link.started_on.isoformat(),
        "ended_on": "",
        "note": link.note,
    }
    data.update(overrides)
    return data


# ---- Who may write ------------------------------------------------------------------------------


def page_urls(world):
    return [
        url("link_create", world),
        url("link_edit", world, world.link.pk),
        url("link_end", world, world.link.pk),
        url("link_delete", world, world.link.pk),
    ]


@pytest.mark.parametrize("role", EDIT_ROLES)
def test_the_association_opens_every_form(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", READ_ONLY_ROLES + FORBIDDEN_ROLES)
def test_others_are_refused_and_nothing_is_written(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 403, address
    assert client.post(url("link_create", world), create_data(world)).status_code == 403
    assert client.post(url("link_delete", world, world.link.pk)).status_code == 403
    assert client.post(url("refresh", world)).status_code == 403
    assert Link.objects.count() == 1
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NETWORK_CHANGED).exists()


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 404, address


def test_a_link_of_another_territory_or_a_derived_link_answers_404(client, world):
    elsewhere = manual_link(world.t2, world.sibling, world.own)
    MeetingFactory(programme_territory=world.t1, structures=[world.own, world.cmp])
    ensure_fresh_links(world.t1)
    derived = Link.objects.get(source=LinkSource.DERIVED)
    client.force_login(world.coordinator)
    for link in (elsewhere, derived):
        for name in ("link_edit", "link_end", "link_delete"):
            assert client.get(url(name, world, link.pk)).status_code == 404


# ---- Create --------------------------------------------------------------------------------------


def test_create_a_partnership(client, world):
    client.force_login(world.coordinator)
    form = client.get(url("link_create", world))
    assert "Choisir une structure" in text(form)
    # Only the three kinds entered by hand are offered.
    assert [value for value, _ in form.context["form"].fields["kind"].choices] == [
        "",
        "referral",
        "partnership",
        "information",
    ]

    response = client.post(url("link_create", world), create_data(world))

    assert response.status_code == 302
    assert response["Location"] == reverse("network:territory", args=[world.t1.pk]) + "#liens"
    link = Link.objects.get(kind=LinkKind.PARTNERSHIP)
    assert {link.structure_a, link.structure_b} == {world.mecs, world.cmp}
    assert str(link.structure_a_id) < str(link.structure_b_id)
    assert link.source == LinkSource.MANUAL
    assert (link.started_on, link.ended_on, link.strength) == (datetime.date(2025, 5, 20), None, 1)
    assert link.note == "Convention de partenariat pour les ateliers"
    assert link.created_by == world.coordinator
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NETWORK_CHANGED)
    assert event.detail == {"action": "link_create", "link": str(link.pk)}
    assert event.target == str(world.t1.pk)
    assert "Convention" not in str(event.detail)
    page = client.get(response["Location"])
    assert "Le lien est enregistré." in text(page)


@pytest.mark.parametrize(
    "overrides,message",
    [
        (
            {"linked_structure": "MECS"},
            "Choisissez deux structures différentes.",
        ),
        ({"linked_structure": "SIBLING"}, "Choisissez une structure de l'annuaire du territoire."),
        ({"structure": "OTHER"}, "Choisissez une structure de l'annuaire du territoire."),
        ({"structure": ""}, "Choisissez une structure."),
        ({"kind": "met"}, "Sélectionnez un choix valide"),
        ({"kind": ""}, "Choisissez la nature du lien."),
        ({"started_on": ""}, "Indiquez la date de début du lien."),
        ({"started_on": "31/02/2025"}, "Indiquez une date valide"),
        (
            {
                # The existing referral, its structures given the other way round.
                "structure": "CENTRE",
                "linked_structure": "CCAS",
                "kind": LinkKind.REFERRAL,
            },
            "Un lien « Orientation de personnes » saisi à la main existe déjà entre ces deux "
            "structures",
        ),
    ],
)
def test_bad_links_are_refused_in_french_and_nothing_is_written(client, world, overrides, message):
    names = {
        "MECS": world.mecs,
        "SIBLING": world.sibling,
        "OTHER": world.other,
        "CENTRE": world.health_centre,
        "CCAS": world.neighbour,
    }
    data = create_data(world)
    for key, value in overrides.items():
        data[key] = str(names[value].pk) if value in names else value
    client.force_login(world.coordinator)

    response = client.post(url("link_create", world), data)

    assert response.status_code == 200
    assert message in text(response)
    assert "Le formulaire" in text(response)
    assert Link.objects.count() == 1
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NETWORK_CHANGED).exists()


def test_the_service_refuses_a_structure_outside_the_territory(world):
    from django.core.exceptions import ValidationError

    from tablee.network.services_links import link_create

    with pytest.raises(ValidationError) as refused:
        link_create(
            programme_territory=world.t1,
            structure=world.neighbour,
            linked_structure=world.sibling,
            kind=LinkKind.REFERRAL,
            started_on=datetime.date(2025, 1, 1),
            acting_user=world.coordinator,
        )
    assert "n'est pas une structure du territoire" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        link_create(
            programme_territory=world.t1,
            structure=world.neighbour,
            linked_structure=world.cmp,
            kind=LinkKind.MET,
            started_on=datetime.date(2025, 1, 1),
            acting_user=world.coordinator,
        )
    assert Link.objects.count() == 1


# ---- Edit ----------------------------------------------------------------------------------------


def test_edit_a_link(client, world):
    client.force_login(world.coordinator)
    form = client.get(url("link_edit", world, world.link.pk))
    assert 'name="version" value="1"' in form.content.decode()

    response = client.post(
        url("link_edit", world, world.link.pk),
        edit_data(world.link, kind=LinkKind.INFORMATION, note="Échanges mensuels"),
    )

    assert response.status_code == 302
    world.link.refresh_from_db()
    assert (world.link.kind, world.link.note, world.link.version) == (
        LinkKind.INFORMATION,
        "Échanges mensuels",
        2,
    )
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NETWORK_CHANGED)
    assert event.detail["action"] == "link_update"


def test_an_edit_on_a_stale_version_is_refused_and_shows_the_stored_values(client, world):
    client.force_login(world.coordinator)
    stale = edit_data(world.link, note="Ma version")
    # Someone else saved meanwhile.
    client.post(url("link_edit", world, world.link.pk), edit_data(world.link, note="Leur version"))

    response = client.post(url("link_edit", world, world.link.pk), stale)

    assert response.status_code == 200
    page = text(response)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Leur version" in page
    world.link.refresh_from_db()
    assert (world.link.note, world.link.version) == ("Leur version", 2)


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"ended_on": "2025-01-15"}, "La fin du lien doit être postérieure à son début."),
        ({"ended_on": "2025-02-01"}, "La fin du lien doit être postérieure à son début."),
        ({"kind": "co_organised"}, "Sélectionnez un choix valide"),
        ({"started_on": ""}, "Ce champ est obligatoire."),
        ({"version": ""}, "Le formulaire est incomplet : rechargez la page puis recommencez."),
    ],
)
def test_bad_edits_are_refused_and_nothing_is_written(client, world, overrides, message):
    client.force_login(world.coordinator)
    response = client.post(
        url("link_edit", world, world.link.pk), edit_data(world.link, **overrides)
    )
    assert response.status_code == 200
    assert message in text(response)
    world.link.refresh_from_db()
    assert (world.link.kind, world.link.ended_on, world.link.version) == (
        LinkKind.REFERRAL,
        None,
        1,
    )


def test_an_edit_that_would_duplicate_a_link_is_refused(client, world):
    manual_link(
        world.t1, world.neighbour, world.health_centre, kind=LinkKind.INFORMATION, note="Autre"
    )
    client.force_login(world.coordinator)
    response = client.post(
        url("link_edit", world, world.link.pk), edit_data(world.link, kind=LinkKind.INFORMATION)
    )
    assert "existe déjà entre ces deux structures" in text(response)
    world.link.refresh_from_db()
    assert world.link.kind == LinkKind.REFERRAL


# ---- End and delete ------------------------------------------------------------------------------


def test_end_a_link_after_confirmation(client, world):
    client.force_login(world.coordinator)
    page = client.get(url("link_end", world, world.link.pk))
    assert "Confirmer la fin du lien" in text(page)

    response = client.post(
        url("link_end", world, world.link.pk), {"version": "1", "ended_on": "2025-09-30"}
    )

    assert response.status_code == 302
    world.link.refresh_from_db()
    assert (world.link.ended_on, world.link.version) == (datetime.date(2025, 9, 30), 2)
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.NETWORK_CHANGED).detail == {
        "action": "link_end",
        "link": str(world.link.pk),
    }
    # Ended: no longer among today's links, listed with the ended ones.
    territory = client.get(reverse("network:territory", args=[world.t1.pk]))
    assert territory.context["link_rows"] == []
    assert [row["link"] for row in territory.context["ended_rows"]] == [world.link]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"version": "1", "ended_on": "2025-01-31"}, "La fin du lien doit être postérieure"),
        ({"version": "1", "ended_on": ""}, "Indiquez la date de fin du lien."),
        ({"version": "1", "ended_on": "hier"}, "Saisissez une date valide."),
    ],
)
def test_a_bad_end_date_is_refused(client, world, data, message):
    client.force_login(world.coordinator)
    response = client.post(url("link_end", world, world.link.pk), data)
    assert response.status_code == 200
    assert message in text(response)
    world.link.refresh_from_db()
    assert world.link.ended_on is None


def test_ending_a_link_changed_meanwhile_is_refused(client, world):
    client.force_login(world.coordinator)
    client.post(url("link_edit", world, world.link.pk), edit_data(world.link, note="Changée"))
    response = client.post(
        url("link_end", world, world.link.pk), {"version": "1", "ended_on": "2025-09-30"}
    )
    assert "Quelqu'un d'autre a modifié cette fiche" in text(response)
    world.link.refresh_from_db()
    assert world.link.ended_on is None


def test_delete_a_link_after_confirmation(client, world):
    client.force_login(world.coordinator)
    page = client.get(url("link_delete", world, world.link.pk))
    assert "mettez-y fin" in text(page)
    assert Link.objects.count() == 1

    response = client.post(url("link_delete", world, world.link.pk))

    assert response.status_code == 302
    assert not Link.objects.exists()
    assert AuditEvent.objects.get(kind=AuditEvent.Kind.NETWORK_CHANGED).detail == {
        "action": "link_delete",
        "link": str(world.link.pk),
    }


def test_the_coordinator_recomputes_the_derived_links(client, world):
    MeetingFactory(programme_territory=world.t1, structures=[world.own, world.cmp])
    client.force_login(world.coordinator)
    assert client.get(url("refresh", world)).status_code == 405

    response = client.post(url("refresh", world), follow=True)

    assert "Liens déduits recalculés : 1 nouveau(x), 0 mis à jour, 0 supprimé(s)." in text(response)
    assert Link.objects.filter(source=LinkSource.DERIVED).count() == 1
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NETWORK_CHANGED)
    assert event.detail == {
        "action": "refresh_derived_links",
        "created": "1",
        "updated": "0",
        "deleted": "0",
        "unchanged": "0",
    }
