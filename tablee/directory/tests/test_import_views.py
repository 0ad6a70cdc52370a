"""The import pages: upload, column mapping, preview, apply, background progress, permissions."""

import html
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tablee.accounts.models import Role
from tablee.accounts.tests.factories import MembershipFactory, UserFactory
from tablee.directory.models import Structure
from tablee.directory.tasks import ImportJob, jobs_root
from tablee.directory.tests.test_import import CSV_HEADER, FIXTURE, csv_line
from tablee.territories.tests.factories import (
    CommuneFactory,
    ProgrammeFactory,
    ProgrammeTerritoryFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def loudeac():
    return CommuneFactory(code="22136", name="Loudéac", latitude=48.18, longitude=-2.75)


@pytest.fixture
def coordinator(loudeac):
    pt = ProgrammeTerritoryFactory(territory=loudeac.territory)
    return MembershipFactory(role=Role.COORDINATOR, programme=pt.programme).user


@pytest.fixture
def admin():
    return MembershipFactory(role=Role.ADMIN).user


def upload(client, content: bytes | str, name="structures.csv", source="ccas"):
    if isinstance(content, str):
        content = content.encode("utf-8")
    return client.post(
        reverse("directory_data:import"),
        {"files": [SimpleUploadedFile(name, content)], "source": source},
    )


def good_csv(*lines):
    return CSV_HEADER + "\n" + "\n".join(lines or [csv_line()]) + "\n"


class TestPermissions:
    @pytest.mark.parametrize("role", [Role.PARTNER, Role.LOCAL_AUTHORITY, Role.FUNDER])
    def test_other_roles_are_refused(self, client, loudeac, role):
        programme = ProgrammeFactory()
        scope = {"programme": programme}
        if role == Role.PARTNER:
            from tablee.directory.tests.factories import StructureFactory

            scope = {"structure": StructureFactory(commune=loudeac)}
        client.force_login(MembershipFactory(role=role, **scope).user)
        assert client.get(reverse("directory_data:import")).status_code == 403
        assert upload(client, good_csv()).status_code == 403
        assert client.get(reverse("directory_data:export")).status_code == 403
        assert Structure.objects.filter(source="ccas").count() == 0

    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(reverse("directory_data:import"))
        assert response.status_code == 302
        assert reverse("accounts:login") in response.url
        response = client.get(reverse("directory_data:export"))
        assert reverse("accounts:login") in response.url

    @pytest.mark.parametrize("who", ["admin", "coordinator"])
    def test_admin_and_coordinator_open_the_pages(self, client, request, who):
        client.force_login(request.getfixturevalue(who))
        page = text(client.get(reverse("directory_data:import")))
        assert "Importer des structures et des services" in page
        assert client.get(reverse("directory_data:export")).status_code == 200

    def test_someone_elses_import_is_not_found(self, client, coordinator, admin):
        client.force_login(coordinator)
        response = upload(client, good_csv())
        job_url = response.url
        client.force_login(admin)
        assert client.get(job_url).status_code == 404
        assert client.post(job_url + "appliquer/").status_code == 404
        assert not Structure.objects.exists()


class TestImportFlow:
    def test_upload_preview_apply(self, client, coordinator, loudeac, django_assert_num_queries):
        client.force_login(coordinator)
        response = upload(client, good_csv())
        assert response.status_code == 302
        assert not Structure.objects.exists()
        # session, user, memberships: the preview is read from the job's file
        with django_assert_num_queries(3):
            page = text(client.get(response.url))
        assert "Aperçu de l'import" in page
        assert "Épicerie solidaire du Mené" in page
        assert "À créer" in page
        response = client.post(response.url + "appliquer/")
        assert response.status_code == 302
        structure = Structure.objects.get()
        assert (structure.source, structure.source_id) == ("ccas", "s1")
        page = text(client.get(response.url, follow=True))
        assert "Import terminé" in page
        assert "Structures : 1 créée(s)" in page
        # The uploaded file is not kept once written.
        assert not any((jobs_root()).glob("*/files/*"))
        # The same file with a new address: one update, named in French.
        changed = upload(client, good_csv(csv_line(adresse="2 rue de la Gare")))
        page = text(client.get(changed.url))
        assert "Modifié : adresse." in page
        assert "À mettre à jour" in page

    def test_refused_rows_write_nothing_unless_the_user_chooses(self, client, coordinator, loudeac):
        client.force_login(coordinator)
        content = good_csv(
            csv_line(), csv_line(id="s2", nom="Mauvais site", site_web="pas une url !")
        )
        preview_url = upload(client, content).url
        page = text(client.get(preview_url))
        assert "1 ligne refusée" in page
        assert "structures.csv, ligne 3" in page
        assert "Adresse web invalide : « pas une url ! »" in page
        response = client.post(preview_url + "appliquer/", follow=True)
        assert "rien n'a été écrit" in text(response)
        assert not Structure.objects.exists()
        client.post(preview_url + "appliquer/", {"skip_invalid": "on"})
        assert list(Structure.objects.values_list("source_id", flat=True)) == ["s1"]

    def test_preview_lists_only_the_refused_rows_on_demand(
        self, client, coordinator, loudeac, django_assert_num_queries
    ):
        client.force_login(coordinator)
        lines = [csv_line(id=f"s{i}", nom=f"Structure numéro {i}") for i in range(60)]
        lines.append(csv_line(id="bad", nom="Mauvaise commune", code_insee="99999"))
        preview_url = upload(client, good_csv(*lines)).url
        # session, user, memberships
        with django_assert_num_queries(3):
            response = client.get(preview_url + "?lignes=refused")
        assert [r["source_id"] for r in response.context["page"].object_list] == ["bad"]
        response = client.get(preview_url + "?page=2")
        assert len(response.context["page"].object_list) == 11
        assert "Page 2 sur 2" in text(response)

    def test_preview_of_a_large_file_shows_its_counts_and_a_sample(
        self, client, coordinator, loudeac, monkeypatch, django_assert_num_queries
    ):
        from tablee.directory import importers

        monkeypatch.setattr(importers, "PREVIEW_SAMPLE_ROWS", 3)
        monkeypatch.setattr(importers, "PREVIEW_REFUSED_ROWS", 1)
        client.force_login(coordinator)
        lines = [csv_line(id=f"s{i}", nom=f"Structure numéro {i}") for i in range(8)]
        lines += [
            csv_line(id=f"bad{i}", nom="Mauvaise commune", code_insee="99999") for i in (1, 2)
        ]
        preview_url = upload(client, good_csv(*lines)).url
        # session, user, memberships: the plan kept on disk is small whatever the file
        with django_assert_num_queries(3):
            response = client.get(preview_url)
        page = text(response)
        assert "Ce fichier compte 10 lignes" in page
        assert "les 3 premières lignes de chaque autre résultat" in page
        counts = response.context["plan"]["counts"]["structure"]
        assert (counts["create"], counts["refused"]) == (8, 2)
        assert "2 lignes refusées" in page
        shown = [r["source_id"] for r in response.context["page"].object_list]
        assert shown == ["s0", "s1", "s2", "bad1"]
        client.post(preview_url + "appliquer/", {"skip_invalid": "on"})
        assert Structure.objects.count() == 8

    def test_unreadable_file_is_refused_on_the_form(self, client, coordinator):
        client.force_login(coordinator)
        response = upload(client, b"")
        assert response.status_code == 200
        assert "Le fichier soumis est vide" in text(response)
        response = upload(client, b"\x00\x01binaire\x00" * 10)
        assert "n'est pas un fichier texte" in text(response)
        assert list(jobs_root().glob("*")) == []
        assert not Structure.objects.exists()

    def test_oversize_upload_is_stopped_while_reading(self, client, coordinator, settings):
        settings.TABLEE_MAX_DIRECTORY_IMPORT_BYTES = 2000
        client.force_login(coordinator)
        response = upload(client, b"a;b\n" + b"1;2\n" * 5000)
        page = text(response)
        assert response.status_code == 200
        assert "Le fichier « structures.csv » est trop volumineux" in page
        assert "taille maximale d'un import est de 2,0\u00a0Kio" in page
        assert not jobs_root().exists()

    def test_malformed_json_is_rejected_on_the_preview(self, client, coordinator):
        client.force_login(coordinator)
        response = upload(client, '[{"id": "a",\n "nom": }]', name="structures.json")
        page = text(client.get(response.url))
        assert "Rien n'a été importé : le fichier n'a pas pu être lu" in page
        assert "Ligne 2 : structures.json : JSON mal formé" in page
        assert "Importer un autre fichier" in page
        assert client.post(response.url + "appliquer/").status_code == 302
        assert not Structure.objects.exists()

    def test_source_must_be_a_plain_code(self, client, coordinator):
        client.force_login(coordinator)
        response = upload(client, good_csv(), source="Mon CCAS !")
        assert "Lettres minuscules sans accent" in text(response)

    def test_official_template_shows_the_reasons(self, client, admin):
        from tablee.territories.tests.factories import DepartementFactory, RegionFactory

        nord = DepartementFactory(code="59", name="Nord", region=RegionFactory(code="32"))
        CommuneFactory(code="59350", name="Lille", departement=nord)
        client.force_login(admin)
        content = (FIXTURE / "dataset.xlsx").read_bytes()
        response = upload(client, content, name="dataset.xlsx", source="test")
        page = text(client.get(response.url))
        assert "Le code commune 59999 n'existe pas" in page or "le code commune 59999" in page
        assert "4 lignes marquées dans la colonne « __ignore__ »" in page
        assert "Rien à écrit" not in page
        assert "Rien à écrire" in page
        assert not Structure.objects.exists()


class TestMapping:
    def test_a_spreadsheet_of_our_own_goes_through_the_mapping_step(
        self, client, coordinator, loudeac
    ):
        client.force_login(coordinator)
        content = "Nom;Commune;Code postal;Courriel\nÉpicerie du Lié;Loudéac;22600;a@b.fr\n"
        response = upload(client, content, name="liste.csv")
        assert response.url.endswith("/colonnes/")
        page = client.get(response.url)
        form = page.context["form"]
        assert form["col_0"].initial == "nom"
        assert form["col_1"].initial == "commune"
        assert "Exemples : Épicerie du Lié" in text(page)
        # A field chosen twice is refused, nothing is checked yet.
        response = client.post(
            response.url, {"col_0": "nom", "col_1": "nom", "col_2": "code_postal"}
        )
        assert "associé à deux colonnes" in text(response)
        response = client.post(
            page.request["PATH_INFO"],
            {"col_0": "nom", "col_1": "commune", "col_2": "code_postal", "col_3": "courriel"},
        )
        preview = text(client.get(response.url))
        assert "Épicerie du Lié" in preview
        client.post(response.url + "appliquer/")
        assert Structure.objects.get().email == "a@b.fr"


class TestBackground:
    def test_large_files_run_as_tasks_with_progress(self, client, coordinator, loudeac, settings):
        settings.TABLEE_DIRECTORY_IMPORT_BACKGROUND_BYTES = 10
        client.force_login(coordinator)
        preview_url = upload(client, good_csv()).url
        job = ImportJob.load(preview_url.rstrip("/").rsplit("/", 1)[1])
        assert job.status == "planned"
        assert job.state["progress"] == {"step": "validation", "done": 1, "total": 1}
        client.post(preview_url + "appliquer/")
        assert Structure.objects.count() == 1

    def test_progress_page_while_running_and_refresh_when_done(self, client, coordinator):
        client.force_login(coordinator)
        job = ImportJob.create(
            user=coordinator, source="x", uploads=[SimpleUploadedFile("a.csv", b"a;b\n1;2\n")]
        )
        job.set_status("planning", progress={"step": "validation", "done": 40, "total": 100})
        url = reverse("directory_data:import_preview", args=[job.id])
        page = text(client.get(url))
        assert "Import en cours" in page
        assert 'value="40"' in page
        assert "40 lignes sur 100" in page
        fragment = client.get(url, headers={"HX-Request": "true"})
        assert "Import en cours" not in text(fragment)
        assert "Vérification des lignes" in text(fragment)
        job.set_status("planned")
        (job.folder / "plan.json").write_text(json.dumps({"rows": []}))
        done = client.get(url, headers={"HX-Request": "true"})
        assert done.status_code == 204
        assert done["HX-Refresh"] == "true"

    def test_unknown_job_is_not_found(self, client, coordinator):
        client.force_login(coordinator)
        url = reverse(
            "directory_data:import_preview", args=["00000000-0000-0000-0000-000000000000"]
        )
        assert client.get(url).status_code == 404


def test_a_user_without_role_is_refused(client):
    client.force_login(UserFactory())
    assert client.get(reverse("directory_data:import")).status_code == 403
