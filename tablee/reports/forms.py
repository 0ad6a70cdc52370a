"""Forms of the dashboards (the period) and of the reports (identity, narratives)."""

import datetime

from django import forms
from django.core.exceptions import ValidationError

from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.reports.models import Report
from tablee.reports.narratives import MAX_NARRATIVE_CHARS
from tablee.reports.selectors import Period, programme_period

PERIOD_ORDER_ERROR = "La fin de la période doit être postérieure à son début."


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%d")


class PeriodForm(StyledFormMixin, forms.Form):
    """The period of a dashboard: a year of the programme, the whole programme, or two dates."""

    annee = forms.TypedChoiceField(
        label="Période", required=False, coerce=int, empty_value=None, choices=()
    )
    debut = forms.DateField(label="Ou bien du", required=False, widget=DateInput)
    fin = forms.DateField(label="au", required=False, widget=DateInput)

    def __init__(self, *args, programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        years = programme.years
        self.fields["annee"].choices = [
            ("", f"Tout le programme ({years[0]}–{years[-1]})"),
            *[(year, str(year)) for year in years],
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("debut"), data.get("fin")
        if (start is None) != (end is None) and not self.errors:
            missing = "fin" if end is None else "debut"
            self.add_error(missing, "Indiquez le début et la fin de la période.")
        elif start and end and end < start:
            self.add_error("fin", PERIOD_ORDER_ERROR)
        return data

    def period(self) -> Period:
        """The period asked for; the whole programme when the form is empty."""
        if not self.is_bound or not self.is_valid():
            return programme_period(self.programme)
        data = self.cleaned_data
        if data.get("debut") and data.get("fin"):
            start, end = data["debut"], data["fin"]
            whole_year = (start.month, start.day) == (1, 1) and end == datetime.date(
                start.year, 12, 31
            )
            return Period(start, end, year=start.year if whole_year else None)
        return programme_period(self.programme, data.get("annee"))

    def querystring(self) -> str:
        if not self.is_bound or not self.is_valid():
            return ""
        period = self.period()
        if period.year:
            return f"annee={period.year}"
        if period.whole_programme:
            return ""
        return f"debut={period.start:%Y-%m-%d}&fin={period.end:%Y-%m-%d}"


class ReportForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Report
        fields = ["kind", "title", "period_start", "period_end"]
        widgets = {"period_start": DateInput, "period_end": DateInput}
        help_texts = {
            "period_start": "Une année (du 1er janvier au 31 décembre) ou toute la durée du "
            "programme.",
        }

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise ValidationError({"period_end": PERIOD_ORDER_ERROR})
        return data

    def _post_clean(self):
        # The period is checked in clean(): the model's clean would repeat the message.
        if "period_end" in self.errors:
            return
        super()._post_clean()


class ReportEditForm(StyledFormMixin, VersionedForm):
    class Meta:
        model = Report
        fields = ["title", "period_start", "period_end"]
        widgets = {"period_start": DateInput, "period_end": DateInput}

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            raise ValidationError({"period_end": PERIOD_ORDER_ERROR})
        return data

    def _post_clean(self):
        if "period_end" in self.errors:
            return
        super()._post_clean()


class NarrativeForm(StyledFormMixin, forms.Form):
    text = forms.CharField(
        label="Texte",
        required=False,
        max_length=MAX_NARRATIVE_CHARS,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Écrivez des paragraphes séparés par une ligne vide, ou collez un texte mis en "
        "forme : seuls les paragraphes, le gras, l'italique, les listes et les liens sont gardés. "
        "Ne citez ni nom de personne accompagnée, ni donnée de santé.",
    )
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
