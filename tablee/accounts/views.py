"""Sign-in, password reset, and the administrators' pages: users, memberships, audit trail."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse_lazy
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods

from tablee.accounts import services
from tablee.accounts.audit import audit
from tablee.accounts.decorators import require
from tablee.accounts.forms import (
    AuditFilterForm,
    InviteForm,
    LoginForm,
    MembershipForm,
    PasswordResetForm,
    SetPasswordForm,
    UserSearchForm,
)
from tablee.accounts.models import AuditEvent, Membership, User
from tablee.accounts.permissions import Action
from tablee.core.pagination import paginate, sort_param

# ---- Sign-in and sign-out -------------------------------------------------------------------

login_view = auth_views.LoginView.as_view(
    template_name="accounts/login.html",
    authentication_form=LoginForm,
    redirect_authenticated_user=True,
)


class LogoutView(auth_views.LogoutView):
    """Sign-out by POST only (the form is in the page header)."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.success(request, "Vous êtes déconnecté·e. À bientôt !")
        return response


logout_view = LogoutView.as_view()

# ---- Password reset, and the invitation link that reuses it -------------------------------

password_reset_view = auth_views.PasswordResetView.as_view(
    template_name="accounts/password_reset_form.html",
    form_class=PasswordResetForm,
    email_template_name="accounts/emails/password_reset_body.txt",
    subject_template_name="accounts/emails/password_reset_subject.txt",
    success_url=reverse_lazy("accounts:password_reset_done"),
)
password_reset_done_view = auth_views.PasswordResetDoneView.as_view(
    template_name="accounts/password_reset_done.html"
)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    form_class = SetPasswordForm
    success_url = reverse_lazy("accounts:password_reset_complete")

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit(AuditEvent.Kind.PASSWORD_RESET, actor=form.user)
        return response


password_reset_confirm_view = PasswordResetConfirmView.as_view()
password_reset_complete_view = auth_views.PasswordResetCompleteView.as_view(
    template_name="accounts/password_reset_complete.html"
)

# ---- Users and memberships (administrators only) ---------------------------------------------

USER_SORTS = {"nom": "full_name", "email": "email", "inscription": "date_joined"}


def _memberships_with_scope():
    return Membership.objects.select_related(
        "programme", "programme_territory__territory", "structure"
    ).order_by("role", "created_at")


@require(Action.MANAGE_USERS)
def user_list(request):
    form = UserSearchForm(request.GET or None)
    users = User.objects.prefetch_related(
        Prefetch("memberships", queryset=_memberships_with_scope())
    )
    query = ""
    if form.is_valid() and form.cleaned_data["q"]:
        query = form.cleaned_data["q"]
        for word in query.split():
            users = users.filter(Q(full_name__icontains=word) | Q(email__icontains=word))
    sort, ordering = sort_param(request, USER_SORTS, default="nom")
    page = paginate(request, users.order_by(ordering, "email"))
    filters = {key: value for key, value in (("q", query), ("tri", sort)) if value}
    return render(
        request,
        "accounts/user_list.html",
        {
            "form": form,
            "page": page,
            "sort": sort,
            "query": query,
            "querystring": urlencode(filters),
            "search_querystring": urlencode({"q": query}) if query else "",
        },
    )


@require(Action.MANAGE_USERS)
def user_detail(request, pk):
    user = get_object_or_404(User, pk=pk)
    memberships = _memberships_with_scope().filter(user=user)
    return render(
        request,
        "accounts/user_detail.html",
        {"account": user, "memberships": memberships},
    )


@require(Action.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def user_invite(request):
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_invite(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                role=form.cleaned_data["role"],
                scope=form.cleaned_data["scope"],
                acting_user=request.user,
                base_url=request.build_absolute_uri("/"),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                "Invitation envoyée : le compte recevra un lien pour choisir son mot de passe.",
            )
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/user_invite.html", {"form": form})


@require(Action.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def membership_add(request, pk):
    user = get_object_or_404(User, pk=pk)
    form = MembershipForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_add(
                user=user,
                role=form.cleaned_data["role"],
                scope=form.cleaned_data["scope"],
                acting_user=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Le rôle a été attribué.")
            return redirect("accounts:user_detail", pk=user.pk)
    return render(request, "accounts/membership_add.html", {"account": user, "form": form})


@require(Action.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def membership_remove(request, pk, membership_pk):
    membership = get_object_or_404(
        _memberships_with_scope().select_related("user"), pk=membership_pk, user_id=pk
    )
    error = None
    if request.method == "POST":
        try:
            services.membership_remove(membership=membership, acting_user=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Le rôle a été retiré.")
            return redirect("accounts:user_detail", pk=pk)
    return render(
        request,
        "accounts/membership_remove.html",
        {"account": membership.user, "membership": membership, "error": error},
        status=400 if error else 200,
    )


@require(Action.MANAGE_USERS)
@require_http_methods(["GET", "POST"])
def user_deactivate(request, pk):
    user = get_object_or_404(User, pk=pk)
    error = None
    if request.method == "POST":
        try:
            services.user_deactivate(user=user, acting_user=request.user)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, "Le compte a été désactivé : il ne peut plus se connecter.")
            return redirect("accounts:user_detail", pk=user.pk)
    return render(
        request,
        "accounts/user_deactivate.html",
        {"account": user, "error": error},
        status=400 if error else 200,
    )


# ---- Audit trail (administrators only) ---------------------------------------------------------


# Events whose target is the id of the account they concern (see services.py).
ACCOUNT_EVENT_KINDS = {
    AuditEvent.Kind.USER_INVITED,
    AuditEvent.Kind.USER_DEACTIVATED,
    AuditEvent.Kind.MEMBERSHIP_ADDED,
    AuditEvent.Kind.MEMBERSHIP_REMOVED,
}


@require(Action.VIEW_AUDIT)
def audit_list(request):
    form = AuditFilterForm(request.GET or None)
    events = AuditEvent.objects.select_related("actor").order_by("-created_at", "-pk")
    kind = ""
    if form.is_valid() and form.cleaned_data["type"]:
        kind = form.cleaned_data["type"]
        events = events.filter(kind=kind)
    page = paginate(request, events)
    return render(
        request,
        "accounts/audit_list.html",
        {
            "form": form,
            "page": page,
            "querystring": urlencode({"type": kind}) if kind else "",
            "account_kinds": ACCOUNT_EVENT_KINDS,
        },
    )
