from django import forms

from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.territories.models import Audience, Programme, ProgrammeTerritory

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProgrammeForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Programme
        fields = ["name", "funder", "start_date", "end_date", "description"]
        widgets = {"start_date": DATE_WIDGET, "end_date": DATE_WIDGET}
        help_texts = {
            "funder": "Par exemple : DREETS Bretagne.",
            "description": (
                "Objectifs, publics, partenaires. Ne nommez aucune personne accompagnée."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", "La date de fin doit être postérieure à la date de début.")
        return cleaned


class ProgrammeEditForm(VersionedForm, ProgrammeForm):
    class Meta(ProgrammeForm.Meta):
        pass


class ProgrammeTerritoryForm(StyledFormMixin, VersionedForm):
    class Meta:
        model = ProgrammeTerritory
        fields = ["pat_name", "pat_contact_name", "pat_contact_email", "target_sessions"]
        help_texts = {
            "pat_name": "Le Projet Alimentaire Territorial porté par la collectivité, s'il existe.",
            "pat_contact_name": "La personne référente du PAT à la collectivité.",
        }


class TargetsForm(StyledFormMixin, forms.Form):
    """Every target of a programme in one form: total, per territory, per audience, per year."""

    total = forms.IntegerField(label="Objectif total d'ateliers et formations", min_value=0)

    def __init__(self, *args, programme: Programme, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme = programme
        self.territories = list(programme.territories.select_related("territory"))
        targets = {(t.dimension, t.key): t.value for t in programme.targets.all()}
        self.fields["total"].initial = programme.target_sessions
        for pt in self.territories:
            self.fields[f"territory_{pt.pk}"] = forms.IntegerField(
                label=pt.territory.name, min_value=0, initial=pt.target_sessions
            )
        for value, label in Audience.choices:
            self.fields[f"audience_{value}"] = forms.IntegerField(
                label=label, min_value=0, initial=targets.get(("audience", value), 0)
            )
        for year in programme.years:
            self.fields[f"year_{year}"] = forms.IntegerField(
                label=str(year), min_value=0, initial=targets.get(("year", str(year)), 0)
            )
        self.apply_styles()

    def territory_fields(self):
        return [self[f"territory_{pt.pk}"] for pt in self.territories]

    def audience_fields(self):
        return [self[f"audience_{value}"] for value in Audience.values]

    def year_fields(self):
        return [self[f"year_{year}"] for year in self.programme.years]

    def clean(self):
        cleaned = super().clean()
        total = cleaned.get("total")
        if total is None:
            return cleaned
        # Each breakdown may be partial, but none may exceed the total.
        groups = {
            "territoires": [f"territory_{pt.pk}" for pt in self.territories],
            "publics": [f"audience_{v}" for v in Audience.values],
            "années": [f"year_{y}" for y in self.programme.years],
        }
        for name, keys in groups.items():
            values = [cleaned.get(k) for k in keys]
            if None not in values and sum(values) > total:
                self.add_error(
                    None,
                    f"La somme des objectifs par {name} ({sum(values)}) dépasse l'objectif total "
                    f"({total}).",
                )
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "total": data["total"],
            "by_territory": {pt.pk: data[f"territory_{pt.pk}"] for pt in self.territories},
            "by_audience": {v: data[f"audience_{v}"] for v in Audience.values},
            "by_year": {y: data[f"year_{y}"] for y in self.programme.years},
        }
