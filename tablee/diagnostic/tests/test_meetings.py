"""Meetings of a territory's diagnostic: who may see and log them, bad input, attachments."""

import datetime
import html
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tablee.accounts.models import AuditEvent
from tablee.diagnostic.models import Meeting, MeetingAttachment
from tablee.diagnostic.tests.factories_i import (
    ALLOWED_ROLES,
    FORBIDDEN_ROLES,
    OUT_OF_SCOPE_ROLES,
    DiagnosticWorld,
    MeetingFactory,
    NeedFactory,
)
from tablee.diagnostic.tests.factories_i import TestimonyFactory as ParoleFactory
from tablee.directory.tests.factories import StructureFactory

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


@pytest.fixture
def world():
    return DiagnosticWorld()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def url(name, world, *args):
    return reverse(f"diagnostic_records:{name}", args=[world.t1.pk, *args])


def meeting_data(world, **overrides):
    data = {
        "date": "2025-03-14",
        "format": Meeting.Format.GROUP,
        "title": "Réunion des acteurs de l'aide alimentaire",
        "structures": [str(world.own.pk), str(world.neighbour.pk)],
        "social_workers": "3",
        "health_professionals": "1",
        "volunteers": "4",
        "elected_officials": "0",
        "people_concerned": "2",
        "others": "0",
        "notes": "Le bus ne dessert pas l'épicerie solidaire le samedi.",
    }
    data.update(overrides)
    return data


# ---- Who may see and write ---------------------------------------------------------------------


def page_urls(world):
    meeting = MeetingFactory(programme_territory=world.t1)
    return [
        url("index", world),
        url("meeting_list", world),
        url("meeting_create", world),
        url("meeting_detail", world, meeting.pk),
        url("meeting_edit", world, meeting.pk),
    ]


@pytest.mark.parametrize("role", ALLOWED_ROLES)
def test_coordinators_and_admin_open_every_meeting_page(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 200, address


@pytest.mark.parametrize("role", FORBIDDEN_ROLES)
def test_partner_local_authority_and_funder_are_refused(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 403, address
    assert client.post(url("meeting_create", world), meeting_data(world)).status_code == 403
    assert Meeting.objects.count() == 1  # the one made for the pages, nothing more


@pytest.mark.parametrize("role", OUT_OF_SCOPE_ROLES)
def test_a_territory_out_of_scope_answers_404(client, world, role):
    client.force_login(getattr(world, role))
    for address in page_urls(world):
        assert client.get(address).status_code == 404, address


def test_anonymous_is_sent_to_the_login_page(client, world):
    for address in page_urls(world):
        response = client.get(address)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]


def test_a_meeting_of_another_territory_answers_404(client, world):
    elsewhere = MeetingFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    assert client.get(url("meeting_detail", world, elsewhere.pk)).status_code == 404
    assert client.get(url("meeting_edit", world, elsewhere.pk)).status_code == 404


# ---- Index, list, detail -----------------------------------------------------------------------


def test_index_counts_meetings_needs_and_testimonies(client, world, django_assert_num_queries):
    MeetingFactory.create_batch(2, programme_territory=world.t1)
    MeetingFactory(programme_territory=world.t2)
    NeedFactory.create_batch(3, programme_territory=world.t1)
    ParoleFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, three counts, categories with counts
    with django_assert_num_queries(8):
        response = client.get(url("index", world))
    assert response.context["meeting_count"] == 2
    assert response.context["need_count"] == 3
    assert response.context["testimony_count"] == 1
    economic = next(c for c in response.context["categories"] if c.code == "economique")
    assert economic.need_count == 3
    assert len(response.context["categories"]) == 12
    content = response.content.decode()
    for name in ("pathways:list", "surveys:list", "synthesis:detail"):
        assert f'href="{reverse(name, args=[world.t1.pk])}"' in content


def test_meeting_list_is_sorted_by_date_and_filtered(client, world, django_assert_num_queries):
    old = MeetingFactory(
        programme_territory=world.t1, date=datetime.date(2024, 2, 1), structures=[world.own]
    )
    new = MeetingFactory(
        programme_territory=world.t1,
        date=datetime.date(2025, 6, 1),
        format=Meeting.Format.PHONE,
        structures=[world.neighbour],
    )
    middle = MeetingFactory(programme_territory=world.t1, date=datetime.date(2024, 9, 1))
    MeetingFactory(programme_territory=world.t2)
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, count, page of meetings with counts,
    # structures of the filter
    with django_assert_num_queries(7):
        response = client.get(url("meeting_list", world))
    assert list(response.context["page"].object_list) == [new, middle, old]
    response = client.get(url("meeting_list", world), {"tri": "date"})
    assert list(response.context["page"].object_list) == [old, middle, new]
    response = client.get(url("meeting_list", world), {"format": "phone"})
    assert list(response.context["page"].object_list) == [new]
    response = client.get(url("meeting_list", world), {"structure": str(world.own.pk)})
    assert list(response.context["page"].object_list) == [old]


def test_meeting_list_is_paginated(client, world):
    MeetingFactory.create_batch(51, programme_territory=world.t1)
    client.force_login(world.coordinator)
    response = client.get(url("meeting_list", world), {"page": 2})
    assert len(response.context["page"].object_list) == 1
    assert "Page 2 sur 2" in text(response)


def test_meeting_detail_shows_structures_needs_and_the_add_need_button(
    client, world, django_assert_num_queries
):
    meeting = MeetingFactory(programme_territory=world.t1, structures=[world.own, world.neighbour])
    NeedFactory(programme_territory=world.t1, meeting=meeting, title="Transport le samedi")
    MeetingAttachment.objects.create(
        meeting=meeting, file="x", original_name="cr.pdf", content_type="application/pdf", size=10
    )
    client.force_login(world.coordinator)
    # session, user, memberships, programme territory, meeting, structures, needs, attachments
    with django_assert_num_queries(8):
        response = client.get(url("meeting_detail", world, meeting.pk))
    page = text(response)
    assert "Épicerie solidaire du Centre" in page and "CCAS de Loudéac" in page
    assert "Transport le samedi" in page
    assert "cr.pdf" in page
    assert "Ajouter un besoin issu de cette rencontre" in page
    assert f"?rencontre={meeting.pk}" in response.content.decode()


# ---- Create and edit ---------------------------------------------------------------------------


def test_coordinator_logs_a_meeting_with_two_structures(client, world):
    client.force_login(world.territory_coordinator)
    response = client.get(url("meeting_create", world))
    page = text(response)
    # Only the territory's structures are offered; the warning against names is visible.
    assert "Épicerie solidaire du Centre" in page and "CADA de Rostrenen" not in page
    assert "N'écrivez ni le nom d'une personne accompagnée" in page

    response = client.post(url("meeting_create", world), meeting_data(world))
    meeting = Meeting.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("meeting_detail", world, meeting.pk)
    assert set(meeting.structures.all()) == {world.own, world.neighbour}
    assert meeting.participant_total == 10
    assert meeting.programme_territory == world.t1
    assert meeting.created_by == world.territory_coordinator
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED)
    assert event.detail == {"action": "meeting_create", "meeting": str(meeting.pk)}
    assert event.target == str(world.t1.pk)


def test_a_headcount_left_empty_counts_nobody(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        url("meeting_create", world), meeting_data(world, others="", elected_officials="")
    )
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert (meeting.others, meeting.elected_officials) == (0, 0)


def test_a_meeting_up_to_one_year_ahead_is_accepted(client, world):
    client.force_login(world.coordinator)
    in_a_year = timezone.localdate().replace(year=timezone.localdate().year + 1)
    if in_a_year.month == 2 and in_a_year.day == 29:  # pragma: no cover
        in_a_year = in_a_year.replace(day=28)
    response = client.post(
        url("meeting_create", world), meeting_data(world, date=in_a_year.isoformat())
    )
    assert response.status_code == 302
    assert Meeting.objects.get().date == in_a_year


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"date": "future"},
            "date",
            "La date ne peut pas dépasser d'un an la date du jour",
        ),
        ({"date": "2022-12-31"}, "date", "antérieure de plus d'un an au début du programme"),
        ({"date": ""}, "date", ""),
        (
            {"volunteers": "-1"},
            "volunteers",
            "« Bénévoles » : le nombre doit être compris entre 0 et 500.",
        ),
        (
            {"social_workers": "501"},
            "social_workers",
            "« Travailleur·ses sociaux·les » : le nombre doit être compris entre 0 et 500.",
        ),
        (
            {"people_concerned": "5000"},
            "people_concerned",
            "« Personnes concernées » : le nombre doit être compris entre 0 et 500.",
        ),
        (
            {"others": "beaucoup"},
            "others",
            "« Autres » : indiquez un nombre entier (0 si personne).",
        ),
        ({"format": "carrier_pigeon"}, "format", ""),
        ({"structures": ["sibling"]}, "structures", ""),
    ],
)
def test_bad_meeting_input_is_refused_and_nothing_written(client, world, overrides, field, message):
    if overrides.get("date") == "future":
        too_late = timezone.localdate() + datetime.timedelta(days=367)
        overrides = {"date": too_late.isoformat()}
    if overrides.get("structures") == ["sibling"]:
        overrides = {"structures": [str(world.sibling.pk)]}  # a structure of another territory
    client.force_login(world.coordinator)
    response = client.post(url("meeting_create", world), meeting_data(world, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    if message:
        assert message in text(response)
    assert "Le formulaire contient des erreurs" in text(response)
    assert not Meeting.objects.exists()
    assert not AuditEvent.objects.filter(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED).exists()


def test_the_meeting_service_refuses_a_date_too_far_ahead(world):
    from django.core.exceptions import ValidationError

    from tablee.diagnostic.services_records import meeting_create

    with pytest.raises(ValidationError):
        meeting_create(
            programme_territory=world.t1,
            acting_user=world.coordinator,
            date=timezone.localdate() + datetime.timedelta(days=400),
            format=Meeting.Format.PHONE,
        )
    assert not Meeting.objects.exists()


def test_coordinator_edits_a_meeting(client, world):
    meeting = MeetingFactory(programme_territory=world.t1, structures=[world.own])
    client.force_login(world.coordinator)
    response = client.get(url("meeting_edit", world, meeting.pk))
    assert response.context["form"].initial["version"] == 1
    response = client.post(
        url("meeting_edit", world, meeting.pk),
        meeting_data(world, version="1", structures=[str(world.neighbour.pk)], others="7"),
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.version == 2
    assert meeting.others == 7
    assert list(meeting.structures.all()) == [world.neighbour]


def test_an_edit_posted_without_its_version_is_refused(client, world):
    meeting = MeetingFactory(programme_territory=world.t1, title="Premier objet")
    client.force_login(world.coordinator)
    response = client.post(url("meeting_edit", world, meeting.pk), meeting_data(world, title="X"))
    assert response.status_code == 200
    assert "version" in response.context["form"].errors
    meeting.refresh_from_db()
    assert meeting.title == "Premier objet" and meeting.version == 1


def test_concurrent_edits_of_a_meeting_do_not_overwrite_each_other(client, world):
    meeting = MeetingFactory(programme_territory=world.t1, title="Premier objet")
    client.force_login(world.coordinator)
    first = client.post(
        url("meeting_edit", world, meeting.pk),
        meeting_data(world, version="1", title="Objet de la première personne"),
    )
    assert first.status_code == 302
    # The second person opened the form on version 1 too.
    second = client.post(
        url("meeting_edit", world, meeting.pk),
        meeting_data(world, version="1", title="Objet de la seconde personne"),
    )
    assert second.status_code == 200
    page = text(second)
    assert "Quelqu'un d'autre a modifié cette fiche" in page
    assert "Objet de la première personne" in page  # the stored value, shown to compare
    meeting.refresh_from_db()
    assert meeting.title == "Objet de la première personne"
    assert meeting.version == 2


def test_the_structure_picker_searches_when_the_territory_has_many_structures(client, world):
    for n in range(55):
        StructureFactory(name=f"Association n°{n}", commune=world.own.commune)
    client.force_login(world.coordinator)
    response = client.get(url("meeting_create", world))
    assert response.context["picker"]["search"] is True
    assert "Rechercher une structure du territoire" in text(response)
    response = client.get(
        url("structure_options", world), {"q": "epicerie", "structures": [str(world.neighbour.pk)]}
    )
    page = text(response)
    assert "Épicerie solidaire du Centre" in page
    assert "CCAS de Loudéac" in page  # already chosen: kept, checked
    assert "checked" in response.content.decode()
    assert "Association n°1" not in page
    # Structures of another territory never appear.
    response = client.get(url("structure_options", world), {"q": "rostrenen"})
    assert "CADA de Rostrenen" not in text(response)


def test_the_structure_search_is_for_editors_only(client, world):
    client.force_login(world.partner)
    assert client.get(url("structure_options", world), {"q": "a"}).status_code == 403


# ---- Attachments -------------------------------------------------------------------------------


def upload(name, content, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_a_pdf_is_attached_under_a_random_name_and_downloaded_with_permission(client, world):
    meeting = MeetingFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    response = client.post(
        url("attachment_add", world, meeting.pk),
        {"file": upload("compte-rendu Dupont.pdf", PDF, "application/pdf")},
    )
    assert response.status_code == 302
    attachment = MeetingAttachment.objects.get()
    assert attachment.original_name == "compte-rendu Dupont.pdf"
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    assert "Dupont" not in attachment.file.name and not attachment.file.name.endswith(".pdf")
    assert attachment.file.name.startswith(f"rencontres/{meeting.pk}/")
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.DIAGNOSTIC_CHANGED)
    assert event.detail == {
        "action": "attachment_add",
        "meeting": str(meeting.pk),
        "attachment": str(attachment.pk),
    }

    address = url("attachment_download", world, meeting.pk, attachment.pk)
    response = client.get(address)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]

    client.force_login(world.partner)
    assert client.get(address).status_code == 403
    client.force_login(world.t2_coordinator)
    assert client.get(address).status_code == 404
    client.logout()
    assert client.get(address).status_code == 302


def test_images_and_office_files_are_accepted(client, world):
    import io
    import zipfile

    meeting = MeetingFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    for name, content in (("photo.png", PNG), ("notes.docx", buffer.getvalue())):
        response = client.post(
            url("attachment_add", world, meeting.pk), {"file": upload(name, content)}
        )
        assert response.status_code == 302, name
    assert sorted(MeetingAttachment.objects.values_list("content_type", flat=True)) == [
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/png",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("compte-rendu.pdf", EXE, "Ce type de fichier n'est pas accepté"),
        ("programme.exe", EXE, "Ce type de fichier n'est pas accepté"),
        ("notes.txt", b"Simple texte sans signature", "Ce type de fichier n'est pas accepté"),
        ("photo.pdf", PNG, "ne correspond pas à son extension"),
        ("vide.pdf", b"", "Le fichier"),
    ],
)
def test_a_file_of_the_wrong_type_is_refused_and_nothing_written(
    client, world, settings, name, content, message
):
    meeting = MeetingFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    response = client.post(
        url("attachment_add", world, meeting.pk), {"file": upload(name, content, "application/pdf")}
    )
    assert response.status_code == 400
    assert message in text(response)
    assert not MeetingAttachment.objects.exists()
    assert not (settings.MEDIA_ROOT / "rencontres").exists()


def test_a_file_too_large_is_refused(client, world, settings):
    settings.TABLEE_MAX_ATTACHMENT_BYTES = 1024 * 1024
    meeting = MeetingFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    big = PDF + b"0" * (1024 * 1024)
    response = client.post(
        url("attachment_add", world, meeting.pk), {"file": upload("gros.pdf", big)}
    )
    assert response.status_code == 400
    assert "Le fichier dépasse la taille maximale de 1 Mo." in text(response)
    assert not MeetingAttachment.objects.exists()


def test_attachment_is_deleted_after_confirmation(
    client, world, django_capture_on_commit_callbacks
):
    meeting = MeetingFactory(programme_territory=world.t1)
    client.force_login(world.coordinator)
    client.post(url("attachment_add", world, meeting.pk), {"file": upload("cr.pdf", PDF)})
    attachment = MeetingAttachment.objects.get()
    stored = attachment.file.path
    address = url("attachment_delete", world, meeting.pk, attachment.pk)
    response = client.get(address)
    assert "Le fichier « cr.pdf » sera supprimé définitivement." in text(response)
    assert MeetingAttachment.objects.exists()

    client.force_login(world.partner)
    assert client.post(address).status_code == 403
    assert MeetingAttachment.objects.exists()

    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(address)
    assert response.status_code == 302
    assert not MeetingAttachment.objects.exists()
    import os

    assert not os.path.exists(stored)
