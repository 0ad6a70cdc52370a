from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tablee.core.forms import StyledFormMixin
from tablee.territories.models import GeoLevel


class IndicatorImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Fichier CSV",
        widget=forms.FileInput(attrs={"accept": ".csv,.tsv,.txt,text/csv"}),
        help_text=(
            "Première colonne : le code géographique (code INSEE de la commune, SIREN de l'EPCI, "
            "code du département ou de la région). Une colonne de noms (LIBGEO) peut suivre. "
            "Chaque autre colonne est un indicateur. Séparateur point-virgule, virgule ou "
            "tabulation ; virgule décimale acceptée. Les cellules vides et les marques de secret "
            "(s, nd, NA) sont ignorées."
        ),
    )
    level = forms.ChoiceField(
        label="Niveau géographique des codes",
        choices=GeoLevel.choices,
        initial=GeoLevel.COMMUNE,
    )
    year = forms.IntegerField(
        label="Année des valeurs",
        min_value=2000,
        max_value=2100,
        help_text="L'année à laquelle les valeurs se rapportent, par exemple 2021.",
    )
    source = forms.CharField(
        label="Source",
        max_length=200,
        help_text="Par exemple : « INSEE, Filosofi 2021 ».",
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        limit = settings.TABLEE_MAX_IMPORT_BYTES
        if file.size > limit:
            raise forms.ValidationError(
                f"Le fichier pèse {filesizeformat(file.size)} : la taille maximale est de "
                f"{filesizeformat(limit)}."
            )
        return file
