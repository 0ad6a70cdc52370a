"""FIES questionnaires of a programme territory, for the coordination: create, open or close,
poster with QR code, answers typed from paper, results."""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tablee.accounts.permissions import Action, can
from tablee.diagnostic import fies
from tablee.diagnostic import services_surveys as services
from tablee.diagnostic.forms_surveys import FiesAnswersForm, SurveyForm
from tablee.diagnostic.models import Survey, SurveyResponse
from tablee.diagnostic.views_pathways import get_programme_territory_for_user


def get_survey(pt, pk) -> Survey:
    survey = get_object_or_404(Survey.objects.filter(programme_territory=pt), pk=pk)
    survey.programme_territory = pt
    return survey


def public_url(request, survey: Survey) -> str:
    return request.build_absolute_uri(reverse("questionnaire:answer", args=[survey.token]))


def _context(pt, **extra):
    return {"pt": pt, "programme": pt.programme, **extra}


@login_required
def survey_list(request, pt):
    pt = get_programme_territory_for_user(request, pt, Action.VIEW_DIAGNOSTIC)
    surveys = (
        Survey.objects.filter(programme_territory=pt)
        .annotate(response_count=Count("responses"))
        .order_by("-created_at")
    )
    return render(
        request,
        "diagnostic/surveys/survey_list.html",
        _context(pt, surveys=surveys, can_edit=can(request.user, Action.EDIT_DIAGNOSTIC, pt)),
    )


@login_required
def survey_create(request, pt):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    form = SurveyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        survey = services.survey_create(
            programme_territory=pt, title=form.cleaned_data["title"], acting_user=request.user
        )
        messages.success(
            request,
            "Le questionnaire est créé et ouvert : imprimez son affiche ou partagez le lien.",
        )
        return redirect("surveys:detail", pt=pt.pk, survey=survey.pk)
    return render(request, "diagnostic/surveys/survey_form.html", _context(pt, form=form))


@login_required
def survey_detail(request, pt, survey):
    """The results page: counts, distribution and shares, masked under 11 answers."""
    pt = get_programme_territory_for_user(request, pt, Action.VIEW_DIAGNOSTIC)
    survey = get_survey(pt, survey)
    results = services.survey_results(survey)
    paper = SurveyResponse.objects.filter(
        survey=survey, channel=SurveyResponse.Channel.PAPER
    ).count()
    return render(
        request,
        "diagnostic/surveys/survey_detail.html",
        _context(
            pt,
            survey=survey,
            results=results,
            paper_count=paper,
            public_url=public_url(request, survey),
            fies=fies,
            min_answers=fies.MIN_ANSWERS_SHOWN,
            can_edit=can(request.user, Action.EDIT_DIAGNOSTIC, pt),
        ),
    )


@login_required
@require_POST
def survey_set_open(request, pt, survey):
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    survey = get_survey(pt, survey)
    is_open = request.POST.get("is_open") == "1"
    services.survey_set_open(survey=survey, is_open=is_open, acting_user=request.user)
    messages.success(
        request,
        "Le questionnaire est ouvert aux réponses."
        if is_open
        else "Le questionnaire est fermé : le lien public n'accepte plus de réponse.",
    )
    return redirect("surveys:detail", pt=pt.pk, survey=survey.pk)


@login_required
def survey_poster(request, pt, survey):
    """A printable poster: the QR code of the public link, the link itself, a short notice."""
    pt = get_programme_territory_for_user(request, pt, Action.VIEW_DIAGNOSTIC)
    survey = get_survey(pt, survey)
    url = public_url(request, survey)
    qr_code = segno.make(url, error="m")
    return render(
        request,
        "diagnostic/surveys/survey_poster.html",
        _context(
            pt,
            survey=survey,
            public_url=url,
            qr_data_uri=qr_code.svg_data_uri(scale=8, border=2),
        ),
    )


@login_required
def survey_paper_entry(request, pt, survey):
    """Answers typed in by a facilitator from a paper questionnaire, one copy at a time."""
    pt = get_programme_territory_for_user(request, pt, Action.EDIT_DIAGNOSTIC)
    survey = get_survey(pt, survey)
    if request.method == "POST":
        form = FiesAnswersForm(request.POST)
        if form.is_valid():
            nonce = services.read_submission_token(survey, form.cleaned_data["submission_token"])
            if nonce is None:
                form.add_error(None, "Ce formulaire n'est plus valide : rechargez la page.")
            else:
                try:
                    services.response_record(
                        survey=survey,
                        answers=form.answers(),
                        channel=SurveyResponse.Channel.PAPER,
                        submission_token=nonce,
                        acting_user=request.user,
                    )
                except services.DuplicateSubmission:
                    messages.warning(
                        request,
                        "Ce questionnaire papier a déjà été enregistré : il n'est pas compté "
                        "deux fois.",
                    )
                    return redirect("surveys:paper_entry", pt=pt.pk, survey=survey.pk)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request,
                        "Les réponses sont enregistrées. Vous pouvez saisir le questionnaire "
                        "suivant.",
                    )
                    return redirect("surveys:paper_entry", pt=pt.pk, survey=survey.pk)
    else:
        form = FiesAnswersForm(initial={"submission_token": services.new_submission_token(survey)})
    return render(
        request,
        "diagnostic/surveys/survey_paper_entry.html",
        _context(pt, survey=survey, form=form, fies=fies),
    )
