"""The public proposal link of a co-construction session: people concerned propose without an
account, from a phone, while the coordination keeps the link open.

Nothing about the person is asked or kept: not a name (the page asks not to give one), not the
IP address (only a salted hash of it lives a few minutes in the cache, to slow floods down). The
page never shows other people's proposals.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from tablee.core.ratelimit import client_key, within
from tablee.plans import services_consultation as services
from tablee.plans.forms_consultation import PublicProposalForm
from tablee.plans.models import ConsultationSession

# A workshop of thirty people typing on their phones fits in the window; a script does not.
DEFAULT_RATE_PER_LINK = 60
DEFAULT_RATE_PER_CLIENT = 10
DEFAULT_RATE_WINDOW = 600


def rate_limited(request, session: ConsultationSession) -> bool:
    """Whether this submission goes past the limits, per link and per client, of the window."""
    window = getattr(settings, "TABLEE_PROPOSAL_RATE_WINDOW", DEFAULT_RATE_WINDOW)
    per_link = within(
        f"proposals:link:{session.pk}",
        getattr(settings, "TABLEE_PROPOSAL_RATE_PER_LINK", DEFAULT_RATE_PER_LINK),
        window,
    )
    per_client = within(
        f"proposals:client:{client_key(request)}",
        getattr(settings, "TABLEE_PROPOSAL_RATE_PER_CLIENT", DEFAULT_RATE_PER_CLIENT),
        window,
    )
    return not (per_link and per_client)


def get_session(token) -> ConsultationSession:
    return get_object_or_404(
        ConsultationSession.objects.select_related("programme_territory__territory"),
        proposal_token=token,
    )


def _render(request, template, session, status=200, **extra):
    context = {"session": session, "territory": session.programme_territory.territory, **extra}
    return render(request, f"plans/public/{template}", context, status=status)


def propose(request, token):
    session = get_session(token)
    if not session.public_proposals_open:
        return _render(request, "closed.html", session)
    form = PublicProposalForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, session):
            return _render(request, "too_many.html", session, status=429)
        if form.is_valid():
            try:
                services.proposal_submit_public(session=session, text=form.cleaned_data["text"])
            except services.ProposalsClosed:
                return _render(request, "closed.html", session)
            except ValidationError as error:
                form.add_error("text", error.messages)
            else:
                return redirect("proposals_public:thanks", token=session.proposal_token)
    # A form with errors comes back with status 200, as everywhere in Tablée.
    return _render(request, "propose.html", session, form=form)


def thanks(request, token):
    session = get_session(token)
    return _render(request, "thanks.html", session)
