import re

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from tablee.core.forms import StyledFormMixin
from tablee.directory.exporters import FORMATS
from tablee.directory.importers import MAPPING_TARGETS

MAX_FILES = 3


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data] or single(None, initial)
        return [single(data, initial)]


class ImportForm(StyledFormMixin, forms.Form):
    files = MultipleFileField(
        label="Fichiers",
        widget=MultipleFileInput(
            attrs={"accept": ".json,.jsonl,.ndjson,.csv,.tsv,.txt,.xlsx,.zip"}
        ),
        help_text=(
            "Au format data·inclusion : JSON, JSON lines, CSV (un fichier de structures et un "
            "de services), le modèle XLSX officiel ou le ZIP d'un export. Ou tout tableau CSV ou "
            "XLSX de structures : vous associerez ensuite ses colonnes à nos champs. "
            f"{MAX_FILES} fichiers au plus."
        ),
    )
    source = forms.CharField(
        label="Source",
        max_length=100,
        help_text=(
            "Qui a produit ces données, en minuscules sans espace, par exemple « dora » ou "
            "« ccas-loudeac ». Réimporter un fichier de la même source met à jour les mêmes "
            "structures."
        ),
    )

    def __init__(self, *args, oversized=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.oversized = list(oversized)

    def clean_files(self):
        files = self.cleaned_data["files"]
        if len(files) > MAX_FILES:
            raise forms.ValidationError(f"{MAX_FILES} fichiers au plus à la fois.")
        limit = settings.TABLEE_MAX_DIRECTORY_IMPORT_BYTES
        for upload in files:
            if upload.size > limit:
                raise forms.ValidationError(_too_big(upload.name, upload.size, limit))
        return files

    def clean_source(self):
        source = self.cleaned_data["source"].strip().lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", source):
            raise forms.ValidationError(
                "Lettres minuscules sans accent, chiffres, points, tirets : par exemple « dora »."
            )
        return source

    def full_clean(self):
        super().full_clean()
        # The upload handler stopped reading these files: they never reached the form.
        if self.is_bound and self.oversized:
            limit = settings.TABLEE_MAX_DIRECTORY_IMPORT_BYTES
            self.errors.pop("files", None)
            self.add_error(
                "files",
                [_too_big(name, None, limit) for name in self.oversized],
            )


def _too_big(name: str, size: int | None, limit: int) -> str:
    weight = f"pèse {filesizeformat(size)}" if size else "est trop volumineux"
    return (
        f"Le fichier « {name} » {weight} : la taille maximale d'un import est de "
        f"{filesizeformat(limit)}. Découpez-le en plusieurs fichiers."
    )


class MappingForm(StyledFormMixin, forms.Form):
    """One select per column of the user's spreadsheet: which of our fields it fills."""

    def __init__(self, *args, table, initial_mapping, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— ne pas importer —")] + [
            (key, label) for key, label, _ in MAPPING_TARGETS
        ]
        self.columns = []
        for index, name in enumerate(table.columns):
            samples = table.samples(index)
            label = name or f"Colonne {index + 1} (sans nom)"
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=label,
                choices=choices,
                required=False,
                initial=initial_mapping.get(index, ""),
                help_text=("Exemples : " + " ; ".join(samples)) if samples else "Colonne vide.",
            )
            self.columns.append(index)
        self.apply_styles()

    def clean(self):
        data = super().clean()
        chosen: dict[str, int] = {}
        for index in self.columns:
            key = data.get(f"col_{index}")
            if not key:
                continue
            if key in chosen:
                raise forms.ValidationError(
                    f"Le champ « {dict((k, lbl) for k, lbl, _ in MAPPING_TARGETS)[key]} » est "
                    "associé à deux colonnes : gardez-en une seule."
                )
            chosen[key] = index
        if "nom" not in chosen:
            raise forms.ValidationError("Associez une colonne au nom de la structure.")
        if "code_insee" not in chosen and not {"commune", "code_postal"} <= set(chosen):
            raise forms.ValidationError(
                "Associez une colonne au code INSEE de la commune, ou bien deux colonnes : le "
                "nom de la commune et le code postal."
            )
        self.mapping = {index: key for key, index in chosen.items()}
        return data


class ApplyForm(StyledFormMixin, forms.Form):
    skip_invalid = forms.BooleanField(
        label="Importer seulement les lignes valides et laisser de côté les lignes refusées",
        required=False,
    )


class ExportForm(StyledFormMixin, forms.Form):
    format = forms.ChoiceField(
        label="Format",
        choices=list(FORMATS.items()),
        widget=forms.RadioSelect,
        initial="xlsx",
    )
