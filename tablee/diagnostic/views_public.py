"""The anonymous FIES questionnaire, answered through a public link or QR code (no sign-in).

No personal question is asked and nothing about the person is kept: not the IP address (only a
salted hash of it lives a few minutes in the cache, to slow floods down), not a cookie of our own.
A replayed form is recognised by its one-time token; floods are limited per link and per client.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from tablee.core.ratelimit import client_key, within
from tablee.diagnostic import fies
from tablee.diagnostic import services_surveys as services
from tablee.diagnostic.forms_surveys import FiesAnswersForm
from tablee.diagnostic.models import Survey, SurveyResponse


def rate_limited(request, survey: Survey) -> bool:
    window = settings.TABLEE_FIES_RATE_WINDOW
    per_link = within(f"fies:link:{survey.pk}", settings.TABLEE_FIES_RATE_PER_LINK, window)
    per_client = within(
        f"fies:client:{client_key(request)}", settings.TABLEE_FIES_RATE_PER_CLIENT, window
    )
    return not (per_link and per_client)


def _render(request, template, survey, status=200, **extra):
    return render(request, f"questionnaire/{template}", {"survey": survey, **extra}, status=status)


def answer(request, token):
    survey = get_object_or_404(Survey, token=token)
    if not survey.is_open:
        return _render(request, "closed.html", survey)
    if request.method == "POST":
        if rate_limited(request, survey):
            return _render(request, "too_many.html", survey, status=429)
        form = FiesAnswersForm(request.POST)
        if form.is_valid():
            nonce = services.read_submission_token(survey, form.cleaned_data["submission_token"])
            if nonce is None:
                form.add_error(
                    None,
                    "Ce formulaire n'est plus valide : rechargez la page et répondez à nouveau.",
                )
            else:
                try:
                    services.response_record(
                        survey=survey,
                        answers=form.answers(),
                        channel=SurveyResponse.Channel.ONLINE,
                        submission_token=nonce,
                    )
                except services.DuplicateSubmission:
                    return _render(request, "duplicate.html", survey, status=409)
                except services.SurveyClosed:
                    return _render(request, "closed.html", survey)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    return redirect("questionnaire:thanks", token=survey.token)
    else:
        form = FiesAnswersForm(initial={"submission_token": services.new_submission_token(survey)})
    # A form with errors is shown again with status 200, as everywhere in Tablée.
    return _render(request, "answer.html", survey, form=form, fies=fies)


def thanks(request, token):
    survey = get_object_or_404(Survey, token=token)
    return _render(request, "thanks.html", survey)
