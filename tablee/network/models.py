"""Who now works with whom: typed, dated links between structures.

A link joins two structures of a programme territory. Links derived from shared records (meetings,
co-construction sessions, workshops) are computed by ``network.services`` from those records; links
entered by hand (referrals, partnerships) carry a note and may be ended.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from tablee.directory.models import Structure
from tablee.territories.models import ProgrammeTerritory


class LinkKind(models.TextChoices):
    MET = "met", "Rencontre commune"
    CO_ORGANISED = "co_organised", "Co-organisation d'une séance"
    REFERRAL = "referral", "Orientation de personnes"
    PARTNERSHIP = "partnership", "Partenariat ou convention"
    INFORMATION = "information", "Échange d'informations"


class LinkSource(models.TextChoices):
    DERIVED = "derived", "Déduit des rencontres, concertations et séances"
    MANUAL = "manual", "Saisi à la main"


class Link(models.Model):
    """A link between two structures. ``structure_a`` has the smaller id, so that a pair is stored
    once per kind and source."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme_territory = models.ForeignKey(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        related_name="links",
        verbose_name="territoire",
    )
    structure_a = models.ForeignKey(
        Structure, on_delete=models.CASCADE, related_name="links_as_a", verbose_name="structure"
    )
    structure_b = models.ForeignKey(
        Structure,
        on_delete=models.CASCADE,
        related_name="links_as_b",
        verbose_name="structure liée",
    )
    kind = models.CharField("nature", max_length=14, choices=LinkKind.choices)
    source = models.CharField("origine", max_length=8, choices=LinkSource.choices)
    started_on = models.DateField("depuis le")
    last_seen_on = models.DateField("dernier événement partagé", null=True, blank=True)
    ended_on = models.DateField("fin du lien", null=True, blank=True)
    strength = models.PositiveIntegerField("force (événements partagés)", default=1)
    note = models.TextField(
        "note", blank=True, help_text="Ne notez ni nom de personne accompagnée, ni donnée de santé."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "lien"
        ordering = ["-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme_territory", "structure_a", "structure_b", "kind", "source"],
                name="link_unique_per_kind_and_source",
            ),
            models.CheckConstraint(
                condition=~Q(structure_a=F("structure_b")), name="link_joins_two_structures"
            ),
        ]
        indexes = [
            models.Index(fields=["programme_territory", "started_on"], name="link_pt_started")
        ]

    def __str__(self):
        return f"{self.structure_a} — {self.structure_b} ({self.get_kind_display()})"


class NetworkRefresh(models.Model):
    """What the derived links of a programme territory were last computed from.

    ``fingerprint`` sums up the records links are derived from (counts and latest changes of
    meetings, co-construction sessions, workshops, attendances): the network page recomputes the
    links only when it differs, so that opening the page stays cheap.
    """

    programme_territory = models.OneToOneField(
        ProgrammeTerritory,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="network_refresh",
        verbose_name="territoire",
    )
    fingerprint = models.CharField("empreinte des sources", max_length=64, blank=True)
    refreshed_at = models.DateTimeField("dernier calcul", auto_now=True)

    class Meta:
        verbose_name = "calcul des liens déduits"
        verbose_name_plural = "calculs des liens déduits"

    def __str__(self):
        return f"Liens déduits de {self.programme_territory_id}"
