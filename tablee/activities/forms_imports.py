"""Forms of the import of the history of sessions: the file, then the columns."""

from django import forms
from django.template.defaultfilters import filesizeformat

from tablee.activities.imports import FIELDS, MAX_UPLOAD_BYTES, check_mapping
from tablee.core.forms import StyledFormMixin
from tablee.core.spreadsheets import Sheet

SAMPLES = 3


class UploadForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Fichier des séances",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx"}),
        help_text=(
            "Un tableau CSV (séparateur point-virgule ou virgule) ou XLSX, une ligne par séance, "
            f"{filesizeformat(MAX_UPLOAD_BYTES)} au plus. Vous associerez ensuite ses colonnes "
            "aux champs d'une séance."
        ),
        error_messages={
            "required": "Choisissez un fichier.",
            "empty": "Le fichier est vide.",
        },
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"Le fichier « {upload.name} » pèse {filesizeformat(upload.size)} : la taille "
                f"maximale est de {filesizeformat(MAX_UPLOAD_BYTES)}. Découpez-le en plusieurs "
                "fichiers."
            )
        return upload


class MappingForm(StyledFormMixin, forms.Form):
    """For each field of a session, the column of the sheet that fills it (or none)."""

    def __init__(self, *args, sheet: Sheet, initial_mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.sheet = sheet
        choices = [("", "— aucune colonne —")]
        for index, column in enumerate(sheet.columns):
            samples = _samples(sheet, index)
            label = f"{column.name} (ex. : {' ; '.join(samples)})" if samples else column.name
            choices.append((column.name, label))
        for import_field in FIELDS:
            self.fields[import_field.key] = forms.ChoiceField(
                label=import_field.label,
                choices=choices,
                required=import_field.required,
                initial=initial_mapping.get(import_field.key, ""),
                help_text=import_field.help,
                error_messages={
                    "required": f"Choisissez la colonne du champ « {import_field.label} ».",
                    "invalid_choice": "Choisissez une colonne du fichier.",
                },
            )
        self.apply_styles()

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        mapping = {key: data[key] for key in self.fields if data.get(key)}
        errors = check_mapping(mapping, self.sheet.columns)
        if errors:
            raise forms.ValidationError(errors)
        self.mapping = mapping
        return data


def _samples(sheet: Sheet, index: int) -> list[str]:
    found = []
    for row in sheet.rows:
        value = row[index]
        if value and value not in found:
            found.append(value[:30])
        if len(found) == SAMPLES:
            break
    return found
