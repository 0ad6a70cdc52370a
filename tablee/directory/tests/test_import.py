"""Reading, checking and writing imports of the directory (importers.py and imports.py).

The official data·inclusion template fixture is used as it is: its rows are refused with the
reasons the official validator gives (api/tests/e2e/valideur in gip-inclusion/data-inclusion).
"""

import datetime
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.tests.factories import MembershipFactory
from tablee.core.spreadsheets import SpreadsheetRejected
from tablee.directory.importers import guess_mapping, read_files, read_tables
from tablee.directory.imports import ImportRefused, directory_import
from tablee.directory.models import Category, Service, Structure
from tablee.directory.tests.factories import StructureFactory
from tablee.territories.tests.factories import (
    CommuneFactory,
    DepartementFactory,
    ProgrammeTerritoryFactory,
    RegionFactory,
    TerritoryFactory,
)

pytestmark = pytest.mark.django_db

FIXTURE = Path(__file__).resolve().parents[4] / "shared/data/data-inclusion/samples"
FIXTURE = FIXTURE / "data-inclusion-api-fixture"
if not FIXTURE.is_dir():  # CI clones the project beside shared/
    FIXTURE = Path("/work/shared/data/data-inclusion/samples/data-inclusion-api-fixture")

# The example row of the fixture has SIRET 60487647500499, whose check digit is wrong.
VALID_SIRET = "73282932000074"


@pytest.fixture
def lille():
    nord = DepartementFactory(
        code="59", name="Nord", region=RegionFactory(code="32", name="Hauts-de-France")
    )
    return CommuneFactory(
        code="59350", name="Lille", departement=nord, latitude=50.63, longitude=3.06
    )


@pytest.fixture
def loudeac():
    return CommuneFactory(code="22136", name="Loudéac", latitude=48.18, longitude=-2.75)


def run(tmp_path, content, name="structures.csv", **kwargs):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    kwargs.setdefault("source", "test")
    return directory_import(files=[(path, name)], **kwargs)


def refused(tmp_path, content, name="structures.csv", **kwargs):
    with pytest.raises(ImportRefused) as caught:
        run(tmp_path, content, name, **kwargs)
    assert not Structure.objects.exists()
    assert not Service.objects.exists()
    return [(row.location, problem) for row in caught.value.plan.rows for problem in row.problems]


CSV_HEADER = (
    "id;nom;siret;code_insee;code_postal;adresse;courriel;site_web;horaires_accueil;date_maj"
)


def csv_line(**values):
    base = {
        "id": "s1",
        "nom": "Épicerie solidaire du Mené",
        "siret": "",
        "code_insee": "22136",
        "code_postal": "22600",
        "adresse": "1 rue de la Gare",
        "courriel": "accueil@epicerie.example",
        "site_web": "https://epicerie.example",
        "horaires_accueil": "Mo-Fr 09:00-12:00",
        "date_maj": "2026-02-01",
    }
    base.update(values)
    return ";".join(base[key] for key in CSV_HEADER.split(";"))


class TestOfficialFixture:
    """The template as published: every row it holds is refused, with the official reasons."""

    OFFICIAL = {
        ("Structures, ligne 4", "code_postal"),
        ("Structures, ligne 4", "courriel"),
        ("Structures, ligne 4", "date_maj"),
        ("Structures, ligne 4", "nom"),
        ("Structures, ligne 4", "site_web"),
        ("Services, ligne 4", "thematiques"),
        ("Services, ligne 4", "date_maj"),
        ("Services, ligne 4", "mobilisable_par"),
        ("Services, ligne 4", "nombre_semaines"),
        ("Services, ligne 5", "date_maj"),
        ("Services, ligne 5", "mobilisable_par"),
        ("Services, ligne 5", "nombre_semaines"),
        ("Services, ligne 5", "code_insee"),
    }

    def test_xlsx_rows_are_refused_with_the_official_reasons_and_nothing_is_written(self, lille):
        with pytest.raises(ImportRefused) as caught:
            directory_import(files=[(FIXTURE / "dataset.xlsx", "dataset.xlsx")], source="test")
        plan = caught.value.plan
        found = {
            (row.location, problem.split(" : ", 1)[0])
            for row in plan.rows
            for problem in row.problems
        }
        # Every error of the official validator, plus ours: the services' structure is refused.
        assert self.OFFICIAL <= found
        assert found - self.OFFICIAL == {
            ("Services, ligne 4", "structure_id"),
            ("Services, ligne 5", "structure_id"),
        }
        messages = {p for row in plan.rows for p in row.problems}
        assert any("« 750121 »" in m for m in messages)
        assert any("« pas une adresse »" in m for m in messages)
        assert any("« pas une url ! »" in m for m in messages)
        assert any("logement-hebergement--louer-un-appartement" in m for m in messages)
        assert any("59999" in m for m in messages)
        assert any("« beaucoup »" in m for m in messages)
        # The help row and the example row, marked in « __ignore__ », are not read.
        assert plan.ignored_rows == 4
        assert any("colonne en trop" in notice for notice in plan.notices)
        assert not Structure.objects.exists() and not Service.objects.exists()

    def test_csv_files_of_the_fixture_give_the_same_reasons(self, lille):
        with pytest.raises(ImportRefused) as caught:
            directory_import(
                files=[
                    (FIXTURE / "Structures.csv", "Structures.csv"),
                    (FIXTURE / "Services.csv", "Services.csv"),
                ],
                source="test",
            )
        found = {
            (row.location.split(".csv")[0] + row.location.split(".csv")[1], p.split(" : ")[0])
            for row in caught.value.plan.rows
            for p in row.problems
        }
        # The second service starts on line 25: its description spans twenty lines.
        assert ("Structures, ligne 4", "code_postal") in found
        assert ("Services, ligne 25", "code_insee") in found
        assert ("Services, ligne 4", "thematiques") in found
        assert not Structure.objects.exists()

    def test_the_example_row_would_be_refused_for_its_siret(self, lille, tmp_path):
        # The validator of data·inclusion never sees it (the row is marked __ignore__), but
        # the SIRET of the example, 6.0487647500499E13, has a wrong check digit.
        workbook = load_workbook(FIXTURE / "dataset.xlsx")
        workbook["Structures"].cell(row=3, column=1).value = None
        path = tmp_path / "exemple.xlsx"
        workbook.save(path)
        with pytest.raises(ImportRefused) as caught:
            directory_import(files=[(path, "exemple.xlsx")], source="test")
        example = caught.value.plan.rows[0]
        assert example.location == "Structures, ligne 3"
        assert example.problems[0].startswith("siret : SIRET invalide : « 60487647500499 »")

    def test_skip_invalid_on_the_fixture_as_published_writes_nothing(self, lille):
        result = directory_import(
            files=[(FIXTURE / "dataset.xlsx", "dataset.xlsx")], source="test", skip_invalid=True
        )
        assert result.plan.refused == 3
        assert not Structure.objects.exists()


@pytest.fixture
def corrected_fixture(tmp_path):
    """The template once a user has made its example row a real one: no longer ignored, with
    the date of its information. The invalid rows stay as they are."""
    workbook = load_workbook(FIXTURE / "dataset.xlsx")
    for title in ("Structures", "Services"):
        sheet = workbook[title]
        date_column = 3 if title == "Structures" else 4
        sheet.cell(row=1, column=date_column).value = "date_maj"
        sheet.cell(row=3, column=1).value = None
        # A naive datetime is what openpyxl stores in a cell: Excel knows no time zones.
        sheet.cell(row=3, column=date_column).value = datetime.datetime(2026, 2, 23)  # noqa: DTZ001
    # Kept as Excel stores it, a float: only its check digit is corrected.
    workbook["Structures"].cell(row=3, column=5).value = float(VALID_SIRET)
    path = tmp_path / "dataset-corrige.xlsx"
    workbook.save(path)
    return path


class TestCorrectedFixture:
    def test_by_default_a_file_with_refused_rows_writes_nothing(self, lille, corrected_fixture):
        with pytest.raises(ImportRefused) as caught:
            directory_import(files=[(corrected_fixture, "f.xlsx")], source="test")
        counts = caught.value.plan.counts()
        assert counts["structure"]["create"] == 1
        assert counts["structure"]["refused"] == 1
        assert counts["service"]["create"] == 1
        assert counts["service"]["refused"] == 2
        assert not Structure.objects.exists()
        assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.DIRECTORY_IMPORTED).exists()

    def test_skip_invalid_writes_the_valid_rows_only(self, lille, corrected_fixture):
        result = directory_import(
            files=[(corrected_fixture, "f.xlsx")], source="test", skip_invalid=True
        )
        assert result.written
        structure = Structure.objects.get()
        assert structure.name == "Le Biclou"
        assert (structure.source, structure.source_id) == (
            "test",
            "c3d15659-0000-0000-0000-04d50f6ace57",
        )
        # Excel's floats are read back as the identifiers they were.
        assert structure.siret == VALID_SIRET
        assert structure.postal_code == "59260"
        # No code_insee column: the commune is found from its name and postcode.
        assert structure.commune == lille
        assert structure.phone == "07 66 72 12 38"
        assert structure.data_updated_on == datetime.date(2026, 2, 23)
        # No coordinates in the file: the commune's centroid, marked approximate.
        assert (structure.latitude, structure.longitude) == (50.63, 3.06)
        assert structure.location_is_approximate
        service = Service.objects.get()
        assert service.structure == structure
        assert service.service_type == "aide-materielle"
        assert service.fees == "gratuit"
        assert service.commune == lille
        assert service.eligibility_zone == ["59350"]
        assert service.mobilisation_modes == ["se-presenter", "telephoner"]
        assert service.opening_hours == "Mo,We 14:00-18:00"
        assert set(service.thematiques.values_list("value", flat=True)) == {
            "mobilite--etre-accompagne-dans-son-parcours-mobilite",
            "difficultes-administratives-ou-juridiques--beneficier-dune-mesure-daccompagnement-adapte",
        }
        assert service.publics.count() == 3
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIRECTORY_IMPORTED)
        assert event.detail["structure_create"] == 1
        assert event.detail["service_refused"] == 2

    def test_importing_the_same_file_again_changes_nothing(self, lille, corrected_fixture):
        directory_import(files=[(corrected_fixture, "f.xlsx")], source="test", skip_invalid=True)
        before = Structure.objects.get()
        again = directory_import(
            files=[(corrected_fixture, "f.xlsx")], source="test", skip_invalid=True
        )
        counts = again.counts
        assert counts["structure"]["unchanged"] == 1
        assert counts["service"]["unchanged"] == 1
        assert counts["structure"]["create"] == counts["structure"]["update"] == 0
        assert counts["service"]["create"] == counts["service"]["update"] == 0
        after = Structure.objects.get()
        assert after.version == before.version
        assert after.updated_at == before.updated_at
        assert Service.objects.count() == 1


class TestBadInput:
    def test_cp1252_and_comma_separator_are_read(self, tmp_path, loudeac):
        content = (
            CSV_HEADER.replace(";", ",")
            + "\r\n"
            + csv_line(nom="Secours populaire de Loudéac").replace(";", ",")
            + "\r\n"
        )
        result = run(tmp_path, content.encode("cp1252"))
        assert Structure.objects.get().name == "Secours populaire de Loudéac"
        assert result.counts["structure"]["create"] == 1

    def test_utf8_with_bom_and_semicolons_are_read(self, tmp_path, loudeac):
        content = "\ufeff" + CSV_HEADER + "\n" + csv_line(nom="Épicerie Œcuménique") + "\n"
        run(tmp_path, content.encode("utf-8"))
        assert Structure.objects.get().name == "Épicerie Œcuménique"

    def test_excel_floats_for_siret_and_postcode_are_normalised(self, tmp_path, loudeac):
        run(
            tmp_path,
            CSV_HEADER + "\n" + csv_line(siret="7.3282932000074E13", code_postal="22600.0"),
        )
        structure = Structure.objects.get()
        assert structure.siret == VALID_SIRET
        assert structure.postal_code == "22600"

    def test_invalid_siret_is_refused(self, tmp_path, loudeac):
        problems = refused(tmp_path, CSV_HEADER + "\n" + csv_line(siret="12345678901234"))
        assert problems[0][0] == "structures.csv, ligne 2"
        assert problems[0][1].startswith("siret : SIRET invalide : « 12345678901234 »")

    def test_unknown_commune_is_refused(self, tmp_path, loudeac):
        problems = refused(tmp_path, CSV_HEADER + "\n" + csv_line(code_insee="99999"))
        assert problems == [
            ("structures.csv, ligne 2", "code_insee : le code commune 99999 n'existe pas.")
        ]

    def test_malformed_opening_hours_are_refused(self, tmp_path, loudeac):
        problems = refused(tmp_path, CSV_HEADER + "\n" + csv_line(horaires_accueil="lundi matin"))
        assert "horaires_accueil : Horaires illisibles : « lundi matin »" in problems[0][1]

    def test_url_and_email_that_are_not_are_refused(self, tmp_path, loudeac):
        problems = refused(
            tmp_path,
            CSV_HEADER + "\n" + csv_line(site_web="pas une url !", courriel="pas@une adresse"),
        )
        messages = [p for _, p in problems]
        assert any(
            m.startswith("site_web : Adresse web invalide : « pas une url ! »") for m in messages
        )
        assert any(
            m.startswith("courriel : Adresse e-mail invalide : « pas@une adresse »")
            for m in messages
        )

    def test_duplicate_ids_in_one_file_are_refused(self, tmp_path, loudeac):
        content = CSV_HEADER + "\n" + csv_line() + "\n" + csv_line(nom="Autre structure") + "\n"
        problems = refused(tmp_path, content)
        assert problems == [
            (
                "structures.csv, ligne 3",
                "id : l'identifiant « s1 » est déjà utilisé plus haut dans le fichier.",
            )
        ]

    def test_unknown_thematique_is_refused(self, tmp_path, loudeac):
        StructureFactory(source="test", source_id="s1", commune=loudeac)
        services = [
            {
                "id": "v1",
                "structure_id": "s1",
                "nom": "Distribution de colis",
                "description": "Colis alimentaires chaque mardi.",
                "thematiques": ["se-nourrir--inconnue"],
                "date_maj": "2026-01-01",
            }
        ]
        with pytest.raises(ImportRefused) as caught:
            run(tmp_path, json.dumps(services), name="services.json")
        row = caught.value.plan.rows[0]
        assert row.location == "services.json, élément 1"
        assert row.problems == ["thematiques : thématique inconnue : « se-nourrir--inconnue »."]
        assert not Service.objects.exists()

    def test_service_of_an_unknown_structure_is_refused(self, tmp_path, loudeac):
        line = {
            "id": "v1",
            "structure_id": "nulle-part",
            "nom": "Distribution de colis",
            "description": "Colis alimentaires chaque mardi.",
            "date_maj": "2026-01-01",
        }
        with pytest.raises(ImportRefused) as caught:
            run(tmp_path, json.dumps(line) + "\n", name="services.jsonl")
        assert (
            "aucune structure d'identifiant « nulle-part »" in caught.value.plan.rows[0].problems[0]
        )

    def test_empty_file_is_rejected(self, tmp_path):
        with pytest.raises(SpreadsheetRejected) as caught:
            run(tmp_path, b"")
        assert "vide" in str(caught.value.problems[0])
        assert not Structure.objects.exists()

    def test_header_only_file_is_rejected(self, tmp_path):
        with pytest.raises(SpreadsheetRejected) as caught:
            run(tmp_path, CSV_HEADER + "\n")
        assert "aucune donnée" in str(caught.value.problems[0])

    def test_oversize_file_is_rejected_before_reading(self, tmp_path, settings):
        settings.TABLEE_MAX_DIRECTORY_IMPORT_BYTES = 1000
        with pytest.raises(SpreadsheetRejected) as caught:
            run(tmp_path, b"x" * 5000)
        message = str(caught.value.problems[0])
        assert message.startswith("Le fichier pèse 4,9")
        assert "taille maximale d'un import est de 1000\u00a0octets" in message

    def test_zip_bomb_renamed_xlsx_is_refused_unopened(self, tmp_path):
        path = tmp_path / "annuaire.xlsx"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("xl/workbook.xml", "<workbook/>")
            archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
        assert path.stat().st_size < 200 * 1024
        with pytest.raises(SpreadsheetRejected) as caught:
            directory_import(files=[(path, "annuaire.xlsx")], source="test")
        assert "refusé par précaution, sans être ouvert" in str(caught.value.problems[0])

    def test_malformed_json_names_the_line(self, tmp_path):
        with pytest.raises(SpreadsheetRejected) as caught:
            run(tmp_path, '[{"id": "a",\n "nom": }]', name="structures.json")
        assert caught.value.problems[0].line == 2

    def test_binary_file_is_rejected(self, tmp_path):
        with pytest.raises(SpreadsheetRejected):
            run(tmp_path, b"\x00\x01\x02binary\x00" * 20, name="structures.csv")


class TestUpserts:
    def test_json_array_and_json_lines_are_read(self, tmp_path, loudeac):
        record = {
            "id": "s1",
            "nom": "CCAS de Loudéac",
            "code_insee": "22136",
            "date_maj": "2026-01-15",
            "reseaux_porteurs": ["ccas-cias"],
            "latitude": 48.177,
            "longitude": -2.753,
        }
        run(tmp_path, json.dumps([record]), name="structures.json")
        structure = Structure.objects.get()
        assert (structure.latitude, structure.longitude) == (48.177, -2.753)
        assert not structure.location_is_approximate
        assert list(structure.networks.values_list("value", flat=True)) == ["ccas-cias"]
        record["telephone"] = "02 96 28 00 00"
        result = run(tmp_path, json.dumps(record) + "\n", name="structures.jsonl")
        assert result.counts["structure"]["update"] == 1
        assert result.plan.rows[0].changes == ["phone"]
        structure.refresh_from_db()
        assert structure.phone == "02 96 28 00 00"
        assert structure.version == 2
        # The réseaux are untouched when the file does not mention them.
        assert structure.networks.count() == 1

    def test_absent_columns_leave_fields_alone_and_empty_cells_clear_them(self, tmp_path, loudeac):
        run(tmp_path, CSV_HEADER + "\n" + csv_line())
        header = "id;nom;code_insee;date_maj;courriel"
        run(tmp_path, header + "\ns1;Épicerie solidaire du Mené;22136;2026-02-01;\n")
        structure = Structure.objects.get()
        assert structure.email == ""
        assert structure.website == "https://epicerie.example"

    def test_likely_duplicates_are_flagged_not_merged(self, tmp_path, loudeac):
        StructureFactory(name="Le Biclou", siret=VALID_SIRET, source="dora", source_id="9")
        StructureFactory(name="Épicerie solidaire du Mené", commune=loudeac, source="soliguide")
        result = run(
            tmp_path,
            CSV_HEADER
            + "\n"
            + csv_line()
            + "\n"
            + csv_line(id="s2", nom="Autre", siret=VALID_SIRET)
            + "\n",
        )
        first, second = result.plan.rows
        assert first.duplicates == [
            "même nom et même commune que « Épicerie solidaire du Mené » (source soliguide)"
        ]
        assert second.duplicates == ["même SIRET que « Le Biclou » (source dora)"]
        assert Structure.objects.count() == 4

    def test_coordinator_imports_only_in_the_communes_of_its_programme(self, tmp_path, loudeac):
        pt = ProgrammeTerritoryFactory(territory=loudeac.territory)
        coordinator = MembershipFactory(role=Role.COORDINATOR, programme=pt.programme).user
        elsewhere = CommuneFactory(code="22999", territory=TerritoryFactory())
        content = (
            CSV_HEADER + "\n" + csv_line() + "\n" + csv_line(id="s2", code_insee="22999") + "\n"
        )
        with pytest.raises(ImportRefused) as caught:
            run(tmp_path, content, acting_user=coordinator)
        rows = caught.value.plan.rows
        assert rows[0].action == "create"
        assert rows[1].problems == ["code_insee : cette commune est hors de votre périmètre."]
        assert elsewhere.structures.count() == 0

    def test_dry_run_counts_without_writing(self, tmp_path, loudeac):
        result = run(tmp_path, CSV_HEADER + "\n" + csv_line(), dry_run=True)
        assert result.counts["structure"]["create"] == 1
        assert not result.written
        assert not Structure.objects.exists()

    def test_round_trip_of_our_zip_export_changes_nothing(self, tmp_path, loudeac):
        from tablee.directory.exporters import export_directory

        run(tmp_path, CSV_HEADER + "\n" + csv_line())
        native = StructureFactory(name="Restos du Cœur", commune=loudeac)
        for fmt in ("di-json", "di-csv"):
            content, *_ = export_directory(Structure.objects.all(), fmt)
            result = run(tmp_path, content, name="export.zip")
            assert result.counts["structure"]["unchanged"] == 2, fmt
        assert Structure.objects.count() == 2
        assert native.source == "tablee"


class TestMapping:
    def test_any_spreadsheet_maps_with_guessed_columns_and_stable_ids(self, tmp_path, loudeac):
        content = "Nom de la structure;Ville;CP;Tél.;Mail\nÉpicerie du Lié;Loudéac;22600;0296280000;a@b.fr\n"
        path = tmp_path / "liste.csv"
        path.write_text(content, encoding="utf-8")
        table = read_tables(path, "liste.csv")[0]
        assert not table.is_data_inclusion
        mapping = guess_mapping(table.columns)
        assert mapping == {0: "nom", 1: "commune", 2: "code_postal", 3: "telephone", 4: "courriel"}
        records = list(read_files([(path, "liste.csv")], mapping=mapping))
        assert records[0].data["id"] == "epicerie-du-lie-loudeac"
        directory_import(files=[(path, "liste.csv")], source="ccas", mapping=mapping)
        structure = Structure.objects.get()
        assert structure.commune == loudeac
        assert structure.phone == "02 96 28 00 00"
        assert structure.data_updated_on == timezone.localdate()
        again = directory_import(files=[(path, "liste.csv")], source="ccas", mapping=mapping)
        assert again.counts["structure"]["unchanged"] == 1
        # Without a date column, importing the same file another day changes nothing either.
        Structure.objects.update(data_updated_on=datetime.date(2025, 1, 1))
        later = directory_import(files=[(path, "liste.csv")], source="ccas", mapping=mapping)
        assert later.counts["structure"]["unchanged"] == 1
        assert Structure.objects.get().data_updated_on == datetime.date(2025, 1, 1)

    def test_a_workbook_of_our_own_with_excel_numbers(self, tmp_path, loudeac):
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Liste CCAS"
        sheet.append(["Structure", "Code INSEE", "SIRET", "Téléphone"])
        sheet.append(["CCAS de Loudéac", 22136, 73282932000074, 296280000])
        path = tmp_path / "liste.xlsx"
        workbook.save(path)
        table = read_tables(path, "liste.xlsx")[0]
        mapping = guess_mapping(table.columns)
        assert mapping == {0: "nom", 1: "code_insee", 2: "siret", 3: "telephone"}
        directory_import(files=[(path, "liste.xlsx")], source="ccas", mapping=mapping)
        structure = Structure.objects.get()
        assert (structure.commune_id, structure.siret) == ("22136", VALID_SIRET)
        assert structure.phone == "02 96 28 00 00"


def test_categories_exist_for_the_checks():
    # Loaded by the data migration: the référentiel checks rely on them.
    assert Category.objects.filter(kind=Category.Kind.THEMATIQUE).count() == 69


def test_xlsx_reading_skips_referential_sheets(tmp_path):
    copy = tmp_path / "d.xlsx"
    shutil.copy(FIXTURE / "dataset.xlsx", copy)
    tables = read_tables(copy, "d.xlsx")
    assert [t.label for t in tables] == ["Structures", "Services"]
    assert [t.kind for t in tables] == ["structure", "service"]


class TestLargeFiles:
    """What keeps a national file fast and small gives the same result as the general path."""

    def test_rows_written_in_chunks_are_all_written_with_their_links(
        self, tmp_path, loudeac, monkeypatch
    ):
        from tablee.directory import importers

        monkeypatch.setattr(importers, "CHUNK_ROWS", 2)
        structures = [
            {
                "id": f"s{i}",
                "nom": f"Épicerie solidaire {i}",
                "code_insee": "22136",
                "date_maj": "2026-01-15",
                "reseaux_porteurs": ["ccas-cias"],
                "horaires_accueil": "Mo-Fr 09:00-12:00",
            }
            for i in range(5)
        ]
        services = [
            {
                "id": f"v{i}",
                "structure_id": f"s{i % 5}",
                "nom": f"Distribution {i}",
                "description": "Colis alimentaires chaque semaine.",
                "date_maj": "2026-01-15",
                "thematiques": ["mobilite--etre-accompagne-dans-son-parcours-mobilite"],
            }
            for i in range(7)
        ]
        content = "\n".join(json.dumps(r) for r in structures + services) + "\n"
        result = run(tmp_path, content, name="annuaire.jsonl")
        assert result.counts["structure"]["create"] == 5
        assert result.counts["service"]["create"] == 7
        assert Structure.objects.count() == 5
        assert Service.objects.count() == 7
        assert Structure.networks.through.objects.count() == 5
        assert Service.thematiques.through.objects.count() == 7
        structure = Structure.objects.get(source_id="s3")
        assert structure.search_name == "epicerie solidaire 3"
        assert structure.open_days == "01234"
        assert structure.version == 1
        assert (structure.latitude, structure.longitude) == (48.18, -2.75)
        assert structure.location_is_approximate
        assert structure.created_at is not None
        assert Service.objects.get(source_id="v3").structure == structure
        assert Service.objects.get(source_id="v3").reception_modes == []

        structures[1]["telephone"] = "02 96 28 00 00"
        services[6]["nom"] = "Distribution du soir"
        content = "\n".join(json.dumps(r) for r in structures + services) + "\n"
        result = run(tmp_path, content, name="annuaire.jsonl")
        assert result.counts["structure"] == {
            "create": 0,
            "update": 1,
            "unchanged": 4,
            "refused": 0,
        }
        assert result.counts["service"]["update"] == 1
        assert Structure.objects.get(source_id="s1").phone == "02 96 28 00 00"
        assert Structure.objects.get(source_id="s1").version == 2
        assert Service.objects.get(source_id="v6").name == "Distribution du soir"
        assert Structure.networks.through.objects.count() == 5

    def test_the_plan_of_a_large_file_keeps_exact_counts_and_a_bounded_part_of_its_rows(
        self, tmp_path, loudeac, monkeypatch
    ):
        from tablee.directory import importers

        monkeypatch.setattr(importers, "CHUNK_ROWS", 2)
        monkeypatch.setattr(importers, "PREVIEW_SAMPLE_ROWS", 2)
        monkeypatch.setattr(importers, "PREVIEW_REFUSED_ROWS", 2)
        monkeypatch.setattr(importers, "PREVIEW_DUPLICATE_ROWS", 1)
        StructureFactory(name="Le Biclou", siret=VALID_SIRET, source="dora", source_id="9")
        lines = [csv_line(id=f"s{i}", nom=f"Épicerie {i}", siret=VALID_SIRET) for i in (1, 2)]
        lines += [csv_line(id=f"s{i}", nom=f"Épicerie {i}") for i in (3, 4, 5, 6)]
        lines += [csv_line(id=f"r{i}", nom="Ailleurs", code_insee="99999") for i in (1, 2, 3)]
        with pytest.raises(ImportRefused) as caught:
            run(tmp_path, CSV_HEADER + "\n" + "\n".join(lines) + "\n")
        plan = caught.value.plan
        assert plan.counts()["structure"] == {
            "create": 6,
            "update": 0,
            "unchanged": 0,
            "refused": 3,
        }
        assert (plan.total, plan.refused, plan.duplicates) == (9, 3, 2)
        # The first likely duplicate, then the sample of rows to create (the second duplicate
        # among them), then the first refused rows: in the order of the file.
        assert [row.source_id for row in plan.rows] == ["s1", "s2", "s3", "r1", "r2"]
        assert not plan.complete
        saved = plan.to_json()
        assert (saved["total"], saved["complete"], len(saved["rows"])) == (9, False, 5)
        assert saved["counts"]["structure"]["create"] == 6
        # The first chunks were written before the refused rows were read: rolled back.
        assert not Structure.objects.filter(source="test").exists()

    def test_services_read_before_their_structure_wait_for_it(self, tmp_path, loudeac, monkeypatch):
        from tablee.directory import importers

        monkeypatch.setattr(importers, "CHUNK_ROWS", 2)
        in_directory = StructureFactory(source="test", source_id="s9", commune=loudeac)

        def service(id_, structure_id):
            return {
                "id": id_,
                "structure_id": structure_id,
                "nom": f"Distribution {id_}",
                "description": "Colis alimentaires chaque semaine.",
                "date_maj": "2026-01-15",
            }

        def structure(id_, code="22136"):
            return {
                "id": id_,
                "nom": f"Épicerie {id_}",
                "code_insee": code,
                "date_maj": "2026-01-15",
            }

        items = [
            service("v1", "s1"),
            service("v2", "s2"),
            service("v3", "s9"),
            structure("s1"),
            structure("s2", code="99999"),
            service("v4", "s1"),
        ]
        content = "\n".join(json.dumps(item) for item in items) + "\n"
        result = run(tmp_path, content, name="annuaire.jsonl", skip_invalid=True)
        assert [(row.source_id, row.action) for row in result.plan.rows] == [
            ("v1", "create"),
            ("v2", "refused"),
            ("v3", "create"),
            ("s1", "create"),
            ("s2", "refused"),
            ("v4", "create"),
        ]
        assert result.plan.rows[1].problems == [
            "structure_id : la structure de ce service est refusée (voir sa ligne)."
        ]
        s1 = Structure.objects.get(source_id="s1")
        assert set(s1.services.values_list("source_id", flat=True)) == {"v1", "v4"}
        assert list(in_directory.services.values_list("source_id", flat=True)) == ["v3"]
        assert not Service.objects.filter(source_id="v2").exists()

    def test_a_second_use_of_a_structure_identifier_leaves_the_first_and_its_services(
        self, tmp_path, loudeac, monkeypatch
    ):
        from tablee.directory import importers

        monkeypatch.setattr(importers, "CHUNK_ROWS", 1)
        structure = {"id": "s1", "nom": "Épicerie", "code_insee": "22136", "date_maj": "2026-01-15"}
        service = {
            "structure_id": "s1",
            "nom": "Distribution",
            "description": "Colis alimentaires chaque semaine.",
            "date_maj": "2026-01-15",
        }
        items = [
            structure,
            {**service, "id": "v1"},
            {**structure, "nom": "Autre épicerie"},
            {**service, "id": "v2"},
        ]
        content = "\n".join(json.dumps(item) for item in items) + "\n"
        result = run(tmp_path, content, name="annuaire.jsonl", skip_invalid=True)
        assert [row.action for row in result.plan.rows] == ["create", "create", "refused", "create"]
        assert Structure.objects.get().name == "Épicerie"
        assert Service.objects.filter(structure__source_id="s1").count() == 2

    def test_rows_of_one_file_are_not_likely_duplicates_of_each_other(
        self, tmp_path, loudeac, monkeypatch
    ):
        # As when the whole file was compared with the directory before writing: the rows
        # written from earlier chunks are not "already in the directory".
        from tablee.directory import importers

        monkeypatch.setattr(importers, "CHUNK_ROWS", 1)
        lines = [csv_line(id=f"s{i}", nom=f"Épicerie {i}", siret=VALID_SIRET) for i in (1, 2)]
        result = run(tmp_path, CSV_HEADER + "\n" + "\n".join(lines) + "\n")
        assert [row.duplicates for row in result.plan.rows] == [[], []]
        assert result.plan.duplicates == 0
        assert Structure.objects.count() == 2

    def test_the_larger_page_cache_of_an_import_is_given_back(self, tmp_path, loudeac):
        from django.db import connection

        def cache_size():
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA cache_size")
                return cursor.fetchone()[0]

        if connection.vendor != "sqlite":
            assert connection.vendor == "postgresql"  # nothing to give back
            return
        usual = cache_size()
        run(tmp_path, CSV_HEADER + "\n" + csv_line() + "\n")
        assert cache_size() == usual
        with pytest.raises(ImportRefused):
            run(tmp_path, CSV_HEADER + "\n" + csv_line(id="s2", code_insee="99999") + "\n")
        assert cache_size() == usual

    def test_new_rows_get_increasing_keys_of_version_7(self, tmp_path, loudeac):
        lines = [csv_line(id=f"s{i}", nom=f"Épicerie {i}") for i in range(5)]
        run(tmp_path, CSV_HEADER + "\n" + "\n".join(lines) + "\n")
        keys = [s.pk for s in sorted(Structure.objects.all(), key=lambda s: int(s.source_id[1:]))]
        assert keys == sorted(keys)
        assert {key.version for key in keys} == {7}
        assert len(set(keys)) == 5

    @pytest.mark.parametrize("kind", ["structure", "service"])
    def test_quick_field_checks_never_accept_what_the_schema_refuses(self, kind):
        from tablee.directory.importers import _field_error, _simple_checks

        samples = [
            "",
            "a",
            "ab",
            "abc",
            "abcde",
            "x" * 151,
            "x" * 10_001,
            "1234",
            "12345",
            "2A004",
            "59350",
            "12345678901234",
            "1234567890123a",
            "https://example.org",
            0,
            -1,
            2.5,
            True,
            ["a"],
        ]
        checks = _simple_checks(kind)
        assert {"nom", "description", "siret", "telephone"} & set(checks)
        for name, check in checks.items():
            for value in samples:
                if check(value):
                    assert _field_error.__wrapped__(kind, name, value) is None, (name, value)

    @pytest.mark.parametrize(
        "typed",
        [
            "0296280000",
            "02 96 28 00 00",
            "02.96.28.00.00",
            "06 12 34 56 78",
            "07 00 00 00 00",
            "09 70 00 00 00",
            "01 00 00 00 00",
            "08 00 00 00 00",
            "0262 12 34 56",
            "0590 12 34 56",
            "02 96 28 00 0",
            "+33 2 96 28 00 00",
            "115",
        ],
    )
    def test_french_numbers_read_quickly_are_read_as_phonenumbers_reads_them(self, typed):
        from django.core.exceptions import ValidationError

        from tablee.directory.importers import _phone
        from tablee.directory.validators import normalize_phone

        def outcome(function):
            try:
                return function(typed)
            except ValidationError as error:
                return error.messages

        assert outcome(_phone) == outcome(normalize_phone)

    def test_json_lines_not_in_utf8_are_rejected(self, tmp_path):
        path = tmp_path / "annuaire.jsonl"
        path.write_bytes('{"id": "s1", "nom": "Épicerie"}\n'.encode("cp1252"))
        with pytest.raises(SpreadsheetRejected) as caught:
            list(read_files([(path, "annuaire.jsonl")]))
        assert "UTF-8" in str(caught.value.shown[0])
        assert not Structure.objects.exists()

    def test_rows_are_read_one_at_a_time(self, tmp_path):
        # A national file is never held whole: the first rows are read before the last line is.
        line = {"id": "s1", "nom": "Épicerie solidaire", "date_maj": "2026-01-15"}
        path = tmp_path / "annuaire.jsonl"
        path.write_text(json.dumps(line) + "\n" + '{"id": "s2",\n', encoding="utf-8")
        records = iter(read_files([(path, "annuaire.jsonl")]))
        assert next(records).data == line
        with pytest.raises(SpreadsheetRejected) as caught:
            next(records)
        assert caught.value.problems[0].line == 2

    def test_the_collector_gets_its_usual_threshold_back(self, tmp_path, loudeac):
        import gc

        usual = gc.get_threshold()
        run(tmp_path, CSV_HEADER + "\n" + csv_line() + "\n")
        assert gc.get_threshold() == usual
        with pytest.raises(ImportRefused):
            run(tmp_path, CSV_HEADER + "\n" + csv_line(id="s2", code_insee="99999") + "\n")
        assert gc.get_threshold() == usual
