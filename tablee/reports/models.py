"""Reports handed to the funder and the end-of-programme evaluation (see reports/services.py).

A report holds what people write (a title, a period, a narrative per section); every figure is
computed from the records when the report is shown or generated (reports/selectors.py). Generated
files are kept with the fingerprint of what they were made from, so that the same report asked for
twice is generated once (reports/generation.py).
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from tablee.territories.models import Programme


class Report(models.Model):
    class Kind(models.TextChoices):
        FUNDER_REPORT = "funder_report", "Rapport au financeur"
        FINAL_EVALUATION = "final_evaluation", "Évaluation de fin de programme"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField("type de rapport", max_length=20, choices=Kind.choices)
    title = models.CharField("titre", max_length=200)
    period_start = models.DateField("début de la période")
    period_end = models.DateField("fin de la période")
    # Section key -> narrative, as HTML sanitised by reports.narratives.sanitise_narrative.
    narratives = models.JSONField("textes des sections", default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "rapport"
        ordering = ["-period_end", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="report_period_in_order"
            )
        ]

    def __str__(self):
        return self.title

    def clean(self):
        if self.period_start and self.period_end and self.period_end < self.period_start:
            raise ValidationError(
                {"period_end": "La fin de la période doit être postérieure à son début."}
            )

    @property
    def is_final_evaluation(self) -> bool:
        return self.kind == self.Kind.FINAL_EVALUATION


def report_file_path(instance, filename):
    return f"rapports/{instance.report_id}/{uuid.uuid4().hex}.{instance.format}"


class ReportFile(models.Model):
    """A generated document of a report, reused while its fingerprint still matches."""

    class Format(models.TextChoices):
        PDF = "pdf", "PDF"
        XLSX = "xlsx", "Tableur XLSX"
        DOCX = "docx", "Document modifiable DOCX"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="files")
    format = models.CharField("format", max_length=4, choices=Format.choices)
    # SHA-256 of the report's version, the layout revision and the published figures.
    fingerprint = models.CharField("empreinte", max_length=64)
    file = models.FileField("fichier", upload_to=report_file_path)
    size = models.PositiveIntegerField("taille (octets)")
    generated_at = models.DateTimeField("généré le", auto_now_add=True)

    class Meta:
        verbose_name = "document généré"
        verbose_name_plural = "documents générés"
        ordering = ["-generated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "format", "fingerprint"], name="report_file_unique"
            )
        ]

    def __str__(self):
        return f"{self.report} ({self.get_format_display()})"
