"""Users (e-mail login), their memberships (role + scope) and the audit trail."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("adresse e-mail", unique=True)
    full_name = models.CharField("nom complet", max_length=150, blank=True)
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField(
        "accès à l'administration Django",
        default=False,
        help_text="Réservé aux administrateur·ices techniques de l'instance.",
    )
    date_joined = models.DateTimeField("inscription", auto_now_add=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        verbose_name = "utilisateur·ice"
        verbose_name_plural = "utilisateur·ices"
        ordering = ["email"]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class Role(models.TextChoices):
    ADMIN = "admin", "Administrateur·ice"
    COORDINATOR = "coordinator", "Coordination"
    PARTNER = "partner", "Partenaire"
    LOCAL_AUTHORITY = "local_authority", "Collectivité"
    FUNDER = "funder", "Financeur"


# Which scope each role takes (DESIGN.md, "Roles"): the form and clean() hold members to it.
ROLE_SCOPES = {
    Role.ADMIN: set(),
    Role.COORDINATOR: {"programme", "programme_territory"},
    Role.PARTNER: {"structure"},
    Role.LOCAL_AUTHORITY: {"programme_territory"},
    Role.FUNDER: {"programme"},
}


class Membership(models.Model):
    """A role given to a user within a scope: a programme, one of its territories, or a structure."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField("rôle", max_length=20, choices=Role.choices)
    programme = models.ForeignKey(
        "territories.Programme",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name="programme",
    )
    programme_territory = models.ForeignKey(
        "territories.ProgrammeTerritory",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name="territoire du programme",
    )
    structure = models.ForeignKey(
        "directory.Structure",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name="structure",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "rôle"
        verbose_name_plural = "rôles"
        ordering = ["role"]
        constraints = [
            # At most one scope is set; an admin has none.
            models.CheckConstraint(
                condition=(
                    Q(
                        programme__isnull=True,
                        programme_territory__isnull=True,
                        structure__isnull=True,
                    )
                    | Q(
                        programme__isnull=False,
                        programme_territory__isnull=True,
                        structure__isnull=True,
                    )
                    | Q(
                        programme__isnull=True,
                        programme_territory__isnull=False,
                        structure__isnull=True,
                    )
                    | Q(
                        programme__isnull=True,
                        programme_territory__isnull=True,
                        structure__isnull=False,
                    )
                ),
                name="membership_single_scope",
            )
        ]

    def __str__(self):
        return f"{self.get_role_display()} — {self.scope_label}"

    @property
    def scope_kind(self) -> str | None:
        if self.programme_id:
            return "programme"
        if self.programme_territory_id:
            return "programme_territory"
        if self.structure_id:
            return "structure"
        return None

    @property
    def scope_label(self) -> str:
        if self.programme_id:
            return f"programme {self.programme}"
        if self.programme_territory_id:
            return f"territoire {self.programme_territory.territory.name}"
        if self.structure_id:
            return f"structure {self.structure}"
        return "toute l'instance"

    def clean(self):
        allowed = ROLE_SCOPES.get(self.role, set())
        kind = self.scope_kind
        if not allowed and kind is not None:
            raise ValidationError(
                "Un rôle d'administration porte sur toute l'instance, sans périmètre."
            )
        if allowed and kind not in allowed:
            labels = {
                "programme": "un programme",
                "programme_territory": "un territoire de programme",
                "structure": "une structure",
            }
            expected = " ou ".join(labels[k] for k in sorted(allowed))
            raise ValidationError(f"Le rôle « {self.get_role_display()} » porte sur {expected}.")


class AuditEvent(models.Model):
    """A security-relevant event. Holds no personal data beyond the acting user's reference."""

    class Kind(models.TextChoices):
        LOGIN = "login", "Connexion"
        LOGIN_FAILED = "login_failed", "Échec de connexion"
        LOGOUT = "logout", "Déconnexion"
        LOCKOUT = "lockout", "Verrouillage après échecs"
        PASSWORD_RESET = "password_reset", "Réinitialisation du mot de passe"
        USER_INVITED = "user_invited", "Invitation d'un compte"
        USER_DEACTIVATED = "user_deactivated", "Désactivation d'un compte"
        MEMBERSHIP_ADDED = "membership_added", "Rôle attribué"
        MEMBERSHIP_REMOVED = "membership_removed", "Rôle retiré"
        PROGRAMME_CHANGED = "programme_changed", "Programme modifié"
        INDICATORS_IMPORTED = "indicators_imported", "Import d'indicateurs"
        DIRECTORY_CHANGED = "directory_changed", "Annuaire modifié"
        DIRECTORY_IMPORTED = "directory_imported", "Import dans l'annuaire"
        DIAGNOSTIC_CHANGED = "diagnostic_changed", "Diagnostic modifié"
        PLAN_CHANGED = "plan_changed", "Concertation ou plan d'action modifié"
        PLAN_IMPORTED = "plan_imported", "Import d'un plan d'action"
        ACTIVITY_CHANGED = "activity_changed", "Atelier ou formation modifié"
        SESSIONS_IMPORTED = "sessions_imported", "Import de séances"
        NETWORK_CHANGED = "network_changed", "Réseau modifié"
        REPORT_CHANGED = "report_changed", "Rapport modifié ou généré"
        EXPORT = "export", "Export"
        NAMED_RECORD_READ = "named_record_read", "Consultation d'une fiche nominative"

    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)
    kind = models.CharField("événement", max_length=30, choices=Kind.choices)
    actor = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="audit_events",
        verbose_name="auteur·ice",
    )
    target = models.CharField("objet", max_length=200, blank=True)
    detail = models.JSONField("détail", default=dict, blank=True)

    class Meta:
        verbose_name = "événement d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"
