"""What was delivered: the catalogue of formats, workshops and trainings, registrations,
attendance and evaluations.

People in food insecurity are never named: their attendance is a headcount per audience (optionally
per age band and gender), and evaluations are anonymous. Registrations and named attendance exist
only for professionals, volunteers and elected officials.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from tablee.directory.models import Structure
from tablee.plans.models import Action
from tablee.territories.models import (
    Audience,
    Commune,
    Programme,
    ProgrammeTerritory,
    SessionKind,
)

# An upper bound that catches typing mistakes in headcounts (issue 6: "above 500").
MAX_HEADCOUNT = 500

# The audiences that register and sign by name; people in food insecurity are only counted.
NAMED_AUDIENCES = [Audience.PROFESSIONALS, Audience.VOLUNTEERS, Audience.ELECTED]


def new_token() -> str:
    return secrets.token_urlsafe(16)


class ActivityFormat(models.Model):
    """A format of the catalogue (atelier cuisine, formation « repérer et orienter »...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="activity_formats"
    )
    name = models.CharField("nom", max_length=200)
    kind = models.CharField("type", max_length=10, choices=SessionKind.choices)
    audience = models.CharField("public", max_length=14, choices=Audience.choices)
    duration_minutes = models.PositiveSmallIntegerField(
        "durée (minutes)", default=120, validators=[MinValueValidator(15), MaxValueValidator(1440)]
    )
    objectives = models.TextField("objectifs", blank=True)
    materials = models.TextField("matériel", blank=True)
    description = models.TextField("déroulé", blank=True)
    is_active = models.BooleanField("proposé à la programmation", default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "format d'atelier ou de formation"
        verbose_name_plural = "formats d'ateliers et de formations"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="activity_format_unique")
        ]

    def __str__(self):
        return self.name


class CalendarFeed(models.Model):
    """The secret address of a territory's iCal feed: a phone calendar subscribes without a login."""

    programme_territory = models.OneToOneField(
        ProgrammeTerritory, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "agenda iCal"

    def __str__(self):
        return f"Agenda de {self.programme_territory}"


class SessionSeries(models.Model):
    """Sessions scheduled together (every Tuesday for six weeks...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory, on_delete=models.CASCADE, related_name="session_series"
    )
    title = models.CharField("intitulé", max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "série de séances"
        verbose_name_plural = "séries de séances"

    def __str__(self):
        return self.title


class Session(models.Model):
    """A workshop or training held (or to be held) on a programme territory."""

    class Status(models.TextChoices):
        PLANNED = "planned", "Programmée"
        HELD = "held", "Réalisée"
        CANCELLED = "cancelled", "Annulée"
        POSTPONED = "postponed", "Reportée"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="activity_sessions",
        verbose_name="territoire",
    )
    format = models.ForeignKey(
        ActivityFormat, on_delete=models.PROTECT, related_name="sessions", verbose_name="format"
    )
    series = models.ForeignKey(
        SessionSeries,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name="série",
    )
    kind = models.CharField("type", max_length=10, choices=SessionKind.choices)
    title = models.CharField("intitulé", max_length=200)
    # One audience per session: the programme's targets split the sessions by audience.
    audience = models.CharField("public", max_length=14, choices=Audience.choices)
    starts_at = models.DateTimeField("début")
    ends_at = models.DateTimeField("fin")
    place_structure = models.ForeignKey(
        Structure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions_held_here",
        verbose_name="lieu (structure de l'annuaire)",
    )
    place_address = models.CharField("lieu (adresse)", max_length=300, blank=True)
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="commune",
    )
    facilitators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="facilitated_sessions",
        verbose_name="animateur·ices (comptes Tablée)",
    )
    external_facilitators = models.CharField(
        "autres animateur·ices",
        max_length=300,
        blank=True,
        help_text="Par exemple une diététicienne.",
    )
    capacity = models.PositiveSmallIntegerField(
        "places",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_HEADCOUNT)],
        help_text="Laisser vide s'il n'y a pas de limite.",
    )
    host_structures = models.ManyToManyField(
        Structure, blank=True, related_name="hosted_sessions", verbose_name="structures d'accueil"
    )
    partner_structures = models.ManyToManyField(
        Structure,
        blank=True,
        related_name="partner_sessions",
        verbose_name="structures partenaires (co-organisatrices)",
    )
    action = models.ForeignKey(
        Action,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
        verbose_name="action du plan",
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    cancel_reason = models.CharField("motif d'annulation ou de report", max_length=300, blank=True)
    registration_open = models.BooleanField(
        "inscriptions en ligne ouvertes",
        default=False,
        help_text="Un lien public permet de s'inscrire sans compte.",
    )
    registration_token = models.CharField(
        max_length=32, unique=True, default=new_token, editable=False
    )
    checkin_token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    evaluation_token = models.CharField(
        max_length=32, unique=True, default=new_token, editable=False
    )
    signed_sheet = models.FileField(
        "feuille d'émargement signée", upload_to="emargements/", blank=True
    )
    notes = models.TextField(
        "notes",
        blank=True,
        help_text="Ne notez ni nom de personne accompagnée, ni donnée de santé.",
    )
    # The key of a row imported from the history spreadsheets, so that a second import updates it.
    import_key = models.CharField(max_length=200, blank=True, db_index=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "séance"
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["programme_territory", "starts_at"], name="session_pt_start"),
            models.Index(fields=["programme_territory", "status"], name="session_pt_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="session_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.title} — {self.starts_at:%d/%m/%Y}"

    @property
    def is_named_audience(self) -> bool:
        return self.audience in NAMED_AUDIENCES


class Registration(models.Model):
    """A named registration (professionals, volunteers, elected officials), with consent."""

    class Status(models.TextChoices):
        CONFIRMED = "confirmed", "Inscrit·e"
        WAITING = "waiting", "Liste d'attente"
        CANCELLED = "cancelled", "Désinscrit·e"

    class Source(models.TextChoices):
        COORDINATOR = "coordinator", "Saisie par l'équipe"
        PUBLIC = "public", "Lien public"
        PARTNER = "partner", "Partenaire"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="registrations")
    full_name = models.CharField("nom et prénom", max_length=200)
    email = models.EmailField("e-mail")
    job_title = models.CharField("fonction", max_length=200, blank=True)
    structure = models.ForeignKey(
        Structure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="session_registrations",
        verbose_name="structure",
    )
    structure_name = models.CharField(
        "structure (si absente de l'annuaire)", max_length=200, blank=True
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.CONFIRMED
    )
    source = models.CharField(
        "origine", max_length=12, choices=Source.choices, default=Source.COORDINATOR
    )
    consent = models.BooleanField(
        "consentement",
        default=False,
        help_text="La personne accepte que son nom soit conservé pour l'émargement et l'attestation.",
    )
    cancel_token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "inscription"
        ordering = ["created_at"]
        constraints = [
            # The same e-mail once per session, unless that registration was cancelled.
            models.UniqueConstraint(
                fields=["session", "email"],
                condition=~Q(status="cancelled"),
                name="registration_once_per_session",
            )
        ]

    def __str__(self):
        return self.full_name


class Attendance(models.Model):
    """A named presence at a session: a registrant ticked at the door, a walk-in, or a self
    check-in by QR code."""

    class Method(models.TextChoices):
        DOOR = "door", "Pointage à l'entrée"
        SELF = "self", "Auto-émargement (QR code)"
        SHEET = "sheet", "Feuille papier"
        IMPORT = "import", "Import"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendances")
    registration = models.OneToOneField(
        Registration,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attendance",
    )
    full_name = models.CharField("nom et prénom", max_length=200)
    email = models.EmailField("e-mail", blank=True)
    audience = models.CharField(
        "public", max_length=14, choices=[(a.value, a.label) for a in NAMED_AUDIENCES]
    )
    structure = models.ForeignKey(
        Structure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="session_attendances",
        verbose_name="structure",
    )
    method = models.CharField("mode", max_length=8, choices=Method.choices, default=Method.DOOR)
    checked_in_at = models.DateTimeField("arrivée", auto_now_add=True)

    class Meta:
        verbose_name = "présence"
        ordering = ["full_name"]
        indexes = [
            models.Index(fields=["session", "structure"], name="attendance_session_structure")
        ]

    def __str__(self):
        return self.full_name


class Headcount(models.Model):
    """An anonymous headcount: how many people of an audience came, by age band and gender when
    known. The cells are disjoint: "" means "not specified", not "all", so a session's total is
    the sum of its rows."""

    class AgeBand(models.TextChoices):
        ALL = "", "Âge non précisé"
        UNDER_18 = "under_18", "Moins de 18 ans"
        AGE_18_25 = "18_25", "18–25 ans"
        AGE_26_59 = "26_59", "26–59 ans"
        AGE_60_PLUS = "60_plus", "60 ans et plus"

    class Gender(models.TextChoices):
        ALL = "", "Genre non précisé"
        WOMEN = "women", "Femmes"
        MEN = "men", "Hommes"
        OTHER = "other", "Autre"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="headcounts")
    audience = models.CharField("public", max_length=14, choices=Audience.choices)
    age_band = models.CharField(
        "tranche d'âge", max_length=10, choices=AgeBand.choices, blank=True, default=""
    )
    gender = models.CharField("genre", max_length=6, choices=Gender.choices, blank=True, default="")
    count = models.PositiveSmallIntegerField(
        "nombre de personnes", validators=[MaxValueValidator(MAX_HEADCOUNT)]
    )

    class Meta:
        verbose_name = "comptage anonyme"
        constraints = [
            models.UniqueConstraint(
                fields=["session", "audience", "age_band", "gender"], name="headcount_unique"
            )
        ]

    def __str__(self):
        return f"{self.get_audience_display()} : {self.count}"


class Evaluation(models.Model):
    """An anonymous answer to the short questionnaire of a session."""

    class Intention(models.TextChoices):
        YES = "yes", "Oui"
        MAYBE = "maybe", "Peut-être"
        NO = "no", "Non"

    class Source(models.TextChoices):
        ONLINE = "online", "En ligne"
        PAPER = "paper", "Saisi depuis le papier"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="evaluations")
    satisfaction = models.PositiveSmallIntegerField(
        "satisfaction (1 à 5)", validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    learnt = models.TextField("ce que j'ai appris", max_length=1000, blank=True)
    intends_to_change = models.CharField(
        "intention de changer une pratique", max_length=5, choices=Intention.choices, blank=True
    )
    comment = models.TextField("commentaire libre", max_length=1000, blank=True)
    source = models.CharField("saisie", max_length=6, choices=Source.choices, default=Source.ONLINE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "évaluation"
        ordering = ["-created_at"]

    def __str__(self):
        return f"Évaluation {self.satisfaction}/5"
