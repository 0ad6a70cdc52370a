"""What was heard and seen on a territory: meetings, needs, pathways, testimonies, questionnaires.

No person in food insecurity is stored by name: meetings count participants by role, testimonies
are anonymous texts given with consent, questionnaire answers are anonymous.
"""

import secrets
import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from tablee.directory.models import Category, Structure
from tablee.territories.models import ProgrammeTerritory

# An upper bound that catches typing mistakes (a meeting of 5,000 social workers).
MAX_PARTICIPANTS = 500


class BarrierCategory(models.Model):
    """A category of the shared taxonomy of barriers (freins). Data an admin can extend."""

    code = models.SlugField("code", max_length=50, unique=True)
    label = models.CharField("libellé", max_length=150)
    position = models.PositiveSmallIntegerField("ordre", default=0)
    is_active = models.BooleanField("proposée dans les formulaires", default=True)

    class Meta:
        verbose_name = "catégorie de frein"
        verbose_name_plural = "catégories de freins"
        ordering = ["position", "label"]

    def __str__(self):
        return self.label


class Meeting(models.Model):
    """A rencontre with one or more structures of a territory."""

    class Format(models.TextChoices):
        INTERVIEW = "interview", "Entretien"
        SITE_VISIT = "site_visit", "Visite sur site"
        GROUP = "group", "Réunion de groupe"
        PHONE = "phone", "Téléphone ou visioconférence"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="meetings",
        verbose_name="territoire",
    )
    date = models.DateField("date")
    format = models.CharField("format", max_length=12, choices=Format.choices)
    title = models.CharField("objet", max_length=200, blank=True)
    structures = models.ManyToManyField(
        Structure, blank=True, related_name="meetings", verbose_name="structures rencontrées"
    )
    # Participants counted by role: never named.
    social_workers = models.PositiveSmallIntegerField(
        "travailleur·ses sociaux·les", default=0, validators=[MaxValueValidator(MAX_PARTICIPANTS)]
    )
    health_professionals = models.PositiveSmallIntegerField(
        "professionnel·les de santé", default=0, validators=[MaxValueValidator(MAX_PARTICIPANTS)]
    )
    volunteers = models.PositiveSmallIntegerField(
        "bénévoles", default=0, validators=[MaxValueValidator(MAX_PARTICIPANTS)]
    )
    elected_officials = models.PositiveSmallIntegerField(
        "élu·es", default=0, validators=[MaxValueValidator(MAX_PARTICIPANTS)]
    )
    people_concerned = models.PositiveSmallIntegerField(
        "personnes concernées", default=0, validators=[MaxValueValidator(MAX_PARTICIPANTS)]
    )
    others = models.PositiveSmallIntegerField(
        "autres", default=0, validators=[MaxValueValidator(MAX_PARTICIPANTS)]
    )
    notes = models.TextField(
        "notes",
        blank=True,
        help_text="Ne notez ni nom de personne accompagnée, ni donnée de santé.",
    )
    notes_shareable = models.BooleanField(
        "notes partageables",
        default=False,
        help_text="Les partenaires et la collectivité ne voient que les notes marquées partageables.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "rencontre"
        ordering = ["-date", "-created_at"]
        indexes = [
            models.Index(fields=["programme_territory", "date"], name="meeting_territory_date")
        ]

    def __str__(self):
        return f"{self.get_format_display()} du {self.date:%d/%m/%Y}"

    @property
    def participant_total(self) -> int:
        return (
            self.social_workers
            + self.health_professionals
            + self.volunteers
            + self.elected_officials
            + self.people_concerned
            + self.others
        )


def attachment_path(instance, filename):
    # The stored name is random: the original name (which may name someone) stays in the database.
    return f"rencontres/{instance.meeting_id}/{uuid.uuid4().hex}"


class MeetingAttachment(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField("fichier", upload_to=attachment_path)
    original_name = models.CharField("nom du fichier", max_length=255)
    content_type = models.CharField("type", max_length=100)
    size = models.PositiveIntegerField("taille (octets)")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "pièce jointe"
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.original_name


class Need(models.Model):
    """A need (besoin) or barrier identified on a territory."""

    class Source(models.TextChoices):
        MEETING = "meeting", "Rencontre"
        TESTIMONY = "testimony", "Parole de personne concernée"
        QUESTIONNAIRE = "questionnaire", "Questionnaire"
        OTHER = "other", "Autre"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="needs",
        verbose_name="territoire",
    )
    category = models.ForeignKey(
        BarrierCategory, on_delete=models.PROTECT, related_name="needs", verbose_name="catégorie"
    )
    title = models.CharField("intitulé", max_length=200)
    description = models.TextField("description", blank=True)
    publics = models.ManyToManyField(
        Category,
        blank=True,
        related_name="needs",
        verbose_name="publics concernés",
        limit_choices_to={"kind": Category.Kind.PUBLIC},
    )
    severity = models.PositiveSmallIntegerField(
        "gravité",
        choices=[(1, "1 — modérée"), (2, "2 — importante"), (3, "3 — critique")],
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(3)],
    )
    structures = models.ManyToManyField(
        Structure,
        blank=True,
        related_name="needs_raised",
        verbose_name="structures qui l'ont exprimé",
    )
    source = models.CharField("source", max_length=14, choices=Source.choices)
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="needs",
        verbose_name="rencontre",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "besoin"
        ordering = ["-severity", "title"]

    def __str__(self):
        return self.title


class Pathway(models.Model):
    """A typical pathway (parcours type) of a persona through structures, with its breaks."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="pathways",
        verbose_name="territoire",
    )
    title = models.CharField("titre", max_length=200)
    persona = models.TextField(
        "persona",
        help_text="Une situation type, jamais une personne réelle : « mère seule avec deux enfants, "
        "sans voiture, commune rurale ».",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "parcours type"
        verbose_name_plural = "parcours types"
        ordering = ["title"]

    def __str__(self):
        return self.title


class PathwayStep(models.Model):
    """One step of a pathway; ``break_after`` describes a rupture before the next step."""

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveSmallIntegerField("ordre")
    structure = models.ForeignKey(
        Structure,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="pathway_steps",
        verbose_name="structure",
    )
    structure_type = models.CharField(
        "type de structure",
        max_length=100,
        blank=True,
        help_text="Si aucune structure précise : « CCAS », « médecin traitant »…",
    )
    description = models.TextField("ce qui se passe")
    delay_days = models.PositiveSmallIntegerField("délai (jours)", null=True, blank=True)
    distance_km = models.DecimalField(
        "distance (km)", max_digits=6, decimal_places=1, null=True, blank=True
    )
    break_after = models.TextField(
        "rupture après cette étape",
        blank=True,
        help_text="Ce qui fait que la personne n'arrive pas à l'étape suivante.",
    )
    break_needs = models.ManyToManyField(
        Need, blank=True, related_name="pathway_breaks", verbose_name="besoins liés à la rupture"
    )

    class Meta:
        verbose_name = "étape de parcours"
        ordering = ["pathway", "position"]
        constraints = [
            models.UniqueConstraint(fields=["pathway", "position"], name="one_step_per_position")
        ]

    def __str__(self):
        return f"{self.position}. {self.description[:50]}"


class Testimony(models.Model):
    """An anonymous testimony (parole) of a person concerned, given with explicit consent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="testimonies",
        verbose_name="territoire",
    )
    date = models.DateField("date", default=timezone.localdate)
    context = models.CharField(
        "contexte", max_length=200, help_text="Par exemple : « distribution alimentaire, hiver »."
    )
    text = models.TextField("parole")
    consent_given = models.BooleanField("consentement recueilli", default=False)
    shareable = models.BooleanField(
        "partageable",
        default=False,
        help_text="Les partenaires, la collectivité et le financeur ne voient que les paroles "
        "partageables.",
    )
    needs = models.ManyToManyField(
        Need, blank=True, related_name="testimonies", verbose_name="besoins"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "parole"
        ordering = ["-date", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(consent_given=True), name="testimony_has_consent"
            )
        ]

    def __str__(self):
        return f"Parole du {self.date:%d/%m/%Y}"


def new_survey_token() -> str:
    return secrets.token_urlsafe(12)


class Survey(models.Model):
    """A FIES questionnaire collection on a territory, reachable by a public link and QR code."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="surveys",
        verbose_name="territoire",
    )
    title = models.CharField("titre", max_length=200)
    token = models.CharField(max_length=32, unique=True, default=new_survey_token, editable=False)
    is_open = models.BooleanField("ouvert aux réponses", default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "questionnaire"
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class Answer(models.TextChoices):
    YES = "yes", "Oui"
    NO = "no", "Non"
    REFUSED = "refused", "Ne sait pas ou refuse de répondre"


FIES_QUESTIONS = 8


class SurveyResponse(models.Model):
    """One anonymous set of answers to the eight FIES questions."""

    class Channel(models.TextChoices):
        ONLINE = "online", "En ligne (lien ou QR code)"
        PAPER = "paper", "Saisi depuis un questionnaire papier"

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="responses")
    q1 = models.CharField(max_length=7, choices=Answer.choices)
    q2 = models.CharField(max_length=7, choices=Answer.choices)
    q3 = models.CharField(max_length=7, choices=Answer.choices)
    q4 = models.CharField(max_length=7, choices=Answer.choices)
    q5 = models.CharField(max_length=7, choices=Answer.choices)
    q6 = models.CharField(max_length=7, choices=Answer.choices)
    q7 = models.CharField(max_length=7, choices=Answer.choices)
    q8 = models.CharField(max_length=7, choices=Answer.choices)
    raw_score = models.PositiveSmallIntegerField("score brut", editable=False)
    channel = models.CharField("saisie", max_length=6, choices=Channel.choices)
    # A one-time token carried by the form: the same submission replayed is recognised.
    submission_token = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "réponse au questionnaire"
        verbose_name_plural = "réponses au questionnaire"
        ordering = ["-created_at"]

    def __str__(self):
        return f"Réponse {self.pk} (score {self.raw_score})"

    def save(self, *args, **kwargs):
        self.raw_score = sum(1 for answer in self.answers if answer == Answer.YES)
        super().save(*args, **kwargs)

    @property
    def answers(self) -> list[str]:
        return [getattr(self, f"q{i}") for i in range(1, FIES_QUESTIONS + 1)]
