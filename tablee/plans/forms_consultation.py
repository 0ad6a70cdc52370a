"""Forms of the co-construction: sessions (with headcounts per stakeholder group), named
professionals, proposals, votes, list filters and the public proposal form."""

from django import forms

from tablee.core.forms import StyledFormMixin
from tablee.diagnostic.forms_records import (
    PRIVACY_HELP,
    HeadcountField,
    RecordForm,
    territory_structures,
)
from tablee.diagnostic.models import Need
from tablee.directory.models import Structure
from tablee.plans.models import ConsultationSession, Proposal, StakeholderGroup
from tablee.plans.services_consultation import MAX_VOTES, validate_session_date

GROUPS = list(StakeholderGroup)

PROPOSAL_HELP = (
    "Ne notez ni nom de personne, ni donnée de santé : décrivez une idée, pas une personne."
)


def count_field_name(group) -> str:
    return f"count_{group}"


def votes_field_name(group) -> str:
    return f"votes_{group}"


class SessionForm(RecordForm):
    structures = forms.ModelMultipleChoiceField(
        queryset=Structure.objects.none(),
        required=False,
        label="Structures représentées",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Choisissez des structures du territoire.",
            "invalid_pk_value": "Choisissez des structures du territoire.",
        },
    )

    class Meta:
        model = ConsultationSession
        fields = ["kind", "date", "title", "place", "notes"]
        widgets = {
            "date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 6}),
        }
        error_messages = {
            "date": {"required": "Indiquez la date de la séance."},
            "title": {"required": "Indiquez l'objet de la séance."},
        }

    def __init__(self, *args, programme_territory, user, **kwargs):
        super().__init__(*args, programme_territory=programme_territory, **kwargs)
        self.fields["structures"].queryset = territory_structures(user, programme_territory)
        self.fields["notes"].help_text = PRIVACY_HELP
        self.fields["place"].help_text = "Par exemple : salle du conseil, mairie de Loudéac."
        counts = {}
        if not self.instance._state.adding:
            if not self.is_bound:
                self.initial["structures"] = [s.pk for s in self.instance.structures.all()]
            counts = {c.group: c.count for c in self.instance.participant_counts.all()}
        for group in GROUPS:
            name = count_field_name(group)
            self.fields[name] = HeadcountField(label=group.label)
            self.initial.setdefault(name, counts.get(group.value, 0))
        self.apply_styles()

    def clean_date(self):
        day = self.cleaned_data["date"]
        validate_session_date(day, self.programme_territory)
        return day

    def count_fields(self):
        return [self[count_field_name(group)] for group in GROUPS]

    def service_kwargs(self) -> dict:
        """The cleaned data as the services take it: fields, structures and counts per group."""
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["counts"] = {group.value: data.pop(count_field_name(group)) for group in GROUPS}
        return data


class NamedParticipantForm(StyledFormMixin, forms.Form):
    full_name = forms.CharField(
        label="Nom et prénom",
        max_length=200,
        error_messages={"required": "Indiquez le nom et le prénom du ou de la professionnel·le."},
    )
    job_title = forms.CharField(label="Fonction", max_length=200, required=False)
    structure = forms.ModelChoiceField(
        label="Structure",
        queryset=Structure.objects.none(),
        required=False,
        empty_label="Aucune ou hors territoire",
        error_messages={"invalid_choice": "Choisissez une structure du territoire."},
    )
    consent = forms.BooleanField(
        label="Cette personne est un·e professionnel·le et a accepté d'être nommée",
        error_messages={
            "required": "Seul·es les professionnel·les qui l'acceptent sont nommé·es : cochez la "
            "case pour confirmer leur accord."
        },
    )

    def __init__(self, *args, programme_territory, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["structure"].queryset = territory_structures(user, programme_territory)


class ProposalForm(RecordForm):
    needs = forms.ModelMultipleChoiceField(
        queryset=Need.objects.none(),
        required=False,
        label="Besoins liés (issus du diagnostic)",
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": "Choisissez des besoins de ce territoire.",
            "invalid_pk_value": "Choisissez des besoins de ce territoire.",
        },
    )

    class Meta:
        model = Proposal
        fields = ["text", "origin_group", "session", "needs", "status"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}
        error_messages = {
            "text": {"required": "Écrivez la proposition : le texte ne peut pas être vide."},
            "origin_group": {"required": "Indiquez le groupe qui a fait la proposition."},
            "session": {"invalid_choice": "Choisissez une séance de ce territoire."},
        }

    def __init__(self, *args, programme_territory, may_edit: bool, **kwargs):
        super().__init__(*args, programme_territory=programme_territory, **kwargs)
        self.fields["text"].help_text = PROPOSAL_HELP
        group = self.fields["origin_group"]
        group.choices = [("", "Choisir un groupe"), *StakeholderGroup.choices]
        session = self.fields["session"]
        session.queryset = ConsultationSession.objects.filter(
            programme_territory=programme_territory
        )
        session.required = False
        session.empty_label = "Hors séance"
        session.label = "Séance"
        needs = self.fields["needs"]
        needs.queryset = (
            Need.objects.filter(programme_territory=programme_territory)
            .select_related("category")
            .order_by("category__position", "title")
        )
        needs.label_from_instance = lambda need: f"{need.title} ({need.category.label})"
        if not self.instance._state.adding and not self.is_bound:
            self.initial["needs"] = [n.pk for n in self.instance.needs.all()]
        if not may_edit:
            # Partners and the local authority propose; the coordination decides what follows.
            del self.fields["status"]
        self.apply_styles()

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class VotesForm(StyledFormMixin, forms.Form):
    """The votes (gommettes) a proposal received, one number per stakeholder group."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, proposal, **kwargs):
        super().__init__(*args, **kwargs)
        current = {v.group: v.votes for v in proposal.votes.all()}
        if not self.is_bound:
            self.initial["version"] = proposal.version
        for group in GROUPS:
            label = group.label
            out_of_range = (
                f"« {label} » : le nombre de voix doit être compris entre 0 et {MAX_VOTES}."
            )
            self.fields[votes_field_name(group)] = forms.IntegerField(
                label=label,
                required=False,
                min_value=0,
                max_value=MAX_VOTES,
                initial=current.get(group.value, 0),
                error_messages={
                    "invalid": f"« {label} » : indiquez un nombre entier (0 si aucune voix).",
                    "min_value": out_of_range,
                    "max_value": out_of_range,
                },
            )
        self.apply_styles()

    def vote_fields(self):
        return [self[votes_field_name(group)] for group in GROUPS]

    def votes(self) -> dict[str, int]:
        return {group.value: self.cleaned_data[votes_field_name(group)] or 0 for group in GROUPS}


# ---- Filters ----------------------------------------------------------------------------------


class ProposalFilterForm(StyledFormMixin, forms.Form):
    groupe = forms.ChoiceField(
        label="Proposée par",
        required=False,
        choices=[("", "Tous les groupes"), *StakeholderGroup.choices],
    )
    statut = forms.ChoiceField(
        label="Suite donnée", required=False, choices=[("", "Toutes")] + Proposal.Status.choices
    )
    seance = forms.ModelChoiceField(
        label="Séance",
        required=False,
        queryset=ConsultationSession.objects.none(),
        empty_label="Toutes",
    )

    def __init__(self, *args, programme_territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["seance"].queryset = ConsultationSession.objects.filter(
            programme_territory=programme_territory
        )

    def apply(self, proposals):
        """Filter ``proposals``; invalid filters (a session of another territory) filter nothing."""
        if not self.is_valid():
            return proposals
        data = self.cleaned_data
        if data["groupe"]:
            proposals = proposals.filter(origin_group=data["groupe"])
        if data["statut"]:
            proposals = proposals.filter(status=data["statut"])
        if data["seance"]:
            proposals = proposals.filter(session=data["seance"])
        return proposals

    @property
    def active(self) -> bool:
        return self.is_valid() and any(self.cleaned_data.values())


# ---- Public link ------------------------------------------------------------------------------


class PublicProposalForm(StyledFormMixin, forms.Form):
    text = forms.CharField(
        label="Votre proposition",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="2 000 caractères au plus.",
        error_messages={
            "required": "Écrivez votre proposition avant d'envoyer.",
            "max_length": "Votre proposition est trop longue : 2 000 caractères au plus "
            "(elle en compte %(show_value)d).",
        },
    )
