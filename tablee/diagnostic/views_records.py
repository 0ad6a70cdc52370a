"""The association's working records of a territory's diagnostic: meetings (with attachments),
needs and testimonies. Every page is for VIEW_DIAGNOSTIC (reading) or EDIT_DIAGNOSTIC (writing) on
the programme territory: partners, local authorities and funders read the synthesis instead."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tablee.accounts.permissions import Action, can
from tablee.core.concurrency import EditConflict
from tablee.core.pagination import paginate, sort_param
from tablee.diagnostic import services_records as services
from tablee.diagnostic.forms_records import (
    PARTICIPANT_FIELDS,
    AttachmentForm,
    MeetingFilterForm,
    MeetingForm,
    NeedFilterForm,
    NeedForm,
    TestimonyForm,
    territory_structures,
)
from tablee.diagnostic.models import Meeting, MeetingAttachment, Need, Testimony
from tablee.diagnostic.selectors import categories_with_need_counts
from tablee.territories.models import ProgrammeTerritory

# Beyond this many structures in a territory, the picker shows a search instead of every box.
PICKER_LIMIT = 50
PICKER_RESULTS = 30


def get_programme_territory(request, pt, action: Action) -> ProgrammeTerritory:
    """The programme territory if in the user's scope (else 404) and ``action`` allowed (else 403)."""
    programme_territory = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pt,
    )
    if not can(request.user, action, programme_territory):
        raise PermissionDenied
    return programme_territory


def _conflict(form, conflict: EditConflict) -> dict:
    form.add_error(None, conflict.message)
    return {"conflict": conflict.current}


def _apply_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def structure_picker(form, field_name: str = "structures") -> dict:
    """The structures offered as checkboxes: all of them in a small territory, else only those
    chosen, with a search (htmx) to add others (one query, two with a search and a choice)."""
    field = form.fields[field_name]
    raw = form[field_name].value() or []
    selected = {str(getattr(value, "pk", value)) for value in raw}
    first = list(field.queryset[: PICKER_LIMIT + 1])
    search = len(first) > PICKER_LIMIT
    if search:
        options = list(field.queryset.filter(pk__in=selected)) if selected else []
    else:
        options = first
    return {
        "name": form[field_name].html_name,
        "label": field.label,
        "errors": form[field_name].errors,
        "search": search,
        "options": [(s, str(s.pk) in selected) for s in options],
    }


@login_required
def index(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_DIAGNOSTIC)
    categories = categories_with_need_counts(pt, name="need_count")
    context = {
        "pt": pt,
        "programme": pt.programme,
        "meeting_count": pt.meetings.count(),
        "need_count": pt.needs.count(),
        "testimony_count": pt.testimonies.count(),
        "categories": categories,
        "can_edit": can(request.user, Action.EDIT_DIAGNOSTIC, pt),
    }
    return render(request, "diagnostic/records/index.html", context)


@login_required
def structure_options(request, pt):
    """Checkboxes of the structure picker (htmx): the ones already chosen, then the matches."""
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    return render_structure_options(request, territory_structures(request.user, pt))


def render_structure_options(request, structures):
    """The picker's checkboxes among ``structures``: those ticked (``?structures=``), then those
    matching ``?q=`` (the plans' co-construction sessions use the same picker)."""
    selected = [value for value in request.GET.getlist("structures") if value]
    try:
        chosen = list(structures.filter(pk__in=selected)) if selected else []
    except ValidationError:
        chosen = []
    query = (request.GET.get("q") or "").strip()
    matches = []
    if query:
        chosen_ids = {s.pk for s in chosen}
        matches = [s for s in structures.search(query)[:PICKER_RESULTS] if s.pk not in chosen_ids]
    return render(
        request,
        "diagnostic/records/includes/structure_options.html",
        {
            "name": "structures",
            "options": [(s, True) for s in chosen] + [(s, False) for s in matches],
            "query": query,
        },
    )


# ---- Meetings ---------------------------------------------------------------------------------


MEETING_SORTS = {"date": "date", "format": "format"}


@login_required
def meeting_list(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_DIAGNOSTIC)
    form = MeetingFilterForm(request.GET, structures=territory_structures(request.user, pt))
    sort, ordering = sort_param(request, MEETING_SORTS, "-date")
    meetings = (
        form.apply(pt.meetings.all())
        .annotate(
            structure_count=Count("structures", distinct=True),
            need_count=Count("needs", distinct=True),
        )
        .order_by(ordering, "-created_at")
    )
    query = form.querystring()
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "page": paginate(request, meetings),
        "sort": sort,
        "querystring": "&".join(part for part in (query, f"tri={sort}") if part),
        "filter_querystring": query,
        "can_edit": can(request.user, Action.EDIT_DIAGNOSTIC, pt),
    }
    return render(request, "diagnostic/records/meeting_list.html", context)


def get_meeting(pt, pk) -> Meeting:
    return get_object_or_404(pt.meetings.all(), pk=pk)


@login_required
def meeting_detail(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.VIEW_DIAGNOSTIC)
    meeting = get_meeting(pt, pk)
    can_edit = can(request.user, Action.EDIT_DIAGNOSTIC, pt)
    context = {
        "pt": pt,
        "programme": pt.programme,
        "meeting": meeting,
        "structures": list(meeting.structures.select_related("commune").order_by("name")),
        "needs": list(meeting.needs.select_related("category")),
        "attachments": list(meeting.attachments.all()),
        "can_edit": can_edit,
        "attachment_form": AttachmentForm() if can_edit else None,
        "max_attachment_mb": settings.TABLEE_MAX_ATTACHMENT_BYTES // (1024 * 1024),
    }
    return render(request, "diagnostic/records/meeting_detail.html", context)


@login_required
def meeting_create(request, pt):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    form = MeetingForm(request.POST or None, programme_territory=pt, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version", None)
        try:
            meeting = services.meeting_create(
                programme_territory=pt, acting_user=request.user, **data
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La rencontre est enregistrée.")
            return redirect("diagnostic_records:meeting_detail", pt=pt.pk, pk=meeting.pk)
    return _meeting_form(request, pt, form, None, {})


@login_required
def meeting_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    meeting = get_meeting(pt, pk)
    form = MeetingForm(
        request.POST or None, instance=meeting, programme_territory=pt, user=request.user
    )
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.meeting_update(
                meeting=meeting, version=version, acting_user=request.user, **data
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La rencontre est enregistrée.")
            return redirect("diagnostic_records:meeting_detail", pt=pt.pk, pk=meeting.pk)
    return _meeting_form(request, pt, form, meeting, extra)


def _meeting_form(request, pt, form, meeting, extra):
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "meeting": meeting,
        "picker": structure_picker(form),
        "participant_fields": [form[name] for name in PARTICIPANT_FIELDS],
        **extra,
    }
    return render(request, "diagnostic/records/meeting_form.html", context)


# ---- Attachments ------------------------------------------------------------------------------


def get_attachment(meeting, attachment_pk) -> MeetingAttachment:
    return get_object_or_404(meeting.attachments.all(), pk=attachment_pk)


@login_required
@require_POST
def attachment_add(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    meeting = get_meeting(pt, pk)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        services.attachment_add(
            meeting=meeting, upload=form.cleaned_data["file"], acting_user=request.user
        )
        messages.success(request, "La pièce jointe est ajoutée.")
        return redirect("diagnostic_records:meeting_detail", pt=pt.pk, pk=meeting.pk)
    context = {
        "pt": pt,
        "programme": pt.programme,
        "meeting": meeting,
        "form": form,
        "max_attachment_mb": settings.TABLEE_MAX_ATTACHMENT_BYTES // (1024 * 1024),
    }
    return render(request, "diagnostic/records/attachment_form.html", context, status=400)


@login_required
def attachment_download(request, pt, pk, attachment_pk):
    """The file, only for those who may read the diagnostic: never a public media address."""
    pt = get_programme_territory(request, pt, Action.VIEW_DIAGNOSTIC)
    attachment = get_attachment(get_meeting(pt, pk), attachment_pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("Fichier introuvable.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def attachment_delete(request, pt, pk, attachment_pk):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    meeting = get_meeting(pt, pk)
    attachment = get_attachment(meeting, attachment_pk)
    cancel_url = reverse("diagnostic_records:meeting_detail", args=[pt.pk, meeting.pk])
    if request.method == "POST":
        services.attachment_remove(attachment=attachment, acting_user=request.user)
        messages.success(request, "La pièce jointe est supprimée.")
        return redirect(cancel_url)
    return render(
        request,
        "diagnostic/records/confirm_delete.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "title": "Supprimer la pièce jointe",
            "explanation": f"Le fichier « {attachment.original_name} » sera supprimé "
            "définitivement.",
            "cancel_url": cancel_url,
        },
    )


# ---- Needs ------------------------------------------------------------------------------------


NEED_SORTS = {
    "gravite": "severity",
    "intitule": "title",
    "categorie": "category__position",
    "date": "created_at",
}

NEED_COLUMNS = [
    ("intitule", "Intitulé"),
    ("categorie", "Catégorie"),
    ("gravite", "Gravité"),
    ("date", "Ajouté le"),
]


@login_required
def need_list(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_DIAGNOSTIC)
    form = NeedFilterForm(request.GET, structures=territory_structures(request.user, pt))
    sort, ordering = sort_param(request, NEED_SORTS, "-gravite")
    needs = (
        form.apply(pt.needs.all())
        .select_related("category", "meeting")
        .annotate(structure_count=Count("structures", distinct=True))
        .order_by(ordering, "title", "pk")
    )
    query = form.querystring()
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "page": paginate(request, needs),
        "sort": sort,
        "sort_columns": NEED_COLUMNS,
        "querystring": "&".join(part for part in (query, f"tri={sort}") if part),
        "filter_querystring": query,
        "can_edit": can(request.user, Action.EDIT_DIAGNOSTIC, pt),
    }
    return render(request, "diagnostic/records/need_list.html", context)


def get_need(pt, pk) -> Need:
    return get_object_or_404(pt.needs.select_related("category"), pk=pk)


@login_required
def need_create(request, pt):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    initial = {}
    from_meeting = None
    meeting_pk = request.GET.get("rencontre")
    if meeting_pk:
        try:
            from_meeting = pt.meetings.filter(pk=meeting_pk).first()
        except ValidationError:
            from_meeting = None
        if from_meeting:
            initial = {
                "meeting": from_meeting.pk,
                "source": Need.Source.MEETING,
                "structures": [s.pk for s in from_meeting.structures.all()],
            }
    form = NeedForm(
        request.POST or None, initial=initial, programme_territory=pt, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version", None)
        try:
            need = services.need_create(programme_territory=pt, acting_user=request.user, **data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, f"Le besoin « {need.title} » est enregistré.")
            if need.meeting_id:
                return redirect("diagnostic_records:meeting_detail", pt=pt.pk, pk=need.meeting_id)
            return redirect("diagnostic_records:need_list", pt=pt.pk)
    return _need_form(request, pt, form, None, {"from_meeting": from_meeting})


@login_required
def need_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    need = get_need(pt, pk)
    form = NeedForm(request.POST or None, instance=need, programme_territory=pt, user=request.user)
    extra = {"from_meeting": None}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.need_update(need=need, version=version, acting_user=request.user, **data)
        except EditConflict as conflict:
            extra.update(_conflict(form, conflict))
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Le besoin est enregistré.")
            return redirect("diagnostic_records:need_list", pt=pt.pk)
    return _need_form(request, pt, form, need, extra)


def _need_form(request, pt, form, need, extra):
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "need": need,
        "picker": structure_picker(form),
        **extra,
    }
    return render(request, "diagnostic/records/need_form.html", context)


@login_required
def need_delete(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    need = get_need(pt, pk)
    cancel_url = reverse("diagnostic_records:need_list", args=[pt.pk])
    if request.method == "POST":
        services.need_delete(need=need, acting_user=request.user)
        messages.success(request, "Le besoin est supprimé.")
        return redirect(cancel_url)
    return render(
        request,
        "diagnostic/records/confirm_delete.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "title": "Supprimer le besoin",
            "explanation": f"Le besoin « {need.title} » sera supprimé, ainsi que ses liens avec "
            "les paroles et les parcours.",
            "cancel_url": cancel_url,
        },
    )


# ---- Testimonies ------------------------------------------------------------------------------


@login_required
def testimony_list(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_DIAGNOSTIC)
    testimonies = pt.testimonies.prefetch_related("needs").order_by("-date", "-created_at")
    context = {
        "pt": pt,
        "programme": pt.programme,
        "page": paginate(request, testimonies),
        "querystring": "",
        "can_edit": can(request.user, Action.EDIT_DIAGNOSTIC, pt),
    }
    return render(request, "diagnostic/records/testimony_list.html", context)


def get_testimony(pt, pk) -> Testimony:
    return get_object_or_404(pt.testimonies.all(), pk=pk)


@login_required
def testimony_create(request, pt):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    form = TestimonyForm(request.POST or None, programme_territory=pt)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("version", None)
        try:
            services.testimony_create(programme_territory=pt, acting_user=request.user, **data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La parole est enregistrée.")
            return redirect("diagnostic_records:testimony_list", pt=pt.pk)
    return _testimony_form(request, pt, form, None, {})


@login_required
def testimony_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    testimony = get_testimony(pt, pk)
    form = TestimonyForm(request.POST or None, instance=testimony, programme_territory=pt)
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.testimony_update(
                testimony=testimony, version=version, acting_user=request.user, **data
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La parole est enregistrée.")
            return redirect("diagnostic_records:testimony_list", pt=pt.pk)
    return _testimony_form(request, pt, form, testimony, extra)


def _testimony_form(request, pt, form, testimony, extra):
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "testimony": testimony,
        **extra,
    }
    return render(request, "diagnostic/records/testimony_form.html", context)


@login_required
def testimony_delete(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_DIAGNOSTIC)
    testimony = get_testimony(pt, pk)
    cancel_url = reverse("diagnostic_records:testimony_list", args=[pt.pk])
    if request.method == "POST":
        services.testimony_delete(testimony=testimony, acting_user=request.user)
        messages.success(request, "La parole est supprimée.")
        return redirect(cancel_url)
    return render(
        request,
        "diagnostic/records/confirm_delete.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "title": "Supprimer la parole",
            "explanation": f"La parole du {testimony.date:%d/%m/%Y} sera supprimée définitivement.",
            "cancel_url": cancel_url,
        },
    )
