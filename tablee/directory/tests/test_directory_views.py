"""The directory inside the application: list, map, structure page, and who may see what."""

import datetime
import html
import json
import re

import pytest
from django import forms
from django.test.html import parse_html
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.directory.models import Category, Sector, Structure
from tablee.directory.tests.factories import (
    ContactFactory,
    DirectoryWorld,
    ServiceFactory,
    ServiceStopFactory,
    StructureFactory,
)
from tablee.territories.tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def listed(response) -> list[str]:
    return [s.name for s in response.context["page"].object_list]


def category(kind, value):
    return Category.objects.get(kind=kind, value=value)


@pytest.fixture
def world():
    return DirectoryWorld()


class TestStructureList:
    url = reverse("directory:list")

    def test_coordinator_sees_its_programme_territories(
        self, client, world, django_assert_num_queries
    ):
        StructureFactory.create_batch(3, commune=world.commune2)
        client.force_login(world.coordinator)
        # session, user, memberships, programme territories (filter), categories (filters),
        # count, page of structures with their commune
        with django_assert_num_queries(7):
            response = client.get(self.url)
        assert response.status_code == 200
        names = listed(response)
        assert len(names) == 6
        assert world.other.name not in names
        page = text(response)
        assert "6 structures trouvées" in page
        assert "Nouvelle structure" in page
        assert (
            "CC Autre Programme" not in page
        )  # the territory filter offers the programme's EPCI only

    def test_a_list_longer_than_the_cap_is_counted_up_to_it(
        self, client, world, monkeypatch, django_assert_num_queries
    ):
        from tablee.directory import pagination

        monkeypatch.setattr(pagination, "RESULTS_CAP", 3)
        StructureFactory.create_batch(2, commune=world.commune2)
        client.force_login(world.admin)
        # session, user, memberships, programme territories (filter), categories (filters),
        # count of the first 3 + 1 matches, page of structures with their commune
        with django_assert_num_queries(7):
            response = client.get(self.url, {"page": "9"})
        page = text(response)
        assert "Plus de 3 structures trouvées : les 3 premières sont listées." in page
        names = sorted(Structure.objects.values_list("search_name", flat=True))
        assert [s.search_name for s in response.context["page"].object_list] == names[:3]
        # At the cap or below, the exact count.
        response = client.get(self.url, {"q": "loudeac"})
        assert "2 structures trouvées." in text(response)
        assert not response.context["page"].paginator.capped

    def test_partner_and_local_authority_see_their_territory_only(self, client, world):
        for user in (world.partner, world.local_authority, world.territory_coordinator):
            client.force_login(user)
            names = listed(client.get(self.url))
            assert sorted(names) == sorted([world.own.name, world.neighbour.name])

    def test_partner_may_not_create(self, client, world):
        client.force_login(world.partner)
        assert "Nouvelle structure" not in text(client.get(self.url))

    @pytest.mark.parametrize("person", ["funder", "no_role"])
    def test_funder_and_user_without_role_are_refused(self, client, world, person):
        client.force_login(getattr(world, person))
        assert client.get(self.url).status_code == 403

    def test_anonymous_is_sent_to_login(self, client, world):
        response = client.get(self.url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response.url

    def test_search_ignores_accents_and_case_and_reads_the_commune(self, client, world):
        client.force_login(world.admin)
        assert listed(client.get(self.url, {"q": "EPICERIE centre"})) == [world.own.name]
        assert sorted(listed(client.get(self.url, {"q": "loudeac"}))) == sorted(
            [world.own.name, world.neighbour.name]
        )
        assert listed(client.get(self.url, {"q": "vitre chrs"})) == [world.other.name]
        assert "Aucune structure ne correspond" in text(client.get(self.url, {"q": "zzz"}))

    def test_territory_commune_and_sector_filters(self, client, world):
        world.sibling.sector = Sector.SOCIAL
        world.sibling.save()
        client.force_login(world.coordinator)
        by_territory = listed(client.get(self.url, {"territoire": world.t2.territory_id}))
        assert by_territory == [world.sibling.name]
        by_code = listed(client.get(self.url, {"commune": f"Rostrenen ({world.commune2.code})"}))
        assert by_code == [world.sibling.name]
        by_name = listed(client.get(self.url, {"commune": "rostrenen"}))
        assert by_name == [world.sibling.name]
        assert listed(client.get(self.url, {"secteur": "social"})) == [world.sibling.name]

    def test_a_territory_outside_the_scope_is_not_a_way_in(self, client, world):
        client.force_login(world.coordinator)
        response = client.get(self.url, {"territoire": world.u.territory_id})
        # An unknown choice is dropped: the whole directory of the user, never U's structures.
        assert world.other.name not in listed(response)
        assert len(listed(response)) == 3

    def test_service_facets_network_and_finess_filters(self, client, world):
        alimentation = category("thematique", "equipement-et-alimentation--alimentation")
        families = category("public", "familles")
        parcel = category("food_aid", "colis")
        service = ServiceFactory(structure=world.own)
        service.thematiques.add(alimentation)
        service.publics.add(families)
        service.food_aid_kinds.add(parcel)
        ServiceFactory(structure=world.own)  # a second service: the structure is listed once
        world.neighbour.networks.add(category("reseau", "ccas-cias"))
        world.sibling.finess_category = category("finess", "443")  # CADA
        world.sibling.save()
        client.force_login(world.coordinator)
        assert listed(client.get(self.url, {"thematique": alimentation.value})) == [world.own.name]
        assert listed(client.get(self.url, {"public": families.value})) == [world.own.name]
        assert listed(client.get(self.url, {"aide": "colis"})) == [world.own.name]
        assert listed(client.get(self.url, {"reseau": "ccas-cias"})) == [world.neighbour.name]
        assert listed(client.get(self.url, {"finess": "443"})) == [world.sibling.name]

    def test_filter_selects_are_the_html_of_django_select(self, client, world):
        """The filter selects are written in Python: same options, labels, optgroups, selected
        option and attributes as Django's own Select template."""
        client.force_login(world.coordinator)
        response = client.get(self.url, {"finess": "443", "thematique": "sante--x", "tri": "-maj"})
        form = response.context["form"]
        for name in ("territoire", "secteur", "reseau", "finess", "thematique", "ouvert", "tri"):
            bound = form[name]
            expected = forms.Select(attrs=bound.field.widget.attrs, choices=bound.field.choices)
            assert parse_html(str(bound)) == parse_html(
                expected.render(
                    bound.html_name, bound.value(), bound.build_widget_attrs({"id": bound.auto_id})
                )
            ), name
        assert '<option value="443" selected>' in response.content.decode()
        assert "<optgroup label=" in response.content.decode()

    def test_open_on_a_given_day(self, client, world):
        world.own.opening_hours = "Mo-Fr 09:00-12:00"
        world.own.save()
        world.neighbour.opening_hours = "Sa 10:00-12:00"
        world.neighbour.save()
        world.sibling.opening_hours = "Mo-Sa 08:00-18:00"
        world.sibling.save()
        client.force_login(world.coordinator)
        assert sorted(listed(client.get(self.url, {"ouvert": "5"}))) == sorted(
            [world.neighbour.name, world.sibling.name]
        )
        assert sorted(listed(client.get(self.url, {"ouvert": "0"}))) == sorted(
            [world.own.name, world.sibling.name]
        )
        assert listed(client.get(self.url, {"ouvert": "6"})) == []

    def test_sorting_by_commune_and_update(self, client, world):
        world.own.data_updated_on = datetime.date(2020, 1, 1)
        world.own.save()
        client.force_login(world.coordinator)
        by_commune = listed(client.get(self.url, {"tri": "commune"}))
        assert by_commune[-1] == world.sibling.name  # Rostrenen after Loudéac
        oldest_first = listed(client.get(self.url, {"tri": "maj"}))
        assert oldest_first[0] == world.own.name
        assert listed(client.get(self.url, {"tri": "-maj"}))[-1] == world.own.name

    def test_pagination_keeps_the_filters(self, client, world):
        StructureFactory.create_batch(55, commune=world.commune2, name="Antenne")
        client.force_login(world.coordinator)
        response = client.get(self.url, {"q": "antenne"})
        assert len(listed(response)) == 50
        assert "?q=antenne&amp;page=2" in response.content.decode()
        assert len(listed(client.get(self.url, {"q": "antenne", "page": 2}))) == 5

    def test_htmx_gets_the_results_only(self, client, world):
        client.force_login(world.coordinator)
        response = client.get(
            self.url, {"q": "cada", "secteur": "", "tri": "nom"}, headers={"HX-Request": "true"}
        )
        assert world.sibling.name in text(response)
        assert "<html" not in response.content.decode()
        assert response["HX-Push-Url"] == "/annuaire/?q=cada"

    def test_stale_structures_are_flagged(self, client, world):
        world.own.data_updated_on = timezone.localdate() - datetime.timedelta(days=400)
        world.own.save()
        client.force_login(world.partner)
        page = text(client.get(self.url))
        assert page.count("à vérifier") == 1


class TestMap:
    def test_map_page_carries_the_filters_to_the_data(self, client, world):
        client.force_login(world.coordinator)
        response = client.get(reverse("directory:map"), {"secteur": "health", "bogus": "x"})
        assert response.status_code == 200
        assert 'data-url="/annuaire/carte/donnees/?secteur=health"' in response.content.decode()
        assert "directory_map.js" in response.content.decode()

    def test_map_data(self, client, world, django_assert_num_queries):
        world.own.latitude, world.own.longitude = 48.1801, -2.7523
        world.own.save()
        StructureFactory.create_batch(3, commune=world.commune2)
        client.force_login(world.coordinator)
        # session, user, memberships, programme territories, categories, structures
        with django_assert_num_queries(6):
            response = client.get(reverse("directory:map_data"))
        data = json.loads(response.content)
        assert data["count"] == 6
        points = {p["name"]: p for p in data["structures"]}
        assert points[world.own.name]["lat"] == 48.1801
        assert points[world.own.name]["approximate"] is False
        # Without coordinates, the commune's centre, flagged approximate.
        assert points[world.sibling.name]["lat"] == 48.23
        assert points[world.sibling.name]["approximate"] is True
        assert points[world.sibling.name]["url"] == reverse(
            "directory:detail", args=[world.sibling.pk]
        )
        assert world.other.name not in points

    def test_map_data_applies_the_filters(self, client, world):
        client.force_login(world.coordinator)
        data = client.get(reverse("directory:map_data"), {"q": "cada"}).json()
        assert [p["name"] for p in data["structures"]] == [world.sibling.name]

    def test_structures_without_any_position_are_counted(self, client, world):
        StructureFactory(commune=CommuneFactory(territory=world.t1.territory, latitude=None))
        client.force_login(world.partner)
        data = client.get(reverse("directory:map_data")).json()
        assert data["without_position"] == 1
        assert data["count"] == 2

    @pytest.mark.parametrize("person", ["funder", "no_role"])
    def test_refused_roles(self, client, world, person):
        client.force_login(getattr(world, person))
        assert client.get(reverse("directory:map")).status_code == 403
        assert client.get(reverse("directory:map_data")).status_code == 403

    def test_anonymous_gets_no_data(self, client, world):
        assert client.get(reverse("directory:map_data")).status_code == 302


class TestStructurePage:
    def url(self, structure):
        return reverse("directory:detail", args=[structure.pk])

    def test_coordinator_sees_services_hours_and_contacts(
        self, client, world, django_assert_num_queries
    ):
        structure = world.sibling
        structure.opening_hours = "Mo-Fr 09:00-12:00,14:00-17:00"
        structure.save()
        structure.networks.add(category("reseau", "ccas-cias"))
        service = ServiceFactory(structure=structure, name="Épicerie mobile", is_itinerant=True)
        service.thematiques.add(category("thematique", "equipement-et-alimentation--alimentation"))
        service.food_aid_kinds.add(category("food_aid", "epicerie-solidaire"))
        ServiceStopFactory(service=service, commune=world.commune2, opening_hours="Tu 10:00-12:00")
        ServiceStopFactory(service=service, commune=world.commune1, opening_hours="Th 14:00-16:00")
        ServiceFactory(structure=structure, name="Accueil social")
        ContactFactory(structure=structure, full_name="Contact fictif 1")
        client.force_login(world.coordinator)
        # session, user, memberships, structure with commune, EPCI and FINESS category,
        # programme check for the contacts permission, contacts, audit insert, networks,
        # services with their commune, thématiques, publics, food-aid kinds, stops with their
        # commune, programme check for the edit permission
        with django_assert_num_queries(14):
            response = client.get(self.url(structure))
        page = text(response)
        assert "Lundi au vendredi : 9 h–12 h, 14 h–17 h" in page
        assert "Épicerie mobile" in page and "Accueil social" in page
        assert "Service itinérant : 2 arrêts" in page
        assert "mardi : 10 h–12 h" in page
        assert "Contact fictif 1" in page
        assert "Modifier la structure" in page
        assert "Position approximative" not in page  # no coordinates at all here
        assert "Position inconnue" in page
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.NAMED_RECORD_READ)
        assert event.actor == world.coordinator
        assert event.target == str(structure.pk)
        assert "Contact fictif" not in json.dumps(event.detail)

    def test_partner_edits_its_own_structure_and_sees_its_contacts(self, client, world):
        ContactFactory(structure=world.own, full_name="Contact fictif 2")
        client.force_login(world.partner)
        page = text(client.get(self.url(world.own)))
        assert "Modifier la structure" in page
        assert "Contact fictif 2" in page

    def test_partner_reads_a_neighbour_without_contacts_nor_edit(self, client, world):
        ContactFactory(structure=world.neighbour, full_name="Contact fictif 3")
        client.force_login(world.partner)
        response = client.get(self.url(world.neighbour))
        page = text(response)
        assert response.status_code == 200
        assert "Contact fictif 3" not in page
        assert "Contacts professionnels" not in page
        assert "Modifier la structure" not in page
        assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NAMED_RECORD_READ).exists()

    def test_local_authority_reads_without_contacts(self, client, world):
        ContactFactory(structure=world.own, full_name="Contact fictif 4")
        client.force_login(world.local_authority)
        page = text(client.get(self.url(world.own)))
        assert world.own.name in page
        assert "Contact fictif 4" not in page
        assert "Modifier la structure" not in page

    @pytest.mark.parametrize(
        "person, structure",
        [
            ("partner", "sibling"),
            ("local_authority", "sibling"),
            ("territory_coordinator", "sibling"),
            ("coordinator", "other"),
        ],
    )
    def test_outside_the_scope_is_404(self, client, world, person, structure):
        client.force_login(getattr(world, person))
        assert client.get(self.url(getattr(world, structure))).status_code == 404

    @pytest.mark.parametrize("person", ["funder", "no_role"])
    def test_refused_roles(self, client, world, person):
        client.force_login(getattr(world, person))
        assert client.get(self.url(world.own)).status_code == 403

    def test_stale_and_approximate_notes(self, client, world):
        world.own.data_updated_on = timezone.localdate() - datetime.timedelta(days=370)
        world.own.latitude, world.own.longitude = 48.18, -2.75
        world.own.location_is_approximate = True
        world.own.save()
        client.force_login(world.partner)
        page = text(client.get(self.url(world.own)))
        assert "à vérifier" in page
        assert "plus de douze mois" in page
        assert "Position approximative" in page

    def test_recent_information_is_not_flagged(self, client, world):
        client.force_login(world.partner)
        assert "à vérifier" not in text(client.get(self.url(world.own)))

    def test_publishable_structure_links_to_the_public_page(self, client, world):
        world.own.is_publishable = True
        world.own.save()
        client.force_login(world.partner)
        page = client.get(self.url(world.own)).content.decode()
        assert reverse("public_directory:detail", args=[world.own.pk]) in page


class TestCommuneSuggestions:
    url = reverse("directory:commune_suggestions")

    def test_suggests_communes_of_the_users_territories_only(self, client, world):
        CommuneFactory(territory=world.u.territory, name="Loudéac-sur-Autre")
        client.force_login(world.territory_coordinator)
        page = client.get(self.url, {"commune": "loud"}).content.decode()
        assert f"Loudéac ({world.commune1.code})" in page
        assert "Loudéac-sur-Autre" not in page

    def test_by_insee_code(self, client, world):
        client.force_login(world.admin)
        page = client.get(self.url, {"commune": world.commune3.code}).content.decode()
        assert f"Vitré ({world.commune3.code})" in page

    def test_local_authority_is_refused(self, client, world):
        client.force_login(world.local_authority)
        assert client.get(self.url, {"commune": "lou"}).status_code == 403


def test_structure_sectors_are_shown_in_french(client, world):
    world.own.sector = Sector.FOOD_AID
    world.own.save()
    client.force_login(world.partner)
    assert "Aide alimentaire" in text(client.get(reverse("directory:list")))
    assert Structure.objects.count() == 4
