"""Forms of the accounts pages: sign-in, password reset, invitations and memberships."""

from django import forms
from django.contrib.auth import forms as auth_forms

from tablee.accounts.models import AuditEvent, Role, User
from tablee.core.forms import StyledFormMixin
from tablee.directory.models import Structure
from tablee.territories.models import Programme, ProgrammeTerritory


class LoginForm(StyledFormMixin, auth_forms.AuthenticationForm):
    """Sign-in by e-mail. The message for a wrong password never says whether the account exists."""

    username = auth_forms.UsernameField(
        label="Adresse e-mail",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    error_messages = {
        "invalid_login": (
            "Adresse e-mail ou mot de passe incorrect. Vérifiez votre saisie, ou utilisez le lien "
            "« Mot de passe oublié ? »."
        ),
        # Inactive accounts are refused by the backend with the same message as a wrong password.
        "inactive": "Adresse e-mail ou mot de passe incorrect.",
    }

    def clean_username(self):
        # Accounts are stored lower-cased: "Camille@Example.org" signs in as camille@example.org.
        return (self.cleaned_data.get("username") or "").strip().lower()


class PasswordResetForm(StyledFormMixin, auth_forms.PasswordResetForm):
    email = forms.EmailField(
        label="Adresse e-mail",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    def get_users(self, email):
        """Active accounts with this address, invited ones included.

        Django skips accounts without a usable password; here that is someone whose invitation
        link expired, and asking for a new link is exactly what they should do.
        """
        return User.objects.filter(email__iexact=email.strip(), is_active=True)


class SetPasswordForm(StyledFormMixin, auth_forms.SetPasswordForm):
    """Choosing a password from a reset or invitation link; Django's validators apply."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "Nouveau mot de passe"
        self.fields["new_password2"].label = "Confirmation du nouveau mot de passe"


# The scope of a membership is chosen in one grouped list: "programme:<id>", "territoire:<id>"...
SCOPE_PREFIXES = {
    "programme": Programme,
    "territoire": ProgrammeTerritory,
    "structure": Structure,
}
INSTANCE_SCOPE = "instance"


def scope_choices() -> list:
    """The grouped choices of the scope list: the instance, programmes, territories, structures."""
    programmes = [
        (f"programme:{p.pk}", p.name) for p in Programme.objects.order_by("name").only("name")
    ]
    territories = [
        (f"territoire:{pt.pk}", f"{pt.territory.name} — {pt.programme.name}")
        for pt in ProgrammeTerritory.objects.select_related("territory", "programme").order_by(
            "territory__name", "programme__name"
        )
    ]
    structures = [
        (f"structure:{s.pk}", f"{s.name} ({s.commune.name})")
        for s in Structure.objects.select_related("commune").order_by("name")
    ]
    return [
        ("", "— Choisir —"),
        (INSTANCE_SCOPE, "Toute l'instance (administration)"),
        ("Programmes", programmes),
        ("Territoires de programme", territories),
        ("Structures", structures),
    ]


class MembershipForm(StyledFormMixin, forms.Form):
    """A role and its scope. Whether the scope fits the role is checked by Membership.clean()."""

    role = forms.ChoiceField(label="Rôle", choices=[("", "— Choisir —"), *Role.choices])
    scope = forms.ChoiceField(
        label="Périmètre",
        help_text=(
            "Administration : toute l'instance. Coordination : un programme ou un territoire. "
            "Partenaire : une structure. Collectivité : un territoire. Financeur : un programme."
        ),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scope"].choices = scope_choices()

    def clean_scope(self):
        """Turn "programme:<id>" into the Programme (None for the whole instance)."""
        value = self.cleaned_data["scope"]
        if value == INSTANCE_SCOPE:
            return None
        prefix, _, pk = value.partition(":")
        model = SCOPE_PREFIXES.get(prefix)
        found = model.objects.filter(pk=pk).first() if model else None
        if found is None:
            raise forms.ValidationError("Ce périmètre n'existe plus : choisissez-en un autre.")
        return found


class InviteForm(MembershipForm):
    email = forms.EmailField(
        label="Adresse e-mail", widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    full_name = forms.CharField(label="Nom complet", max_length=150)

    field_order = ["email", "full_name", "role", "scope"]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("Un compte existe déjà avec cette adresse e-mail.")
        return email


class UserSearchForm(StyledFormMixin, forms.Form):
    q = forms.CharField(label="Rechercher (nom ou e-mail)", required=False, max_length=100)


class AuditFilterForm(StyledFormMixin, forms.Form):
    type = forms.ChoiceField(
        label="Type d'événement",
        required=False,
        choices=[("", "Tous les événements"), *AuditEvent.Kind.choices],
    )
