"""Forms of the directory: structures, their services, stops and professional contacts.

Identifiers, phones, URLs, e-mails and opening hours are checked by the shared validators of
``tablee.directory.validators`` and ``tablee.directory.hours``, so that a form and an import give
the same French message for the same mistake.
"""

import re

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from tablee.accounts.models import Role
from tablee.accounts.permissions import is_admin, memberships_of
from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.directory import validators
from tablee.directory.hours import validate_opening_hours
from tablee.directory.models import Category, Contact, Service, ServiceStop, Structure
from tablee.territories.models import Commune, Departement, Territory

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
HOURS_HELP = (
    "Syntaxe OpenStreetMap, par exemple « Mo-Fr 09:00-12:00,14:00-17:00; Sa 10:00-12:00 » "
    "(Mo lundi, Tu mardi, We mercredi, Th jeudi, Fr vendredi, Sa samedi, Su dimanche, "
    "PH off : fermé les jours fériés)."
)
FREE_TEXT_WARNING = "N'y écrivez ni nom de personne accompagnée ni donnée de santé."

# The data·inclusion thématiques are "<group>--<thématique>"; the référentiel lists only the
# thématiques, so the group labels are written here.
THEMATIQUE_GROUPS = {
    "choisir-un-metier": "Choisir un métier",
    "creer-une-entreprise": "Créer une entreprise",
    "difficultes-administratives-ou-juridiques": "Difficultés administratives ou juridiques",
    "difficultes-financieres": "Difficultés financières",
    "equipement-et-alimentation": "Équipement et alimentation",
    "famille": "Famille",
    "lecture-ecriture-calcul": "Lecture, écriture, calcul",
    "logement-hebergement": "Logement, hébergement",
    "mobilite": "Mobilité",
    "numerique": "Numérique",
    "preparer-sa-candidature": "Préparer sa candidature",
    "remobilisation": "Remobilisation",
    "sante": "Santé",
    "se-former": "Se former",
    "souvrir-a-linternational": "S'ouvrir à l'international",
    "trouver-un-emploi": "Trouver un emploi",
}

RECEPTION_MODES = [("en-presentiel", "Sur place"), ("a-distance", "À distance")]
MOBILISATION_MODES = [
    ("se-presenter", "Se présenter"),
    ("telephoner", "Téléphoner"),
    ("envoyer-un-courriel", "Envoyer un courriel"),
    ("utiliser-lien-mobilisation", "Utiliser le lien de mobilisation"),
]
MOBILISABLE_BY = [
    ("usagers", "Les personnes elles-mêmes"),
    ("professionnels", "Des professionnel·les"),
]

COMMUNE_LABEL = re.compile(r"\((\w{5})\)\s*$")


def communes_in_scope(user):
    """The communes where ``user`` may place a structure: every commune for an admin, the
    communes of its territories for a coordinator, its own EPCI's for a partner."""
    if is_admin(user):
        return Commune.objects.all()
    scope = Q(pk__in=[])
    for membership in memberships_of(user):
        if membership.role not in {Role.COORDINATOR, Role.PARTNER}:
            continue
        if membership.programme_id:
            scope |= Q(territory__programme_territories__programme_id=membership.programme_id)
        elif membership.programme_territory_id:
            scope |= Q(territory_id=membership.programme_territory.territory_id)
        elif membership.structure_id and membership.structure.commune.territory_id:
            scope |= Q(territory_id=membership.structure.commune.territory_id)
    return Commune.objects.filter(scope)


def commune_label(commune: Commune) -> str:
    return f"{commune.name} ({commune.code})"


class CommuneField(forms.ModelChoiceField):
    """A commune typed as "Loudéac (22136)" or as its INSEE code, never a select of 35,000.

    The input is paired with a list of suggestions filled by htmx as the user types.
    """

    default_error_messages = {
        "invalid_choice": (
            "Commune inconnue dans le référentiel ou hors de vos territoires : tapez le début de "
            "son nom et choisissez-la dans la liste proposée, ou saisissez son code INSEE."
        ),
    }

    def __init__(self, queryset=None, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        kwargs.setdefault("label", "Commune")
        super().__init__(queryset if queryset is not None else Commune.objects.all(), **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        match = COMMUNE_LABEL.search(text)
        code = match.group(1) if match else text
        try:
            return self.queryset.get(code=code.upper())
        except (Commune.DoesNotExist, ValueError) as error:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            ) from error

    def prepare_value(self, value):
        if isinstance(value, Commune):
            return commune_label(value)
        return value

    def has_changed(self, initial, data):
        return str(self.prepare_value(initial) or "") != str(data or "")


class GroupedThematiquesMixin:
    """Thématiques as checkboxes grouped by their data·inclusion group (one fieldset each)."""

    def setup_thematiques(self, categories):
        groups: dict[str, list] = {}
        for category in categories:
            prefix = category.value.split("--", 1)[0]
            groups.setdefault(prefix, []).append((str(category.pk), category.label))
        self._thematique_groups = [
            (THEMATIQUE_GROUPS.get(prefix, prefix), options) for prefix, options in groups.items()
        ]
        self._thematiques_by_pk = {str(c.pk): c for c in categories}
        self.fields["thematiques"] = forms.MultipleChoiceField(
            label="Thématiques",
            required=False,
            choices=self._thematique_groups,
            widget=forms.CheckboxSelectMultiple,
        )

    def thematique_groups(self):
        """[(group label, [checkbox subwidgets])] for the template."""
        subwidgets = list(self["thematiques"].subwidgets)
        grouped, start = [], 0
        for label, options in self._thematique_groups:
            grouped.append((label, subwidgets[start : start + len(options)]))
            start += len(options)
        return grouped

    def clean_thematiques(self):
        return [self._thematiques_by_pk[pk] for pk in self.cleaned_data.get("thematiques") or []]


def _categories(kind):
    return Category.objects.filter(kind=kind).order_by("label")


class ContactChannelsMixin:
    """Phone, e-mail, URLs and hours through the shared validators (French messages)."""

    def clean_phone(self):
        return validators.normalize_phone(self.cleaned_data.get("phone") or "")

    def clean_email(self):
        return validators.normalize_email(self.cleaned_data.get("email") or "")

    def clean_postal_code(self):
        return validators.normalize_postal_code(self.cleaned_data.get("postal_code") or "")

    def clean_opening_hours(self):
        return validate_opening_hours(self.cleaned_data.get("opening_hours") or "")

    def _clean_url(self, name):
        return validators.normalize_url(self.cleaned_data.get(name) or "")


class StructureForm(ContactChannelsMixin, StyledFormMixin, forms.ModelForm):
    # Plain text inputs checked by the shared validators: Django's URL and e-mail fields would
    # answer in their own words and refuse an address without its scheme.
    email = forms.CharField(label="E-mail", required=False, max_length=254, widget=forms.EmailInput)
    website = forms.CharField(
        label="Site web", required=False, max_length=200, widget=forms.URLInput
    )
    postal_code = forms.CharField(
        label="Code postal",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    # Wider than the 14 stored digits: "732 829 320 00074" and Excel's "7.3282932000074E13".
    siret = forms.CharField(
        label="SIRET",
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        help_text="14 chiffres, espaces acceptés. Facultatif.",
    )
    accessibility_url = forms.CharField(
        label="Lien accessibilité",
        required=False,
        max_length=200,
        widget=forms.URLInput,
        help_text="Par exemple la page de la structure sur acceslibre.",
    )

    class Meta:
        model = Structure
        fields = [
            "name",
            "sector",
            "finess_category",
            "siret",
            "address",
            "address_complement",
            "postal_code",
            "commune",
            "latitude",
            "longitude",
            "phone",
            "email",
            "website",
            "description",
            "opening_hours",
            "accessibility_url",
            "networks",
            "is_publishable",
        ]
        field_classes = {"commune": CommuneField}
        widgets = {
            "networks": forms.CheckboxSelectMultiple,
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        help_texts = {
            "latitude": (
                "Laissez la position vide pour placer la structure au centre de sa commune "
                "(position marquée approximative)."
            ),
            "longitude": "Par exemple -2,75 pour la Bretagne.",
            "description": f"Missions, publics, modalités d'accueil. {FREE_TEXT_WARNING}",
            "opening_hours": HOURS_HELP,
            "networks": "Les réseaux dont la structure fait partie (liste data·inclusion).",
            "finess_category": "Pour les établissements sociaux, médico-sociaux et de santé.",
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes_in_scope(user)
        self.fields[
            "commune"
        ].help_text = (
            "Tapez le début du nom de la commune et choisissez-la dans la liste, ou son code INSEE."
        )
        self.fields["networks"].queryset = _categories(Category.Kind.RESEAU)
        self.fields["finess_category"].queryset = _categories(Category.Kind.FINESS)
        self.fields["finess_category"].label_from_instance = lambda c: f"{c.label} ({c.value})"
        self.fields["finess_category"].empty_label = "Aucune"
        for name in ("latitude", "longitude"):
            self.fields[name].localize = True
            self.fields[name].widget = forms.TextInput(attrs={"inputmode": "decimal"})
            self.fields[name].widget.is_localized = True
        instance = self.instance
        if instance.pk and instance.commune_id and not self.is_bound:
            self.initial["commune"] = commune_label(instance.commune)
            if instance.location_is_approximate:
                # A centroid is recomputed on save, so that a new commune moves the marker.
                self.initial["latitude"] = self.initial["longitude"] = None
        self.apply_styles()

    def clean_siret(self):
        return validators.normalize_siret(self.cleaned_data.get("siret") or "")

    def clean_website(self):
        return self._clean_url("website")

    def clean_accessibility_url(self):
        return self._clean_url("accessibility_url")

    def clean_latitude(self):
        value = self.cleaned_data.get("latitude")
        if value is not None and not -90 <= value <= 90:
            raise ValidationError("La latitude doit être comprise entre -90 et 90.")
        return value

    def clean_longitude(self):
        value = self.cleaned_data.get("longitude")
        if value is not None and not -180 <= value <= 180:
            raise ValidationError("La longitude doit être comprise entre -180 et 180.")
        return value

    def clean(self):
        cleaned = super().clean()
        lat, lon = cleaned.get("latitude"), cleaned.get("longitude")
        if (lat is None) != (lon is None) and not self.has_error("latitude"):
            if not self.has_error("longitude"):
                self.add_error(
                    "latitude",
                    "Donnez la latitude et la longitude, ou laissez les deux vides.",
                )
        return cleaned

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class StructureEditForm(VersionedForm, StructureForm):
    class Meta(StructureForm.Meta):
        pass


class EligibilityZoneField(forms.CharField):
    """data·inclusion zone d'éligibilité: INSEE codes of communes, EPCI SIREN, département
    codes or "france", typed separated by spaces or commas; each must exist in the referential."""

    def to_python(self, value):
        text = super().to_python(value)
        codes = [code for code in re.split(r"[\s,;]+", text or "") if code]
        return list(
            dict.fromkeys(
                code.lower() if code.lower() == "france" else code.upper() for code in codes
            )
        )

    def validate(self, value):
        if self.required and not value:
            raise ValidationError(self.error_messages["required"], code="required")

    def run_validators(self, value):
        if not value:
            return
        communes = {c for c in value if len(c) == 5}
        sirens = {c for c in value if len(c) == 9}
        departements = {c for c in value if len(c) in (2, 3)}
        known = {"france"}
        known |= set(Commune.objects.filter(code__in=communes).values_list("code", flat=True))
        known |= set(Territory.objects.filter(siren__in=sirens).values_list("siren", flat=True))
        known |= set(
            Departement.objects.filter(code__in=departements).values_list("code", flat=True)
        )
        unknown = [code for code in value if code not in known]
        if unknown:
            raise ValidationError(
                "Code inconnu dans le référentiel : %(codes)s. Utilisez des codes INSEE de "
                "communes, des SIREN d'EPCI, des codes de départements ou « france ».",
                code="unknown_zone",
                params={"codes": ", ".join(unknown)},
            )

    def prepare_value(self, value):
        if isinstance(value, list):
            return " ".join(value)
        return value


class ServiceForm(ContactChannelsMixin, GroupedThematiquesMixin, StyledFormMixin, forms.ModelForm):
    email = forms.CharField(label="E-mail", required=False, max_length=254, widget=forms.EmailInput)
    postal_code = forms.CharField(
        label="Code postal",
        required=False,
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    mobilisation_url = forms.CharField(
        label="Lien de mobilisation", required=False, max_length=200, widget=forms.URLInput
    )

    reception_modes = forms.MultipleChoiceField(
        label="Modes d'accueil",
        choices=RECEPTION_MODES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    mobilisation_modes = forms.MultipleChoiceField(
        label="Modes de mobilisation",
        choices=MOBILISATION_MODES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    mobilisable_by = forms.MultipleChoiceField(
        label="Mobilisable par",
        choices=MOBILISABLE_BY,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    eligibility_zone = EligibilityZoneField(
        label="Zone d'éligibilité",
        required=False,
        help_text=(
            "Codes séparés par des espaces : codes INSEE de communes (22136), SIREN d'EPCI "
            "(200067460), codes de départements (22) ou « france »."
        ),
    )

    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "service_type",
            "publics",
            "publics_details",
            "fees",
            "fees_details",
            "reception_modes",
            "mobilisation_modes",
            "mobilisable_by",
            "mobilisation_details",
            "mobilisation_url",
            "eligibility_zone",
            "access_conditions",
            "contact_name",
            "email",
            "phone",
            "opening_hours",
            "address",
            "address_complement",
            "postal_code",
            "commune",
            "food_aid_kinds",
            "food_choice",
            "food_conditions",
            "is_itinerant",
        ]
        field_classes = {"commune": CommuneField}
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "publics_details": forms.Textarea(attrs={"rows": 2}),
            "fees_details": forms.Textarea(attrs={"rows": 2}),
            "mobilisation_details": forms.Textarea(attrs={"rows": 2}),
            "access_conditions": forms.Textarea(attrs={"rows": 3}),
            "publics": forms.CheckboxSelectMultiple,
            "food_aid_kinds": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "description": f"Ce que propose le service, en phrases courtes. {FREE_TEXT_WARNING}",
            "contact_name": (
                "Personne à contacter pour ce service. Ce nom n'est jamais affiché dans "
                "l'annuaire public."
            ),
            "opening_hours": f"Si vides, ce sont les horaires de la structure. {HOURS_HELP}",
            "address": "Si le service est rendu ailleurs qu'à l'adresse de la structure.",
            "is_itinerant": "Les arrêts et leurs horaires se renseignent après l'enregistrement.",
            "access_conditions": f"Prérequis, justificatifs. {FREE_TEXT_WARNING}",
        }

    def __init__(self, *args, user, categories, **kwargs):
        """``categories``: every Category row, read once by the view (one query)."""
        super().__init__(*args, **kwargs)
        by_kind: dict[str, list[Category]] = {}
        for category in sorted(categories, key=lambda c: c.label):
            by_kind.setdefault(category.kind, []).append(category)
        self.setup_thematiques(
            sorted(by_kind.get(Category.Kind.THEMATIQUE, []), key=lambda c: c.value)
        )
        for name, kind in (
            ("publics", Category.Kind.PUBLIC),
            ("food_aid_kinds", Category.Kind.FOOD_AID),
        ):
            field = self.fields[name]
            field.queryset = Category.objects.filter(kind=kind)
            field.choices = [(c.pk, c.label) for c in by_kind.get(kind, [])]
        self.fields["commune"].queryset = communes_in_scope(user)
        self.fields["commune"].required = False
        self.fields["commune"].help_text = "Si le service est rendu dans une autre commune."
        for name in ("service_type", "fees", "food_choice", "food_conditions"):
            self.fields[name].choices = [("", "Non précisé"), *self.fields[name].choices[1:]]
        instance = self.instance
        if instance.pk and not self.is_bound:
            self.initial["thematiques"] = [str(c.pk) for c in instance.thematiques.all()]
            if instance.commune_id:
                self.initial["commune"] = commune_label(instance.commune)
        self.apply_styles()

    def clean_mobilisation_url(self):
        return self._clean_url("mobilisation_url")


class ServiceEditForm(VersionedForm, ServiceForm):
    class Meta(ServiceForm.Meta):
        pass


class ServiceStopForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ServiceStop
        fields = ["commune", "address", "opening_hours"]
        field_classes = {"commune": CommuneField}
        help_texts = {"opening_hours": HOURS_HELP, "address": "Par exemple : place de la mairie."}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["commune"].queryset = communes_in_scope(user)

    def clean_opening_hours(self):
        return validate_opening_hours(self.cleaned_data.get("opening_hours") or "")


class ContactForm(ContactChannelsMixin, StyledFormMixin, forms.ModelForm):
    email = forms.CharField(label="E-mail", required=False, max_length=254, widget=forms.EmailInput)
    professional_only = forms.BooleanField(
        label=(
            "Cette personne est une ou un professionnel·le (ou bénévole) de la structure et a "
            "accepté de figurer dans l'annuaire privé de Tablée."
        ),
        required=True,
        error_messages={
            "required": (
                "Confirmez qu'il s'agit d'une ou d'un professionnel·le qui a donné son accord."
            )
        },
    )

    class Meta:
        model = Contact
        fields = ["full_name", "job_title", "email", "phone", "consent_given_on"]
        widgets = {"consent_given_on": DATE_WIDGET}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["consent_given_on"].required = True
        if self.instance.pk and not self.is_bound:
            self.initial["professional_only"] = True
        self.apply_styles()

    def clean_consent_given_on(self):
        value = self.cleaned_data.get("consent_given_on")
        if value and value > timezone.localdate():
            raise ValidationError("La date du consentement ne peut pas être dans le futur.")
        return value

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("professional_only", None)
        return data
