import datetime
import html

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.tests.factories import MembershipFactory, UserFactory
from tablee.directory.tests.factories import StructureFactory
from tablee.territories.models import Programme, ProgrammeTerritory, SessionTarget
from tablee.territories.tests.factories import (
    CommuneFactory,
    ProgrammeFactory,
    ProgrammeTerritoryFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db


def text(response) -> str:
    """The page as a reader sees it: HTML entities decoded."""
    return html.unescape(response.content.decode())


def user_with(role, **scope):
    return MembershipFactory(role=role, **scope).user


@pytest.fixture
def admin():
    return user_with(Role.ADMIN)


@pytest.fixture
def programme():
    return ProgrammeFactory(name="Mieux Manger pour Tous — Test")


class TestProgrammeList:
    def test_admin_sees_every_programme_with_counts(self, client, admin, django_assert_num_queries):
        for _ in range(3):
            ProgrammeTerritoryFactory.create_batch(2, programme=ProgrammeFactory())
        client.force_login(admin)
        # session, user, memberships (permissions), count for pagination, page of programmes
        with django_assert_num_queries(5):
            response = client.get(reverse("territories:programme_list"))
        assert response.status_code == 200
        assert len(response.context["page"].object_list) == 3
        assert all(p.territory_count == 2 for p in response.context["page"].object_list)
        assert "Nouveau programme" in text(response)

    def test_funder_sees_only_its_programme(self, client, programme):
        ProgrammeFactory(name="Autre programme")
        funder = user_with(Role.FUNDER, programme=programme)
        client.force_login(funder)
        page = text(client.get(reverse("territories:programme_list")))
        assert programme.name in page
        assert "Autre programme" not in page
        assert "Nouveau programme" not in page

    def test_user_without_role_gets_an_empty_state(self, client):
        ProgrammeFactory()
        client.force_login(UserFactory())
        page = text(client.get(reverse("territories:programme_list")))
        assert "Aucun programme n'est accessible" in page

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(reverse("territories:programme_list"))
        assert response.status_code == 302
        assert reverse("accounts:login") in response.url


class TestProgrammeCreate:
    def post(self, client, **overrides):
        data = {
            "name": "Mieux Manger pour Tous — Bretagne",
            "funder": "DREETS Bretagne",
            "start_date": "2024-01-01",
            "end_date": "2026-12-31",
            "description": "",
        }
        data.update(overrides)
        return client.post(reverse("territories:programme_create"), data)

    def test_admin_creates_a_programme(self, client, admin):
        client.force_login(admin)
        response = self.post(client)
        programme = Programme.objects.get()
        assert response.status_code == 302
        assert response.url == reverse("territories:programme_detail", args=[programme.pk])
        assert programme.funder == "DREETS Bretagne"
        assert programme.years == [2024, 2025, 2026]
        assert AuditEvent.objects.filter(kind=AuditEvent.Kind.PROGRAMME_CHANGED).count() == 1

    def test_end_before_start_is_refused_and_nothing_written(self, client, admin):
        client.force_login(admin)
        response = self.post(client, start_date="2026-01-01", end_date="2025-01-01")
        assert response.status_code == 200
        assert "La date de fin doit être postérieure" in text(response)
        assert not Programme.objects.exists()

    def test_missing_name_and_bad_date_are_named(self, client, admin):
        client.force_login(admin)
        response = self.post(client, name="", start_date="31/02/2024")
        page = text(response)
        assert "Ce champ est obligatoire" in page
        assert "Saisissez une date valide" in page
        assert not Programme.objects.exists()

    @pytest.mark.parametrize("role", [Role.COORDINATOR, Role.FUNDER])
    def test_other_roles_are_refused(self, client, programme, role):
        client.force_login(user_with(role, programme=programme))
        assert self.post(client).status_code == 403
        assert Programme.objects.count() == 1


class TestProgrammeEdit:
    def form_data(self, programme, **overrides):
        data = {
            "name": programme.name,
            "funder": programme.funder,
            "start_date": programme.start_date.isoformat(),
            "end_date": programme.end_date.isoformat(),
            "description": programme.description,
            "version": programme.version,
        }
        data.update(overrides)
        return data

    def test_coordinator_of_the_programme_edits_it(self, client, programme):
        client.force_login(user_with(Role.COORDINATOR, programme=programme))
        url = reverse("territories:programme_edit", args=[programme.pk])
        response = client.post(url, self.form_data(programme, funder="DREETS et ARS Bretagne"))
        assert response.status_code == 302
        programme.refresh_from_db()
        assert programme.funder == "DREETS et ARS Bretagne"
        assert programme.version == 2

    def test_second_concurrent_edit_gets_a_conflict_with_both_values(
        self, client, admin, programme
    ):
        client.force_login(admin)
        url = reverse("territories:programme_edit", args=[programme.pk])
        first = self.form_data(programme, funder="Financeur A")
        second = self.form_data(programme, funder="Financeur B")  # opened on the same version
        assert client.post(url, first).status_code == 302
        response = client.post(url, second)
        page = text(response)
        assert response.status_code == 200
        assert "Quelqu'un d'autre a modifié cette fiche" in page
        assert "Financeur A" in page  # the stored value is shown...
        assert 'value="Financeur B"' in page  # ...next to the user's own
        programme.refresh_from_db()
        assert programme.funder == "Financeur A"

    def test_territory_coordinator_cannot_edit_the_programme(self, client, programme):
        pt = ProgrammeTerritoryFactory(programme=programme)
        client.force_login(user_with(Role.COORDINATOR, programme_territory=pt))
        url = reverse("territories:programme_edit", args=[programme.pk])
        assert client.get(url).status_code == 403

    def test_programme_outside_scope_answers_404(self, client, programme):
        client.force_login(user_with(Role.COORDINATOR, programme=ProgrammeFactory()))
        assert (
            client.get(reverse("territories:programme_edit", args=[programme.pk])).status_code
            == 404
        )
        assert (
            client.get(reverse("territories:programme_detail", args=[programme.pk])).status_code
            == 404
        )


class TestTargets:
    def data(self, programme, territories, **overrides):
        data = {"total": 348}
        for pt in territories:
            data[f"territory_{pt.pk}"] = 58
        data.update(
            {
                "audience_professionals": 120,
                "audience_volunteers": 80,
                "audience_elected": 28,
                "audience_people": 120,
                "year_2024": 96,
                "year_2025": 132,
                "year_2026": 120,
            }
        )
        data.update(overrides)
        return data

    def test_admin_sets_every_target_and_the_programme_page_shows_them(
        self, client, admin, programme
    ):
        territories = ProgrammeTerritoryFactory.create_batch(
            6, programme=programme, target_sessions=0
        )
        client.force_login(admin)
        url = reverse("territories:programme_targets", args=[programme.pk])
        response = client.post(url, self.data(programme, territories))
        assert response.status_code == 302
        programme.refresh_from_db()
        assert programme.target_sessions == 348
        assert (
            sorted(ProgrammeTerritory.objects.values_list("target_sessions", flat=True)) == [58] * 6
        )
        audience = dict(
            SessionTarget.objects.filter(dimension="audience").values_list("key", "value")
        )
        assert audience == {"professionals": 120, "volunteers": 80, "elected": 28, "people": 120}
        detail = client.get(reverse("territories:programme_detail", args=[programme.pk]))
        assert detail.context["year_targets"] == [(2024, 96), (2025, 132), (2026, 120)]
        assert detail.context["territory_total"] == 348

    def test_saving_twice_updates_instead_of_duplicating(self, client, admin, programme):
        territories = ProgrammeTerritoryFactory.create_batch(2, programme=programme)
        client.force_login(admin)
        url = reverse("territories:programme_targets", args=[programme.pk])
        client.post(url, self.data(programme, territories))
        client.post(url, self.data(programme, territories, audience_people=100))
        assert SessionTarget.objects.count() == 4 + 3
        assert SessionTarget.objects.get(key="people").value == 100

    def test_breakdown_above_total_is_refused_and_nothing_written(self, client, admin, programme):
        territories = ProgrammeTerritoryFactory.create_batch(
            2, programme=programme, target_sessions=5
        )
        client.force_login(admin)
        url = reverse("territories:programme_targets", args=[programme.pk])
        response = client.post(url, self.data(programme, territories, total=100))
        page = text(response)
        assert "La somme des objectifs par publics (348) dépasse l'objectif total (100)" in page
        assert not SessionTarget.objects.exists()
        assert set(ProgrammeTerritory.objects.values_list("target_sessions", flat=True)) == {5}

    @pytest.mark.parametrize("value", ["-3", "douze", ""])
    def test_bad_numbers_are_refused(self, client, admin, programme, value):
        client.force_login(admin)
        url = reverse("territories:programme_targets", args=[programme.pk])
        response = client.post(url, self.data(programme, [], year_2025=value))
        assert response.status_code == 200
        assert response.context["form"].errors["year_2025"]
        assert not SessionTarget.objects.exists()

    def test_funder_cannot_set_targets(self, client, programme):
        client.force_login(user_with(Role.FUNDER, programme=programme))
        url = reverse("territories:programme_targets", args=[programme.pk])
        assert client.post(url, self.data(programme, [])).status_code == 403


class TestAddTerritory:
    def test_search_without_accents_then_add(self, client, admin, programme):
        epci = TerritoryFactory(name="Loudéac Communauté - Bretagne Centre")
        TerritoryFactory(name="CC du Kreiz-Breizh")
        client.force_login(admin)
        url = reverse("territories:programme_territory_add", args=[programme.pk])
        response = client.get(url, {"q": "loudeac"})
        assert [e.siren for e, _ in response.context["results"]] == [epci.siren]
        response = client.post(url, {"siren": epci.siren})
        pt = ProgrammeTerritory.objects.get()
        assert response.url == reverse("territories:territory_edit", args=[pt.pk])
        assert pt.territory == epci

    def test_htmx_search_returns_the_fragment_only(self, client, admin, programme):
        TerritoryFactory(name="Roche aux Fées Communauté")
        client.force_login(admin)
        url = reverse("territories:programme_territory_add", args=[programme.pk])
        response = client.get(url, {"q": "fees"}, headers={"HX-Request": "true"})
        page = text(response)
        assert "Roche aux Fées Communauté" in page
        assert "<html" not in page

    def test_adding_twice_or_an_unknown_siren_is_refused(self, client, admin, programme):
        pt = ProgrammeTerritoryFactory(programme=programme)
        client.force_login(admin)
        url = reverse("territories:programme_territory_add", args=[programme.pk])
        response = client.post(url, {"siren": pt.territory_id}, follow=True)
        assert "fait déjà partie de ce programme" in text(response)
        response = client.post(url, {"siren": "999999999"}, follow=True)
        assert "introuvable" in text(response)
        assert ProgrammeTerritory.objects.count() == 1

    def test_empty_search_explains_what_to_do(self, client, admin, programme):
        client.force_login(admin)
        url = reverse("territories:programme_territory_add", args=[programme.pk])
        assert "Tapez une partie du nom" in text(client.get(url))
        assert "Aucun EPCI ne correspond" in text(client.get(url, {"q": "zzzz"}))


class TestTerritoryPage:
    def test_page_shows_communes_map_data_and_pat(self, client, admin, django_assert_num_queries):
        pt = ProgrammeTerritoryFactory(pat_name="PAT du Centre Bretagne")
        CommuneFactory(territory=pt.territory, name="Loudéac", population=9500)
        CommuneFactory(territory=pt.territory, name="Plémet", population=3600)
        CommuneFactory(territory=pt.territory, name="Sans centroïde", latitude=None, longitude=None)
        client.force_login(admin)
        # session, user, memberships, programme territory (+EPCI, département, région),
        # communes, indicator values
        with django_assert_num_queries(6):
            response = client.get(reverse("territories:territory_detail", args=[pt.pk]))
        page = text(response)
        assert "PAT du Centre Bretagne" in page
        assert "Camille Exemple" in page
        assert [c.name for c in response.context["communes"]][:2] == ["Loudéac", "Plémet"]
        assert [p["name"] for p in response.context["map_points"]] == ["Loudéac", "Plémet"]
        assert 'id="points-communes"' in page

    def test_funder_sees_the_territory_but_not_the_pat_contact(self, client):
        pt = ProgrammeTerritoryFactory()
        client.force_login(user_with(Role.FUNDER, programme=pt.programme))
        page = text(client.get(reverse("territories:territory_detail", args=[pt.pk])))
        assert pt.territory.name in page
        assert "Camille Exemple" not in page
        assert "pat@example.org" not in page

    def test_partner_reaches_the_territory_of_its_structure_only(self, client):
        pt = ProgrammeTerritoryFactory()
        other = ProgrammeTerritoryFactory(programme=pt.programme)
        structure = StructureFactory(commune=CommuneFactory(territory=pt.territory))
        client.force_login(user_with(Role.PARTNER, structure=structure))
        assert client.get(reverse("territories:territory_detail", args=[pt.pk])).status_code == 200
        assert (
            client.get(reverse("territories:territory_detail", args=[other.pk])).status_code == 404
        )

    def test_local_authority_cannot_edit(self, client):
        pt = ProgrammeTerritoryFactory()
        client.force_login(user_with(Role.LOCAL_AUTHORITY, programme_territory=pt))
        assert client.get(reverse("territories:territory_edit", args=[pt.pk])).status_code == 403


class TestTerritoryEditAndRemove:
    def test_concurrent_pat_edits_do_not_overwrite(self, client):
        pt = ProgrammeTerritoryFactory(pat_name="PAT initial")
        coordinator = user_with(Role.COORDINATOR, programme_territory=pt)
        client.force_login(coordinator)
        url = reverse("territories:territory_edit", args=[pt.pk])
        base = {
            "pat_contact_name": "",
            "pat_contact_email": "",
            "target_sessions": 58,
            "version": pt.version,
        }
        assert client.post(url, {**base, "pat_name": "PAT A"}).status_code == 302
        response = client.post(url, {**base, "pat_name": "PAT B"})
        assert "Quelqu'un d'autre a modifié cette fiche" in text(response)
        pt.refresh_from_db()
        assert pt.pat_name == "PAT A"

    def test_bad_email_is_refused(self, client, admin):
        pt = ProgrammeTerritoryFactory()
        client.force_login(admin)
        url = reverse("territories:territory_edit", args=[pt.pk])
        response = client.post(
            url,
            {
                "pat_name": "X",
                "pat_contact_email": "pas-une-adresse",
                "target_sessions": 3,
                "version": pt.version,
            },
        )
        assert "Saisissez une adresse de courriel valide" in text(response)
        pt.refresh_from_db()
        assert pt.pat_name == "PAT du territoire"

    def test_removal_asks_for_confirmation_first(self, client, admin):
        pt = ProgrammeTerritoryFactory()
        MembershipFactory(role=Role.LOCAL_AUTHORITY, programme_territory=pt)
        client.force_login(admin)
        url = reverse("territories:territory_remove", args=[pt.pk])
        page = text(client.get(url))
        assert "Retirer" in page and "1 rôle donné sur ce territoire sera retiré" in page
        assert ProgrammeTerritory.objects.exists()
        response = client.post(url)
        assert response.url == reverse("territories:programme_detail", args=[pt.programme_id])
        assert not ProgrammeTerritory.objects.exists()

    def test_coordinator_of_a_territory_cannot_remove_it(self, client):
        pt = ProgrammeTerritoryFactory()
        client.force_login(user_with(Role.COORDINATOR, programme_territory=pt))
        assert client.post(reverse("territories:territory_remove", args=[pt.pk])).status_code == 403
        assert ProgrammeTerritory.objects.exists()


def test_programme_years_follow_its_dates():
    programme = ProgrammeFactory.build(
        start_date=datetime.date(2024, 9, 1), end_date=datetime.date(2026, 12, 31)
    )
    assert programme.years == [2024, 2025, 2026]
