"""Who is on the ground. The full data·inclusion structure and its services come with the directory
issue; this first model is what roles need: a partner's membership is scoped to a structure."""

import uuid

from django.db import models

from tablee.core.text import fold
from tablee.territories.models import Commune


class Structure(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField("nom", max_length=200)
    commune = models.ForeignKey(
        Commune, on_delete=models.PROTECT, related_name="structures", verbose_name="commune"
    )
    search_name = models.CharField(max_length=200, editable=False, db_index=True)
    is_demo = models.BooleanField("démonstration", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "structure"
        ordering = ["name"]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.search_name = fold(self.name)
        super().save(*args, **kwargs)
