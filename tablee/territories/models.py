"""The national referential (régions, départements, communes, EPCI) and the programmes run on it."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from tablee.core.text import fold


class Audience(models.TextChoices):
    """The four audiences of a "Mieux Manger pour Tous" programme."""

    PROFESSIONALS = "professionals", "Professionnel·les du social et du médico-social"
    VOLUNTEERS = "volunteers", "Bénévoles de l'aide alimentaire"
    ELECTED = "elected", "Élu·es"
    PEOPLE = "people", "Personnes en situation de précarité alimentaire"


class SessionKind(models.TextChoices):
    WORKSHOP = "workshop", "Atelier"
    TRAINING = "training", "Formation"


class NamedQuerySet(models.QuerySet):
    def search(self, text: str):
        """Accent- and case-insensitive search on the name, every word must match."""
        words = fold(text or "").split()
        queryset = self
        for word in words:
            queryset = queryset.filter(search_name__contains=word)
        return queryset


class Region(models.Model):
    code = models.CharField("code INSEE", max_length=3, primary_key=True)
    name = models.CharField("nom", max_length=100)
    search_name = models.CharField(max_length=100, editable=False, db_index=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        verbose_name = "région"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


class Departement(models.Model):
    code = models.CharField("code INSEE", max_length=3, primary_key=True)
    name = models.CharField("nom", max_length=100)
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="departements")
    search_name = models.CharField(max_length=100, editable=False, db_index=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        verbose_name = "département"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


class Territory(models.Model):
    """An EPCI à fiscalité propre, identified by its SIREN."""

    class Kind(models.TextChoices):
        CC = "CC", "Communauté de communes"
        CA = "CA", "Communauté d'agglomération"
        CU = "CU", "Communauté urbaine"
        METRO = "METRO", "Métropole"
        MET69 = "MET69", "Métropole de Lyon"
        EPT = "EPT", "Établissement public territorial"

    siren = models.CharField("SIREN", max_length=9, primary_key=True)
    name = models.CharField("nom", max_length=150)
    kind = models.CharField("nature", max_length=5, choices=Kind.choices)
    population = models.PositiveIntegerField("population totale", default=0)
    # The département holding most of its population, to group EPCI that straddle a border.
    departement = models.ForeignKey(
        Departement,
        on_delete=models.PROTECT,
        related_name="territories",
        verbose_name="département",
    )
    search_name = models.CharField(max_length=150, editable=False, db_index=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        verbose_name = "EPCI"
        verbose_name_plural = "EPCI"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


class Commune(models.Model):
    code = models.CharField("code INSEE", max_length=5, primary_key=True)
    name = models.CharField("nom", max_length=100)
    population = models.PositiveIntegerField("population municipale", default=0)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    departement = models.ForeignKey(Departement, on_delete=models.PROTECT, related_name="communes")
    territory = models.ForeignKey(
        Territory,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="communes",
        verbose_name="EPCI",
    )
    search_name = models.CharField(max_length=100, editable=False, db_index=True)

    objects = NamedQuerySet.as_manager()

    class Meta:
        verbose_name = "commune"
        ordering = ["name", "code"]

    def __str__(self):
        return f"{self.name} ({self.code})"

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)


class ProgrammeQuerySet(models.QuerySet):
    def for_user(self, user):
        """Programmes the user may open: all for an admin, those of a membership otherwise."""
        from tablee.accounts.permissions import programmes_for

        return programmes_for(user, self)


class Programme(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("nom", max_length=200)
    funder = models.CharField("financeur", max_length=200)
    start_date = models.DateField("début")
    end_date = models.DateField("fin")
    description = models.TextField("description", blank=True)
    target_sessions = models.PositiveIntegerField(
        "objectif d'ateliers et formations (total)", default=0
    )
    is_demo = models.BooleanField(
        "démonstration",
        default=False,
        help_text="Programme fictif chargé pour la démonstration.",
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgrammeQuerySet.as_manager()

    class Meta:
        verbose_name = "programme"
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=models.F("start_date")),
                name="programme_end_after_start",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "La fin doit être postérieure au début."})

    @property
    def years(self) -> list[int]:
        return list(range(self.start_date.year, self.end_date.year + 1))


class ProgrammeTerritoryQuerySet(models.QuerySet):
    def for_user(self, user):
        from tablee.accounts.permissions import programme_territories_for

        return programme_territories_for(user, self)


class ProgrammeTerritory(models.Model):
    """An EPCI taking part in a programme, with its Projet Alimentaire Territorial (PAT)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="territories")
    territory = models.ForeignKey(
        Territory,
        on_delete=models.PROTECT,
        related_name="programme_territories",
        verbose_name="EPCI",
    )
    pat_name = models.CharField("nom du PAT", max_length=200, blank=True)
    pat_contact_name = models.CharField("contact du PAT (nom)", max_length=200, blank=True)
    pat_contact_email = models.EmailField("contact du PAT (e-mail)", blank=True)
    target_sessions = models.PositiveIntegerField("objectif d'ateliers et formations", default=0)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProgrammeTerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = "territoire du programme"
        verbose_name_plural = "territoires du programme"
        ordering = ["territory__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "territory"], name="one_programme_territory_per_epci"
            )
        ]

    def __str__(self):
        return f"{self.territory.name} — {self.programme.name}"


class SessionTarget(models.Model):
    """A programme's target number of sessions for one audience, or for one year."""

    class Dimension(models.TextChoices):
        AUDIENCE = "audience", "Public"
        YEAR = "year", "Année"

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="targets")
    dimension = models.CharField(max_length=10, choices=Dimension.choices)
    key = models.CharField(max_length=20)
    value = models.PositiveIntegerField("objectif", default=0)

    class Meta:
        verbose_name = "objectif"
        ordering = ["dimension", "key"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "dimension", "key"], name="one_target_per_key"
            )
        ]

    def __str__(self):
        return f"{self.get_dimension_display()} {self.key} : {self.value}"

    @property
    def label(self) -> str:
        if self.dimension == self.Dimension.AUDIENCE:
            return Audience(self.key).label
        return self.key


class GeoLevel(models.TextChoices):
    COMMUNE = "commune", "Communes"
    EPCI = "epci", "EPCI"
    DEPARTEMENT = "departement", "Départements"
    REGION = "region", "Régions"


class IndicatorValue(models.Model):
    """One value of a territorial indicator for one geographic unit and one year."""

    code = models.SlugField("code", max_length=80)
    label = models.CharField("indicateur", max_length=200)
    level = models.CharField("niveau", max_length=12, choices=GeoLevel.choices)
    geo_code = models.CharField("code géographique", max_length=9)
    year = models.PositiveSmallIntegerField("année")
    value = models.DecimalField("valeur", max_digits=16, decimal_places=4)
    source = models.CharField("source", max_length=200)
    imported_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "valeur d'indicateur"
        verbose_name_plural = "valeurs d'indicateurs"
        ordering = ["label", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "level", "geo_code", "year"], name="one_indicator_value"
            )
        ]
        indexes = [models.Index(fields=["level", "geo_code"], name="indicator_geo")]

    def __str__(self):
        return f"{self.label} {self.level}:{self.geo_code} {self.year} = {self.value}"
