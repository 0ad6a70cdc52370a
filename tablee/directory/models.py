"""Who is on the ground: structures, their services and their professional contacts.

Fields follow the data·inclusion schema v1 (structure and service), so that a directory can be
imported from and exported to DORA, data·inclusion or Soliguide without loss. The names of the
data·inclusion fields are given in comments where ours differ.
"""

import uuid

from django.db import models
from django.utils import timezone

from tablee.core.text import fold
from tablee.directory.hours import open_weekdays
from tablee.territories.models import Commune


class Category(models.Model):
    """An entry of a shared list: a data·inclusion référentiel, a FINESS category, a food-aid kind.

    Lists are data, loaded from the shipped référentiels (``load_directory_referentials``), not code.
    """

    class Kind(models.TextChoices):
        THEMATIQUE = "thematique", "Thématique (data·inclusion)"
        PUBLIC = "public", "Public (data·inclusion)"
        RESEAU = "reseau", "Réseau porteur (data·inclusion)"
        FINESS = "finess", "Catégorie FINESS"
        FOOD_AID = "food_aid", "Forme d'aide alimentaire"

    kind = models.CharField("liste", max_length=12, choices=Kind.choices)
    value = models.CharField("code", max_length=150)
    label = models.CharField("libellé", max_length=250)
    description = models.TextField("description", blank=True)

    class Meta:
        verbose_name = "entrée de référentiel"
        verbose_name_plural = "référentiels de l'annuaire"
        ordering = ["kind", "label"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="one_category_value_per_kind")
        ]

    def __str__(self):
        return self.label


class Sector(models.TextChoices):
    SOCIAL = "social", "Social"
    MEDICO_SOCIAL = "medico_social", "Médico-social"
    HEALTH = "health", "Santé"
    FOOD_AID = "food_aid", "Aide alimentaire"
    LOCAL_AUTHORITY = "local_authority", "Collectivité"
    EDUCATION = "education", "Éducation"
    AGRICULTURE = "agriculture", "Agriculture et alimentation"
    OTHER = "other", "Autre"


class StructureQuerySet(models.QuerySet):
    def search(self, text: str):
        """Accent- and case-insensitive search on the folded name, every word must match."""
        queryset = self
        for word in fold(text or "").split():
            queryset = queryset.filter(search_name__contains=word)
        return queryset

    def publishable(self):
        return self.filter(is_publishable=True)

    def in_territory(self, territory):
        return self.filter(commune__territory=territory)

    def for_user(self, user):
        """Structures the user may open inside the application."""
        from tablee.accounts.permissions import structures_for

        return structures_for(user, self)


class Structure(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # data·inclusion identity: (source, id). Structures created in Tablée have source "tablee".
    source = models.CharField("source", max_length=100, default="tablee")
    source_id = models.CharField("identifiant dans la source", max_length=200, blank=True)
    name = models.CharField("nom", max_length=200)  # nom
    siret = models.CharField("SIRET", max_length=14, blank=True)
    address = models.CharField("adresse", max_length=300, blank=True)
    address_complement = models.CharField("complément d'adresse", max_length=300, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, related_name="structures", verbose_name="commune"
    )  # code_insee
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    location_is_approximate = models.BooleanField(
        "position approximative",
        default=False,
        help_text="La structure est placée au centre de sa commune faute d'adresse géolocalisée.",
    )
    phone = models.CharField("téléphone", max_length=30, blank=True)  # telephone
    email = models.EmailField("e-mail", blank=True)  # courriel
    website = models.URLField("site web", blank=True)  # site_web
    description = models.TextField("description", blank=True)
    opening_hours = models.CharField(
        "horaires d'accueil",
        max_length=500,
        blank=True,
        help_text="Syntaxe OpenStreetMap, par exemple « Mo-Fr 09:00-12:00,14:00-17:00 ».",
    )  # horaires_accueil
    accessibility_url = models.URLField("lien accessibilité", blank=True)  # accessibilite_lieu
    source_url = models.URLField("lien vers la source", blank=True)  # lien_source
    networks = models.ManyToManyField(
        Category,
        blank=True,
        related_name="structures_in_network",
        verbose_name="réseaux porteurs",
        limit_choices_to={"kind": Category.Kind.RESEAU},
    )  # reseaux_porteurs
    finess_category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="finess_structures",
        verbose_name="catégorie FINESS",
        limit_choices_to={"kind": Category.Kind.FINESS},
    )
    sector = models.CharField(
        "secteur", max_length=20, choices=Sector.choices, default=Sector.OTHER
    )
    is_publishable = models.BooleanField(
        "visible dans l'annuaire public",
        default=False,
        help_text="Les contacts des professionnel·les restent privés dans tous les cas.",
    )
    data_updated_on = models.DateField(
        "date de mise à jour des informations", default=timezone.localdate
    )  # date_maj
    # Indexed with is_publishable and commune (Meta.indexes): searches read the index only.
    search_name = models.CharField(max_length=200, editable=False)
    # Weekdays open according to opening_hours ("0" Monday … "6" Sunday), for the "open on" filter.
    open_days = models.CharField(max_length=7, blank=True, editable=False)
    is_demo = models.BooleanField("démonstration", default=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = StructureQuerySet.as_manager()

    class Meta:
        verbose_name = "structure"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~models.Q(source_id=""),
                name="one_structure_per_source_id",
            )
        ]
        indexes = [
            models.Index(fields=["siret"], name="structure_siret"),
            models.Index(fields=["sector"], name="structure_sector"),
            # The bounding-box prefilter of the food-aid coverage of a territory.
            models.Index(fields=["latitude", "longitude"], name="structure_position"),
            # The search and the order by name of every list: a text searched anywhere in the
            # name (LIKE '%...%') and the public flag are tested on the index alone, without
            # reading each structure (public directory, national: 87 -> 13 ms).
            models.Index(
                fields=["search_name", "is_publishable", "commune"], name="structure_search"
            ),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.refresh_derived_fields()
        super().save(*args, **kwargs)

    def refresh_derived_fields(self) -> None:
        """Recompute the fields derived from others; bulk writes call it since they skip save()."""
        self.search_name = fold(self.name)
        self.open_days = "".join(str(day) for day in sorted(open_weekdays(self.opening_hours)))


class Service(models.Model):
    """A service of a structure (data·inclusion ``service``), with the food-aid facets."""

    class ServiceType(models.TextChoices):  # data·inclusion types_de_services
        ACCOMPANIMENT = "accompagnement", "Accompagnement"
        FINANCIAL_AID = "aide-financiere", "Aide financière"
        MATERIAL_AID = "aide-materielle", "Aide matérielle"
        WORKSHOP = "atelier", "Atelier"
        TRAINING = "formation", "Formation"
        INFORMATION = "information", "Information"

    class Fees(models.TextChoices):  # data·inclusion frais
        FREE = "gratuit", "Gratuit"
        PAID = "payant", "Payant"

    class FoodChoice(models.TextChoices):
        FREE = "libre", "Libre choix"
        ACCOMPANIED = "accompagne", "Choix accompagné"
        NONE = "aucun", "Sans choix (colis composé)"

    class FoodConditions(models.TextChoices):
        UNCONDITIONAL = "inconditionnel", "Inconditionnel"
        REFERRAL = "orientation", "Sur orientation d'un·e travailleur·se social·e"
        APPOINTMENT = "rendez-vous", "Sur rendez-vous"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="services")
    source = models.CharField("source", max_length=100, default="tablee")
    source_id = models.CharField("identifiant dans la source", max_length=200, blank=True)
    name = models.CharField("nom", max_length=200)
    description = models.TextField("description")
    service_type = models.CharField(
        "type", max_length=20, choices=ServiceType.choices, blank=True
    )  # type
    thematiques = models.ManyToManyField(
        Category,
        blank=True,
        related_name="services_by_thematique",
        verbose_name="thématiques",
        limit_choices_to={"kind": Category.Kind.THEMATIQUE},
    )
    publics = models.ManyToManyField(
        Category,
        blank=True,
        related_name="services_by_public",
        verbose_name="publics",
        limit_choices_to={"kind": Category.Kind.PUBLIC},
    )
    publics_details = models.TextField("précisions sur les publics", blank=True)
    fees = models.CharField("frais", max_length=10, choices=Fees.choices, blank=True)
    fees_details = models.TextField("précisions sur les frais", blank=True)
    # Short lists of fixed data·inclusion values, stored as JSON lists of codes.
    reception_modes = models.JSONField("modes d'accueil", default=list, blank=True)
    mobilisation_modes = models.JSONField("modes de mobilisation", default=list, blank=True)
    mobilisable_by = models.JSONField("mobilisable par", default=list, blank=True)
    mobilisation_details = models.TextField("précisions sur la mobilisation", blank=True)
    mobilisation_url = models.URLField("lien de mobilisation", blank=True)
    eligibility_zone = models.JSONField(
        "zone d'éligibilité",
        default=list,
        blank=True,
        help_text="Codes INSEE de communes, SIREN d'EPCI, codes de départements ou « france ».",
    )
    access_conditions = models.TextField("conditions d'accès", blank=True)
    contact_name = models.CharField(
        "contact (nom et prénom)", max_length=200, blank=True
    )  # contact_nom_prenom: private
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    opening_hours = models.CharField("horaires d'accueil", max_length=500, blank=True)
    address = models.CharField("adresse", max_length=300, blank=True)
    address_complement = models.CharField("complément d'adresse", max_length=300, blank=True)
    postal_code = models.CharField("code postal", max_length=5, blank=True)
    commune = models.ForeignKey(
        Commune,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="services",
        verbose_name="commune",
    )
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    source_url = models.URLField("lien vers la source", blank=True)
    # Food-aid facets (as Soliguide users know them).
    food_aid_kinds = models.ManyToManyField(
        Category,
        blank=True,
        related_name="services_by_food_aid",
        verbose_name="formes d'aide alimentaire",
        limit_choices_to={"kind": Category.Kind.FOOD_AID},
    )
    food_choice = models.CharField(
        "degré de choix", max_length=12, choices=FoodChoice.choices, blank=True
    )
    food_conditions = models.CharField(
        "conditions d'accès à l'aide alimentaire",
        max_length=14,
        choices=FoodConditions.choices,
        blank=True,
    )
    is_itinerant = models.BooleanField("itinérant", default=False)
    data_updated_on = models.DateField(
        "date de mise à jour des informations", default=timezone.localdate
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "service"
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_id"],
                condition=~models.Q(source_id=""),
                name="one_service_per_source_id",
            )
        ]

    def __str__(self):
        return self.name


class ServiceStop(models.Model):
    """One stop of an itinerant service (food truck, épicerie mobile), with its own hours."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="stops")
    commune = models.ForeignKey(Commune, on_delete=models.PROTECT, related_name="service_stops")
    address = models.CharField("adresse", max_length=300, blank=True)
    opening_hours = models.CharField("horaires", max_length=500, blank=True)
    position = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "arrêt"
        ordering = ["position", "id"]

    def __str__(self):
        return f"{self.commune.name} — {self.opening_hours}"


class Contact(models.Model):
    """A professional of a structure, recorded with their consent. Never shown publicly."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    structure = models.ForeignKey(Structure, on_delete=models.CASCADE, related_name="contacts")
    full_name = models.CharField("nom et prénom", max_length=200)
    job_title = models.CharField("fonction", max_length=200, blank=True)
    email = models.EmailField("e-mail", blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    consent_given_on = models.DateField(
        "date du consentement",
        default=timezone.localdate,
        help_text="Date à laquelle la personne a accepté de figurer dans l'annuaire privé.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "contact"
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name
