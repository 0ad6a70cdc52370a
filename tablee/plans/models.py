"""What was decided, and by whom: co-construction sessions, proposals and the action plan of each
programme territory.

People concerned are never named: sessions count participants per stakeholder group, and only
professionals may be listed by name. Proposals keep their origin group so that the voice of the
people concerned stays visible next to the others.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from tablee.diagnostic.models import Need
from tablee.directory.models import Structure
from tablee.territories.models import Audience, ProgrammeTerritory

# An upper bound that catches typing mistakes (a steering committee of 5,000 people).
MAX_PARTICIPANTS = 500


def new_token() -> str:
    return secrets.token_urlsafe(16)


class StakeholderGroup(models.TextChoices):
    """The groups who co-construct a plan (issue 5)."""

    PROFESSIONALS = "professionals", "Professionnel·les"
    VOLUNTEERS = "volunteers", "Bénévoles"
    ELECTED = "elected", "Élu·es"
    PEOPLE = "people", "Personnes concernées"
    AUTHORITY = "authority", "Collectivité et PAT"
    ASSOCIATION = "association", "Équipe de l'association"


class ConsultationSession(models.Model):
    """A co-construction meeting: an atelier de concertation or a comité de pilotage."""

    class Kind(models.TextChoices):
        WORKSHOP = "workshop", "Atelier de concertation"
        STEERING = "steering", "Comité de pilotage"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="consultation_sessions",
        verbose_name="territoire",
    )
    kind = models.CharField("type", max_length=10, choices=Kind.choices, default=Kind.WORKSHOP)
    date = models.DateField("date")
    title = models.CharField("objet", max_length=200)
    place = models.CharField("lieu", max_length=300, blank=True)
    structures = models.ManyToManyField(
        Structure,
        blank=True,
        related_name="consultation_sessions",
        verbose_name="structures représentées",
    )
    notes = models.TextField(
        "compte rendu",
        blank=True,
        help_text="Ne notez ni nom de personne accompagnée, ni donnée de santé.",
    )
    # The public link through which people concerned propose without an account.
    proposal_token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    public_proposals_open = models.BooleanField(
        "recueil de propositions en ligne ouvert",
        default=False,
        help_text="Un lien public permet de proposer sans compte tant que le recueil est ouvert.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "séance de concertation"
        verbose_name_plural = "séances de concertation"
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["programme_territory", "date"], name="consultation_pt_date")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} du {self.date:%d/%m/%Y}"


class ParticipantCount(models.Model):
    """How many people of one stakeholder group took part in a session (never names)."""

    session = models.ForeignKey(
        ConsultationSession, on_delete=models.CASCADE, related_name="participant_counts"
    )
    group = models.CharField("groupe", max_length=14, choices=StakeholderGroup.choices)
    count = models.PositiveSmallIntegerField(
        "participant·es", default=0, validators=[MaxValueValidator(MAX_PARTICIPANTS)]
    )

    class Meta:
        verbose_name = "participation par groupe"
        constraints = [
            models.UniqueConstraint(fields=["session", "group"], name="participant_count_unique")
        ]

    def __str__(self):
        return f"{self.get_group_display()} : {self.count}"


class NamedParticipant(models.Model):
    """A professional who took part, named with consent (erasable)."""

    session = models.ForeignKey(
        ConsultationSession, on_delete=models.CASCADE, related_name="named_participants"
    )
    full_name = models.CharField("nom et prénom", max_length=200)
    job_title = models.CharField("fonction", max_length=200, blank=True)
    structure = models.ForeignKey(
        Structure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name="structure",
    )

    class Meta:
        verbose_name = "professionnel·le présent·e"
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name


class Proposal(models.Model):
    """A proposal made during or after a co-construction session."""

    class Status(models.TextChoices):
        OPEN = "open", "À examiner"
        RETAINED = "retained", "Retenue"
        MERGED = "merged", "Fusionnée avec une autre"
        NOT_RETAINED = "not_retained", "Non retenue"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="proposals",
        verbose_name="territoire",
    )
    session = models.ForeignKey(
        ConsultationSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name="séance",
    )
    text = models.TextField(
        "proposition",
        max_length=2000,
        help_text="Ne notez ni nom de personne, ni donnée de santé.",
    )
    origin_group = models.CharField("proposée par", max_length=14, choices=StakeholderGroup.choices)
    needs = models.ManyToManyField(
        Need, blank=True, related_name="proposals", verbose_name="besoins liés"
    )
    status = models.CharField(
        "suite donnée", max_length=14, choices=Status.choices, default=Status.OPEN
    )
    submitted_publicly = models.BooleanField("reçue par le lien public", default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "proposition"
        ordering = ["-created_at"]

    def __str__(self):
        return self.text[:80]


class ProposalVote(models.Model):
    """Votes (gommettes) a proposal received from one stakeholder group."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="votes")
    group = models.CharField("groupe", max_length=14, choices=StakeholderGroup.choices)
    votes = models.PositiveIntegerField("voix", default=0, validators=[MaxValueValidator(5000)])

    class Meta:
        verbose_name = "voix par groupe"
        constraints = [
            models.UniqueConstraint(fields=["proposal", "group"], name="proposal_vote_unique")
        ]

    def __str__(self):
        return f"{self.get_group_display()} : {self.votes}"


class ParticipationLevel(models.TextChoices):
    """The level of participation of the people concerned (échelle de participation)."""

    INFORMATION = "information", "Information"
    CONSULTATION = "consultation", "Consultation"
    CONCERTATION = "concertation", "Concertation"
    CO_CONSTRUCTION = "co_construction", "Co-construction"


class ActionStatus(models.TextChoices):
    PLANNED = "planned", "À venir"
    IN_PROGRESS = "in_progress", "En cours"
    DONE = "done", "Réalisée"
    PAUSED = "paused", "En pause"
    BLOCKED = "blocked", "Bloquée"
    LATE = "late", "En retard"
    ABANDONED = "abandoned", "Abandonnée"


# Statuses a steering table highlights.
ALERT_STATUSES = {ActionStatus.BLOCKED, ActionStatus.LATE}


class ActionPlan(models.Model):
    """The action plan of one programme territory. Validated versions are kept as snapshots."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.OneToOneField(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="action_plan",
        verbose_name="territoire",
    )
    title = models.CharField("titre", max_length=200)
    summary = models.TextField("présentation", blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "plan d'action"
        verbose_name_plural = "plans d'action"

    def __str__(self):
        return self.title


class PlanValidation(models.Model):
    """A version of the plan validated at a steering committee, with a snapshot of its actions."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="validations")
    number = models.PositiveSmallIntegerField("version validée")
    date = models.DateField("date de validation")
    committee = models.ForeignKey(
        ConsultationSession,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="validations",
        verbose_name="comité de pilotage",
    )
    validated_by = models.CharField(
        "validé par",
        max_length=300,
        help_text="L'instance qui a validé, par exemple « Comité de pilotage : CC, DREETS, "
        "association, représentant·es des personnes concernées ».",
    )
    snapshot = models.JSONField("actions à la validation", default=list, editable=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "validation du plan"
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_validation_unique")
        ]

    def __str__(self):
        return f"Version {self.number} validée le {self.date:%d/%m/%Y}"


class Axis(models.Model):
    """An axis (axe) of a plan, grouping actions."""

    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="axes")
    position = models.PositiveSmallIntegerField("ordre", default=0)
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("description", blank=True)

    class Meta:
        verbose_name = "axe"
        ordering = ["position", "title"]
        constraints = [models.UniqueConstraint(fields=["plan", "title"], name="axis_title_unique")]

    def __str__(self):
        return self.title


class Action(models.Model):
    """An action of a plan. ``code`` is the short key people use in spreadsheets (A1, A2...)."""

    Status = ActionStatus

    class Priority(models.IntegerChoices):
        HIGH = 1, "Haute"
        MEDIUM = 2, "Moyenne"
        LOW = 3, "Basse"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    plan = models.ForeignKey(ActionPlan, on_delete=models.CASCADE, related_name="actions")
    axis = models.ForeignKey(
        Axis,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="actions",
        verbose_name="axe",
    )
    code = models.CharField(
        "code", max_length=20, help_text="Court et unique dans le plan, par exemple A1 ou 2.3."
    )
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("description", blank=True)
    objectives = models.TextField("objectifs", blank=True)
    needs = models.ManyToManyField(
        Need, blank=True, related_name="actions", verbose_name="besoins traités"
    )
    proposals = models.ManyToManyField(
        Proposal, blank=True, related_name="actions", verbose_name="propositions d'origine"
    )
    # A list of Audience values. Filtered with ``audiences__icontains='"people"'``, which works on
    # SQLite and PostgreSQL alike.
    audiences = models.JSONField("publics visés", default=list, blank=True)
    pilots = models.ManyToManyField(
        Structure, blank=True, related_name="piloted_actions", verbose_name="structures pilotes"
    )
    partners = models.ManyToManyField(
        Structure, blank=True, related_name="partner_actions", verbose_name="partenaires"
    )
    elected_referent = models.CharField("élu·e référent·e", max_length=200, blank=True)
    pat_axis = models.CharField("axe du PAT", max_length=200, blank=True)
    participation_level = models.CharField(
        "participation des personnes concernées",
        max_length=16,
        choices=ParticipationLevel.choices,
        default=ParticipationLevel.CONSULTATION,
    )
    start_date = models.DateField("début", null=True, blank=True)
    end_date = models.DateField("fin", null=True, blank=True)
    status = models.CharField(
        "statut", max_length=12, choices=ActionStatus.choices, default=ActionStatus.PLANNED
    )
    priority = models.PositiveSmallIntegerField(
        "priorité", choices=Priority.choices, default=Priority.MEDIUM
    )
    progress = models.PositiveSmallIntegerField(
        "avancement (%)", default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    weight = models.PositiveSmallIntegerField(
        "poids",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="De 1 à 10 : le poids de l'action dans l'avancement de son axe et du plan.",
    )
    position = models.PositiveSmallIntegerField("ordre", default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = "action"
        ordering = ["position", "code"]
        constraints = [models.UniqueConstraint(fields=["plan", "code"], name="action_code_unique")]
        indexes = [models.Index(fields=["plan", "status"], name="action_plan_status")]

    def __str__(self):
        return f"{self.code} — {self.title}"

    @property
    def audience_labels(self) -> list[str]:
        labels = dict(Audience.choices)
        return [labels.get(value, value) for value in self.audiences]

    @property
    def is_alert(self) -> bool:
        return self.status in ALERT_STATUSES


class ActionBudgetLine(models.Model):
    """The budget of an action for one year and one funder."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="budget_lines")
    year = models.PositiveSmallIntegerField(
        "année", validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    funder = models.CharField("financeur", max_length=200)
    planned = models.DecimalField(
        "prévu (€)", max_digits=12, decimal_places=2, validators=[MinValueValidator(0)]
    )
    spent = models.DecimalField(
        "dépensé (€)", max_digits=12, decimal_places=2, default=0, validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = "ligne de budget"
        ordering = ["year", "funder"]
        constraints = [
            models.UniqueConstraint(fields=["action", "year", "funder"], name="budget_line_unique")
        ]

    def __str__(self):
        return f"{self.year} — {self.funder}"


class ActionIndicator(models.Model):
    """An indicator of an action, with its target; measured values are ``IndicatorMeasure``."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="indicators")
    label = models.CharField("indicateur", max_length=200)
    unit = models.CharField("unité", max_length=50, blank=True)
    baseline = models.DecimalField(
        "valeur de départ", max_digits=14, decimal_places=2, null=True, blank=True
    )
    target = models.DecimalField("cible", max_digits=14, decimal_places=2, null=True, blank=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "indicateur d'action"
        ordering = ["position", "label"]

    def __str__(self):
        return self.label


class IndicatorMeasure(models.Model):
    indicator = models.ForeignKey(
        ActionIndicator, on_delete=models.CASCADE, related_name="measures"
    )
    date = models.DateField("date de la mesure")
    value = models.DecimalField("valeur mesurée", max_digits=14, decimal_places=2)
    note = models.CharField("commentaire", max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "mesure"
        ordering = ["-date"]

    def __str__(self):
        return f"{self.value} au {self.date:%d/%m/%Y}"


class ProgressUpdate(models.Model):
    """A follow-up note on an action (suivi annuel), with the status and progress at that date."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="updates")
    date = models.DateField("date")
    status = models.CharField("statut", max_length=12, choices=ActionStatus.choices)
    progress = models.PositiveSmallIntegerField(
        "avancement (%)", validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    note = models.TextField(
        "note de suivi", help_text="Ne notez ni nom de personne accompagnée, ni donnée de santé."
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "note de suivi"
        ordering = ["-date", "-created_at"]

    def __str__(self):
        return f"Suivi du {self.date:%d/%m/%Y}"


def action_document_path(instance, filename):
    # A random stored name: the original name stays in the database only.
    return f"actions/{instance.action_id}/{uuid.uuid4().hex}"


class ActionDocument(models.Model):
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="documents")
    file = models.FileField("fichier", upload_to=action_document_path)
    original_name = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField("type", max_length=100)
    size = models.PositiveIntegerField("taille (octets)")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "document"
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name


class ActionComment(models.Model):
    """A comment on an action, from the local authority or the association."""

    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(
        "commentaire",
        max_length=2000,
        help_text="Ne notez ni nom de personne accompagnée, ni donnée de santé.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "commentaire"
        ordering = ["created_at"]

    def __str__(self):
        return self.text[:80]
