"""Evaluations for the team: the results of a session with its QR code and the paper entry, a
printable poster, and the results of a programme per session, format, audience and territory.

The results of a programme are also open to those who read its dashboards (local authority,
funder): aggregates only, groups of fewer than 11 answers masked, never the free texts.
"""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tablee.accounts.permissions import Action, can
from tablee.activities import services_evaluations as services
from tablee.activities.forms_evaluations import EvaluationForm, ResultsFilterForm
from tablee.activities.models import Evaluation, Session
from tablee.activities.selectors_evaluations import (
    evaluation_summary,
    evaluation_table,
    session_results,
)
from tablee.core.charts import horizontal_bar_chart, svg_data_uri
from tablee.core.disclosure import THRESHOLD, mask_count
from tablee.territories.models import Programme, ProgrammeTerritory

RESULT_GROUPINGS = ["territory", "format", "audience", "session"]


def get_programme_territory_for_user(request, pk, action: Action) -> ProgrammeTerritory:
    """The programme territory if in scope (else 404) and ``action`` is allowed on it (else 403)."""
    pt = get_object_or_404(
        ProgrammeTerritory.objects.for_user(request.user).select_related("programme", "territory"),
        pk=pk,
    )
    if not can(request.user, action, pt):
        raise PermissionDenied
    return pt


def get_session(pt, pk) -> Session:
    session = get_object_or_404(Session.objects.filter(programme_territory=pt), pk=pk)
    session.programme_territory = pt
    return session


def public_url(request, session: Session) -> str:
    return request.build_absolute_uri(
        reverse("evaluation_public:answer", args=[session.evaluation_token])
    )


def _qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=8, border=2)


def _render_session(request, pt, session, *, form=None, status=200):
    results = session_results(session)
    can_enter_paper = can(request.user, Action.EDIT_ACTIVITIES, pt)
    paper_closed = services.closed_reason(session, source=Evaluation.Source.PAPER)
    if can_enter_paper and not paper_closed and form is None:
        form = EvaluationForm(initial={"submission_token": services.new_submission_token(session)})
    chart = ""
    if results.summary.answers:
        rows = results.distribution_rows
        chart = svg_data_uri(
            horizontal_bar_chart(
                [label for label, _, _ in rows],
                [n for _, n, _ in rows],
                title=f"Satisfaction — {session.title}",
                description="Nombre de réponses par niveau de satisfaction ; le tableau qui suit "
                "donne les mêmes chiffres.",
                value_label="Réponses",
            )
        )
    url = public_url(request, session)
    return render(
        request,
        "activities/evaluations/session.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "session": session,
            "results": results,
            "chart": chart,
            "public_url": url,
            "qr_data_uri": _qr_data_uri(url),
            "online_closed": services.closed_reason(session, source=Evaluation.Source.ONLINE),
            "online_closes_at": services.answers_close_at(session),
            "paper_closed": paper_closed,
            "can_enter_paper": can_enter_paper,
            "form": form,
        },
        status=status,
    )


@login_required
def session_evaluations(request, pt, pk):
    """The answers of one session (counts, distribution, texts), its QR code and the paper entry."""
    pt = get_programme_territory_for_user(request, pt, Action.VIEW_EVALUATIONS)
    session = get_session(pt, pk)
    return _render_session(request, pt, session)


@login_required
@require_POST
def paper_entry(request, pt, pk):
    """One paper questionnaire typed in by the team; the form comes back empty for the next."""
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_ACTIVITIES)
    session = get_session(pt, pk)
    form = EvaluationForm(request.POST)
    if form.is_valid():
        nonce = services.read_submission_token(session, form.cleaned_data["submission_token"])
        if nonce is None:
            form.add_error(None, "Ce formulaire n'est plus valide : rechargez la page.")
        else:
            try:
                services.evaluation_record(
                    session=session,
                    source=Evaluation.Source.PAPER,
                    submission_token=nonce,
                    acting_user=request.user,
                    **form.answer(),
                )
            except services.DuplicateSubmission:
                messages.warning(
                    request,
                    "Ce questionnaire papier a déjà été enregistré : il n'est pas compté deux fois.",
                )
                return redirect("evaluations:session", pt=pt.pk, pk=session.pk)
            except services.EvaluationClosed as closed:
                form.add_error(None, closed.message)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    "L'avis est enregistré. Vous pouvez saisir le questionnaire suivant.",
                )
                target = reverse("evaluations:session", args=[pt.pk, session.pk])
                return redirect(f"{target}#saisie-papier")
    return _render_session(request, pt, session, form=form)


@login_required
def poster(request, pt, pk):
    """A page to print for the room: the QR code of the questionnaire and its address."""
    pt = get_programme_territory_for_user(request, pt, Action.VIEW_EVALUATIONS)
    session = get_session(pt, pk)
    url = public_url(request, session)
    return render(
        request,
        "activities/evaluations/poster.html",
        {
            "pt": pt,
            "programme": pt.programme,
            "session": session,
            "public_url": url,
            "qr_data_uri": _qr_data_uri(url),
            "online_closed": services.closed_reason(session, source=Evaluation.Source.ONLINE),
        },
    )


@login_required
def results(request, programme):
    """Results per territory, format, audience and session, filtered by year and territory.

    Coordinators see exact figures; readers of the dashboards (local authority, funder) see the
    territories of their scope with groups under 11 answers masked.
    """
    programme = get_object_or_404(Programme.objects.for_user(request.user), pk=programme)
    user = request.user
    if not (
        can(user, Action.VIEW_EVALUATIONS, programme) or can(user, Action.VIEW_DASHBOARD, programme)
    ):
        raise PermissionDenied
    territories = [
        pt
        for pt in ProgrammeTerritory.objects.for_user(user)
        .filter(programme=programme)
        .select_related("territory")
        if can(user, Action.VIEW_EVALUATIONS, pt) or can(user, Action.VIEW_DASHBOARD, pt)
    ]
    # Exact figures only when every territory shown is the reader's own association's.
    masked = not territories or not all(
        can(user, Action.VIEW_EVALUATIONS, pt) for pt in territories
    )
    filter_form = ResultsFilterForm(
        request.GET or None, years=programme.years, territories=territories
    )
    year, territory_id = filter_form.filters()
    chosen = [pt for pt in territories if not territory_id or str(pt.pk) == territory_id]
    sessions = Session.objects.filter(programme_territory__in=chosen)
    if year:
        sessions = sessions.filter(starts_at__year=year)
    summaries = {
        grouping: evaluation_summary(sessions, group_by=grouping) for grouping in RESULT_GROUPINGS
    }
    tables = [
        evaluation_table(summaries[grouping], masked=masked, grouping=grouping)
        for grouping in RESULT_GROUPINGS
    ]
    total_answers = sum(group.answers for group in summaries["territory"])
    return render(
        request,
        "activities/evaluations/results.html",
        {
            "programme": programme,
            "filter_form": filter_form,
            "tables": tables,
            "overall": tables[0].total,
            "total_answers": mask_count(total_answers) if masked else total_answers,
            # French: "0 réponse", "1 réponse", "2 réponses", "< 11 réponses".
            "total_is_plural": total_answers > 1,
            "masked": masked,
            "threshold": THRESHOLD,
            "is_filtered": bool(year or territory_id),
        },
    )
