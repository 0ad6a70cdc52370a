"""Audit of sign-ins, sign-outs, failures and lockouts, from Django's and django-axes' signals.

The e-mail typed on the sign-in form is never stored: a failure names the account when it exists,
and nobody otherwise.
"""

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent, User


def _account_for(typed_username) -> User | None:
    if not typed_username or not isinstance(typed_username, str):
        return None
    return User.objects.filter(email=typed_username.strip().lower()).first()


def on_logged_in(sender, request, user, **kwargs):
    audit(AuditEvent.Kind.LOGIN, actor=user)


def on_logged_out(sender, request, user, **kwargs):
    # Django sends this signal even when nobody was signed in.
    if user is not None:
        audit(AuditEvent.Kind.LOGOUT, actor=user)


def on_login_failed(sender, credentials, request=None, **kwargs):
    audit(AuditEvent.Kind.LOGIN_FAILED, actor=_account_for(credentials.get("username")))


def on_locked_out(sender, request, username, ip_address, **kwargs):
    audit(AuditEvent.Kind.LOCKOUT, actor=_account_for(username))
