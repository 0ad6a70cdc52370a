"""Forms of the action plan: the plan, axes, actions with their budget, indicators, follow-up notes,
documents and comments, the validation of a version and the steering table's filters."""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.text import Truncator

from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.diagnostic.forms_records import PRIVACY_HELP, territory_structures
from tablee.diagnostic.models import Need
from tablee.diagnostic.services_records import check_attachment
from tablee.directory.models import Structure
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionComment,
    ActionIndicator,
    ActionPlan,
    ActionStatus,
    Axis,
    ConsultationSession,
    IndicatorMeasure,
    PlanValidation,
    ProgressUpdate,
    Proposal,
)
from tablee.plans.services_actions import (
    NEGATIVE_AMOUNT_ERROR,
    PROGRESS_ERROR,
    done_confirmation_label,
    validate_action_values,
    validate_code,
)
from tablee.territories.models import Audience

DATE_WIDGET = {"type": "date"}
# Django formats the messages of min_value and max_value with "%": the sign is doubled there.
PROGRESS_LIMIT_ERROR = PROGRESS_ERROR.replace("%", "%%")


def date_input():
    return forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d")


class ProgressField(forms.IntegerField):
    """A progress in % from 0 to 100, with one French message for every bad value."""

    def __init__(self, **kwargs):
        super().__init__(
            min_value=0,
            max_value=100,
            error_messages={
                "invalid": "Indiquez l'avancement en nombre entier, de 0 à 100.",
                "min_value": PROGRESS_LIMIT_ERROR,
                "max_value": PROGRESS_LIMIT_ERROR,
                "required": "Indiquez l'avancement (0 si l'action n'a pas commencé).",
            },
            **kwargs,
        )


class DoneConfirmationMixin:
    """A status "réalisée" below 100 % is saved only once the person ticks ``confirm_done``,
    whose label then states the progress."""

    def add_confirm_field(self):
        self.fields["confirm_done"] = forms.BooleanField(required=False, label="Confirmer")
        self.ask_confirm = False

    def check_values(self, cleaned, *, start_date=None, end_date=None):
        status, progress = cleaned.get("status"), cleaned.get("progress")
        if status == ActionStatus.DONE and progress is not None and 0 <= progress < 100:
            self.ask_confirm = True
            label = done_confirmation_label(progress)
            # The bound field was made (and its label copied) before clean() ran.
            self.fields["confirm_done"].label = label
            self["confirm_done"].label = label
        if progress is None or status is None:
            return
        try:
            validate_action_values(
                start_date=start_date,
                end_date=end_date,
                progress=progress,
                status=status,
                confirm_done=cleaned.get("confirm_done", False),
            )
        except ValidationError as error:
            for name, errors in error.error_dict.items():
                self.add_error(name, errors)


class PlanForm(StyledFormMixin, VersionedForm):
    class Meta:
        model = ActionPlan
        fields = ["title", "summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 4})}
        error_messages = {"title": {"required": "Donnez un titre au plan d'action."}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            del self.fields["version"]
        self.fields["summary"].help_text = PRIVACY_HELP


class AxisForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Axis
        fields = ["title", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}
        error_messages = {"title": {"required": "Donnez un intitulé à l'axe."}}

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        others = Axis.objects.filter(plan=self.plan, title=title)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise ValidationError(f"Le plan a déjà un axe « {title} ».")
        return title


class ProposalChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, proposal):
        return f"{Truncator(proposal.text).chars(120)} ({proposal.get_origin_group_display()})"


class NeedChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, need):
        return f"{need.title} ({need.category.label})"


class StructureChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, structure):
        return f"{structure.name} ({structure.commune.name})"


class ActionForm(DoneConfirmationMixin, StyledFormMixin, VersionedForm):
    audiences = forms.MultipleChoiceField(
        label="Publics visés",
        required=False,
        choices=Audience.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    needs = NeedChoiceField(
        queryset=Need.objects.none(),
        required=False,
        label="Besoins traités (diagnostic)",
        widget=forms.CheckboxSelectMultiple,
    )
    proposals = ProposalChoiceField(
        queryset=Proposal.objects.none(),
        required=False,
        label="Propositions d'origine (concertation)",
        widget=forms.CheckboxSelectMultiple,
    )
    pilots = StructureChoiceField(
        queryset=Structure.objects.none(),
        required=False,
        label="Structures pilotes",
        help_text="Au moins une structure pilote par action est nécessaire pour valider le plan.",
        widget=forms.CheckboxSelectMultiple,
    )
    partners = StructureChoiceField(
        queryset=Structure.objects.none(),
        required=False,
        label="Partenaires",
        widget=forms.CheckboxSelectMultiple,
    )
    progress = ProgressField(label="Avancement (%)", initial=0)

    class Meta:
        model = Action
        fields = [
            "code",
            "title",
            "axis",
            "description",
            "objectives",
            "elected_referent",
            "pat_axis",
            "participation_level",
            "start_date",
            "end_date",
            "status",
            "priority",
            "progress",
            "weight",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 4}),
            "objectives": forms.Textarea(attrs={"rows": 3}),
            "start_date": date_input(),
            "end_date": date_input(),
        }
        error_messages = {
            "code": {"required": "Donnez un code à l'action, par exemple A1."},
            "title": {"required": "Donnez un intitulé à l'action."},
            "start_date": {"invalid": "Indiquez une date de début valide (jj/mm/aaaa)."},
            "end_date": {"invalid": "Indiquez une date de fin valide (jj/mm/aaaa)."},
            "weight": {
                "min_value": "Le poids est un nombre de 1 à 10.",
                "max_value": "Le poids est un nombre de 1 à 10.",
                "invalid": "Le poids est un nombre de 1 à 10.",
            },
        }

    def __init__(self, *args, plan, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.plan = plan
        pt = plan.programme_territory
        if self.instance._state.adding:
            del self.fields["version"]
        else:
            # StyledFormMixin marks fields in error through their class: a form posted without
            # its version must come back with an error, not fail.
            self.fields["version"].widget.attrs.setdefault("class", "")
        axis = self.fields["axis"]
        axis.queryset = Axis.objects.filter(plan=plan)
        axis.empty_label = "Sans axe"
        self.fields["needs"].queryset = (
            Need.objects.filter(programme_territory=pt)
            .select_related("category")
            .order_by("-severity", "title")
        )
        self.fields["proposals"].queryset = Proposal.objects.filter(
            programme_territory=pt
        ).order_by("-created_at")
        structures = territory_structures(user, pt)
        self.fields["pilots"].queryset = structures
        self.fields["partners"].queryset = structures
        if not self.instance._state.adding and not self.is_bound:
            action = self.instance
            self.initial["audiences"] = list(action.audiences)
            self.initial["needs"] = [n.pk for n in action.needs.all()]
            self.initial["proposals"] = [p.pk for p in action.proposals.all()]
            self.initial["pilots"] = [s.pk for s in action.pilots.all()]
            self.initial["partners"] = [s.pk for s in action.partners.all()]
        self.fields["description"].help_text = PRIVACY_HELP
        self.fields[
            "elected_referent"
        ].help_text = "Sa fonction suffit, par exemple « vice-président·e solidarités »."
        self.add_confirm_field()
        self.apply_styles()

    def clean_code(self):
        code = self.cleaned_data["code"].strip()
        try:
            validate_code(
                self.plan,
                code,
                exclude_pk=None if self.instance._state.adding else self.instance.pk,
            )
        except ValidationError as error:
            raise ValidationError(error.message_dict["code"]) from None
        return code

    def clean(self):
        cleaned = super().clean()
        self.check_values(
            cleaned, start_date=cleaned.get("start_date"), end_date=cleaned.get("end_date")
        )
        return cleaned

    def _post_clean(self):
        # The model's own validation needs the plan, which the form does not show.
        self.instance.plan = self.plan
        super()._post_clean()

    def service_data(self) -> dict:
        """The cleaned values as keyword arguments of the services, lists for the links."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for name in ("needs", "proposals", "pilots", "partners"):
            data[name] = list(data[name])
        return data


class BudgetLineForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ActionBudgetLine
        fields = ["year", "funder", "planned", "spent"]
        error_messages = {
            "year": {
                "required": "Indiquez l'année.",
                "min_value": "Indiquez une année entre 2000 et 2100.",
                "max_value": "Indiquez une année entre 2000 et 2100.",
                "invalid": "Indiquez une année en chiffres, par exemple 2025.",
            },
            "funder": {"required": "Indiquez le financeur."},
            "planned": {
                "required": "Indiquez le montant prévu (0 s'il n'y en a pas).",
                "invalid": "Indiquez un montant en euros, par exemple 1500 ou 1500,50.",
                "min_value": NEGATIVE_AMOUNT_ERROR.format(label="prévu"),
            },
            "spent": {
                "invalid": "Indiquez un montant en euros, par exemple 1500 ou 1500,50.",
                "min_value": NEGATIVE_AMOUNT_ERROR.format(label="dépensé"),
            },
        }

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        self.fields["spent"].required = False
        # A text input rather than a number input: the browser would refuse a negative amount
        # silently, where the server says why.
        localize_decimals(self, "planned", "spent")

    def clean_planned(self):
        return self._not_negative("planned", "prévu")

    def clean_spent(self):
        value = self.cleaned_data.get("spent")
        if value is None:
            return 0
        return self._not_negative("spent", "dépensé")

    def _not_negative(self, name, label):
        value = self.cleaned_data.get(name)
        if value is not None and value < 0:
            raise ValidationError(NEGATIVE_AMOUNT_ERROR.format(label=label))
        return value

    def clean(self):
        cleaned = super().clean()
        year, funder = cleaned.get("year"), (cleaned.get("funder") or "").strip()
        if year and funder:
            others = ActionBudgetLine.objects.filter(action=self.action, year=year, funder=funder)
            if self.instance.pk:
                others = others.exclude(pk=self.instance.pk)
            if others.exists():
                self.add_error(
                    "funder",
                    f"Une ligne existe déjà pour « {funder} » en {year} : modifiez-la plutôt "
                    "que d'en ajouter une autre.",
                )
        return cleaned

    def _post_clean(self):
        self.instance.action = self.action
        super()._post_clean()


def localize_decimals(form, *names):
    """French decimals: "1500,50" is accepted and shown with a comma."""
    for name in names:
        field = form.fields[name]
        field.localize = True
        field.widget = forms.TextInput(
            attrs={**field.widget.attrs, "inputmode": "decimal", "class": "form-control"}
        )
        field.widget.is_localized = True


class IndicatorForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ActionIndicator
        fields = ["label", "unit", "baseline", "target"]
        labels = {"label": "Indicateur"}
        error_messages = {
            "label": {"required": "Nommez l'indicateur."},
            "baseline": {"invalid": "Indiquez un nombre, par exemple 12 ou 12,5."},
            "target": {"invalid": "Indiquez un nombre, par exemple 12 ou 12,5."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        localize_decimals(self, "baseline", "target")


class MeasureForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = IndicatorMeasure
        fields = ["date", "value", "note"]
        widgets = {"date": date_input()}
        error_messages = {
            "date": {
                "required": "Indiquez la date de la mesure.",
                "invalid": "Indiquez une date valide.",
            },
            "value": {
                "required": "Indiquez la valeur mesurée.",
                "invalid": "Indiquez un nombre, par exemple 12 ou 12,5.",
            },
        }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        localize_decimals(self, "value")


class ProgressUpdateForm(DoneConfirmationMixin, StyledFormMixin, forms.ModelForm):
    """A follow-up note; it carries the version of the action, whose status and progress it sets."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    progress = ProgressField(label="Avancement (%)")

    class Meta:
        model = ProgressUpdate
        fields = ["date", "status", "progress", "note"]
        widgets = {"date": date_input(), "note": forms.Textarea(attrs={"rows": 5})}
        error_messages = {
            "date": {"required": "Indiquez la date.", "invalid": "Indiquez une date valide."},
            "note": {"required": "Écrivez la note de suivi."},
        }

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        if not self.is_bound:
            self.initial.update(
                {
                    "version": action.version,
                    "date": timezone.localdate(),
                    "status": action.status,
                    "progress": action.progress,
                }
            )
        self.fields["version"].widget.attrs.setdefault("class", "")
        self.fields["note"].help_text = PRIVACY_HELP
        self.add_confirm_field()
        self.apply_styles()

    def clean(self):
        cleaned = super().clean()
        self.check_values(cleaned)
        return cleaned

    def _post_clean(self):
        self.instance.action = self.action
        super()._post_clean()


class DocumentForm(StyledFormMixin, forms.Form):
    file = forms.FileField(
        label="Document",
        help_text="PDF, image (PNG, JPEG) ou document bureautique (DOCX, XLSX, ODT, ODS). Le "
        "type est vérifié d'après le contenu du fichier.",
        error_messages={"required": "Choisissez un fichier."},
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_attachment(upload)
        return upload


class CommentForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = ActionComment
        fields = ["text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        error_messages = {
            "text": {
                "required": "Écrivez votre commentaire.",
                "max_length": "Le commentaire est trop long (2 000 caractères au plus).",
            }
        }


class CommitteeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, session):
        return f"{session.title} ({session.date:%d/%m/%Y})"


class ValidationForm(StyledFormMixin, forms.ModelForm):
    committee = CommitteeChoiceField(
        queryset=ConsultationSession.objects.none(),
        required=False,
        label="Comité de pilotage",
        empty_label="Aucun (validation hors comité)",
    )

    class Meta:
        model = PlanValidation
        fields = ["date", "committee", "validated_by"]
        widgets = {"date": date_input()}
        error_messages = {
            "date": {
                "required": "Indiquez la date de validation.",
                "invalid": "Indiquez une date valide.",
            },
            "validated_by": {"required": "Indiquez qui a validé le plan."},
        }

    def __init__(self, *args, programme_territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["committee"].queryset = ConsultationSession.objects.filter(
            programme_territory=programme_territory, kind=ConsultationSession.Kind.STEERING
        ).order_by("-date")
        if not self.is_bound:
            self.initial.setdefault("date", timezone.localdate())


# ---- Steering filters -------------------------------------------------------------------------


class NeedFilterChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, need):
        return need.title


class SteeringFilterForm(StyledFormMixin, forms.Form):
    """The column filters of the steering table; French names in the address."""

    statut = forms.ChoiceField(
        label="Statut", required=False, choices=[("", "Tous"), *ActionStatus.choices]
    )
    pilote = forms.ModelChoiceField(
        label="Structure pilote",
        required=False,
        queryset=Structure.objects.none(),
        empty_label="Toutes",
    )
    public = forms.ChoiceField(
        label="Public visé", required=False, choices=[("", "Tous"), *Audience.choices]
    )
    besoin = NeedFilterChoiceField(
        label="Besoin traité", required=False, queryset=Need.objects.none(), empty_label="Tous"
    )
    axe = forms.ChoiceField(label="Axe", required=False)
    annee = forms.TypedChoiceField(label="Année", required=False, coerce=int, empty_value=None)

    def __init__(self, *args, plan, user, axes, **kwargs):
        super().__init__(*args, **kwargs)
        pt = plan.programme_territory
        self.axes = {str(axis.pk): axis for axis in axes}
        self.fields["axe"].choices = [
            ("", "Tous"),
            *((str(axis.pk), axis.title) for axis in axes),
            ("aucun", "Sans axe"),
        ]
        self.fields["pilote"].queryset = (
            territory_structures(user, pt).filter(piloted_actions__plan=plan).distinct()
        )
        self.fields["besoin"].queryset = (
            Need.objects.filter(programme_territory=pt, actions__plan=plan)
            .distinct()
            .order_by("title")
        )
        programme = pt.programme
        years = range(programme.start_date.year, programme.end_date.year + 1)
        self.fields["annee"].choices = [("", "Toutes"), *((y, str(y)) for y in years)]

    def filters(self) -> dict:
        """Keyword arguments of ``selectors.filter_actions``."""
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        axis = data["axe"]
        return {
            "status": data["statut"] or None,
            "pilot": data["pilote"],
            "audience": data["public"] or None,
            "need": data["besoin"],
            "axis": "none" if axis == "aucun" else self.axes.get(axis),
            "year": data["annee"],
        }

    def querystring(self) -> str:
        """The filters in use, for sorting and pagination links."""
        if not self.is_valid():
            return ""
        pairs = []
        for name, value in self.cleaned_data.items():
            if value in (None, ""):
                continue
            pairs.append((name, getattr(value, "pk", value)))
        return urlencode(pairs)

    @property
    def is_filtered(self) -> bool:
        return bool(self.querystring())
