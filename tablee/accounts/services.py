"""Writes on accounts: invitations, memberships, deactivation. Each one is atomic and audited.

Audit details hold ids and codes only, never an e-mail address or a name.
"""

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tablee.accounts import permissions
from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent, Membership, Role, User
from tablee.directory.models import Structure
from tablee.territories.models import Programme, ProgrammeTerritory

Scope = Programme | ProgrammeTerritory | Structure | None


def _scope_fields(scope: Scope) -> dict:
    if scope is None:
        return {}
    if isinstance(scope, Programme):
        return {"programme": scope}
    if isinstance(scope, ProgrammeTerritory):
        return {"programme_territory": scope}
    if isinstance(scope, Structure):
        return {"structure": scope}
    raise TypeError(f"Unexpected scope: {type(scope).__name__}")


def _membership_detail(membership: Membership) -> dict:
    scope_id = (
        membership.programme_id or membership.programme_territory_id or membership.structure_id
    )
    return {
        "user": str(membership.user_id),
        "membership": str(membership.pk),
        "role": membership.role,
        "scope_kind": membership.scope_kind or "instance",
        "scope_id": str(scope_id) if scope_id else None,
    }


def _build_membership(*, user: User, role: str, scope: Scope) -> Membership:
    """A validated, unsaved membership: the scope must fit the role, and not be held already."""
    if role not in Role.values:
        raise ValidationError("Ce rôle n'existe pas.")
    membership = Membership(user=user, role=role, **_scope_fields(scope))
    membership.clean()  # raises the French "scope does not fit the role" error
    held = (
        not user._state.adding
        and Membership.objects.filter(user=user, role=role, **_scope_fields(scope)).exists()
    )
    if held:
        raise ValidationError("Ce compte a déjà ce rôle sur ce périmètre.")
    return membership


def invitation_url(*, user: User, base_url: str) -> str:
    """The link to choose a password: the password reset confirm view, with a one-time token."""
    path = reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return base_url.rstrip("/") + path


def _send_invitation(*, user: User, url: str, acting_user: User) -> None:
    context = {"user": user, "url": url, "inviter": acting_user}
    subject = render_to_string("accounts/emails/invitation_subject.txt", context)
    body = render_to_string("accounts/emails/invitation_body.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])


@transaction.atomic
def user_invite(
    *, email: str, full_name: str, role: str, scope: Scope, acting_user: User, base_url: str
) -> User:
    """Create an account without password, give it its first role and e-mail it a link to choose
    its password. ``base_url`` is the site's address ("https://tablee.example.org")."""
    email = User.objects.normalize_email(email).strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ValidationError("Un compte existe déjà avec cette adresse e-mail.")
    user = User(email=email, full_name=full_name.strip())
    # Validate the role before anything is written.
    membership = _build_membership(user=user, role=role, scope=scope)
    user.set_unusable_password()
    user.save()
    membership.user = user
    membership.save()
    detail = _membership_detail(membership)
    audit(AuditEvent.Kind.USER_INVITED, actor=acting_user, target=str(user.pk), **detail)
    url = invitation_url(user=user, base_url=base_url)
    transaction.on_commit(lambda: _send_invitation(user=user, url=url, acting_user=acting_user))
    return user


@transaction.atomic
def membership_add(*, user: User, role: str, scope: Scope, acting_user: User) -> Membership:
    """Give ``user`` a role on a scope (None for an administrator)."""
    membership = _build_membership(user=user, role=role, scope=scope)
    membership.save()
    audit(
        AuditEvent.Kind.MEMBERSHIP_ADDED,
        actor=acting_user,
        target=str(user.pk),
        **_membership_detail(membership),
    )
    permissions.forget_memberships(user)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, acting_user: User) -> None:
    """Take a role away. An administrator may not remove their own last administrator role."""
    user = membership.user
    if membership.role == Role.ADMIN and user.pk == acting_user.pk:
        other_admin_roles = (
            Membership.objects.filter(user=user, role=Role.ADMIN).exclude(pk=membership.pk).exists()
        )
        if not other_admin_roles:
            raise ValidationError(
                "Vous ne pouvez pas retirer votre propre et dernier rôle d'administration : "
                "demandez à un·e autre administrateur·ice de le faire."
            )
    detail = _membership_detail(membership)
    membership.delete()
    audit(AuditEvent.Kind.MEMBERSHIP_REMOVED, actor=acting_user, target=str(user.pk), **detail)
    permissions.forget_memberships(user)
    if acting_user.pk == user.pk:
        permissions.forget_memberships(acting_user)


@transaction.atomic
def user_deactivate(*, user: User, acting_user: User) -> User:
    """Close an account: it can no longer sign in and its open sessions stop working."""
    if user.pk == acting_user.pk:
        raise ValidationError("Vous ne pouvez pas désactiver votre propre compte.")
    # The row lock makes two administrators deactivating at once record a single event.
    if not User.objects.select_for_update().get(pk=user.pk).is_active:
        raise ValidationError("Ce compte est déjà désactivé.")
    user.is_active = False
    user.save(update_fields=["is_active"])
    audit(
        AuditEvent.Kind.USER_DEACTIVATED, actor=acting_user, target=str(user.pk), user=str(user.pk)
    )
    return user
