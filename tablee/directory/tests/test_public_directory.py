"""The public directory: no sign-in, publishable structures only, nothing private."""

import html
import re

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.directory.models import Category
from tablee.directory.tests.factories import (
    ContactFactory,
    DirectoryWorld,
    ServiceFactory,
    StructureFactory,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def listed(response) -> list[str]:
    return [s.name for s in response.context["page"].object_list]


@pytest.fixture
def world():
    world = DirectoryWorld()
    for structure in (world.own, world.sibling, world.other):
        structure.is_publishable = True
        structure.save()
    return world


class TestPublicList:
    url = reverse("public_directory:list")

    def test_anonymous_sees_publishable_structures_of_every_territory(
        self, client, world, django_assert_num_queries
    ):
        StructureFactory.create_batch(3, commune=world.commune2, is_publishable=True)
        # EPCI with publishable structures (filter), categories (filters), count, page
        with django_assert_num_queries(4):
            response = client.get(self.url)
        assert response.status_code == 200
        names = listed(response)
        assert len(names) == 6
        assert world.neighbour.name not in names
        page = text(response)
        assert "6 structures trouvées" in page
        assert "CC Autre Programme" in page  # the territory filter
        assert reverse("public_directory:detail", args=[world.own.pk]) in response.content.decode()
        assert "/annuaire/" + str(world.own.pk) not in response.content.decode()

    def test_search_and_filters(self, client, world):
        service = ServiceFactory(structure=world.sibling)
        service.food_aid_kinds.add(Category.objects.get(kind="food_aid", value="repas"))
        world.other.opening_hours = "Sa 09:00-12:00"
        world.other.save()
        assert listed(client.get(self.url, {"q": "epicerie"})) == [world.own.name]
        assert listed(client.get(self.url, {"aide": "repas"})) == [world.sibling.name]
        assert listed(client.get(self.url, {"ouvert": "5"})) == [world.other.name]
        assert listed(client.get(self.url, {"territoire": world.u.territory_id})) == [
            world.other.name
        ]
        # A non-publishable structure is never found, whatever the search.
        assert listed(client.get(self.url, {"q": "ccas"})) == []

    def test_a_public_list_longer_than_the_cap_is_counted_up_to_it(
        self, client, world, monkeypatch, django_assert_num_queries
    ):
        from tablee.directory import pagination

        monkeypatch.setattr(pagination, "RESULTS_CAP", 2)
        # EPCI with publishable structures (filter), categories (filters), count of the first
        # 2 + 1 matches, page
        with django_assert_num_queries(4):
            response = client.get(self.url)
        assert "Plus de 2 structures trouvées : les 2 premières sont listées." in text(response)
        assert len(listed(response)) == 2
        assert "1 structure trouvée." in text(client.get(self.url, {"q": "epicerie"}))

    def test_a_signed_in_user_sees_the_same_public_list(self, client, world):
        client.force_login(world.coordinator)
        assert world.neighbour.name not in listed(client.get(self.url))


class TestPublicMap:
    def test_map_page(self, client, world):
        response = client.get(reverse("public_directory:map"), {"q": "cada"})
        page = response.content.decode()
        assert response.status_code == 200
        assert 'data-url="/annuaire-public/carte/donnees/?q=cada"' in page
        assert "leaflet.markercluster.js" in page

    def test_map_data_holds_publishable_structures_only(
        self, client, world, django_assert_num_queries
    ):
        # EPCI (filter), categories (filter), structures
        with django_assert_num_queries(3):
            data = client.get(reverse("public_directory:map_data")).json()
        names = {p["name"] for p in data["structures"]}
        assert names == {world.own.name, world.sibling.name, world.other.name}
        point = next(p for p in data["structures"] if p["name"] == world.own.name)
        assert set(point) == {
            "id",
            "name",
            "commune",
            "lat",
            "lon",
            "sector",
            "sector_label",
            "approximate",
            "url",
        }
        assert point["url"] == reverse("public_directory:detail", args=[world.own.pk])


class TestPublicStructurePage:
    def url(self, structure):
        return reverse("public_directory:detail", args=[structure.pk])

    def test_shows_services_but_no_contact_at_all(self, client, world, django_assert_num_queries):
        world.own.phone = "02 96 00 00 00"
        world.own.opening_hours = "Mo-Fr 09:00-12:00"
        world.own.save()
        ContactFactory(structure=world.own, full_name="Contact fictif 1", email="cf1@example.org")
        ServiceFactory(
            structure=world.own,
            name="Épicerie",
            contact_name="Contact fictif 2",
            phone="02 96 11 11 11",
        )
        # structure with commune, EPCI and FINESS category, networks, services with their
        # commune, thématiques, publics, food-aid kinds, stops
        with django_assert_num_queries(7):
            response = client.get(self.url(world.own))
        page = text(response)
        assert response.status_code == 200
        assert "Lundi au vendredi : 9 h–12 h" in page
        assert "02 96 00 00 00" in page
        assert "Épicerie" in page and "02 96 11 11 11" in page
        assert "Contact fictif" not in page
        assert "cf1@example.org" not in page
        assert "Contacts professionnels" not in page
        assert "Modifier" not in page
        assert not AuditEvent.objects.exists()

    def test_a_structure_that_is_not_publishable_is_404(self, client, world):
        assert client.get(self.url(world.neighbour)).status_code == 404
        client.force_login(world.admin)
        assert client.get(self.url(world.neighbour)).status_code == 404

    def test_unknown_structure_is_404(self, client, world):
        assert (
            client.get(
                reverse("public_directory:detail", args=["00000000-0000-0000-0000-000000000000"])
            ).status_code
            == 404
        )
