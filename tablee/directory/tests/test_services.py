"""The write services of the directory, called directly."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.core.concurrency import EditConflict
from tablee.directory import services
from tablee.directory.hours import describe_opening_hours
from tablee.directory.models import Category, Contact, Service, Structure
from tablee.directory.tests.factories import (
    ContactFactory,
    DirectoryWorld,
    ServiceFactory,
    ServiceStopFactory,
)
from tablee.territories.tests.factories import CommuneFactory

pytestmark = pytest.mark.django_db

LAST_YEAR = datetime.date(2024, 5, 1)


@pytest.fixture
def world():
    return DirectoryWorld()


def events():
    return list(
        AuditEvent.objects.filter(kind=services.DIRECTORY_CHANGED)
        .order_by("created_at", "id")
        .values_list("detail", flat=True)
    )


class TestStructures:
    def test_create_at_the_commune_centre_when_no_position_is_given(self, world):
        structure = services.structure_create(
            acting_user=world.coordinator, name="CCAS (fictif)", commune=world.commune2
        )
        assert (structure.latitude, structure.longitude) == (48.23, -3.31)
        assert structure.location_is_approximate
        assert structure.search_name == "ccas fictif"
        assert events() == [{"action": "structure_create"}]

    def test_a_commune_without_centroid_leaves_the_structure_off_the_map(self, world):
        commune = CommuneFactory(latitude=None, longitude=None)
        structure = services.structure_create(
            acting_user=None, name="Sans position", commune=commune
        )
        assert structure.latitude is None
        assert structure.location_is_approximate

    def test_the_geocoder_is_used_when_it_answers(self, world, monkeypatch):
        monkeypatch.setattr(
            services.geocoding, "place", lambda structure: (48.1799, -2.7501, False)
        )
        structure = services.structure_create(
            acting_user=None, name="Géocodée", commune=world.commune1, address="1 rue X"
        )
        assert (structure.latitude, structure.longitude) == (48.1799, -2.7501)
        assert not structure.location_is_approximate

    def test_model_validation_refuses_and_writes_nothing(self, world):
        with pytest.raises(ValidationError):
            services.structure_create(acting_user=None, name="", commune=world.commune1)
        assert Structure.objects.count() == 4
        assert events() == []

    def test_update_checks_the_version_and_bumps_it(self, world):
        world.own.data_updated_on = LAST_YEAR
        world.own.save()
        updated = services.structure_update(
            structure=world.own, version=1, acting_user=world.partner, phone="02 96 00 00 00"
        )
        assert updated.version == 2
        assert updated.data_updated_on == timezone.localdate()
        with pytest.raises(EditConflict) as conflict:
            services.structure_update(
                structure=world.own, version=1, acting_user=world.partner, name="Autre"
            )
        assert conflict.value.current["nom"] == "Épicerie solidaire du Centre"
        assert conflict.value.current["téléphone"] == "02 96 00 00 00"
        world.own.refresh_from_db()
        assert world.own.name == "Épicerie solidaire du Centre"

    def test_update_sets_networks_only_when_given(self, world):
        network = Category.objects.get(kind="reseau", value="restos-du-coeur")
        world.own.networks.add(network)
        services.structure_update(structure=world.own, version=1, acting_user=None, name="A")
        assert list(world.own.networks.all()) == [network]
        services.structure_update(structure=world.own, version=2, acting_user=None, networks=[])
        assert not world.own.networks.exists()


class TestServices:
    def test_create_with_categories_touches_the_structure(self, world):
        world.own.data_updated_on = LAST_YEAR
        world.own.save()
        publics = list(Category.objects.filter(kind="public", value__in=["jeunes", "familles"]))
        service = services.service_create(
            structure=world.own,
            acting_user=world.partner,
            name="Colis",
            description="Colis hebdomadaires.",
            publics=publics,
            food_aid_kinds=Category.objects.filter(kind="food_aid", value="colis"),
        )
        assert set(service.publics.all()) == set(publics)
        assert service.food_aid_kinds.get().value == "colis"
        world.own.refresh_from_db()
        assert world.own.data_updated_on == timezone.localdate()
        assert world.own.version == 1  # no conflict with someone editing the structure
        assert events() == [{"action": "service_create", "service": str(service.pk)}]

    def test_update_conflict_and_delete(self, world):
        service = ServiceFactory(structure=world.own, name="Accueil")
        services.service_update(service=service, version=1, acting_user=None, name="Accueil 2")
        with pytest.raises(EditConflict):
            services.service_update(service=service, version=1, acting_user=None, name="X")
        assert Service.objects.get().name == "Accueil 2"
        services.service_delete(service=service, acting_user=None)
        assert not Service.objects.exists()
        assert [e["action"] for e in events()] == ["service_update", "service_delete"]

    def test_stops_are_appended_and_make_the_service_itinerant(self, world):
        service = ServiceFactory(structure=world.own)
        first = services.service_stop_add(
            service=service,
            commune=world.commune1,
            opening_hours="Tu 10:00-12:00",
            acting_user=None,
        )
        second = services.service_stop_add(
            service=service, commune=world.commune2, acting_user=None
        )
        assert (first.position, second.position) == (0, 1)
        service.refresh_from_db()
        assert service.is_itinerant
        services.service_stop_remove(stop=first, acting_user=None)
        assert list(service.stops.all()) == [second]

    def test_stop_positions_follow_the_last_one(self, world):
        stop = ServiceStopFactory(service__structure=world.own, position=7)
        added = services.service_stop_add(
            service=stop.service, commune=world.commune1, acting_user=None
        )
        assert added.position == 8


class TestContacts:
    def test_create_update_delete_audit_ids_only(self, world):
        contact = services.contact_create(
            structure=world.own,
            acting_user=world.partner,
            full_name="Contact fictif 9",
            email="c9@example.org",
            consent_given_on=datetime.date(2025, 1, 2),
        )
        contact_id = str(contact.pk)
        services.contact_update(contact=contact, acting_user=world.partner, job_title="Cheffe")
        services.contact_delete(contact=contact, acting_user=world.partner)
        assert not Contact.objects.exists()
        assert [e["action"] for e in events()] == [
            "contact_create",
            "contact_update",
            "contact_delete",
        ]
        assert all(e["contact"] == contact_id for e in events())
        assert "fictif" not in str(events())
        assert "example.org" not in str(events())

    def test_consent_date_is_required(self, world):
        with pytest.raises(ValidationError):
            services.contact_create(
                structure=world.own,
                acting_user=None,
                full_name="Contact fictif 10",
                consent_given_on=None,
            )
        assert not Contact.objects.exists()

    def test_an_invalid_update_writes_nothing(self, world):
        contact = ContactFactory(structure=world.own)
        with pytest.raises(ValidationError):
            services.contact_update(contact=contact, acting_user=None, email="pas-un-mail")
        contact.refresh_from_db()
        assert contact.email.endswith("@example.org")


class TestDemoDirectory:
    @pytest.fixture
    def programme(self):
        from tablee.demo.services import DEMO_TERRITORIES
        from tablee.territories.tests.factories import (
            ProgrammeFactory,
            ProgrammeTerritoryFactory,
            TerritoryFactory,
        )

        programme = ProgrammeFactory(is_demo=True)
        for number, (siren, _, _) in enumerate(DEMO_TERRITORIES):
            territory = TerritoryFactory(siren=siren)
            for rank in range(3):
                CommuneFactory(
                    territory=territory,
                    name=f"Commune {number}-{rank}",
                    population=5000 - rank * 1000,
                    latitude=48.0 + number / 10,
                    longitude=-3.0 + rank / 10,
                )
            ProgrammeTerritoryFactory(programme=programme, territory=territory)
        return programme

    def test_sixty_fictional_structures_loaded_idempotently(self, programme):
        from tablee.demo.directory import load_demo_directory

        assert load_demo_directory(programme) == 60
        counts = (Structure.objects.count(), Service.objects.count(), Contact.objects.count())
        assert load_demo_directory(programme) == 60
        assert (Structure.objects.count(), Service.objects.count(), Contact.objects.count()) == (
            counts
        )
        structures = Structure.objects.all()
        assert all("(fictif)" in s.name or "(fictive)" in s.name for s in structures)
        assert all(s.is_demo and s.source == "demo" for s in structures)
        assert structures.filter(finess_category__value="177").exists()  # MECS
        assert 10 < structures.filter(is_publishable=True).count() < 60
        year_ago = timezone.localdate() - datetime.timedelta(days=366)
        assert structures.filter(data_updated_on__lt=year_ago).count() >= 3
        assert structures.filter(location_is_approximate=True).exists()
        assert len({s.sector for s in structures}) >= 5
        itinerant = Service.objects.get(is_itinerant=True)
        assert itinerant.stops.count() == 3
        assert Contact.objects.count() == 12
        for hours in {s.opening_hours for s in structures}:
            assert not describe_opening_hours(hours)[0].startswith("Horaires :"), hours
        assert all(c.full_name.startswith("Contact fictif") for c in Contact.objects.all())
        food = Service.objects.filter(food_aid_kinds__value="colis")
        assert food.count() == 6
        assert Service.objects.filter(thematiques__value="sante--addictions").exists()
