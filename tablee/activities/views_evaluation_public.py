"""The anonymous questionnaire of a session, answered on a phone through a link or a QR code (no
sign-in).

Nothing about the person is kept: not the IP address (only a salted hash of it lives a few
minutes in the cache, to slow floods down), not the browser, not a cookie of our own. A replayed
form is recognised by its one-time token; floods are limited per session and per client.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from tablee.activities import services_evaluations as services
from tablee.activities.forms_evaluations import EvaluationForm
from tablee.activities.models import Evaluation, Session
from tablee.core.ratelimit import client_key as hashed_client
from tablee.core.ratelimit import within

# A room of thirty answering within minutes, possibly behind the venue's single Wi-Fi address.
DEFAULT_RATE_PER_SESSION = 120
DEFAULT_RATE_PER_CLIENT = 40
DEFAULT_RATE_WINDOW = 600


def _rate_setting(name: str, default: int) -> int:
    return getattr(settings, f"TABLEE_EVALUATION_RATE_{name}", default)


def client_key(request) -> str:
    """A salted hash of the client's address: a cache key that does not hold the address."""
    return hashed_client(request, "tablee.evaluation.client")


def rate_limited(request, session: Session) -> bool:
    window = _rate_setting("WINDOW", DEFAULT_RATE_WINDOW)
    per_session = within(
        f"evaluation:session:{session.pk}",
        _rate_setting("PER_SESSION", DEFAULT_RATE_PER_SESSION),
        window,
    )
    per_client = within(
        f"evaluation:client:{client_key(request)}",
        _rate_setting("PER_CLIENT", DEFAULT_RATE_PER_CLIENT),
        window,
    )
    return not (per_session and per_client)


def _get_session(token) -> Session:
    return get_object_or_404(
        Session.objects.select_related("programme_territory__territory"), evaluation_token=token
    )


def _render(request, template, session, status=200, **extra):
    return render(
        request,
        f"activities/evaluation_public/{template}",
        {"session": session, **extra},
        status=status,
    )


def answer(request, token):
    session = _get_session(token)
    reason = services.closed_reason(session, source=Evaluation.Source.ONLINE)
    if reason:
        return _render(request, "closed.html", session, reason=reason)
    if request.method == "POST":
        if rate_limited(request, session):
            return _render(request, "too_many.html", session, status=429)
        form = EvaluationForm(request.POST)
        if form.is_valid():
            nonce = services.read_submission_token(session, form.cleaned_data["submission_token"])
            if nonce is None:
                form.add_error(
                    None,
                    "Ce formulaire n'est plus valide : rechargez la page et répondez à nouveau.",
                )
            else:
                try:
                    services.evaluation_record(
                        session=session,
                        source=Evaluation.Source.ONLINE,
                        submission_token=nonce,
                        **form.answer(),
                    )
                except services.DuplicateSubmission:
                    return _render(request, "duplicate.html", session, status=409)
                except services.EvaluationClosed as closed:
                    return _render(request, "closed.html", session, reason=closed.message)
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    return redirect("evaluation_public:thanks", token=session.evaluation_token)
    else:
        form = EvaluationForm(initial={"submission_token": services.new_submission_token(session)})
    # A form with errors is shown again with status 200, as everywhere in Tablée.
    return _render(request, "answer.html", session, form=form)


def thanks(request, token):
    return _render(request, "thanks.html", _get_session(token))
