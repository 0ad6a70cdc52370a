"""The anonymous FIES questionnaire, answered through a public link or QR code (no sign-in).

No personal question is asked and nothing about the person is kept: not the IP address (only a
salted hash of it lives a few minutes in the cache, to slow floods down), not a cookie of our own.
A replayed form is recognised by its one-time token; floods are limited per link and per client.
"""

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.crypto import salted_hmac

from tablee.diagnostic import fies
from tablee.diagnostic import services_surveys as services
from tablee.diagnostic.forms_surveys import FiesAnswersForm
from tablee.diagnostic.models import Survey, SurveyResponse


def client_ip(request) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry written by our own
    proxies when TABLEE_PROXY_COUNT says there are some (as axes reads it)."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def client_key(request) -> str:
    """A salted hash of the client's address: a cache key that does not hold the address."""
    return salted_hmac("tablee.fies.client", client_ip(request)).hexdigest()[:32]


def _within(key: str, limit: int, window: int) -> bool:
    """Count one more hit on ``key`` in a fixed window; False past ``limit`` hits."""
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def rate_limited(request, survey: Survey) -> bool:
    window = settings.TABLEE_FIES_RATE_WINDOW
    per_link = _within(f"fies:link:{survey.pk}", settings.TABLEE_FIES_RATE_PER_LINK, window)
    per_client = _within(
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
