"""Forms of the diagnostic records: meetings, attachments, needs, testimonies and list filters."""

from urllib.parse import urlencode

from django import forms

from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.diagnostic.models import MAX_PARTICIPANTS, BarrierCategory, Meeting, Need, Testimony
from tablee.diagnostic.services_records import check_attachment, validate_meeting_date
from tablee.directory.models import Category, Structure

PARTICIPANT_FIELDS = [
    "social_workers",
    "health_professionals",
    "volunteers",
    "elected_officials",
    "people_concerned",
    "others",
]

PRIVACY_HELP = (
    "Ni nom de personne accompagnée, ni donnée de santé, ni détail qui permette de la reconnaître."
)


class RecordForm(StyledFormMixin, VersionedForm):
    """A record's form: the version is carried on edit only (a new record has none yet)."""

    def __init__(self, *args, programme_territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme_territory = programme_territory
        # UUID primary keys are set before saving: ask Django whether the row exists yet.
        if self.instance._state.adding:
            del self.fields["version"]
        else:
            # StyledFormMixin marks fields in error through their class: a form posted without
            # its version must come back with an error, not fail.
            self.fields["version"].widget.attrs.setdefault("class", "")

    def _post_clean(self):
        # The model's own validation needs the territory, which the form does not show.
        self.instance.programme_territory = self.programme_territory
        super()._post_clean()


class HeadcountField(forms.IntegerField):
    """A headcount from 0 to MAX_PARTICIPANTS; left empty, it counts nobody. French errors name
    the field, so that the message still makes sense in a summary."""

    def __init__(self, *, label: str, **kwargs):
        out_of_range = f"« {label} » : le nombre doit être compris entre 0 et {MAX_PARTICIPANTS}."
        super().__init__(
            label=label,
            required=False,
            min_value=0,
            max_value=MAX_PARTICIPANTS,
            initial=0,
            error_messages={
                "invalid": f"« {label} » : indiquez un nombre entier (0 si personne).",
                "min_value": out_of_range,
                "max_value": out_of_range,
            },
            **kwargs,
        )

    def to_python(self, value):
        number = super().to_python(value)
        return 0 if number is None else number


def territory_structures(user, programme_territory):
    """The structures of the territory that the user may open, for the pickers."""
    return (
        Structure.objects.for_user(user)
        .in_territory(programme_territory.territory)
        .select_related("commune")
        .order_by("name")
    )


class MeetingForm(RecordForm):
    structures = forms.ModelMultipleChoiceField(
        queryset=Structure.objects.none(),
        required=False,
        label="Structures rencontrées",
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Meeting
        fields = ["date", "format", "title", *PARTICIPANT_FIELDS, "notes", "notes_shareable"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args, programme_territory, user, **kwargs):
        super().__init__(*args, programme_territory=programme_territory, **kwargs)
        self.fields["structures"].queryset = territory_structures(user, programme_territory)
        if not self.instance._state.adding and not self.is_bound:
            self.initial["structures"] = [s.pk for s in self.instance.structures.all()]
        self.fields["notes"].help_text = PRIVACY_HELP
        self.fields["format"].choices = [("", "Choisir un format"), *Meeting.Format.choices]
        for name in PARTICIPANT_FIELDS:
            self.fields[name] = HeadcountField(label=self.fields[name].label)
        self.apply_styles()

    def clean_date(self):
        day = self.cleaned_data["date"]
        validate_meeting_date(day, self.programme_territory)
        return day


class AttachmentForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Fichier",
        help_text="PDF, image (PNG, JPEG) ou document bureautique (DOCX, XLSX, ODT, ODS). Le "
        "type est vérifié d'après le contenu du fichier.",
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.content_type = check_attachment(upload)
        return upload


class NeedForm(RecordForm):
    structures = forms.ModelMultipleChoiceField(
        queryset=Structure.objects.none(),
        required=False,
        label="Structures qui l'ont exprimé",
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Need
        fields = ["category", "title", "description", "publics", "severity", "source", "meeting"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "publics": forms.CheckboxSelectMultiple,
        }
        error_messages = {
            "category": {
                "required": "Choisissez une catégorie de frein : un besoin en a toujours une."
            },
            "title": {"required": "Donnez un intitulé au besoin."},
            "source": {"required": "Indiquez la source du besoin."},
        }

    def __init__(self, *args, programme_territory, user, **kwargs):
        super().__init__(*args, programme_territory=programme_territory, **kwargs)
        category = self.fields["category"]
        category.queryset = BarrierCategory.objects.filter(is_active=True)
        if not self.instance._state.adding and self.instance.category_id:
            # A category no longer offered stays valid on the needs that already use it.
            category.queryset = BarrierCategory.objects.filter(
                is_active=True
            ) | BarrierCategory.objects.filter(pk=self.instance.category_id)
        category.empty_label = "Choisir une catégorie"
        self.fields["publics"].queryset = Category.objects.filter(kind=Category.Kind.PUBLIC)
        self.fields["structures"].queryset = territory_structures(user, programme_territory)
        meeting = self.fields["meeting"]
        meeting.queryset = Meeting.objects.filter(programme_territory=programme_territory)
        meeting.empty_label = "Aucune"
        meeting.required = False
        if not self.instance._state.adding and not self.is_bound:
            self.initial["structures"] = [s.pk for s in self.instance.structures.all()]
        self.fields["description"].help_text = PRIVACY_HELP
        self.apply_styles()


class TestimonyForm(RecordForm):
    needs = forms.ModelMultipleChoiceField(
        queryset=Need.objects.none(),
        required=False,
        label="Besoins liés",
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Testimony
        fields = ["consent_given", "date", "context", "text", "shareable"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "text": forms.Textarea(attrs={"rows": 8}),
        }
        labels = {
            "consent_given": "La personne a donné son consentement explicite à ce que sa parole "
            "soit recueillie et utilisée de façon anonyme",
        }

    def __init__(self, *args, programme_territory, **kwargs):
        super().__init__(*args, programme_territory=programme_territory, **kwargs)
        self.fields["consent_given"].required = True
        self.fields["consent_given"].error_messages["required"] = (
            "Cochez la case de consentement : une parole ne peut être enregistrée qu'avec le "
            "consentement explicite de la personne."
        )
        self.fields["text"].help_text = (
            "Anonyme : aucun nom, aucun détail de santé, rien qui permette de reconnaître la "
            "personne (lieu précis, âge exact, métier…)."
        )
        self.fields["needs"].queryset = Need.objects.filter(
            programme_territory=programme_territory
        ).select_related("category")
        if not self.instance._state.adding and not self.is_bound:
            self.initial["needs"] = [n.pk for n in self.instance.needs.all()]
        self.apply_styles()


# ---- Filters ----------------------------------------------------------------------------------


class FilterForm(StyledFormMixin, forms.Form):
    def querystring(self, exclude=("page",)) -> str:
        """The filters in use, for pagination links and sorting."""
        if not self.is_valid():
            return ""
        pairs = []
        for name, value in self.cleaned_data.items():
            if name in exclude or value in (None, ""):
                continue
            pairs.append((name, getattr(value, "pk", value)))
        return urlencode(pairs)


class MeetingFilterForm(FilterForm):
    format = forms.ChoiceField(
        label="Format", required=False, choices=[("", "Tous")] + Meeting.Format.choices
    )
    structure = forms.ModelChoiceField(
        label="Structure", required=False, queryset=Structure.objects.none(), empty_label="Toutes"
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures

    def apply(self, meetings):
        if not self.is_valid():
            return meetings
        data = self.cleaned_data
        if data["format"]:
            meetings = meetings.filter(format=data["format"])
        if data["structure"]:
            meetings = meetings.filter(structures=data["structure"])
        return meetings


class NeedFilterForm(FilterForm):
    category = forms.ModelChoiceField(
        label="Catégorie",
        required=False,
        queryset=BarrierCategory.objects.all(),
        empty_label="Toutes",
    )
    severity = forms.TypedChoiceField(
        label="Gravité",
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "Toutes")] + Need._meta.get_field("severity").choices,
    )
    source = forms.ChoiceField(
        label="Source", required=False, choices=[("", "Toutes")] + Need.Source.choices
    )
    structure = forms.ModelChoiceField(
        label="Structure", required=False, queryset=Structure.objects.none(), empty_label="Toutes"
    )

    def __init__(self, *args, structures, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = structures

    def apply(self, needs):
        if not self.is_valid():
            return needs
        data = self.cleaned_data
        if data["category"]:
            needs = needs.filter(category=data["category"])
        if data["severity"]:
            needs = needs.filter(severity=data["severity"])
        if data["source"]:
            needs = needs.filter(source=data["source"])
        if data["structure"]:
            needs = needs.filter(structures=data["structure"])
        return needs
