"""The attendance sheet and the certificates as PDF, and the scanned signed sheet."""

import datetime
import io
import re
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tablee.accounts.models import AuditEvent
from tablee.accounts.tests.factories import UserFactory
from tablee.activities.models import Attendance, Session
from tablee.activities.tests.factories_attendance import (
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    attend,
    future_session,
    ongoing_session,
    pdf_text,
    register,
    text,
)
from tablee.diagnostic.tests.factories_i import DiagnosticWorld
from tablee.territories.models import Audience, SessionKind

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world():
    return DiagnosticWorld()


@pytest.fixture
def session(world):
    session = ongoing_session(
        world.t1,
        capacity=12,
        title="Repérer et orienter",
        external_facilitators="Diététicienne fictive",
        place_structure=world.own,
    )
    session.facilitators.add(UserFactory(full_name="Animatrice Fictive"))
    return session


def url(session, name, *args):
    return reverse(f"attendance:{name}", args=[session.programme_territory_id, session.pk, *args])


# ---- The attendance sheet ----------------------------------------------------------------------


def test_the_sheet_lists_the_registrants_with_blank_lines_and_the_funder(client, world, session):
    register(session, full_name="Alix Fictive", structure=world.own)
    register(session, full_name="Bastien Fictif", structure_name="Mairie de Plémet")
    register(session, full_name="Sur Liste Attente", status="waiting")
    register(session, full_name="Parti Fictif", status="cancelled")
    client.force_login(world.coordinator)
    response = client.get(url(session, "sheet_pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "emargement-reperer-et-orienter-" in response["Content-Disposition"]
    content = pdf_text(response.content)
    assert "Feuille d'émargement" in content
    assert "Formation : Repérer et orienter" in content
    assert "Alix Fictive" in content and world.own.name in content
    assert "Bastien Fictif" in content and "Mairie de Plémet" in content
    assert "Sur Liste Attente" not in content and "Parti Fictif" not in content
    assert "Animatrice Fictive, Diététicienne fictive" in content
    assert f"Action financée par DREETS Bretagne — programme {world.programme.name}" in content
    # Two registrants and ten blank lines up to the twelve places: numbered 1 to 12.
    assert " 12 " in f" {content} " and " 13 " not in f" {content} "
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.detail == {
        "document": "attendance_sheet",
        "format": "pdf",
        "registrants": 2,
    }
    assert event.target == str(session.pk)


def test_the_sheet_of_a_people_session_has_a_headcount_grid_and_no_name(client, world):
    session = ongoing_session(world.t1, audience=Audience.PEOPLE, title="Atelier cuisine")
    client.force_login(world.coordinator)
    content = pdf_text(client.get(url(session, "sheet_pdf")).content)
    assert "aucun nom n'est noté" in content
    assert "nombre de personnes par tranche d'âge et genre" in content
    assert "Autres participant·es (nombre, sans nom)" in content
    assert "18–25 ans" in content and "Femmes" in content
    assert "Nom et prénom" not in content and "Signature :" not in content


@pytest.mark.parametrize("role", ["partner", *FORBIDDEN_ROLES])
def test_only_the_team_prints_the_sheet(client, world, session, role):
    client.force_login(getattr(world, role))
    assert client.get(url(session, "sheet_pdf")).status_code == 403


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_the_sheet_out_of_scope_answers_404(client, world, session, role):
    client.force_login(getattr(world, role))
    assert client.get(url(session, "sheet_pdf")).status_code == 404


# ---- Certificates ------------------------------------------------------------------------------


def test_a_training_certificate_names_the_person_and_the_hours(client, world, session):
    [registration] = register(session, full_name="Alix Fictive", structure=world.own)
    attendance = attend(registration)
    client.force_login(world.coordinator)
    response = client.get(url(session, "certificate", attendance.pk))
    assert response.status_code == 200
    content = pdf_text(response.content)
    assert "Attestation de formation" in content
    assert "Alix Fictive" in content
    assert world.own.name in content
    assert "a participé à la formation" in content
    assert "« Repérer et orienter »" in content
    assert re.search(r"Durée 2 ?h Lieu", content)  # pdftotext may drop the thin space
    assert "Repérer les signes de précarité alimentaire." in content
    assert "financé par DREETS Bretagne" in content
    assert "nom, fonction et signature" in content
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.NAMED_RECORD_READ)
    assert event.target == str(attendance.pk)
    assert event.detail == {"document": "certificate", "session": str(session.pk)}


def test_a_workshop_gives_a_certificate_of_attendance(client, world):
    session = ongoing_session(world.t1, kind=SessionKind.WORKSHOP, audience=Audience.VOLUNTEERS)
    attendance = Attendance.objects.create(
        session=session, full_name="Bénévole Fictive (Restos fictifs)", audience=Audience.VOLUNTEERS
    )
    client.force_login(world.coordinator)
    content = pdf_text(client.get(url(session, "certificate", attendance.pk)).content)
    assert "Attestation de présence" in content
    assert "a participé à l'atelier" in content
    assert "Bénévole Fictive (Restos fictifs)" in content


def test_the_zip_holds_one_certificate_per_attendee(client, world, session):
    registrations = register(session, 3, structure=world.own)
    for registration in registrations[:2]:
        attend(registration)
    Attendance.objects.create(
        session=session, full_name="Venu Sans Inscription", audience=Audience.PROFESSIONALS
    )
    client.force_login(world.coordinator)
    response = client.get(url(session, "certificates_zip"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = sorted(archive.namelist())
    assert len(names) == 3
    assert all(name.startswith("attestation-") and name.endswith(".pdf") for name in names)
    texts = [pdf_text(archive.read(name)) for name in names]
    for person in [registrations[0].full_name, registrations[1].full_name, "Venu Sans Inscription"]:
        assert sum(person in t for t in texts) == 1
    assert not any(registrations[2].full_name in t for t in texts)  # registered, not present
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.EXPORT)
    assert event.detail["certificates"] == 3
    assert len(event.detail["attendances"]) == 3


def test_two_attendees_of_the_same_name_get_two_files(client, world, session):
    for _ in range(2):
        Attendance.objects.create(
            session=session, full_name="Camille Fictive", audience=Audience.PROFESSIONALS
        )
    client.force_login(world.coordinator)
    archive = zipfile.ZipFile(io.BytesIO(client.get(url(session, "certificates_zip")).content))
    assert len(set(archive.namelist())) == 2


def test_no_zip_without_attendance(client, world, session):
    client.force_login(world.coordinator)
    response = client.get(url(session, "certificates_zip"), follow=True)
    assert "Aucune présence n'est enregistrée" in text(response)


def test_no_named_certificate_for_a_people_session(client, world):
    session = ongoing_session(world.t1, audience=Audience.PEOPLE)
    client.force_login(world.coordinator)
    assert client.get(url(session, "certificates_zip")).status_code == 404


def test_an_attendance_of_another_session_answers_404(client, world, session):
    other = ongoing_session(world.t1)
    attendance = attend(register(other)[0])
    client.force_login(world.coordinator)
    assert client.get(url(session, "certificate", attendance.pk)).status_code == 404


@pytest.mark.parametrize("role", ["partner", *FORBIDDEN_ROLES])
def test_only_the_team_downloads_certificates(client, world, session, role):
    attendance = attend(register(session)[0])
    client.force_login(getattr(world, role))
    assert client.get(url(session, "certificate", attendance.pk)).status_code == 403
    assert client.get(url(session, "certificates_zip")).status_code == 403
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.NAMED_RECORD_READ).exists()


# ---- The scanned signed sheet ------------------------------------------------------------------


def upload(client, session, name, content):
    return client.post(
        url(session, "signed_sheet_upload"), {"file": SimpleUploadedFile(name, content)}
    )


@pytest.mark.parametrize("name,content", [("feuille.pdf", PDF), ("scan.PNG", PNG)])
def test_a_signed_sheet_is_attached_and_downloaded(client, world, session, name, content):
    client.force_login(world.coordinator)
    assert upload(client, session, name, content).status_code == 302
    session.refresh_from_db()
    assert session.signed_sheet.name.startswith("emargements/emargement-")
    assert "feuille" not in session.signed_sheet.name  # stored under a random name
    assert "Télécharger la feuille signée" in text(client.get(url(session, "session")))
    response = client.get(url(session, "signed_sheet"))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(
        kind=AuditEvent.Kind.NAMED_RECORD_READ, detail__document="signed_sheet"
    ).exists()


def test_a_new_sheet_replaces_the_previous_file(
    client, world, session, django_capture_on_commit_callbacks
):
    client.force_login(world.coordinator)
    upload(client, session, "premiere.pdf", PDF)
    session.refresh_from_db()
    first = session.signed_sheet.path
    with django_capture_on_commit_callbacks(execute=True):
        upload(client, session, "seconde.png", PNG)
    session.refresh_from_db()
    assert session.signed_sheet.name.endswith(".png")
    assert not session.signed_sheet.storage.exists(first)


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("programme.exe", EXE, "Ce type de fichier n'est pas accepté (contenu vérifié)"),
        ("feuille.png", PDF, "Le contenu du fichier ne correspond pas à son extension"),
        ("vide.pdf", b"", "Le fichier soumis est vide."),
        (
            "grand.pdf",
            PDF + b"0" * (10 * 1024 * 1024),
            "Le fichier dépasse la taille maximale de 10 Mo.",
        ),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_kept(client, world, session, name, content, message):
    client.force_login(world.coordinator)
    response = upload(client, session, name, content)
    assert response.status_code == 400
    assert message in text(response)
    session.refresh_from_db()
    assert not session.signed_sheet


def test_no_signed_sheet_on_a_cancelled_session(client, world, session):
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CANCELLED)
    client.force_login(world.coordinator)
    response = upload(client, session, "feuille.pdf", PDF)
    assert "Cette séance est annulée" in text(response)
    session.refresh_from_db()
    assert not session.signed_sheet


@pytest.mark.parametrize("role", ["partner", *FORBIDDEN_ROLES])
def test_only_the_team_attaches_and_reads_the_signed_sheet(client, world, session, role):
    client.force_login(world.coordinator)
    upload(client, session, "feuille.pdf", PDF)
    client.force_login(getattr(world, role))
    assert upload(client, session, "autre.pdf", PDF).status_code == 403
    assert client.get(url(session, "signed_sheet")).status_code == 403


def test_no_signed_sheet_yet_answers_404(client, world, session):
    client.force_login(world.coordinator)
    assert client.get(url(session, "signed_sheet")).status_code == 404


def test_the_page_of_a_future_session_shows_the_sheet_links(client, world):
    session = future_session(world.t1)
    client.force_login(world.coordinator)
    page = text(client.get(url(session, "session")))
    assert "Feuille d'émargement (PDF)" in page
    assert "Aucune feuille signée n'est déposée." in page


@pytest.mark.parametrize(
    "minutes,label", [(120, "2 h"), (210, "3 h 30"), (45, "45 min"), (425, "7 h 05")]
)
def test_the_duration_is_written_in_hours(world, minutes, label):
    from tablee.activities.services_attendance import duration_label

    session = future_session(world.t1)
    session.ends_at = session.starts_at + datetime.timedelta(minutes=minutes)
    assert duration_label(session) == label
