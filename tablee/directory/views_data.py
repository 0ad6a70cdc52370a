from django.contrib import messages
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from tablee.accounts.audit import audit
from tablee.accounts.decorators import require
from tablee.accounts.models import AuditEvent
from tablee.accounts.permissions import Action
from tablee.core.pagination import PAGE_SIZE
from tablee.core.spreadsheets import SpreadsheetRejected
from tablee.directory.exporters import FORMATS, export_directory
from tablee.directory.forms_data import ApplyForm, ExportForm, ImportForm, MappingForm
from tablee.directory.importers import (
    ACTION_LABELS,
    KIND_LABELS,
    REFUSED,
    guess_mapping,
    read_tables,
)
from tablee.directory.models import Structure
from tablee.directory.tasks import (
    APPLIED,
    APPLYING,
    PLANNED,
    REJECTED,
    UPLOADED,
    ImportJob,
    start_apply,
    start_plan,
)

FILTERS = {
    "": "Toutes les lignes",
    "refused": "Refusées",
    "create": "À créer",
    "update": "À mettre à jour",
    "unchanged": "Inchangées",
    "duplicates": "Doublons probables",
}


class SizeLimitUploadHandler(FileUploadHandler):
    """Stops reading an uploaded file as soon as it passes the import size limit.

    The rest of the upload is read and thrown away: a 200 MB file is neither kept in memory nor
    written to disk. The names of the refused files are left on the request for the form.
    """

    def __init__(self, request=None):
        super().__init__(request)
        from django.conf import settings

        self.limit = settings.TABLEE_MAX_DIRECTORY_IMPORT_BYTES
        self.received = 0
        request.oversized_uploads = []

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.request.oversized_uploads.append(self.file_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size):
        return None


def get_job_for_user(request, pk) -> ImportJob:
    """The import job if the signed-in user started it, else 404."""
    job = ImportJob.load(pk)
    if job is None or job.state["user_id"] != str(request.user.pk):
        raise Http404
    return job


@csrf_exempt
@require(Action.IMPORT_STRUCTURES)
def import_start(request):
    # The size limit must be in place before anything reads the body, CSRF check included.
    if request.method == "POST":
        request.upload_handlers.insert(0, SizeLimitUploadHandler(request))
    return _import_start(request)


@csrf_protect
def _import_start(request):
    oversized = getattr(request, "oversized_uploads", [])
    form = ImportForm(request.POST or None, request.FILES or None, oversized=oversized)
    rejected = None
    if request.method == "POST" and form.is_valid():
        job = ImportJob.create(
            user=request.user,
            source=form.cleaned_data["source"],
            uploads=form.cleaned_data["files"],
        )
        try:
            needs_mapping = _needs_mapping(job)
        except SpreadsheetRejected as exc:
            job.delete()
            rejected = exc
        else:
            if needs_mapping:
                return redirect("directory_data:import_mapping", pk=job.id)
            start_plan(job)
            return redirect("directory_data:import_preview", pk=job.id)
    return render(request, "directory_data/import.html", {"form": form, "rejected": rejected})


def _needs_mapping(job: ImportJob) -> bool:
    """Whether the single spreadsheet uploaded is not in the data·inclusion format."""
    from tablee.directory.importers import detect

    if len(job.files) != 1:
        return False
    path, name = job.files[0]
    if detect(path, name) not in {"csv", "xlsx"}:
        return False
    tables = read_tables(path, name)
    return len(tables) == 1 and not tables[0].is_data_inclusion


@require(Action.IMPORT_STRUCTURES)
def import_mapping(request, pk):
    job = get_job_for_user(request, pk)
    if job.status not in {UPLOADED, PLANNED, REJECTED}:
        return redirect("directory_data:import_preview", pk=job.id)
    path, name = job.files[0]
    try:
        table = read_tables(path, name)[0]
    except SpreadsheetRejected as exc:
        job.set_status(REJECTED, errors=[str(p) for p in exc.shown])
        return redirect("directory_data:import_preview", pk=job.id)
    initial = job.mapping if job.mapping is not None else guess_mapping(table.columns)
    form = MappingForm(request.POST or None, table=table, initial_mapping=initial)
    if request.method == "POST" and form.is_valid():
        job.state["mapping"] = {str(k): v for k, v in form.mapping.items()}
        job.save()
        start_plan(job)
        return redirect("directory_data:import_preview", pk=job.id)
    return render(
        request,
        "directory_data/import_mapping.html",
        {"form": form, "job": job, "file_name": name, "row_count": len(table.rows)},
    )


@require(Action.IMPORT_STRUCTURES)
def import_preview(request, pk):
    """The preview of an import, its progress while it runs, and its outcome once written.

    Everything comes from the job's files: no query beyond the session, the user and the
    user's memberships. The counts cover the whole file; the rows of a large file are those the
    plan kept (refused rows and likely duplicates up to a limit, a sample of the others).
    """
    job = get_job_for_user(request, pk)
    if job.status == UPLOADED:
        return redirect("directory_data:import_mapping", pk=job.id)
    context = {"job": job, "state": job.state}
    if job.is_running:
        template = (
            "directory_data/includes/progress.html"
            if request.htmx
            else "directory_data/import_progress.html"
        )
        return render(request, template, context)
    if request.htmx:
        # The task has finished while the page was polling: reload the whole page.
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    plan = job.plan()
    if plan is not None:
        shown = request.GET.get("lignes", "")
        if shown not in FILTERS:
            shown = ""
        rows = plan["rows"]
        if shown == "duplicates":
            rows = [r for r in rows if r["duplicates"]]
        elif shown:
            rows = [r for r in rows if r["action"] == shown]
        page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
        for row in page.object_list:
            row["action_label"] = ACTION_LABELS[row["action"]]
            row["kind_label"] = KIND_LABELS[row["kind"]]
        context.update(
            {
                "plan": plan,
                "sampled": not plan.get("complete", True),
                "page": page,
                "shown": shown,
                "filters": [
                    (key, label, f"?lignes={key}" if key else "?") for key, label in FILTERS.items()
                ],
                "querystring": f"lignes={shown}" if shown else "",
                "apply_form": ApplyForm(),
                "can_apply": job.status == PLANNED and _writable(plan),
                "is_applied": job.status == APPLIED,
            }
        )
    return render(request, "directory_data/import_preview.html", context)


def _writable(plan: dict) -> bool:
    counts = plan["counts"]
    return any(counts[kind][action] for kind in counts for action in ("create", "update"))


@require_POST
@require(Action.IMPORT_STRUCTURES)
def import_apply(request, pk):
    job = get_job_for_user(request, pk)
    if job.status != PLANNED:
        return redirect("directory_data:import_preview", pk=job.id)
    form = ApplyForm(request.POST)
    form.is_valid()
    skip_invalid = form.cleaned_data.get("skip_invalid", False)
    plan = job.plan() or {}
    if plan.get("refused") and not skip_invalid:
        messages.error(
            request,
            "Des lignes sont refusées : rien n'a été écrit. Corrigez le fichier, ou cochez "
            "« Importer seulement les lignes valides ».",
        )
        return redirect("directory_data:import_preview", pk=job.id)
    start_apply(job, skip_invalid=skip_invalid)
    job = ImportJob.load(job.id)
    if job.status == APPLIED:
        messages.success(request, f"Import terminé. {job.state['result']}")
    elif job.status == APPLYING:
        messages.info(request, "L'import est en cours : cette page suit son avancement.")
    return redirect("directory_data:import_preview", pk=job.id)


@require(Action.EXPORT_DIRECTORY)
def export(request):
    """The export page; with ``?format=`` the download itself, of the filtered directory."""
    from tablee.directory.views import directory_filter_form

    filters = directory_filter_form(request)
    structures = filters.apply(Structure.objects.for_user(request.user))
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        content, filename, content_type, counts = export_directory(structures, fmt)
        audit(
            AuditEvent.Kind.EXPORT,
            actor=request.user,
            target="annuaire",
            format=fmt,
            structures=counts.structures,
            services=counts.services,
            skipped=len(counts.skipped),
            filtered=filters.is_filtered(),
        )
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = content_disposition_header(True, filename)
        return response
    return render(
        request,
        "directory_data/export.html",
        {
            "form": ExportForm(),
            "filters": filters,
            "querystring": filters.querystring(),
            "count": structures.count(),
            "refused": REFUSED,
        },
    )
