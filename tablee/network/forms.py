"""Forms of the network: the filters of the network page and the links entered by hand."""

import datetime
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.directory.models import Structure
from tablee.network.models import Link, LinkKind
from tablee.network.services_links import MANUAL_KINDS

PRIVACY_HELP = (
    "Ni nom de personne accompagnée, ni donnée de santé : décrivez le lien entre les structures."
)
MANUAL_KIND_CHOICES = [(kind.value, kind.label) for kind in MANUAL_KINDS]


def date_widget():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def territory_structures(programme_territory):
    """The structures of the territory's directory, by name, for the pickers."""
    return (
        Structure.objects.in_territory(programme_territory.territory)
        .select_related("commune")
        .order_by("name", "pk")
    )


class NetworkFilterForm(StyledFormMixin, forms.Form):
    """Which links the page shows: of some kinds, at a date or over a period."""

    nature = forms.MultipleChoiceField(
        label="Nature des liens",
        choices=LinkKind.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Aucune case cochée : toutes les natures.",
    )
    du = forms.DateField(
        label="Du",
        required=False,
        widget=date_widget(),
        help_text="Facultatif : les liens actifs à un moment de la période.",
    )
    au = forms.DateField(
        label="Au (ou à la date)",
        required=False,
        widget=date_widget(),
        help_text="Par défaut : aujourd'hui.",
    )

    def clean(self):
        cleaned = super().clean()
        since, at = cleaned.get("du"), cleaned.get("au") or timezone.localdate()
        if since and since > at:
            self.add_error("du", "Le début de la période doit précéder sa fin.")
        return cleaned

    def period(self) -> tuple[datetime.date | None, datetime.date, list[str] | None]:
        """``(since, at, kinds)``: the defaults (today, every kind) when the form is invalid."""
        today = timezone.localdate()
        if not self.is_valid():
            return None, today, None
        data = self.cleaned_data
        return data.get("du"), data.get("au") or today, data.get("nature") or None

    def querystring(self) -> str:
        """The filters as given, for the export links (empty when the form is invalid)."""
        if not self.is_valid():
            return ""
        params = [("nature", kind) for kind in self.cleaned_data.get("nature") or []]
        for name in ("du", "au"):
            if self.cleaned_data.get(name):
                params.append((name, self.cleaned_data[name].isoformat()))
        return urlencode(params)


class StructureChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs):
        super().__init__(
            queryset=Structure.objects.none(),
            empty_label="Choisir une structure",
            error_messages={
                "required": "Choisissez une structure.",
                "invalid_choice": "Choisissez une structure de l'annuaire du territoire.",
            },
            **kwargs,
        )


class LinkCreateForm(StyledFormMixin, forms.Form):
    structure = StructureChoiceField(label="Structure")
    linked_structure = StructureChoiceField(label="Structure liée")
    kind = forms.ChoiceField(
        label="Nature du lien",
        choices=[("", "Choisir une nature"), *MANUAL_KIND_CHOICES],
        error_messages={"required": "Choisissez la nature du lien."},
    )
    started_on = forms.DateField(
        label="Depuis le",
        widget=date_widget(),
        error_messages={
            "required": "Indiquez la date de début du lien.",
            "invalid": "Indiquez une date valide, par exemple 14/03/2025.",
        },
    )
    note = forms.CharField(
        label="Note",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=PRIVACY_HELP,
    )

    def __init__(self, *args, programme_territory, **kwargs):
        super().__init__(*args, **kwargs)
        structures = territory_structures(programme_territory)
        self.fields["structure"].queryset = structures
        self.fields["linked_structure"].queryset = structures
        if not self.is_bound:
            self.initial.setdefault("started_on", timezone.localdate())

    def clean(self):
        cleaned = super().clean()
        first, second = cleaned.get("structure"), cleaned.get("linked_structure")
        if first and second and first.pk == second.pk:
            self.add_error("linked_structure", "Choisissez deux structures différentes.")
        return cleaned


class VersionedLinkForm(StyledFormMixin, VersionedForm):
    """A versioned form whose missing or altered version is said above the form (the field is
    hidden, so its own error would show nowhere)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].widget.attrs.setdefault("class", "")

    def clean(self):
        cleaned = super().clean()
        if "version" in self.errors:
            self.add_error(
                None, "Le formulaire est incomplet : rechargez la page puis recommencez."
            )
        return cleaned


class LinkEditForm(VersionedLinkForm):
    class Meta:
        model = Link
        fields = ["kind", "started_on", "ended_on", "note"]
        widgets = {
            "started_on": date_widget(),
            "ended_on": date_widget(),
            "note": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = MANUAL_KIND_CHOICES
        self.fields["kind"].label = "Nature du lien"
        self.fields["started_on"].label = "Depuis le"
        self.fields["ended_on"].label = "Fin du lien"
        self.fields["ended_on"].help_text = "Laisser vide tant que le lien dure."
        self.fields["note"].label = "Note"
        self.fields["note"].help_text = PRIVACY_HELP

    def clean(self):
        cleaned = super().clean()
        started_on, ended_on = cleaned.get("started_on"), cleaned.get("ended_on")
        if started_on and ended_on and ended_on <= started_on:
            self.add_error("ended_on", "La fin du lien doit être postérieure à son début.")
        return cleaned


class LinkEndForm(VersionedLinkForm):
    class Meta:
        model = Link
        fields = ["ended_on"]
        widgets = {"ended_on": date_widget()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["ended_on"]
        field.required = True
        field.label = "Le lien a pris fin le"
        field.error_messages["required"] = "Indiquez la date de fin du lien."
        if not self.is_bound:
            self.initial["ended_on"] = timezone.localdate()

    def clean_ended_on(self):
        ended_on = self.cleaned_data["ended_on"]
        if ended_on <= self.instance.started_on:
            raise forms.ValidationError("La fin du lien doit être postérieure à son début.")
        return ended_on
