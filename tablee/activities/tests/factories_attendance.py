"""The world of the registration and attendance tests: the diagnostic's world (programme P on
T1 and T2, one person per role) plus sessions of T1 placed relative to now."""

import datetime
import html
import re
import subprocess

from django.utils import timezone

from tablee.activities.models import Attendance
from tablee.activities.tests.factories import RegistrationFactory, SessionFactory
from tablee.territories.models import Audience, SessionKind

# Who may open the team's pages, who is refused (403), who is outside the scope (404).
TEAM_ROLES = ["admin", "coordinator", "territory_coordinator"]
FORBIDDEN_ROLES = ["local_authority", "funder"]
OUT_OF_SCOPE_ROLES = ["t2_coordinator", "no_role"]


def future_session(pt, *, days=7, audience=Audience.PROFESSIONALS, **fields):
    """A planned session of ``pt`` starting in ``days`` days, three hours long."""
    starts = timezone.now().replace(microsecond=0) + datetime.timedelta(days=days)
    fields.setdefault("title", "Repérer et orienter les personnes en précarité alimentaire")
    return SessionFactory(
        programme_territory=pt,
        format__programme=pt.programme,
        format__audience=audience,
        format__kind=fields.pop("kind", SessionKind.TRAINING),
        format__objectives="Repérer les signes de précarité alimentaire.\nOrienter vers l'aide.",
        starts_at=fields.pop("starts_at", starts),
        ends_at=fields.pop("ends_at", starts + datetime.timedelta(hours=3)),
        **fields,
    )


def ongoing_session(pt, *, audience=Audience.PROFESSIONALS, **fields):
    """A planned session of ``pt`` that started half an hour ago (attendance is open)."""
    starts = timezone.now().replace(microsecond=0) - datetime.timedelta(minutes=30)
    return future_session(
        pt,
        audience=audience,
        starts_at=starts,
        ends_at=starts + datetime.timedelta(hours=2),
        **fields,
    )


def register(session, n=1, **fields):
    """``n`` confirmed registrations, created one after the other (so in order of arrival)."""
    return [RegistrationFactory(session=session, **fields) for _ in range(n)]


def attend(registration, method=Attendance.Method.DOOR):
    return Attendance.objects.create(
        session=registration.session,
        registration=registration,
        full_name=registration.full_name,
        email=registration.email,
        audience=registration.session.audience,
        structure=registration.structure,
        method=method,
    )


def text(response) -> str:
    """The page as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    without_tags = re.sub(r"<[^>]+>", " ", response.content.decode())
    return " ".join(html.unescape(without_tags).split())


def pdf_text(content: bytes) -> str:
    """The text of a PDF, extracted by pdftotext (poppler), spaces collapsed."""
    assert content.startswith(b"%PDF")
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return " ".join(result.stdout.decode().split())
