"""Public links of a session, without an account: registration, cancellation, self check-in.

Nothing here tells a visitor who is registered: a registration answers with the same « vérifiez
votre boîte » page whether the address was new or not, and only the e-mail sent to that address
says which. Floods are slowed per link and per client (a salted hash of the address lives a few
minutes in the cache, never the address itself), as on the public questionnaire.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from tablee.activities import services_attendance as services
from tablee.activities.forms_attendance import (
    PublicRegistrationForm,
    SelfCheckInForm,
    SelfWalkInForm,
)
from tablee.activities.models import Registration, Session
from tablee.core.ratelimit import client_key, within

# Defaults of the limits (settings may override them): a training takes a few dozen people, and
# at the door everyone checks in within minutes, often through the venue's one Wi-Fi address.
RATE_DEFAULTS = {
    "registration": {"per_link": 30, "per_client": 10, "window": 600},
    "checkin": {"per_link": 300, "per_client": 40, "window": 600},
}


def _limit(kind: str, name: str) -> int:
    return getattr(
        settings, f"TABLEE_{kind.upper()}_RATE_{name.upper()}", RATE_DEFAULTS[kind][name]
    )


def rate_limited(request, kind: str, session: Session) -> bool:
    """Count one submission on the session's link and from the client; True past either limit."""
    window = _limit(kind, "window")
    per_link = within(f"{kind}:link:{session.pk}", _limit(kind, "per_link"), window)
    per_client = within(f"{kind}:client:{client_key(request)}", _limit(kind, "per_client"), window)
    return not (per_link and per_client)


def _sessions():
    return Session.objects.select_related(
        "programme_territory__programme",
        "programme_territory__territory",
        "place_structure",
        "commune",
        "format",
    )


def _render(request, template, session, status=200, **extra):
    context = {"session": session, "place": services.place_label(session), **extra}
    return render(request, f"activities/registration_public/{template}", context, status=status)


def _registration_closed(session: Session) -> str:
    try:
        services.check_registration_allowed(session)
    except ValidationError as error:
        return error.messages[0]
    if not session.registration_open:
        return "Les inscriptions en ligne à cette séance sont fermées."
    return ""


def register(request, token):
    session = get_object_or_404(_sessions(), registration_token=token)
    closed = _registration_closed(session)
    if closed:
        return _render(request, "closed.html", session, message=closed)
    form = PublicRegistrationForm(request.POST or None)
    if request.method == "POST":
        if rate_limited(request, "registration", session):
            return _render(request, "too_many.html", session, status=429)
        if form.is_valid():
            try:
                services.registration_request_public(
                    session=session, base_url=request.build_absolute_uri("/"), **form.cleaned_data
                )
            except ValidationError as error:
                form.add_error(None, error.messages[0])
            else:
                return redirect("registration_public:sent", token=session.registration_token)
    return _render(request, "register.html", session, form=form)


def sent(request, token):
    session = get_object_or_404(_sessions(), registration_token=token)
    return _render(request, "sent.html", session)


def cancel(request, token):
    registration = get_object_or_404(
        Registration.objects.select_related(
            "session__programme_territory__programme",
            "session__place_structure",
            "session__commune",
        ),
        cancel_token=token,
    )
    session = registration.session
    if registration.status == Registration.Status.CANCELLED:
        return _render(request, "cancel_done.html", session, already=True)
    if request.method == "POST":
        try:
            services.registration_cancel(
                registration=registration, base_url=request.build_absolute_uri("/")
            )
        except ValidationError as error:
            return _render(request, "cancel_refused.html", session, message=error.messages[0])
        return _render(request, "cancel_done.html", session, already=False)
    return _render(request, "cancel.html", session, registration=registration)


def checkin(request, token):
    """Self check-in on a phone: the e-mail of a registration, or name and structure."""
    session = get_object_or_404(_sessions(), checkin_token=token)
    try:
        services.check_checkin_allowed(session)
    except ValidationError as error:
        return _render(request, "checkin_closed.html", session, message=error.messages[0])
    email_form, walk_in_form = SelfCheckInForm(), None
    if request.method == "POST":
        if rate_limited(request, "checkin", session):
            return _render(request, "too_many.html", session, status=429)
        try:
            if "full_name" in request.POST:
                walk_in_form = SelfWalkInForm(request.POST)
                if walk_in_form.is_valid():
                    data = walk_in_form.cleaned_data
                    # A registrant who went straight to this form is checked in as registered.
                    done = services.self_check_in(session=session, email=data["email"])
                    if done is None:
                        attendance = services.self_walk_in(session=session, **data)
                        done = services.CheckIn(attendance, already=False)
                    return _render(request, "checkin_done.html", session, checkin=done)
            else:
                email_form = SelfCheckInForm(request.POST)
                if email_form.is_valid():
                    email = email_form.cleaned_data["email"]
                    done = services.self_check_in(session=session, email=email)
                    if done is not None:
                        return _render(request, "checkin_done.html", session, checkin=done)
                    walk_in_form = SelfWalkInForm(initial={"email": email})
        except ValidationError as error:
            return _render(request, "checkin_closed.html", session, message=error.messages[0])
    return _render(
        request, "checkin.html", session, email_form=email_form, walk_in_form=walk_in_form
    )
