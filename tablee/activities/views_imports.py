"""Import of the history of sessions, in four pages: file, columns, preview, confirmation.

Between the pages, the uploaded file is kept under MEDIA_ROOT/imports/sessions/ with a random
name (never the name the person gave it), listed in the person's own session: nobody else can
reach it, and it is deleted once imported or abandoned (or after a day, by the next upload).
"""

import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from tablee.accounts.permissions import Action, can
from tablee.activities.forms_imports import MappingForm, UploadForm
from tablee.activities.imports import (
    FIELDS,
    MAX_ROWS,
    ImportRefused,
    build_plan,
    guess_mapping,
    sessions_import,
)
from tablee.core.spreadsheets import MAX_SHOWN_PROBLEMS, SpreadsheetRejected, read_table
from tablee.territories.models import Programme, ProgrammeTerritory

UPLOAD_DIR = Path("imports") / "sessions"
SESSION_KEY = "tablee_session_imports"
TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")
KEPT_SECONDS = 24 * 60 * 60


def _upload_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / UPLOAD_DIR


def _path(token: str) -> Path:
    return _upload_dir() / f"{token}.upload"


def _store(data: bytes) -> str:
    """Write an uploaded file under a random name; forget those left over for more than a day."""
    folder = _upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    limit = time.time() - KEPT_SECONDS
    for old in folder.glob("*.upload"):
        if old.stat().st_mtime < limit:
            old.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    _path(token).write_bytes(data)
    return token


def _forget(request, token: str) -> None:
    _path(token).unlink(missing_ok=True)
    uploads = request.session.get(SESSION_KEY, {})
    if uploads.pop(token, None) is not None:
        request.session[SESSION_KEY] = uploads


def get_programme_for_user(request, pk) -> Programme:
    """The programme if in scope (else 404) and its sessions may be edited (else 403)."""
    programme = get_object_or_404(Programme.objects.for_user(request.user), pk=pk)
    if not can(request.user, Action.EDIT_ACTIVITIES, programme):
        raise PermissionDenied
    return programme


def _territories_allowed(user, programme) -> list:
    """The programme territories the user may import into (a territory coordinator: theirs)."""
    return [
        pt.pk
        for pt in ProgrammeTerritory.objects.for_user(user).filter(programme=programme)
        if can(user, Action.EDIT_ACTIVITIES, pt)
    ]


def _get_upload(request, programme, token):
    """(entry, sheet) of an upload of this person for ``programme``, or None when it is gone."""
    entry = request.session.get(SESSION_KEY, {}).get(token)
    if not TOKEN.fullmatch(token) or entry is None or entry["programme"] != str(programme.pk):
        return None
    path = _path(token)
    if not path.exists():
        return None
    try:
        return entry, read_table(path.read_bytes())
    except SpreadsheetRejected:
        return None


def _gone(request, programme):
    messages.warning(
        request,
        "Ce fichier n'est plus disponible (import terminé, abandonné ou trop ancien) : "
        "choisissez-le de nouveau.",
    )
    return redirect("session_imports:upload", programme=programme.pk)


def _context(programme, **extra):
    return {"programme": programme, **extra}


@login_required
def upload(request, programme):
    """Step 1: the file. It is read at once; a file that cannot be read is refused here."""
    programme = get_programme_for_user(request, programme)
    posted = request.method == "POST"
    form = UploadForm(request.POST if posted else None, request.FILES if posted else None)
    rejected = None
    if posted and form.is_valid():
        upload = form.cleaned_data["file"]
        data = b"".join(upload.chunks())
        try:
            read_table(data)
        except SpreadsheetRejected as exc:
            rejected = exc
        else:
            token = _store(data)
            uploads = request.session.get(SESSION_KEY, {})
            uploads[token] = {
                "programme": str(programme.pk),
                "name": upload.name[:120],
                "mapping": None,
            }
            request.session[SESSION_KEY] = uploads
            return redirect("session_imports:mapping", programme=programme.pk, token=token)
    return render(
        request,
        "activities/imports/upload.html",
        _context(
            programme,
            form=form,
            rejected=rejected,
            max_shown=MAX_SHOWN_PROBLEMS,
            fields=FIELDS,
            max_rows=MAX_ROWS,
        ),
    )


@login_required
def mapping(request, programme, token):
    """Step 2: which column fills which field, guessed from the column names."""
    programme = get_programme_for_user(request, programme)
    found = _get_upload(request, programme, token)
    if found is None:
        return _gone(request, programme)
    entry, sheet = found
    initial = entry["mapping"] or guess_mapping(sheet.columns)
    form = MappingForm(request.POST or None, sheet=sheet, initial_mapping=initial)
    if request.method == "POST" and form.is_valid():
        uploads = request.session[SESSION_KEY]
        uploads[token]["mapping"] = form.mapping
        request.session[SESSION_KEY] = uploads
        request.session.modified = True
        return redirect("session_imports:preview", programme=programme.pk, token=token)
    return render(
        request,
        "activities/imports/mapping.html",
        _context(
            programme,
            form=form,
            token=token,
            file_name=entry["name"],
            row_count=len(sheet.rows),
            columns=sheet.columns,
        ),
    )


@login_required
def preview(request, programme, token):
    """Step 3: every problem, or what the import would do, before anything is written."""
    programme = get_programme_for_user(request, programme)
    found = _get_upload(request, programme, token)
    if found is None:
        return _gone(request, programme)
    entry, sheet = found
    if not entry["mapping"]:
        return redirect("session_imports:mapping", programme=programme.pk, token=token)
    plan = build_plan(
        sheet,
        programme=programme,
        mapping=entry["mapping"],
        territories_allowed=_territories_allowed(request.user, programme),
    )
    return render(
        request,
        "activities/imports/preview.html",
        _context(
            programme,
            token=token,
            file_name=entry["name"],
            plan=plan,
            counts=plan.counts,
            problems=plan.problems[:MAX_SHOWN_PROBLEMS],
            problem_count=len(plan.problems),
            max_shown=MAX_SHOWN_PROBLEMS,
        ),
    )


@login_required
@require_POST
def apply(request, programme, token):
    """Step 4: write everything in one transaction, or nothing."""
    programme = get_programme_for_user(request, programme)
    found = _get_upload(request, programme, token)
    if found is None:
        return _gone(request, programme)
    entry, sheet = found
    if not entry["mapping"]:
        return redirect("session_imports:mapping", programme=programme.pk, token=token)
    try:
        result = sessions_import(
            sheet=sheet,
            programme=programme,
            mapping=entry["mapping"],
            acting_user=request.user,
            territories_allowed=_territories_allowed(request.user, programme),
        )
    except ImportRefused as refused:
        messages.error(
            request,
            f"Rien n'a été importé : {len(refused.plan.problems)} problème(s) à corriger "
            "(le fichier ou les séances ont changé depuis l'aperçu).",
        )
        return redirect("session_imports:preview", programme=programme.pk, token=token)
    _forget(request, token)
    messages.success(request, f"Import terminé : {result.summary()}")
    return redirect("session_imports:upload", programme=programme.pk)


@login_required
@require_POST
def cancel(request, programme, token):
    """Abandon an import: the kept file is deleted."""
    programme = get_programme_for_user(request, programme)
    if TOKEN.fullmatch(token) and token in request.session.get(SESSION_KEY, {}):
        _forget(request, token)
    messages.info(request, "Import abandonné : le fichier a été supprimé.")
    return redirect("session_imports:upload", programme=programme.pk)
