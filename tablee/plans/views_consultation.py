"""The co-construction of a territory's plan: sessions (ateliers de concertation, comités de
pilotage), the proposals collected there, and the votes of each stakeholder group.

The coordination (EDIT_PLAN) does everything; partners and the local authority read (VIEW_PLAN)
and add proposals (PROPOSE); the funder reads aggregates elsewhere. Notes and named professionals
are for the coordination only, and headcounts are masked under 11 for everyone else.
"""

from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent, Role
from tablee.accounts.permissions import Action, can, roles, sees_unmasked
from tablee.core.concurrency import EditConflict
from tablee.core.disclosure import suppress
from tablee.diagnostic.forms_records import territory_structures
from tablee.diagnostic.views_records import (
    get_programme_territory,
    render_structure_options,
    structure_picker,
)
from tablee.plans import services_consultation as services
from tablee.plans.forms_consultation import (
    GROUPS,
    NamedParticipantForm,
    ProposalFilterForm,
    ProposalForm,
    SessionForm,
    VotesForm,
)
from tablee.plans.models import ConsultationSession, Proposal, StakeholderGroup

SESSIONS_PER_PAGE = 20
PROPOSALS_PER_PAGE = 30
# The results table ranks the proposals that received votes; beyond this, a page of its own would
# be needed, and a workshop never ranks that many.
RESULTS_LIMIT = 100

SESSION_PAGE_PARAM = "page_seances"
PROPOSAL_PAGE_PARAM = "page_propositions"

PROPOSAL_SORTS = {
    "date": "created_at",
    "groupe": "origin_group",
    "statut": "status",
    "voix": "total_votes",
}
PROPOSAL_COLUMNS = [("date", "Reçue le"), ("groupe", "Proposée par"), ("statut", "Suite donnée")]


def get_session(pt, pk) -> ConsultationSession:
    return get_object_or_404(pt.consultation_sessions.all(), pk=pk)


def get_proposal(pt, pk) -> Proposal:
    return get_object_or_404(pt.proposals.select_related("session"), pk=pk)


def action_create_url(pt) -> str | None:
    """Where a proposal becomes an action, once the action plan pages exist."""
    try:
        return reverse("plans:action_create", args=[pt.pk])
    except NoReverseMatch:
        return None


def action_detail_url(pt, action) -> str | None:
    try:
        return reverse("plans:action_detail", args=[pt.pk, action.pk])
    except NoReverseMatch:
        return None


def _conflict(form, conflict: EditConflict) -> dict:
    form.add_error(None, conflict.message)
    return {"conflict": conflict.current}


def _apply_service_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _querystring(request, **changes) -> str:
    """The current query string with ``changes`` applied (None drops a key), without "?"."""
    query = request.GET.copy()
    for key, value in changes.items():
        if value is None:
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


def _sort_links(
    request, columns, current: str, param: str, *, reset=None, descending_first=(), numeric=()
):
    """Header links of a sortable table: each column's address, and its current direction.
    ``reset`` names the page parameter to drop (a new order starts on the first page)."""
    links = []
    for key, label in columns:
        if current == key:
            target, direction = f"-{key}", "ascending"
        elif current == f"-{key}":
            target, direction = key, "descending"
        else:
            target, direction = (f"-{key}" if key in descending_first else key), ""
        links.append(
            {
                "key": key,
                "label": label,
                "query": _querystring(
                    request, **{param: target, **({reset: None} if reset else {})}
                ),
                "direction": direction,
                "numeric": key in numeric,
            }
        )
    return links


def _group_sums(relation: str, value: str, prefix: str) -> dict:
    """One annotation per stakeholder group, plus the total: ``<prefix>_<group>``, ``<prefix>_total``."""
    annotations = {
        f"{prefix}_{group.value}": Coalesce(
            Sum(f"{relation}__{value}", filter=Q(**{f"{relation}__group": group.value})), 0
        )
        for group in GROUPS
    }
    annotations[f"{prefix}_total"] = Coalesce(Sum(f"{relation}__{value}"), 0)
    return annotations


def headcount_cells(counts: dict[str, int], *, masked: bool) -> tuple[list, object]:
    """The headcounts of a session in group order, and their total; masked (INSEE rule, with
    secondary suppression so the total gives nothing away) for those outside the association."""
    if not masked:
        cells = [counts.get(group.value, 0) for group in GROUPS]
        return cells, sum(cells)
    table = suppress({"session": {group.value: counts.get(group.value, 0) for group in GROUPS}})
    cells = [table.cells["session"][group.value].display for group in GROUPS]
    return cells, table.row_totals["session"].display


def _group_orderings() -> dict[str, str]:
    return {group.value: f"v_{group.value}" for group in GROUPS}


def sort_param_for(request, param: str, allowed: dict[str, str], default: str):
    """``core.pagination.sort_param`` for a page with several sortable tables: the parameter is
    named by the caller."""
    raw = request.GET.get(param) or default
    key = raw.lstrip("-")
    if key not in allowed:
        raw, key = default, default.lstrip("-")
    field = allowed[key]
    return raw, f"-{field}" if raw.startswith("-") else field


def _page(request, queryset, per_page: int, param: str):
    return Paginator(queryset, per_page).get_page(request.GET.get(param))


# ---- The co-construction page -----------------------------------------------------------------


@login_required
def index(request, pt):
    pt = get_programme_territory(request, pt, Action.VIEW_PLAN)
    can_edit = can(request.user, Action.EDIT_PLAN, pt)
    masked = not sees_unmasked(request.user, pt)

    sessions = _page(
        request,
        pt.consultation_sessions.annotate(
            **_group_sums("participant_counts", "count", "n")
        ).order_by("-date", "-created_at"),
        SESSIONS_PER_PAGE,
        SESSION_PAGE_PARAM,
    )
    session_rows = []
    for session in sessions.object_list:
        counts = {group.value: getattr(session, f"n_{group.value}") for group in GROUPS}
        cells, total = headcount_cells(counts, masked=masked)
        session_rows.append({"session": session, "cells": cells, "total": total})

    form = ProposalFilterForm(request.GET, programme_territory=pt)
    sort, ordering = sort_param_for(request, "tri", PROPOSAL_SORTS, "-date")
    filtered = form.apply(pt.proposals.all())
    proposals = _page(
        request,
        filtered.select_related("session")
        .prefetch_related("needs")
        .annotate(total_votes=Coalesce(Sum("votes__votes"), 0))
        .order_by(ordering, "-created_at", "pk"),
        PROPOSALS_PER_PAGE,
        PROPOSAL_PAGE_PARAM,
    )

    ranking, ranking_order = sort_param_for(
        request, "classement", {"total": "v_total"} | _group_orderings(), "-total"
    )
    results = list(
        filtered.annotate(**_group_sums("votes", "votes", "v"))
        .filter(v_total__gt=0)
        .order_by(ranking_order, "-v_total", "created_at", "pk")[:RESULTS_LIMIT]
    )
    result_rows = [
        {
            "proposal": proposal,
            "cells": [getattr(proposal, f"v_{group.value}") for group in GROUPS],
            "total": proposal.v_total,
        }
        for proposal in results
    ]
    result_columns = _sort_links(
        request,
        [(group.value, group.label) for group in GROUPS] + [("total", "Total")],
        ranking,
        "classement",
        descending_first={group.value for group in GROUPS} | {"total"},
        numeric={group.value for group in GROUPS} | {"total"},
    )
    context = {
        "pt": pt,
        "programme": pt.programme,
        "groups": GROUPS,
        "sessions": sessions,
        "session_rows": session_rows,
        "session_querystring": _querystring(request, **{SESSION_PAGE_PARAM: None}),
        "session_page_param": SESSION_PAGE_PARAM,
        "form": form,
        "filters_active": form.active,
        "proposals": proposals,
        "proposal_querystring": _querystring(request, **{PROPOSAL_PAGE_PARAM: None}),
        "proposal_page_param": PROPOSAL_PAGE_PARAM,
        "proposal_columns": _sort_links(
            request,
            PROPOSAL_COLUMNS + [("voix", "Voix")],
            sort,
            "tri",
            reset=PROPOSAL_PAGE_PARAM,
            descending_first={"date", "voix"},
            numeric={"voix"},
        ),
        "sort": sort,
        "ranking": ranking,
        "result_rows": result_rows,
        "result_columns": result_columns,
        "results_limit": RESULTS_LIMIT,
        "masked": masked,
        "can_edit": can_edit,
        "can_propose": can(request.user, Action.PROPOSE, pt),
        "action_create_url": action_create_url(pt) if can_edit else None,
        "people_group": StakeholderGroup.PEOPLE.value,
    }
    return render(request, "plans/consultation/index.html", context)


@login_required
def structure_options(request, pt):
    """Checkboxes of the structure picker (htmx): the ones already chosen, then the matches."""
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    return render_structure_options(request, territory_structures(request.user, pt))


# ---- Sessions ---------------------------------------------------------------------------------


def public_url(request, session) -> str:
    return request.build_absolute_uri(
        reverse("proposals_public:propose", args=[session.proposal_token])
    )


def _session_detail_context(request, pt, session, participant_form=None) -> dict:
    can_edit = can(request.user, Action.EDIT_PLAN, pt)
    counts = {c.group: c.count for c in session.participant_counts.all()}
    cells, total = headcount_cells(counts, masked=not sees_unmasked(request.user, pt))
    proposals = list(
        session.proposals.annotate(total_votes=Coalesce(Sum("votes__votes"), 0)).order_by(
            "-total_votes", "created_at"
        )
    )
    context = {
        "pt": pt,
        "programme": pt.programme,
        "session": session,
        "headcounts": list(zip(GROUPS, cells, strict=True)),
        "headcount_total": total,
        "masked": not sees_unmasked(request.user, pt),
        "structures": list(session.structures.select_related("commune").order_by("name")),
        "proposals": proposals,
        "can_edit": can_edit,
        "can_propose": can(request.user, Action.PROPOSE, pt),
        "people_group": StakeholderGroup.PEOPLE.value,
        "named_participants": [],
        "participant_form": None,
        "public_url": "",
        "qr_data_uri": "",
    }
    if can_edit:
        named = list(session.named_participants.select_related("structure"))
        if named:
            # Professionals' names: reading them is traced (ids and counts only).
            audit(
                AuditEvent.Kind.NAMED_RECORD_READ,
                actor=request.user,
                target=str(session.pk),
                record="consultation_participants",
                count=len(named),
            )
        url = public_url(request, session)
        context.update(
            named_participants=named,
            participant_form=participant_form
            or NamedParticipantForm(programme_territory=pt, user=request.user),
            public_url=url,
            qr_data_uri=segno.make(url, error="m").svg_data_uri(scale=4, border=2)
            if session.public_proposals_open
            else "",
        )
    return context


@login_required
def session_detail(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.VIEW_PLAN)
    session = get_session(pt, pk)
    return render(
        request,
        "plans/consultation/session_detail.html",
        _session_detail_context(request, pt, session),
    )


@login_required
def session_create(request, pt):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    form = SessionForm(request.POST or None, programme_territory=pt, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(
                programme_territory=pt, acting_user=request.user, **form.service_kwargs()
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La séance est enregistrée.")
            return redirect("consultation:session_detail", pt=pt.pk, pk=session.pk)
    return _session_form(request, pt, form, None, {})


@login_required
def session_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    session = get_session(pt, pk)
    form = SessionForm(
        request.POST or None, instance=session, programme_territory=pt, user=request.user
    )
    extra = {}
    if request.method == "POST" and form.is_valid():
        data = form.service_kwargs()
        try:
            services.session_update(
                session=session,
                version=form.cleaned_data["version"],
                acting_user=request.user,
                **data,
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La séance est enregistrée.")
            return redirect("consultation:session_detail", pt=pt.pk, pk=session.pk)
    return _session_form(request, pt, form, session, extra)


def _session_form(request, pt, form, session, extra):
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "session": session,
        "picker": structure_picker(form),
        "count_fields": form.count_fields(),
        **extra,
    }
    return render(request, "plans/consultation/session_form.html", context)


@login_required
def session_delete(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    session = get_session(pt, pk)
    cancel_url = reverse("consultation:session_detail", args=[pt.pk, session.pk])
    if request.method == "POST":
        services.session_delete(session=session, acting_user=request.user)
        messages.success(request, "La séance est supprimée.")
        return redirect("consultation:index", pt=pt.pk)
    kept = session.proposals.count()
    explanation = (
        f"La séance « {session.title} » du {session.date:%d/%m/%Y} sera supprimée, avec ses "
        "participant·es et les professionnel·les nommé·es."
    )
    if kept:
        explanation += (
            f" Ses {kept} proposition{'s' if kept > 1 else ''} "
            f"rester{'ont' if kept > 1 else 'a'}, sans séance."
        )
    return render(
        request,
        "plans/consultation/confirm_delete.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "title": "Supprimer la séance",
            "explanation": explanation,
            "cancel_url": cancel_url,
        },
    )


@login_required
@require_POST
def session_public_link(request, pt, pk):
    """Open or close the public proposal link of a session."""
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    session = get_session(pt, pk)
    is_open = request.POST.get("ouvert") == "1"
    services.session_set_public_proposals(
        session=session, is_open=is_open, acting_user=request.user
    )
    if is_open:
        messages.success(
            request,
            "Le recueil en ligne est ouvert : partagez le lien public ou son QR code.",
        )
    else:
        messages.success(request, "Le recueil en ligne est fermé : le lien n'accepte plus rien.")
    return redirect("consultation:session_detail", pt=pt.pk, pk=session.pk)


@login_required
@require_POST
def named_participant_add(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    session = get_session(pt, pk)
    form = NamedParticipantForm(request.POST, programme_territory=pt, user=request.user)
    if form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("consent")
        try:
            services.named_participant_add(session=session, acting_user=request.user, **data)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Le ou la professionnel·le est ajouté·e.")
            return redirect(
                reverse("consultation:session_detail", args=[pt.pk, session.pk]) + "#professionnels"
            )
    return render(
        request,
        "plans/consultation/session_detail.html",
        _session_detail_context(request, pt, session, participant_form=form),
    )


@login_required
@require_POST
def named_participant_remove(request, pt, pk, participant_pk):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    session = get_session(pt, pk)
    participant = get_object_or_404(session.named_participants.all(), pk=participant_pk)
    services.named_participant_remove(participant=participant, acting_user=request.user)
    messages.success(request, "Le nom est retiré de la séance.")
    return redirect(
        reverse("consultation:session_detail", args=[pt.pk, session.pk]) + "#professionnels"
    )


# ---- Proposals --------------------------------------------------------------------------------


def default_origin_group(user, pt) -> str:
    """The group a proposal most likely comes from, given who types it in. The coordination
    chooses each time: it enters proposals of every group."""
    if can(user, Action.EDIT_PLAN, pt):
        return ""
    held = roles(user)
    if Role.LOCAL_AUTHORITY in held:
        return StakeholderGroup.AUTHORITY.value
    return StakeholderGroup.PROFESSIONALS.value


def _prefill(pt, request) -> dict:
    """Initial values from ``?seance=`` (a session of this territory) and ``?groupe=``."""
    initial = {}
    session_pk = request.GET.get("seance")
    if session_pk:
        try:
            session = pt.consultation_sessions.filter(pk=session_pk).first()
        except ValidationError:
            session = None
        if session:
            initial["session"] = session.pk
    group = request.GET.get("groupe")
    if group in StakeholderGroup.values:
        initial["origin_group"] = group
    return initial


@login_required
def proposal_create(request, pt):
    pt = get_programme_territory(request, pt, Action.PROPOSE)
    may_edit = can(request.user, Action.EDIT_PLAN, pt)
    initial = {"origin_group": default_origin_group(request.user, pt), **_prefill(pt, request)}
    form = ProposalForm(
        request.POST or None, initial=initial, programme_territory=pt, may_edit=may_edit
    )
    if request.method == "POST" and form.is_valid():
        try:
            proposal = services.proposal_create(
                programme_territory=pt, acting_user=request.user, **form.service_kwargs()
            )
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La proposition est enregistrée.")
            if "_autre" in request.POST:
                # Facilitators type a whole sheet of proposals in a row: same session and group.
                query = {"groupe": proposal.origin_group}
                if proposal.session_id:
                    query["seance"] = str(proposal.session_id)
                return redirect(
                    reverse("consultation:proposal_create", args=[pt.pk]) + "?" + urlencode(query)
                )
            return redirect("consultation:proposal_detail", pt=pt.pk, pk=proposal.pk)
    return _proposal_form(request, pt, form, None, {})


@login_required
def proposal_detail(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.VIEW_PLAN)
    proposal = get_proposal(pt, pk)
    can_edit = can(request.user, Action.EDIT_PLAN, pt)
    votes = {v.group: v.votes for v in proposal.votes.all()}
    actions = [
        {"action": action, "url": action_detail_url(pt, action)}
        for action in proposal.actions.order_by("position", "code")
    ]
    context = {
        "pt": pt,
        "programme": pt.programme,
        "proposal": proposal,
        "needs": list(proposal.needs.select_related("category").order_by("title")),
        "vote_rows": [(group, votes.get(group.value, 0)) for group in GROUPS],
        "vote_total": sum(votes.values()),
        "actions": actions,
        "can_edit": can_edit,
        "action_create_url": action_create_url(pt) if can_edit else None,
    }
    return render(request, "plans/consultation/proposal_detail.html", context)


@login_required
def proposal_edit(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    proposal = get_proposal(pt, pk)
    form = ProposalForm(
        request.POST or None, instance=proposal, programme_territory=pt, may_edit=True
    )
    extra = {}
    if request.method == "POST" and form.is_valid():
        try:
            services.proposal_update(
                proposal=proposal,
                version=form.cleaned_data["version"],
                acting_user=request.user,
                **form.service_kwargs(),
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "La proposition est enregistrée.")
            return redirect("consultation:proposal_detail", pt=pt.pk, pk=proposal.pk)
    return _proposal_form(request, pt, form, proposal, extra)


def _proposal_form(request, pt, form, proposal, extra):
    context = {
        "pt": pt,
        "programme": pt.programme,
        "form": form,
        "proposal": proposal,
        **extra,
    }
    return render(request, "plans/consultation/proposal_form.html", context)


@login_required
def proposal_votes(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    proposal = get_object_or_404(
        pt.proposals.prefetch_related("votes").select_related("session"), pk=pk
    )
    form = VotesForm(request.POST or None, proposal=proposal)
    extra = {}
    if request.method == "POST" and form.is_valid():
        try:
            services.proposal_set_votes(
                proposal=proposal,
                version=form.cleaned_data["version"],
                votes=form.votes(),
                acting_user=request.user,
            )
        except EditConflict as conflict:
            extra = _conflict(form, conflict)
        except ValidationError as error:
            _apply_service_errors(form, error)
        else:
            messages.success(request, "Les voix sont enregistrées.")
            return redirect(reverse("consultation:index", args=[pt.pk]) + "#resultats")
    context = {
        "pt": pt,
        "programme": pt.programme,
        "proposal": proposal,
        "form": form,
        "vote_fields": form.vote_fields(),
        **extra,
    }
    return render(request, "plans/consultation/proposal_votes.html", context)


@login_required
def proposal_delete(request, pt, pk):
    pt = get_programme_territory(request, pt, Action.EDIT_PLAN)
    proposal = get_proposal(pt, pk)
    cancel_url = reverse("consultation:proposal_detail", args=[pt.pk, proposal.pk])
    if request.method == "POST":
        services.proposal_delete(proposal=proposal, acting_user=request.user)
        messages.success(request, "La proposition est supprimée.")
        return redirect(reverse("consultation:index", args=[pt.pk]) + "#propositions")
    return render(
        request,
        "plans/consultation/confirm_delete.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "title": "Supprimer la proposition",
            "explanation": "La proposition sera supprimée, avec ses voix et ses liens aux "
            "besoins. Pour garder une trace d'une proposition écartée, indiquez plutôt « Non "
            "retenue » en la modifiant.",
            "cancel_url": cancel_url,
        },
    )
