"""Creating and editing structures, their services, stops and contacts through the forms."""

import datetime
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.directory.models import Category, Contact, Service, ServiceStop, Structure
from tablee.directory.services import DIRECTORY_CHANGED
from tablee.directory.tests.factories import (
    ContactFactory,
    DirectoryWorld,
    ServiceFactory,
    ServiceStopFactory,
)

pytestmark = pytest.mark.django_db

VALID_SIRET = "73282932000074"


def text(response) -> str:
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def category(kind, value):
    return Category.objects.get(kind=kind, value=value)


@pytest.fixture
def world():
    return DirectoryWorld()


def structure_data(world, **overrides):
    data = {
        "name": "Épicerie solidaire de Loudéac (fictive)",
        "sector": "food_aid",
        "finess_category": "",
        "siret": "",
        "address": "1 rue de la Gare",
        "address_complement": "",
        "postal_code": "22600",
        "commune": f"Loudéac ({world.commune1.code})",
        "latitude": "",
        "longitude": "",
        "phone": "02 96 00 00 00",
        "email": "",
        "website": "",
        "description": "",
        "opening_hours": "Mo-Fr 09:00-12:00",
        "accessibility_url": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


class TestStructureCreate:
    url = reverse("directory:create")

    def test_coordinator_creates_a_structure_placed_at_the_commune_centre(self, client, world):
        network = category("reseau", "ccas-cias")
        client.force_login(world.coordinator)
        response = client.post(
            self.url,
            structure_data(
                world,
                networks=[network.pk],
                finess_category=category("finess", "177").pk,
                is_publishable="on",
                website="www.exemple.fr",
                email="Accueil@Exemple.fr",
            ),
        )
        structure = Structure.objects.get(name__contains="Loudéac (fictive)")
        assert response.status_code == 302
        assert response.url == reverse("directory:detail", args=[structure.pk])
        assert structure.commune == world.commune1
        assert (structure.latitude, structure.longitude) == (48.18, -2.75)
        assert structure.location_is_approximate
        assert structure.website == "https://www.exemple.fr"
        assert structure.email == "accueil@exemple.fr"
        assert structure.finess_category.value == "177"
        assert list(structure.networks.all()) == [network]
        assert structure.is_publishable
        assert structure.data_updated_on == timezone.localdate()
        event = AuditEvent.objects.get(kind=DIRECTORY_CHANGED)
        assert event.actor == world.coordinator
        assert event.detail == {"action": "structure_create"}

    def test_given_coordinates_are_kept_exact(self, client, world):
        client.force_login(world.admin)
        client.post(self.url, structure_data(world, latitude="48,1801", longitude="-2,7512"))
        structure = Structure.objects.get(name__contains="Loudéac (fictive)")
        assert (structure.latitude, structure.longitude) == (48.1801, -2.7512)
        assert not structure.location_is_approximate

    def test_a_siret_stored_by_excel_as_a_float_is_accepted(self, client, world):
        client.force_login(world.coordinator)
        response = client.post(self.url, structure_data(world, siret="7.3282932000074E13"))
        assert response.status_code == 302
        assert Structure.objects.get(name__contains="(fictive)").siret == VALID_SIRET

    def test_the_commune_may_be_typed_as_its_insee_code(self, client, world):
        client.force_login(world.coordinator)
        client.post(self.url, structure_data(world, commune=world.commune2.code))
        assert Structure.objects.get(name__contains="(fictive)").commune == world.commune2

    @pytest.mark.parametrize(
        "field, value, message",
        [
            ("siret", "12345678901234", "SIRET invalide : « 12345678901234 »"),
            ("siret", "1234", "Un SIRET compte 14 chiffres"),
            ("opening_hours", "lundi 9h-12h", "Horaires illisibles"),
            ("website", "pas une adresse", "Adresse web invalide"),
            ("email", "accueil@", "Adresse e-mail invalide"),
            ("phone", "12", "Numéro de téléphone invalide"),
            ("postal_code", "226", "Code postal invalide"),
            ("commune", "Atlantide (99999)", "Commune inconnue dans le référentiel"),
            ("commune", "", "Ce champ est obligatoire"),
            ("name", "", "Ce champ est obligatoire"),
            ("latitude", "123", "La latitude doit être comprise entre -90 et 90"),
            ("latitude", "48.2", "Donnez la latitude et la longitude"),
        ],
    )
    def test_bad_input_is_named_and_nothing_is_written(self, client, world, field, value, message):
        client.force_login(world.coordinator)
        response = client.post(self.url, structure_data(world, **{field: value}))
        assert response.status_code == 200
        assert message in text(response)
        assert "Le formulaire contient des erreurs" in text(response)
        assert Structure.objects.count() == 4
        assert not AuditEvent.objects.filter(kind=DIRECTORY_CHANGED).exists()

    def test_a_commune_outside_the_coordinators_territories_is_refused(self, client, world):
        client.force_login(world.territory_coordinator)
        response = client.post(self.url, structure_data(world, commune=world.commune2.code))
        assert "Commune inconnue dans le référentiel ou hors de vos territoires" in text(response)
        assert Structure.objects.count() == 4

    @pytest.mark.parametrize("person", ["partner", "local_authority", "funder", "no_role"])
    def test_other_roles_are_refused(self, client, world, person):
        client.force_login(getattr(world, person))
        assert client.get(self.url).status_code == 403
        assert client.post(self.url, structure_data(world)).status_code == 403
        assert Structure.objects.count() == 4

    def test_the_form_never_lists_the_communes(self, client, world):
        client.force_login(world.admin)
        page = client.get(self.url).content.decode()
        assert world.commune3.name not in page
        assert 'hx-get="/annuaire/communes/"' in page


class TestStructureEdit:
    def url(self, structure):
        return reverse("directory:edit", args=[structure.pk])

    def edit_data(self, world, structure, **overrides):
        data = structure_data(
            world,
            name=structure.name,
            commune=structure.commune.code,
            version=structure.version,
        )
        data.update(overrides)
        return data

    def test_partner_edits_its_own_structure(self, client, world):
        client.force_login(world.partner)
        page = text(client.get(self.url(world.own)))
        assert (
            f"Loudéac ({world.commune1.code})" in client.get(self.url(world.own)).content.decode()
        )
        assert "Modifier Épicerie solidaire du Centre" in page
        response = client.post(
            self.url(world.own), self.edit_data(world, world.own, description="Ouverte à toutes")
        )
        assert response.status_code == 302
        world.own.refresh_from_db()
        assert world.own.description == "Ouverte à toutes"
        assert world.own.version == 2
        assert world.own.opening_hours == "Mo-Fr 09:00-12:00"

    def test_a_new_commune_moves_an_approximate_marker(self, client, world):
        client.force_login(world.coordinator)
        client.post(self.url(world.own), self.edit_data(world, world.own))
        world.own.refresh_from_db()
        assert world.own.latitude == 48.18
        # The form leaves an approximate position empty, so that it follows the commune.
        page = client.get(self.url(world.own)).content.decode()
        assert 'name="latitude" value="48' not in page
        client.post(
            self.url(world.own),
            self.edit_data(world, world.own, commune=world.commune2.code, version=2),
        )
        world.own.refresh_from_db()
        assert (world.own.latitude, world.own.longitude) == (48.23, -3.31)
        assert world.own.location_is_approximate

    def test_concurrent_edit_is_refused_with_both_values(self, client, world):
        client.force_login(world.coordinator)
        first = self.edit_data(world, world.own, name="Nom choisi par Claude")
        second = self.edit_data(world, world.own, name="Nom choisi par Dominique")
        assert client.post(self.url(world.own), first).status_code == 302
        response = client.post(self.url(world.own), second)
        page = text(response)
        assert response.status_code == 200
        assert "Quelqu'un d'autre a modifié cette fiche" in page
        assert "Nom choisi par Claude" in page  # the stored value
        assert 'value="Nom choisi par Dominique"' in response.content.decode()  # the user's
        world.own.refresh_from_db()
        assert world.own.name == "Nom choisi par Claude"
        assert world.own.version == 2

    def test_bad_input_on_edit_writes_nothing(self, client, world):
        client.force_login(world.coordinator)
        response = client.post(
            self.url(world.own), self.edit_data(world, world.own, siret="12345678901234")
        )
        assert "SIRET invalide" in text(response)
        world.own.refresh_from_db()
        assert world.own.version == 1
        assert world.own.siret == ""

    def test_partner_may_not_edit_a_neighbour(self, client, world):
        client.force_login(world.partner)
        response = client.post(
            self.url(world.neighbour), self.edit_data(world, world.neighbour, name="Pris")
        )
        assert response.status_code == 403
        world.neighbour.refresh_from_db()
        assert world.neighbour.name == "CCAS de Loudéac"

    @pytest.mark.parametrize(
        "person, structure, status",
        [
            ("local_authority", "own", 403),
            # Outside the directory they may read: as if it did not exist.
            ("funder", "own", 404),
            ("no_role", "own", 404),
            ("territory_coordinator", "sibling", 404),
            ("coordinator", "other", 404),
        ],
    )
    def test_refused(self, client, world, person, structure, status):
        client.force_login(getattr(world, person))
        target = getattr(world, structure)
        assert client.get(self.url(target)).status_code == status
        assert client.post(self.url(target), self.edit_data(world, target)).status_code == status
        target.refresh_from_db()
        assert target.version == 1

    def test_coordinator_edits_a_structure_of_another_of_its_territories(self, client, world):
        client.force_login(world.coordinator)
        response = client.post(
            self.url(world.sibling),
            self.edit_data(world, world.sibling, opening_hours="sa 10:00-12:00"),
        )
        assert response.status_code == 302
        world.sibling.refresh_from_db()
        assert world.sibling.opening_hours == "Sa 10:00-12:00"


def service_data(**overrides):
    data = {
        "name": "Distribution de colis",
        "description": "Colis alimentaires chaque semaine.",
        "service_type": "aide-materielle",
        "publics_details": "",
        "fees": "gratuit",
        "fees_details": "",
        "mobilisation_details": "",
        "mobilisation_url": "",
        "eligibility_zone": "",
        "access_conditions": "",
        "contact_name": "",
        "email": "",
        "phone": "",
        "opening_hours": "",
        "address": "",
        "address_complement": "",
        "postal_code": "",
        "commune": "",
        "food_choice": "",
        "food_conditions": "",
    }
    data.update(overrides)
    return data


class TestServiceForms:
    def test_partner_adds_a_service_with_its_facets(self, client, world):
        alimentation = category("thematique", "equipement-et-alimentation--alimentation")
        families = category("public", "familles")
        parcel = category("food_aid", "colis")
        client.force_login(world.partner)
        page = text(client.get(reverse("directory:service_create", args=[world.own.pk])))
        assert "Équipement et alimentation" in page  # thématiques are grouped
        response = client.post(
            reverse("directory:service_create", args=[world.own.pk]),
            service_data(
                thematiques=[alimentation.pk],
                publics=[families.pk],
                food_aid_kinds=[parcel.pk],
                reception_modes=["en-presentiel"],
                mobilisation_modes=["se-presenter"],
                mobilisable_by=["usagers", "professionnels"],
                eligibility_zone=f"{world.commune1.code}, 22 {world.t1.territory_id}",
                food_choice="accompagne",
                food_conditions="orientation",
                opening_hours="We 14:00-17:00",
            ),
        )
        assert response.status_code == 302
        service = Service.objects.get(structure=world.own)
        assert list(service.thematiques.all()) == [alimentation]
        assert list(service.publics.all()) == [families]
        assert list(service.food_aid_kinds.all()) == [parcel]
        assert service.mobilisable_by == ["usagers", "professionnels"]
        assert service.eligibility_zone == [world.commune1.code, "22", world.t1.territory_id]
        assert service.food_conditions == "orientation"
        detail = text(client.get(reverse("directory:detail", args=[world.own.pk])))
        assert "Colis alimentaire ; choix accompagné" in detail
        assert "Mercredi : 14 h–17 h" in detail

    @pytest.mark.parametrize(
        "field, value, message",
        [
            ("opening_hours", "tous les jours", "Horaires illisibles"),
            ("eligibility_zone", "22 ATLANTIDE", "Code inconnu dans le référentiel : ATLANTIDE"),
            ("mobilisation_url", "pas une url", "Adresse web invalide"),
            ("email", "pas-un-mail", "Adresse e-mail invalide"),
            ("name", "", "Ce champ est obligatoire"),
            ("service_type", "inconnu", "Sélectionnez un choix valide"),
        ],
    )
    def test_bad_service_input_writes_nothing(self, client, world, field, value, message):
        client.force_login(world.partner)
        response = client.post(
            reverse("directory:service_create", args=[world.own.pk]),
            service_data(**{field: value}),
        )
        assert response.status_code == 200
        assert message in text(response)
        assert not Service.objects.exists()

    def test_an_itinerant_service_goes_on_to_its_stops(self, client, world):
        client.force_login(world.coordinator)
        response = client.post(
            reverse("directory:service_create", args=[world.own.pk]),
            service_data(name="Épicerie mobile", is_itinerant="on"),
        )
        service = Service.objects.get()
        assert response.url == reverse("directory:service_stops", args=[service.pk])
        stops_url = reverse("directory:service_stops", args=[service.pk])
        for commune, hours in [
            (world.commune1, "Tu 10:00-12:00"),
            (world.commune2, "Th 14:00-16:00"),
        ]:
            assert (
                client.post(
                    stops_url, {"commune": commune.code, "address": "Place", "opening_hours": hours}
                ).status_code
                == 302
            )
        bad = client.post(stops_url, {"commune": "00000", "opening_hours": "jeudi"})
        assert "Commune inconnue" in text(bad) and "Horaires illisibles" in text(bad)
        stops = list(service.stops.all())
        assert [s.commune for s in stops] == [world.commune1, world.commune2]
        assert [s.position for s in stops] == [0, 1]
        page = text(client.get(stops_url))
        assert "Jeudi : 14 h–16 h" in page or "jeudi : 14 h–16 h" in page
        client.post(reverse("directory:service_stop_remove", args=[stops[0].pk]))
        assert list(service.stops.values_list("commune", flat=True)) == [world.commune2.code]

    def test_stop_removal_needs_a_post_and_the_right(self, client, world):
        stop = ServiceStopFactory(service__structure=world.neighbour)
        url = reverse("directory:service_stop_remove", args=[stop.pk])
        client.force_login(world.coordinator)
        assert client.get(url).status_code == 403
        client.force_login(world.partner)
        assert client.post(url).status_code == 403
        assert ServiceStop.objects.count() == 1

    def test_edit_with_version_check(self, client, world):
        service = ServiceFactory(structure=world.own, name="Accueil")
        service.publics.add(category("public", "jeunes"))
        url = reverse("directory:service_edit", args=[service.pk])
        client.force_login(world.partner)
        form = client.get(url).context["form"]
        assert form.initial["version"] == 1
        data = service_data(name="Accueil de jour", version=1, publics=[])
        assert client.post(url, data).status_code == 302
        service.refresh_from_db()
        assert service.name == "Accueil de jour"
        assert not service.publics.exists()
        response = client.post(url, service_data(name="Accueil du soir", version=1))
        assert "Quelqu'un d'autre a modifié cette fiche" in text(response)
        assert "Accueil de jour" in text(response)
        service.refresh_from_db()
        assert service.name == "Accueil de jour"

    def test_delete_after_confirmation(self, client, world):
        service = ServiceFactory(structure=world.own)
        ServiceStopFactory(service=service)
        url = reverse("directory:service_delete", args=[service.pk])
        client.force_login(world.partner)
        assert "Supprimer le service" in text(client.get(url))
        assert Service.objects.count() == 1
        assert client.post(url).status_code == 302
        assert not Service.objects.exists()
        assert not ServiceStop.objects.exists()

    @pytest.mark.parametrize(
        "person, structure, status",
        [
            ("partner", "neighbour", 403),
            ("local_authority", "own", 403),
            ("funder", "own", 404),
            ("partner", "sibling", 404),
        ],
    )
    def test_refused(self, client, world, person, structure, status):
        service = ServiceFactory(structure=getattr(world, structure))
        client.force_login(getattr(world, person))
        target = getattr(world, structure)
        assert (
            client.post(
                reverse("directory:service_create", args=[target.pk]), service_data()
            ).status_code
            == status
        )
        for name in ("service_edit", "service_delete", "service_stops"):
            assert client.post(reverse(f"directory:{name}", args=[service.pk])).status_code in (
                status,
                404,
            )
        assert Service.objects.count() == 1


class TestContacts:
    def contact_data(self, **overrides):
        data = {
            "full_name": "Contact fictif 7",
            "job_title": "Conseillère en économie sociale et familiale",
            "email": "contact7@example.org",
            "phone": "",
            "consent_given_on": "2025-03-01",
            "professional_only": "on",
        }
        data.update(overrides)
        return data

    def test_partner_records_a_contact_with_consent(self, client, world):
        url = reverse("directory:contact_create", args=[world.own.pk])
        client.force_login(world.partner)
        page = text(client.get(url))
        assert "ne sont jamais publiés dans l'annuaire public" in page
        assert client.post(url, self.contact_data()).status_code == 302
        contact = Contact.objects.get()
        assert contact.consent_given_on == datetime.date(2025, 3, 1)
        event = AuditEvent.objects.get(kind=DIRECTORY_CHANGED)
        assert event.detail == {"action": "contact_create", "contact": str(contact.pk)}

    @pytest.mark.parametrize(
        "field, value, message",
        [
            ("consent_given_on", "", "Ce champ est obligatoire"),
            ("consent_given_on", "2999-01-01", "ne peut pas être dans le futur"),
            ("professional_only", None, "Confirmez qu'il s'agit d'une ou d'un professionnel·le"),
            ("email", "contact@", "Adresse e-mail invalide"),
            ("full_name", "", "Ce champ est obligatoire"),
        ],
    )
    def test_bad_contact_input_writes_nothing(self, client, world, field, value, message):
        data = self.contact_data(**{field: value})
        if value is None:
            del data[field]
        client.force_login(world.coordinator)
        response = client.post(reverse("directory:contact_create", args=[world.own.pk]), data)
        assert message in text(response)
        assert not Contact.objects.exists()

    def test_edit_and_delete(self, client, world):
        contact = ContactFactory(structure=world.own)
        client.force_login(world.partner)
        url = reverse("directory:contact_edit", args=[contact.pk])
        assert client.get(url).status_code == 200
        read = AuditEvent.objects.get(kind=AuditEvent.Kind.NAMED_RECORD_READ)
        assert read.detail == {"record": "contact", "contact": str(contact.pk)}
        assert client.post(url, self.contact_data(job_title="Directrice")).status_code == 302
        contact.refresh_from_db()
        assert contact.job_title == "Directrice"
        assert (
            client.post(reverse("directory:contact_delete", args=[contact.pk])).status_code == 302
        )
        assert not Contact.objects.exists()

    @pytest.mark.parametrize(
        "person, structure, status",
        [
            ("partner", "neighbour", 403),
            ("local_authority", "own", 403),
            ("funder", "own", 404),
            ("territory_coordinator", "sibling", 404),
        ],
    )
    def test_refused(self, client, world, person, structure, status):
        target = getattr(world, structure)
        contact = ContactFactory(structure=target)
        client.force_login(getattr(world, person))
        assert (
            client.get(reverse("directory:contact_create", args=[target.pk])).status_code == status
        )
        assert (
            client.post(
                reverse("directory:contact_edit", args=[contact.pk]), self.contact_data()
            ).status_code
            == status
        )
        assert (
            client.post(reverse("directory:contact_delete", args=[contact.pk])).status_code
            == status
        )
        contact.refresh_from_db()
        assert contact.job_title != "Conseillère en économie sociale et familiale"


class TestHelpers:
    @pytest.mark.parametrize(
        "updated_on, today, expected",
        [
            (datetime.date(2025, 11, 28), datetime.date(2026, 11, 28), False),  # exactly a year
            (datetime.date(2025, 11, 27), datetime.date(2026, 11, 28), True),
            (datetime.date(2027, 2, 28), datetime.date(2028, 2, 29), False),  # leap day
            (datetime.date(2027, 2, 27), datetime.date(2028, 2, 29), True),
        ],
    )
    def test_to_check_after_twelve_months(self, updated_on, today, expected):
        from tablee.directory.filters import is_to_check

        assert is_to_check(updated_on, today) is expected

    def test_hours_filters(self):
        from tablee.directory.templatetags.directory import code_labels, open_hours

        assert open_hours("Tu 10:00-12:00") == ["mardi : 10 h–12 h"]
        assert open_hours("") == []
        assert code_labels(["en-presentiel", "inconnu"], "reception") == "Sur place, inconnu"

    def test_filter_form_drops_unknown_values(self, world):
        from tablee.directory.filters import DirectoryFilterForm

        form = DirectoryFilterForm(
            {"q": "ccas", "secteur": "martien", "ouvert": "9", "tri": "nom", "page": "2"},
            territories=[],
            categories=list(Category.objects.all()),
        )
        assert form.querystring() == "q=ccas"
        assert form.is_filtered()
        assert list(form.apply(Structure.objects.all())) == [world.neighbour]
