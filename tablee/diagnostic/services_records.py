"""Writes of the diagnostic records: meetings and their attachments, needs, testimonies.

Every function is keyword-only, atomic, takes the acting user and writes one audit event with ids
only (never a note, a testimony or a file name: they may hold personal data).
"""

import datetime

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tablee.core.concurrency import check_version
from tablee.diagnostic.audit import diagnostic_changed as _changed
from tablee.diagnostic.models import Meeting, MeetingAttachment, Need, Testimony

MEETING_FIELDS = [
    "date",
    "format",
    "title",
    "social_workers",
    "health_professionals",
    "volunteers",
    "elected_officials",
    "people_concerned",
    "others",
    "notes",
    "notes_shareable",
]
NEED_FIELDS = ["category", "title", "description", "severity", "source", "meeting"]
TESTIMONY_FIELDS = ["date", "context", "text", "consent_given", "shareable"]

# Accepted attachments: the type found in the content (filetype) -> the extensions it may carry.
ATTACHMENT_TYPES = {
    "application/pdf": {"pdf"},
    "image/png": {"png"},
    "image/jpeg": {"jpg", "jpeg"},
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": {"docx"},
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"xlsx"},
    "application/vnd.oasis.opendocument.text": {"odt"},
    "application/vnd.oasis.opendocument.spreadsheet": {"ods"},
}
ATTACHMENT_EXTENSIONS_LABEL = "PDF, PNG, JPEG, DOCX, XLSX, ODT, ODS"


# ---- Meetings ---------------------------------------------------------------------------------


def shift_years(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` later (or earlier); 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def validate_meeting_date(day: datetime.date, programme_territory) -> None:
    """Refuse a date more than a year ahead, or more than a year before the programme starts."""
    latest = shift_years(timezone.localdate(), 1)
    if day > latest:
        raise ValidationError(
            f"La date ne peut pas dépasser d'un an la date du jour (au plus tard le "
            f"{latest:%d/%m/%Y}).",
            code="too_late",
        )
    earliest = shift_years(programme_territory.programme.start_date, -1)
    if day < earliest:
        raise ValidationError(
            f"La date est antérieure de plus d'un an au début du programme (au plus tôt le "
            f"{earliest:%d/%m/%Y}).",
            code="too_early",
        )


def _check_meeting(meeting: Meeting, programme_territory) -> None:
    try:
        validate_meeting_date(meeting.date, programme_territory)
    except ValidationError as error:
        raise ValidationError({"date": error}) from None
    meeting.full_clean(exclude=["programme_territory", "structures"])


def _check_structures(structures, programme_territory) -> None:
    territory_id = programme_territory.territory_id
    if any(s.commune.territory_id != territory_id for s in structures):
        raise ValidationError({"structures": "Choisissez des structures du territoire."})


@transaction.atomic
def meeting_create(*, programme_territory, acting_user, structures=(), **fields) -> Meeting:
    """Log a meeting of the territory with the structures met."""
    meeting = Meeting(
        programme_territory=programme_territory,
        created_by=acting_user,
        **{name: fields[name] for name in MEETING_FIELDS if name in fields},
    )
    _check_meeting(meeting, programme_territory)
    _check_structures(structures, programme_territory)
    meeting.save()
    meeting.structures.set(structures)
    _changed(
        acting_user=acting_user,
        pt_id=programme_territory.pk,
        action="meeting_create",
        meeting=meeting.pk,
    )
    return meeting


@transaction.atomic
def meeting_update(*, meeting: Meeting, version: int, acting_user, structures=None, **fields):
    """Update a meeting; refuses with EditConflict if it changed since ``version`` was read."""
    locked = (
        Meeting.objects.select_for_update()
        .select_related("programme_territory__programme")
        .get(pk=meeting.pk)
    )
    check_version(locked, version, MEETING_FIELDS)
    for name in MEETING_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    _check_meeting(locked, locked.programme_territory)
    if structures is not None:
        _check_structures(structures, locked.programme_territory)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    if structures is not None:
        locked.structures.set(structures)
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="meeting_update",
        meeting=locked.pk,
    )
    return locked


# ---- Attachments ------------------------------------------------------------------------------


def check_attachment(upload) -> str:
    """The content type of an uploaded file, read from its content; ValidationError if the file is
    too large, empty, of a type not accepted, or named as another type than it is."""
    limit = settings.TABLEE_MAX_ATTACHMENT_BYTES
    if upload.size > limit:
        raise ValidationError(
            f"Le fichier dépasse la taille maximale de {limit / (1024 * 1024):.0f} Mo.",
            code="too_large",
        )
    if upload.size == 0:
        raise ValidationError("Le fichier est vide.", code="empty")
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    extension = upload.name.rsplit(".", 1)[-1].lower() if "." in upload.name else ""
    if kind is None or kind.mime not in ATTACHMENT_TYPES:
        raise ValidationError(
            f"Ce type de fichier n'est pas accepté (contenu vérifié) : formats acceptés "
            f"{ATTACHMENT_EXTENSIONS_LABEL}.",
            code="bad_type",
        )
    if extension not in ATTACHMENT_TYPES[kind.mime]:
        raise ValidationError(
            "Le contenu du fichier ne correspond pas à son extension : vérifiez le fichier.",
            code="extension_mismatch",
        )
    return kind.mime


@transaction.atomic
def attachment_add(*, meeting: Meeting, upload, acting_user) -> MeetingAttachment:
    """Attach a file to a meeting, after checking its size and its type by content. The file is
    stored under a random name; its original name stays in the database only."""
    content_type = check_attachment(upload)
    attachment = MeetingAttachment(
        meeting=meeting,
        original_name=upload.name[-255:],
        content_type=content_type,
        size=upload.size,
        uploaded_by=acting_user,
    )
    attachment.file.save("piece-jointe", upload, save=False)
    try:
        attachment.save()
        _changed(
            acting_user=acting_user,
            pt_id=meeting.programme_territory_id,
            action="attachment_add",
            meeting=meeting.pk,
            attachment=attachment.pk,
        )
    except Exception:
        # Nothing half-written: no file stays behind a failed write.
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def attachment_remove(*, attachment: MeetingAttachment, acting_user) -> None:
    """Delete an attachment; the file goes once the deletion is committed."""
    name, storage = attachment.file.name, attachment.file.storage
    meeting = attachment.meeting
    attachment_id = attachment.pk
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))
    _changed(
        acting_user=acting_user,
        pt_id=meeting.programme_territory_id,
        action="attachment_remove",
        meeting=meeting.pk,
        attachment=attachment_id,
    )


# ---- Needs ------------------------------------------------------------------------------------


def _check_need(need: Need, programme_territory, structures) -> None:
    if need.category_id is None:
        raise ValidationError({"category": "Choisissez une catégorie de frein."})
    if need.meeting_id and need.meeting.programme_territory_id != programme_territory.pk:
        raise ValidationError({"meeting": "Choisissez une rencontre de ce territoire."})
    need.full_clean(exclude=["programme_territory", "publics", "structures"])
    if structures is not None:
        _check_structures(structures, programme_territory)


@transaction.atomic
def need_create(*, programme_territory, acting_user, publics=(), structures=(), **fields) -> Need:
    """Record a need of the territory (a category of the taxonomy is required)."""
    need = Need(
        programme_territory=programme_territory,
        created_by=acting_user,
        **{name: fields[name] for name in NEED_FIELDS if name in fields},
    )
    _check_need(need, programme_territory, structures)
    need.save()
    need.publics.set(publics)
    need.structures.set(structures)
    _changed(
        acting_user=acting_user, pt_id=programme_territory.pk, action="need_create", need=need.pk
    )
    return need


@transaction.atomic
def need_update(
    *, need: Need, version: int, acting_user, publics=None, structures=None, **fields
) -> Need:
    """Update a need with a version check."""
    locked = (
        Need.objects.select_for_update()
        .select_related("programme_territory", "category")
        .get(pk=need.pk)
    )
    check_version(locked, version, NEED_FIELDS)
    for name in NEED_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    _check_need(locked, locked.programme_territory, structures)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    if publics is not None:
        locked.publics.set(publics)
    if structures is not None:
        locked.structures.set(structures)
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="need_update",
        need=locked.pk,
    )
    return locked


@transaction.atomic
def need_delete(*, need: Need, acting_user) -> None:
    pt_id, need_id = need.programme_territory_id, need.pk
    need.delete()
    _changed(acting_user=acting_user, pt_id=pt_id, action="need_delete", need=need_id)


# ---- Testimonies ------------------------------------------------------------------------------


def _check_testimony(testimony: Testimony, programme_territory, needs) -> None:
    if not testimony.consent_given:
        raise ValidationError(
            {
                "consent_given": "Une parole ne peut être enregistrée qu'avec le consentement "
                "explicite de la personne."
            }
        )
    testimony.full_clean(exclude=["programme_territory", "needs"])
    if needs is not None and any(n.programme_territory_id != programme_territory.pk for n in needs):
        raise ValidationError({"needs": "Choisissez des besoins de ce territoire."})


@transaction.atomic
def testimony_create(*, programme_territory, acting_user, needs=(), **fields) -> Testimony:
    """Record an anonymous testimony, given with explicit consent."""
    testimony = Testimony(
        programme_territory=programme_territory,
        created_by=acting_user,
        **{name: fields[name] for name in TESTIMONY_FIELDS if name in fields},
    )
    _check_testimony(testimony, programme_territory, needs)
    testimony.save()
    testimony.needs.set(needs)
    _changed(
        acting_user=acting_user,
        pt_id=programme_territory.pk,
        action="testimony_create",
        testimony=testimony.pk,
    )
    return testimony


@transaction.atomic
def testimony_update(
    *, testimony: Testimony, version: int, acting_user, needs=None, **fields
) -> Testimony:
    """Update a testimony with a version check."""
    locked = (
        Testimony.objects.select_for_update()
        .select_related("programme_territory")
        .get(pk=testimony.pk)
    )
    # The text itself is not echoed back in a conflict: only its metadata.
    check_version(locked, version, ["date", "context", "shareable"])
    for name in TESTIMONY_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    _check_testimony(locked, locked.programme_territory, needs)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    if needs is not None:
        locked.needs.set(needs)
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="testimony_update",
        testimony=locked.pk,
    )
    return locked


@transaction.atomic
def testimony_delete(*, testimony: Testimony, acting_user) -> None:
    pt_id, testimony_id = testimony.programme_territory_id, testimony.pk
    testimony.delete()
    _changed(
        acting_user=acting_user, pt_id=pt_id, action="testimony_delete", testimony=testimony_id
    )
