"""Exports of the directory: every data·inclusion record validates against the official schema."""

import datetime
import io
import json
import zipfile

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.tests.factories import MembershipFactory
from tablee.directory.exporters import ExportCounts, data_inclusion_records, export_directory
from tablee.directory.importers import read_files, validator_for
from tablee.directory.models import Category, Service, Structure
from tablee.directory.tests.factories import StructureFactory
from tablee.territories.tests.factories import CommuneFactory, ProgrammeTerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    commune = CommuneFactory(code="22136", name="Loudéac")
    structures = [
        StructureFactory(
            name='=HYPERLINK("http://evil.example")',
            commune=commune,
            siret="73282932000074",
            postal_code="22600",
            phone="+32 2 555 12 12",
            website="https://exemple.fr",
            opening_hours="Mo-Fr 09:00-12:00",
            latitude=48.18,
            longitude=-2.75,
        ),
        StructureFactory(name="Épicerie solidaire", commune=commune, postal_code="2260"),
        StructureFactory(name="AB", commune=commune),  # too short for the schema
    ]
    structures[0].networks.add(Category.objects.get(kind="reseau", value="ccas-cias"))
    service = Service.objects.create(
        structure=structures[0],
        name="Distribution de colis",
        description="Colis alimentaires chaque mardi matin.",
        service_type="aide-materielle",
        fees="gratuit",
        contact_name="Camille Martin",
        reception_modes=["en-presentiel"],
        mobilisation_modes=["se-presenter"],
        mobilisable_by=["usagers"],
        eligibility_zone=["22136", "pas un code"],
        commune=commune,
    )
    service.thematiques.add(Category.objects.filter(kind="thematique").first())
    Service.objects.create(structure=structures[1], name="Atelier", description="Bref")
    return commune, structures


def unzip(content: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


class TestDataInclusionExports:
    def test_every_json_record_validates_against_the_official_schema(self, directory):
        content, filename, _, counts = export_directory(Structure.objects.all(), "di-json")
        assert filename.startswith("annuaire-data-inclusion-json-")
        files = unzip(content)
        structures = json.loads(files["structures.json"])
        services = json.loads(files["services.json"])
        assert len(structures) == 2 and len(services) == 1
        for record in structures:
            assert not list(validator_for("structure").iter_errors(record)), record
        for record in services:
            assert not list(validator_for("service").iter_errors(record)), record
        # What the schema would refuse is left empty, and counted when a record is left out.
        by_name = {s["nom"]: s for s in structures}
        assert by_name["Épicerie solidaire"]["code_postal"] is None
        assert by_name['=HYPERLINK("http://evil.example")']["reseaux_porteurs"] == ["ccas-cias"]
        assert services[0]["zone_eligibilite"] == ["22136"]
        assert counts.structures == 2 and counts.services == 1
        assert len(counts.skipped) == 2
        # The name of a professional never leaves Tablée.
        assert services[0]["contact_nom_prenom"] is None
        assert b"Camille Martin" not in content

    def test_json_written_record_by_record_is_what_one_dump_of_the_lists_gives(self, directory):
        content, _, _, counts = export_directory(Structure.objects.all(), "di-json")
        files = unzip(content)
        structures, services = data_inclusion_records(Structure.objects.all(), ExportCounts())
        assert files["structures.json"] == json.dumps(structures, ensure_ascii=False).encode()
        assert files["services.json"] == json.dumps(services, ensure_ascii=False).encode()
        assert (counts.structures, counts.services) == (len(structures), len(services))

    def test_json_of_an_empty_directory_holds_two_empty_arrays(self):
        content, _, _, counts = export_directory(Structure.objects.none(), "di-json")
        assert unzip(content) == {"structures.json": b"[]", "services.json": b"[]"}
        assert (counts.structures, counts.services, counts.skipped) == (0, 0, [])

    def test_every_csv_record_read_back_validates(self, directory, tmp_path):
        content, *_ = export_directory(Structure.objects.all(), "di-csv")
        files = unzip(content)
        assert files["structures.csv"].startswith(b"\xef\xbb\xbf")
        # Formula-like cells are written as text.
        assert b"'=HYPERLINK" in files["structures.csv"]
        assert b"'+32 2 555 12 12" in files["structures.csv"]
        path = tmp_path / "export.zip"
        path.write_bytes(content)
        records = list(read_files([(path, "export.zip")]))
        from tablee.directory.importers import normalise

        assert len(records) == 3
        for record in records:
            values, problems = normalise(record.kind, record.data)
            assert not problems, problems
            instance = {k: v for k, v in values.items() if v is not None}
            assert not list(validator_for(record.kind).iter_errors(instance)), instance


class TestXlsxExport:
    def test_xlsx_for_people_neutralises_formulas(self, directory):
        content, filename, _, counts = export_directory(Structure.objects.all(), "xlsx")
        assert filename.endswith(".xlsx")
        sheet = load_workbook(io.BytesIO(content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:3] == ("Nom", "Secteur", "Catégorie FINESS")
        names = [row[0] for row in rows[1:]]
        assert '=HYPERLINK("http://evil.example")' in names
        formula_cell = next(c for c in sheet["A"] if str(c.value).startswith("="))
        assert formula_cell.data_type == "s"
        assert counts.structures == 3


class TestExportView:
    def test_coordinator_exports_its_scope_filtered_and_audited(
        self, client, directory, django_assert_max_num_queries
    ):
        commune, structures = directory
        pt = ProgrammeTerritoryFactory(territory=commune.territory)
        StructureFactory(name="Hors périmètre")
        coordinator = MembershipFactory(role=Role.COORDINATOR, programme=pt.programme).user
        client.force_login(coordinator)
        page = client.get(reverse("directory_data:export"))
        assert page.context["count"] == 3
        response = client.get(
            reverse("directory_data:export"), {"format": "di-json", "q": "epicerie"}
        )
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        structures_json = json.loads(unzip(response.content)["structures.json"])
        assert [s["nom"] for s in structures_json] == ["Épicerie solidaire"]
        event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
        assert event.actor == coordinator
        assert event.detail == {
            "format": "di-json",
            "structures": 1,
            "services": 0,
            "skipped": 1,
            "filtered": True,
        }

    def test_export_page_query_count(self, client, directory, django_assert_num_queries):
        client.force_login(MembershipFactory(role=Role.ADMIN).user)
        # session, user, memberships, programme territories (filter choices), categories,
        # count of structures
        with django_assert_num_queries(6):
            response = client.get(reverse("directory_data:export"))
        assert response.status_code == 200
        assert "3 structures" in response.content.decode()


def test_dates_are_iso(directory):
    content, *_ = export_directory(Structure.objects.all(), "di-json")
    record = json.loads(unzip(content)["structures.json"])[0]
    assert datetime.date.fromisoformat(record["date_maj"])
