"""Writes of reports: create, change the title or period, write a section's narrative, generate a
document once for all who ask for it.

Every function is keyword-only and atomic, takes the acting user and writes an audit event with
ids and counts only (never a narrative: it is free text).
"""

import hashlib

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.core.concurrency import EditConflict, check_version
from tablee.reports.blocks import blocks_fingerprint
from tablee.reports.content import build_document, build_territory_document
from tablee.reports.documents import WRITERS, write_pdf
from tablee.reports.models import Report, ReportFile
from tablee.reports.narratives import (
    MAX_NARRATIVE_CHARS,
    narrative_text,
    sanitise_narrative,
    section_of,
)

REPORT_FIELDS = ["title", "period_start", "period_end"]
# Changed whenever the layout of the documents changes, so that files made before are remade.
LAYOUT_REVISION = "2026-11-1"


def _changed(*, acting_user, report: Report, action: str, **detail) -> None:
    audit(
        AuditEvent.Kind.REPORT_CHANGED,
        actor=acting_user,
        target=str(report.pk),
        action=action,
        programme=str(report.programme_id),
        **detail,
    )


@transaction.atomic
def report_create(*, programme, acting_user, kind, title, period_start, period_end) -> Report:
    """A new report of ``programme`` for a period; its sections start empty."""
    report = Report(
        programme=programme,
        kind=kind,
        title=title,
        period_start=period_start,
        period_end=period_end,
        created_by=acting_user,
    )
    report.full_clean(exclude=["programme", "created_by"])
    report.save()
    _changed(acting_user=acting_user, report=report, action="report_create", report_kind=kind)
    return report


@transaction.atomic
def report_update(*, report: Report, version: int, acting_user, **fields) -> Report:
    """Change the title or the period; refuses with EditConflict if the report moved on."""
    locked = Report.objects.select_for_update(of=("self",)).get(pk=report.pk)
    check_version(locked, version, REPORT_FIELDS)
    for name in REPORT_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.full_clean(exclude=["programme", "created_by"])
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    _changed(acting_user=acting_user, report=locked, action="report_update")
    return locked


@transaction.atomic
def report_narrative_update(
    *, report: Report, section_key: str, text: str, version: int, acting_user
) -> Report:
    """Store the sanitised narrative of one section; refuses with EditConflict when someone else
    saved the report since ``version`` was read (the text they saved is shown)."""
    section = section_of(report.kind, section_key)
    if section is None:
        raise ValidationError("Cette section n'existe pas dans ce rapport.", code="unknown")
    if len(text or "") > MAX_NARRATIVE_CHARS:
        raise ValidationError(
            f"Le texte dépasse {MAX_NARRATIVE_CHARS} caractères : raccourcissez-le.",
            code="too_long",
        )
    locked = Report.objects.select_for_update(of=("self",)).get(pk=report.pk)
    if locked.version != version:
        raise EditConflict({section.title: narrative_text(locked.narratives.get(section_key, ""))})
    narratives = dict(locked.narratives)
    cleaned = sanitise_narrative(text)
    if cleaned:
        narratives[section_key] = cleaned
    else:
        narratives.pop(section_key, None)
    locked.narratives = narratives
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    _changed(
        acting_user=acting_user,
        report=locked,
        action="narrative_update",
        section=section_key,
        characters=len(cleaned),
    )
    return locked


def report_file(*, report: Report, fmt: str, acting_user) -> ReportFile:
    """The document of ``report`` in format ``fmt``, generated only when none matches the report
    and the records as they are now.

    The report's row is locked while the document is looked up and generated, so that a second
    request for the same report waits for the first and then finds its file: asked twice at once,
    a report is generated once and both get it. The fingerprint covers the report's version, the
    layout revision, the day (the cover is dated) and every published figure.
    """
    with transaction.atomic():
        locked = (
            Report.objects.select_for_update(of=("self",))
            .select_related("programme")
            .get(pk=report.pk)
        )
        document = build_document(locked)
        fingerprint = hashlib.sha256(
            ":".join(
                [
                    LAYOUT_REVISION,
                    str(locked.version),
                    fmt,
                    str(timezone.localdate()),
                    blocks_fingerprint(document.blocks),
                ]
            ).encode()
        ).hexdigest()
        existing = locked.files.filter(format=fmt, fingerprint=fingerprint).first()
        generated = existing is None or not existing.file.storage.exists(existing.file.name)
        if generated:
            stored = _generate(locked, document, fmt, fingerprint, acting_user=acting_user)
        else:
            stored = existing
        audit(
            AuditEvent.Kind.EXPORT,
            actor=acting_user,
            target=f"rapport {locked.pk}",
            format=fmt,
            report_kind=locked.kind,
            generated=generated,
        )
    return stored


def report_territory_pdf(*, report: Report, pt, acting_user) -> bytes:
    """The PDF of ``report`` for the territory ``pt`` alone (see content.build_territory_document),
    generated on each request and not stored: a report keeps one stored file per format, the
    programme's. The download is audited like the programme's."""
    content = write_pdf(build_territory_document(report, pt))
    audit(
        AuditEvent.Kind.EXPORT,
        actor=acting_user,
        target=f"rapport {report.pk}",
        format="pdf",
        report_kind=report.kind,
        territory=str(pt.pk),
        generated=True,
    )
    return content


def _generate(report: Report, document, fmt: str, fingerprint: str, *, acting_user) -> ReportFile:
    content = WRITERS[fmt](document)
    stale = list(report.files.filter(format=fmt))
    stored = ReportFile(report=report, format=fmt, fingerprint=fingerprint, size=len(content))
    stored.file.save(f"{fmt}", ContentFile(content), save=False)
    for old in stale:
        old.delete()
    stored.save()
    stale_names = [old.file.name for old in stale if old.file.name]
    storage = stored.file.storage

    def remove_stale_files():
        for name in stale_names:
            storage.delete(name)

    transaction.on_commit(remove_stale_files)
    _changed(
        acting_user=acting_user, report=report, action="generated", format=fmt, size=len(content)
    )
    return stored
