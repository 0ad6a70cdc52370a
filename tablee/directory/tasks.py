"""Imports of the directory as jobs: the uploaded files, the preview and the progress, on disk.

A job lives in ``MEDIA_ROOT/imports/<uuid>/``: the uploaded files, ``state.json`` (who, source,
column mapping, status, progress) and ``plan.json`` (the preview). Small files are checked and
written during the request; larger ones by django-tasks (database backend, ``db_worker``), while
the page polls the progress. Only the person who uploaded the files may open the job.
"""

import json
import logging
import os
import re
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tasks import task

from tablee.core.spreadsheets import SpreadsheetRejected
from tablee.directory.importers import build_plan, read_files
from tablee.directory.imports import ImportRefused, directory_import

logger = logging.getLogger(__name__)

UPLOADED = "uploaded"  # waiting for the column mapping
PLANNING = "planning"
PLANNED = "planned"
REJECTED = "rejected"  # the file could not be read
APPLYING = "applying"
APPLIED = "applied"
FAILED = "failed"
RUNNING = {PLANNING, APPLYING}
STEP_LABELS = {
    "validation": "Vérification des lignes",
    "écriture": "Vérification et écriture dans l'annuaire",
}


def jobs_root() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


@dataclass
class ImportJob:
    id: str
    state: dict

    @property
    def folder(self) -> Path:
        return jobs_root() / self.id

    @classmethod
    def create(cls, *, user, source: str, uploads) -> "ImportJob":
        """Store the uploaded files (Django UploadedFile objects) in a new job folder."""
        job = cls(
            id=str(uuid.uuid4()),
            state={
                "user_id": str(user.pk),
                "source": source,
                "files": [],
                "mapping": None,
                "status": UPLOADED,
                "progress": {"step": "", "done": 0, "total": 0},
                "errors": [],
                "skip_invalid": False,
                "result": "",
                "created_at": timezone.now().isoformat(),
                "size": 0,
            },
        )
        (job.folder / "files").mkdir(parents=True)
        for index, upload in enumerate(uploads):
            stored = f"{index}-{_safe_name(upload.name)}"
            with open(job.folder / "files" / stored, "wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            job.state["files"].append([stored, upload.name])
            job.state["size"] += upload.size
        job.save()
        return job

    @classmethod
    def load(cls, job_id) -> "ImportJob | None":
        try:
            job_id = str(uuid.UUID(str(job_id)))
        except ValueError:
            return None
        path = jobs_root() / job_id / "state.json"
        if not path.is_file():
            return None
        with open(path, encoding="utf-8") as handle:
            return cls(id=job_id, state=json.load(handle))

    def save(self) -> None:
        _write_json(self.folder / "state.json", self.state)

    @property
    def files(self) -> list[tuple[Path, str]]:
        return [(self.folder / "files" / stored, name) for stored, name in self.state["files"]]

    @property
    def status(self) -> str:
        return self.state["status"]

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING

    @property
    def in_background(self) -> bool:
        return self.state["size"] > settings.TABLEE_DIRECTORY_IMPORT_BACKGROUND_BYTES

    @property
    def mapping(self) -> dict[int, str] | None:
        raw = self.state.get("mapping")
        return {int(k): v for k, v in raw.items()} if raw is not None else None

    def set_status(self, status: str, **extra) -> None:
        self.state["status"] = status
        self.state.update(extra)
        self.save()

    def progress(self, step: str, done: int, total: int) -> None:
        self.state["progress"] = {"step": step, "done": done, "total": total}
        self.save()

    @property
    def progress_label(self) -> str:
        return STEP_LABELS.get(self.state["progress"]["step"], "En attente")

    def plan(self) -> dict | None:
        path = self.folder / "plan.json"
        if not path.is_file():
            return None
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    def save_plan(self, plan) -> None:
        _write_json(self.folder / "plan.json", plan.to_json())

    def delete(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)

    def user(self):
        return get_user_model().objects.filter(pk=self.state["user_id"]).first()


def run_plan(job: ImportJob) -> None:
    """Check the files of ``job`` and save the preview; never writes to the directory."""
    job.set_status(PLANNING, errors=[])
    try:
        read = read_files(job.files, mapping=job.mapping)
        plan = build_plan(
            read, default_source=job.state["source"], user=job.user(), progress=job.progress
        )
    except SpreadsheetRejected as exc:
        job.set_status(REJECTED, errors=[str(p) for p in exc.shown])
        return
    except Exception:
        logger.exception("Import %s : échec de la vérification.", job.id)
        job.set_status(FAILED, errors=["Une erreur inattendue a interrompu la vérification."])
        return
    job.save_plan(plan)
    job.set_status(PLANNED)


def run_apply(job: ImportJob, *, skip_invalid: bool) -> None:
    """Check the files again and write them in one transaction (or nothing)."""
    job.set_status(APPLYING, skip_invalid=skip_invalid, errors=[])
    try:
        result = directory_import(
            files=job.files,
            source=job.state["source"],
            acting_user=job.user(),
            mapping=job.mapping,
            skip_invalid=skip_invalid,
            progress=job.progress,
        )
    except ImportRefused as exc:
        # The directory changed since the preview: show the new preview, nothing was written.
        job.save_plan(exc.plan)
        job.set_status(
            PLANNED,
            errors=[
                f"{exc.plan.refused} ligne(s) refusée(s) au moment d'écrire : rien n'a été "
                "écrit. Vérifiez l'aperçu mis à jour."
            ],
        )
        return
    except SpreadsheetRejected as exc:
        job.set_status(REJECTED, errors=[str(p) for p in exc.shown])
        return
    except Exception:
        logger.exception("Import %s : échec de l'écriture.", job.id)
        job.set_status(
            FAILED, errors=["Une erreur inattendue a interrompu l'import : rien n'a été écrit."]
        )
        return
    job.save_plan(result.plan)
    job.set_status(APPLIED, result=result.summary())
    # The uploaded files are no longer needed once written.
    shutil.rmtree(job.folder / "files", ignore_errors=True)


@task()
def plan_import(job_id: str) -> str:
    job = ImportJob.load(job_id)
    if job is not None:
        run_plan(job)
        return job.status
    return "missing"


@task()
def apply_import(job_id: str, skip_invalid: bool) -> str:
    job = ImportJob.load(job_id)
    if job is not None:
        run_apply(job, skip_invalid=skip_invalid)
        return job.status
    return "missing"


def start_plan(job: ImportJob) -> None:
    if job.in_background:
        job.set_status(PLANNING, progress={"step": "", "done": 0, "total": 0})
        plan_import.enqueue(job.id)
    else:
        run_plan(job)


def start_apply(job: ImportJob, *, skip_invalid: bool) -> None:
    if job.in_background:
        job.set_status(APPLYING, skip_invalid=skip_invalid)
        apply_import.enqueue(job.id, skip_invalid)
    else:
        run_apply(job, skip_invalid=skip_invalid)


def _safe_name(name: str) -> str:
    base = Path(name).name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", base)[:80] or "fichier"


def _write_json(path: Path, data) -> None:
    # Written aside then renamed, so a reader never sees half a file.
    tmp = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
    os.replace(tmp, path)
