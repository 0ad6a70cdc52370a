"""The full export of a programme's data (ZIP of CSV and JSON per kind of record, with a README)."""

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.activities.models import Registration
from tablee.reports.full_export import TABLES
from tablee.reports.tests.factories_reports import ReportWorld, make_report

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = ReportWorld()
    make_report(world, narratives={"summary": "<p>Bilan.</p>"})
    Registration.objects.create(
        session=world.training,
        full_name="Professionnel·le inscrit·e",
        email="pro@example.org",
        consent=True,
    )
    world.own.name = "=cmd|' /C calc'!A0"
    world.own.save()
    return world


def export_url(world):
    return reverse("reports:full_export", args=[world.programme.pk])


def archive(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    # Reading the stream closes the file (the test client's wrapper); response.close() would
    # also close the database connection of the test on PostgreSQL.
    content = b"".join(response.streaming_content)
    return zipfile.ZipFile(io.BytesIO(content))


def csv_rows(zipped, name) -> list[dict]:
    raw = zipped.read(f"{name}.csv")
    assert raw.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


@pytest.mark.parametrize("role", ["admin", "coordinator"])
def test_the_programme_coordinator_exports_everything(client, world, role):
    client.force_login(getattr(world, role))
    zipped = archive(client.get(export_url(world)))
    names = set(zipped.namelist())
    for table in TABLES:
        assert {f"{table.name}.csv", f"{table.name}.json"} <= names
    assert "README.txt" in names

    sessions = json.loads(zipped.read("seances.json"))
    # Programme P's sessions only (not U's, of programme Q).
    assert len(sessions) == 6
    assert {s["programme_territory_id"] for s in sessions} == {str(world.t1.pk), str(world.t2.pk)}
    training = next(s for s in sessions if s["id"] == str(world.training.pk))
    assert training["partner_structures"] == [str(world.health.pk)]
    # The secret addresses of the public pages stay out.
    assert "registration_token" not in training and "checkin_token" not in training
    registrations = csv_rows(zipped, "inscriptions")
    assert registrations[0]["full_name"] == "Professionnel·le inscrit·e"
    assert "cancel_token" not in registrations[0]
    headcounts = csv_rows(zipped, "comptages")
    assert sorted(int(row["count"]) for row in headcounts) == [7, 8, 10, 12, 18, 40]
    structures = {row["id"]: row for row in csv_rows(zipped, "structures")}
    # Structures of the programme's territories only, formulas neutralised.
    assert str(world.other.pk) not in structures
    assert structures[str(world.own.pk)]["name"].startswith("'=cmd")
    reports = json.loads(zipped.read("rapports.json"))
    assert reports[0]["narratives"] == {"summary": "<p>Bilan.</p>"}
    readme = zipped.read("README.txt").decode()
    assert "seances.csv / seances.json — Ateliers et formations (6 lignes)" in readme
    assert "  - audience : public ; codes : professionals = " in readme
    assert (
        "  - programme_territory_id : territoire (identifiant : territoire du programme)" in readme
    )

    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.actor == getattr(world, role)
    assert event.detail["seances"] == 6
    assert event.detail["format"] == "zip"


@pytest.mark.parametrize(
    "role,status",
    [
        ("territory_coordinator", 403),  # the export is programme-wide
        ("funder", 403),
        ("local_authority", 403),
        ("partner", 403),
        ("no_role", 404),
    ],
)
def test_nobody_else_exports(client, world, role, status):
    client.force_login(getattr(world, role))
    assert client.get(export_url(world)).status_code == status
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.EXPORT).exists()


def test_full_export_queries(client, world, django_assert_num_queries):
    client.force_login(world.coordinator)
    # session, user, memberships, programme; one query per kind of record (32); one per
    # many-to-many relation of the kinds that hold rows (11: structures' networks, meetings'
    # structures, needs' publics and structures, actions' needs, proposals, pilots and partners,
    # sessions' facilitators, hosts and partners); the audit event
    with django_assert_num_queries(48):
        response = client.get(export_url(world))
    assert archive(response).namelist()
