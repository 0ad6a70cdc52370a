"""Forms of registrations, attendance at the door, self check-in, headcounts and signed sheets."""

from django import forms

from tablee.activities.models import MAX_HEADCOUNT, NAMED_AUDIENCES, Headcount
from tablee.activities.services_attendance import check_signed_sheet, headcount_label
from tablee.core.forms import StyledFormMixin
from tablee.directory.models import Structure
from tablee.territories.models import Audience

CONSENT_LABEL = (
    "La personne accepte que son nom soit conservé pour l'émargement et l'attestation de présence."
)
PUBLIC_CONSENT_LABEL = (
    "J'accepte que mon nom, ma fonction et ma structure soient conservés par l'équipe du "
    "programme pour l'émargement et l'attestation de présence."
)


class RegistrationForm(StyledFormMixin, forms.Form):
    """A registration typed by the team (any structure of the territory, or a name) or by a
    partner (``fixed_structures``: their own structure(s) only)."""

    full_name = forms.CharField(label="Nom et prénom", max_length=200)
    email = forms.EmailField(
        label="E-mail", help_text="La confirmation et le rappel y sont envoyés."
    )
    job_title = forms.CharField(label="Fonction", max_length=200, required=False)
    structure = forms.ModelChoiceField(
        label="Structure (annuaire du territoire)",
        queryset=Structure.objects.none(),
        required=False,
        empty_label="Choisir une structure",
    )
    structure_name = forms.CharField(
        label="Structure absente de l'annuaire",
        max_length=200,
        required=False,
        help_text="Si la structure n'est pas dans la liste, écrivez son nom ici.",
    )
    consent = forms.BooleanField(
        label=CONSENT_LABEL,
        error_messages={"required": "Le consentement de la personne est nécessaire."},
    )

    def __init__(self, *args, structures, fixed_structures=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed = fixed_structures is not None
        if self.fixed:
            self.fields["structure"].queryset = fixed_structures
            self.fields["structure"].required = True
            self.fields["structure"].label = "Structure"
            self.fields["structure"].empty_label = None
            del self.fields["structure_name"]
        else:
            self.fields["structure"].queryset = structures

    def clean(self):
        data = super().clean()
        if not self.fixed and not data.get("structure") and not data.get("structure_name"):
            if "structure" not in self.errors:
                self.add_error(
                    "structure",
                    "Indiquez la structure : choisissez-la dans l'annuaire ou écrivez son nom.",
                )
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "full_name": data["full_name"],
            "email": data["email"],
            "job_title": data["job_title"],
            "structure": data["structure"],
            "structure_name": data.get("structure_name", ""),
            "consent": data["consent"],
        }


class PublicRegistrationForm(StyledFormMixin, forms.Form):
    full_name = forms.CharField(label="Nom et prénom", max_length=200)
    email = forms.EmailField(
        label="Adresse e-mail", help_text="Vous y recevrez la confirmation et un rappel."
    )
    job_title = forms.CharField(label="Fonction", max_length=200, required=False)
    structure_name = forms.CharField(label="Structure ou organisme", max_length=200)
    consent = forms.BooleanField(
        label=PUBLIC_CONSENT_LABEL,
        error_messages={"required": "Cochez cette case pour vous inscrire."},
    )


class WalkInForm(StyledFormMixin, forms.Form):
    full_name = forms.CharField(label="Nom et prénom", max_length=150)
    email = forms.EmailField(label="E-mail", required=False)
    audience = forms.ChoiceField(
        label="Public", choices=[(a.value, a.label) for a in NAMED_AUDIENCES]
    )
    structure = forms.ModelChoiceField(
        label="Structure (annuaire du territoire)",
        queryset=Structure.objects.none(),
        required=False,
        empty_label="Choisir une structure",
    )
    structure_name = forms.CharField(
        label="Structure absente de l'annuaire", max_length=150, required=False
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures


class SelfCheckInForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label="Votre adresse e-mail",
        help_text="Celle de votre inscription.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )


class SelfWalkInForm(StyledFormMixin, forms.Form):
    email = forms.EmailField(
        label="Votre adresse e-mail", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    full_name = forms.CharField(
        label="Nom et prénom",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    structure_name = forms.CharField(
        label="Votre structure",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
    )


def headcount_field_name(audience: str, age: str, gender: str) -> str:
    return f"hc-{audience}-{age or 'tous'}-{gender or 'tous'}"


class HeadcountForm(StyledFormMixin, forms.Form):
    """The anonymous headcount of a session: for each audience, a number not broken down and,
    optionally, a grid by age band and gender. The cells never overlap: the total is their sum."""

    def __init__(self, *args, headcounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        stored = {(h.audience, h.age_band, h.gender): h.count for h in headcounts}
        self.keys = {}
        for audience in Audience.values:
            for age in Headcount.AgeBand.values:
                for gender in Headcount.Gender.values:
                    name = headcount_field_name(audience, age, gender)
                    label = headcount_label(audience, age, gender)
                    out_of_range = (
                        f"« {label} » : le nombre doit être compris entre 0 et {MAX_HEADCOUNT}."
                    )
                    self.fields[name] = forms.IntegerField(
                        label=label,
                        required=False,
                        min_value=0,
                        max_value=MAX_HEADCOUNT,
                        initial=stored.get((audience, age, gender)) or None,
                        error_messages={
                            "invalid": f"« {label} » : indiquez un nombre entier.",
                            "min_value": out_of_range,
                            "max_value": out_of_range,
                        },
                        widget=forms.NumberInput(
                            attrs={
                                "inputmode": "numeric",
                                "min": 0,
                                # The number without detail is the one most often typed.
                                "class": "" if age or gender else "form-control-lg",
                            }
                        ),
                    )
                    self.keys[name] = (audience, age, gender)
        self.apply_styles()

    def counts(self) -> dict:
        return {key: self.cleaned_data.get(name) or 0 for name, key in self.keys.items()}

    def audience_groups(self, first: str) -> list[dict]:
        """For the template: per audience (the session's first), the field without detail and
        the grid of age bands (rows) by gender (columns)."""
        ages = [a for a in Headcount.AgeBand if a.value] + [Headcount.AgeBand.ALL]
        genders = [g for g in Headcount.Gender if g.value] + [Headcount.Gender.ALL]
        groups = []
        for audience in sorted(Audience, key=lambda a: a.value != first):
            grid = [
                {
                    "label": "Âge non précisé" if not age.value else age.label,
                    "cells": [
                        self[headcount_field_name(audience.value, age.value, gender.value)]
                        for gender in genders
                        if age.value or gender.value
                    ],
                    "skips_total": not age.value,
                }
                for age in ages
            ]
            names = [
                headcount_field_name(audience.value, age, gender)
                for age in Headcount.AgeBand.values
                for gender in Headcount.Gender.values
            ]
            filled = [n for n in names if self[n].value() not in (None, "") or n in self.errors]
            total_name = headcount_field_name(audience.value, "", "")
            groups.append(
                {
                    "audience": audience,
                    "open": audience.value == first or bool(filled),
                    "detailed": any(n != total_name for n in filled),
                    "total": self[total_name],
                    "genders": [g.label if g.value else "Genre non précisé" for g in genders],
                    "grid": grid,
                }
            )
        return groups


class SignedSheetForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Feuille d'émargement signée (scan)",
        help_text="PDF, PNG ou JPEG, 10 Mo au plus. Le type est vérifié d'après le contenu.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_signed_sheet(upload)
        return upload
