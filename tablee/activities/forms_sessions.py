"""Forms of the catalogue and the sessions: formats, a session or a series, a status change, and
the filters of the session lists (GET parameters shared with the reports' links)."""

import datetime
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.utils import timezone

from tablee.accounts.models import User
from tablee.activities.models import MAX_HEADCOUNT, ActivityFormat, Session
from tablee.activities.selectors import filter_sessions
from tablee.activities.services_sessions import (
    MAX_OCCURRENCES,
    TRANSITIONS,
    Repeat,
    eligible_facilitators,
    territory_actions,
    territory_structures_for_sessions,
    validate_capacity,
    validate_session_date,
)
from tablee.core.concurrency import VersionedForm
from tablee.core.forms import StyledFormMixin
from tablee.plans.models import Action
from tablee.territories.models import Audience, Commune, SessionKind

PRIVACY_HELP = (
    "Ni nom de personne accompagnée, ni donnée de santé, ni détail qui permette de la reconnaître."
)
DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_WIDGET = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class CatalogueForm(StyledFormMixin, VersionedForm):
    """A versioned form whose version is carried on edit only (a new record has none yet)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            del self.fields["version"]
        else:
            # A form posted without its version comes back with an error instead of failing.
            self.fields["version"].widget.attrs.setdefault("class", "")


class ActivityFormatForm(CatalogueForm):
    class Meta:
        model = ActivityFormat
        fields = [
            "name",
            "kind",
            "audience",
            "duration_minutes",
            "objectives",
            "materials",
            "description",
            "is_active",
        ]
        widgets = {
            "objectives": forms.Textarea(attrs={"rows": 3}),
            "materials": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 5}),
        }
        error_messages = {
            "name": {"required": "Donnez un nom au format."},
            "kind": {"required": "Choisissez le type : atelier ou formation."},
            "audience": {"required": "Choisissez le public du format."},
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        duration = self.fields["duration_minutes"]
        out_of_range = "La durée doit être comprise entre 15 minutes et 24 heures (1440 minutes)."
        duration.min_value, duration.max_value = 15, 1440
        duration.error_messages.update(
            {
                "min_value": out_of_range,
                "max_value": out_of_range,
                "invalid": "Indiquez la durée en minutes (un nombre entier).",
                "required": "Indiquez la durée en minutes.",
            }
        )
        self.fields["kind"].choices = [("", "Choisir un type"), *SessionKind.choices]
        self.fields["audience"].choices = [("", "Choisir un public"), *Audience.choices]
        self.fields["description"].help_text = PRIVACY_HELP
        self.apply_styles()


class SessionForm(CatalogueForm):
    """A session (or, on creation, a series). Kind, audience, title and end time default to the
    format's; the place is a structure of the territory, or an address with its commune."""

    date = forms.DateField(
        label="Date",
        widget=DATE_WIDGET,
        error_messages={
            "required": "Indiquez la date de la séance.",
            "invalid": "Indiquez une date valide, par exemple 14/03/2025.",
        },
    )
    start_time = forms.TimeField(
        label="Heure de début",
        widget=TIME_WIDGET,
        error_messages={
            "required": "Indiquez l'heure de début.",
            "invalid": "Indiquez une heure valide, par exemple 14:00.",
        },
    )
    end_time = forms.TimeField(
        label="Heure de fin",
        required=False,
        widget=TIME_WIDGET,
        help_text="Laissée vide, elle est calculée d'après la durée du format.",
        error_messages={"invalid": "Indiquez une heure valide, par exemple 16:00."},
    )
    capacity = forms.IntegerField(
        label="Nombre de places",
        required=False,
        min_value=1,
        max_value=MAX_HEADCOUNT,
        help_text="Laisser vide s'il n'y a pas de limite.",
        error_messages={
            "min_value": f"Le nombre de places doit être compris entre 1 et {MAX_HEADCOUNT}.",
            "max_value": f"Le nombre de places doit être compris entre 1 et {MAX_HEADCOUNT}.",
            "invalid": "Indiquez un nombre de places entier.",
        },
    )
    repeat = forms.ChoiceField(label="Répéter", required=False, choices=Repeat.CHOICES)
    occurrences = forms.IntegerField(
        label="Nombre de séances de la série",
        required=False,
        min_value=2,
        max_value=MAX_OCCURRENCES,
        error_messages={
            "min_value": f"Une série compte de 2 à {MAX_OCCURRENCES} séances.",
            "max_value": f"Une série compte de 2 à {MAX_OCCURRENCES} séances.",
            "invalid": "Indiquez un nombre de séances entier.",
        },
    )
    confirm_overlap = forms.BooleanField(
        label="Je confirme : enregistrer malgré le chevauchement", required=False
    )

    class Meta:
        model = Session
        fields = [
            "format",
            "kind",
            "audience",
            "title",
            "capacity",
            "place_structure",
            "place_address",
            "commune",
            "facilitators",
            "external_facilitators",
            "host_structures",
            "partner_structures",
            "action",
            "registration_open",
            "notes",
        ]
        widgets = {
            "facilitators": forms.CheckboxSelectMultiple,
            "host_structures": forms.CheckboxSelectMultiple,
            "partner_structures": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
        error_messages = {"format": {"required": "Choisissez un format du catalogue."}}

    def __init__(self, *args, programme_territory, **kwargs):
        super().__init__(*args, **kwargs)
        self.programme_territory = programme_territory
        programme = programme_territory.programme
        session = self.instance
        editing = not session._state.adding
        if editing:
            del self.fields["repeat"], self.fields["occurrences"]
            if not self.is_bound:
                start = timezone.localtime(session.starts_at)
                end = timezone.localtime(session.ends_at)
                self.initial.update(
                    {"date": start.date(), "start_time": start.time(), "end_time": end.time()}
                )
        formats = ActivityFormat.objects.filter(programme=programme, is_active=True)
        if editing and session.format_id:
            # A format withdrawn from the catalogue stays valid on its sessions.
            formats = formats | ActivityFormat.objects.filter(pk=session.format_id)
        fields = self.fields
        fields["format"].queryset = formats.order_by("name")
        fields["format"].empty_label = "Choisir un format"
        fields["kind"].required = False
        fields["kind"].choices = [("", "Celui du format"), *SessionKind.choices]
        fields["audience"].required = False
        fields["audience"].choices = [("", "Celui du format"), *Audience.choices]
        fields["title"].required = False
        fields["title"].help_text = "Laissé vide, c'est le nom du format."
        structures = territory_structures_for_sessions(programme_territory)
        fields["place_structure"].queryset = structures
        fields["place_structure"].empty_label = "Aucune (adresse ci-dessous)"
        fields["commune"].queryset = Commune.objects.filter(
            territory_id=programme_territory.territory_id
        ).order_by("name")
        fields["commune"].empty_label = "Choisir une commune"
        fields["commune"].help_text = "La commune de l'adresse, dans l'EPCI."
        facilitators = eligible_facilitators(programme_territory)
        if editing:
            # Someone who left the coordination stays on the sessions they facilitated.
            facilitators = User.objects.filter(
                Q(pk__in=facilitators.values("pk")) | Q(pk__in=session.facilitators.values("pk"))
            ).order_by("full_name", "email")
        fields["facilitators"].queryset = facilitators
        fields["facilitators"].label = "Animateur·ices (membres de la coordination)"
        fields["host_structures"].queryset = structures
        fields["partner_structures"].queryset = structures
        fields["action"].queryset = territory_actions(programme_territory)
        fields["action"].empty_label = "Aucune"
        fields["notes"].help_text = PRIVACY_HELP
        self.apply_styles()

    def clean(self):
        data = super().clean()
        programme = self.programme_territory.programme
        activity_format = data.get("format")
        if activity_format:
            for name, value in (
                ("kind", activity_format.kind),
                ("audience", activity_format.audience),
                ("title", activity_format.name),
            ):
                if not data.get(name):
                    data[name] = value
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day:
            try:
                validate_session_date(day, programme)
            except forms.ValidationError as error:
                self.add_error("date", error)
        if day and start:
            starts_at = timezone.make_aware(datetime.datetime.combine(day, start))
            ends_at = None
            if end:
                ends_at = timezone.make_aware(datetime.datetime.combine(day, end))
                if ends_at <= starts_at:
                    self.add_error(
                        "end_time", "L'heure de fin doit être postérieure à l'heure de début."
                    )
            elif activity_format:
                ends_at = starts_at + datetime.timedelta(minutes=activity_format.duration_minutes)
            data["starts_at"], data["ends_at"] = starts_at, ends_at
        if not data.get("place_structure"):
            if not (data.get("place_address") or "").strip():
                self.add_error(
                    "place_address",
                    "Indiquez le lieu : une structure de l'annuaire, ou une adresse et sa commune.",
                )
            elif not data.get("commune"):
                self.add_error("commune", "Indiquez la commune de l'adresse.")
        if "capacity" in data and not self.instance._state.adding:
            try:
                validate_capacity(data["capacity"], self.confirmed_registrations())
            except forms.ValidationError as error:
                self.add_error("capacity", error)
        if data.get("repeat") and not data.get("occurrences"):
            self.add_error(
                "occurrences",
                f"Indiquez le nombre de séances de la série (de 2 à {MAX_OCCURRENCES}).",
            )
        audience = data.get("audience")
        if data.get("registration_open") and audience == Audience.PEOPLE:
            self.add_error(
                "registration_open",
                "Les inscriptions nominatives sont réservées aux professionnel·les, aux bénévoles "
                "et aux élu·es.",
            )
        return data

    def confirmed_registrations(self) -> int:
        from tablee.activities.selectors import confirmed_registrations

        return confirmed_registrations(self.instance)

    def service_data(self) -> dict:
        """The cleaned data as the services take it."""
        data = dict(self.cleaned_data)
        for name in ("date", "start_time", "end_time"):
            data.pop(name, None)
        data.pop("version", None)
        if not data.get("repeat"):
            data.pop("repeat", None)
            data.pop("occurrences", None)
        return data


class SessionStatusForm(StyledFormMixin, forms.Form):
    """A status change: held, cancelled (reason), postponed (reason, optional new date), planned."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    status = forms.ChoiceField(
        label="Nouveau statut",
        error_messages={
            "required": "Choisissez un statut.",
            "invalid_choice": "Ce changement de statut n'est pas possible pour cette séance.",
        },
    )
    reason = forms.CharField(
        label="Motif",
        required=False,
        max_length=300,
        help_text="Obligatoire pour une annulation ou un report. " + PRIVACY_HELP,
    )
    new_date = forms.DateField(
        label="Nouvelle date (report)",
        required=False,
        widget=DATE_WIDGET,
        help_text="Facultative : la séance garde son heure. Sans date, elle reste à reprogrammer.",
        error_messages={"invalid": "Indiquez une date valide, par exemple 14/03/2025."},
    )

    LABELS = {
        Session.Status.HELD: "Réalisée",
        Session.Status.CANCELLED: "Annulée",
        Session.Status.POSTPONED: "Reportée",
        Session.Status.PLANNED: "Programmée (reprogrammer)",
    }

    def __init__(self, *args, session: Session, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session
        allowed = TRANSITIONS.get(session.status, [])
        self.fields["status"].choices = [("", "Choisir"), *((s, self.LABELS[s]) for s in allowed)]
        if not self.is_bound:
            self.initial.setdefault("version", session.version)
        self.fields["version"].widget.attrs.setdefault("class", "")
        self.apply_styles()

    def clean(self):
        data = super().clean()
        status = data.get("status")
        if status in (Session.Status.CANCELLED, Session.Status.POSTPONED):
            if not (data.get("reason") or "").strip():
                word = "de l'annulation" if status == Session.Status.CANCELLED else "du report"
                self.add_error("reason", f"Indiquez le motif {word}.")
        if data.get("new_date") and status != Session.Status.POSTPONED:
            self.add_error("new_date", "Une nouvelle date ne s'indique que pour un report.")
        return data


# ---- Filters of the session lists ---------------------------------------------------------------


class SessionFilterForm(StyledFormMixin, forms.Form):
    """The GET filters of the session lists. An invalid value (an unknown status, a format of
    another programme...) shows no session rather than all of them: a figure linked to this
    list must never be contradicted by it."""

    statut = forms.MultipleChoiceField(
        label="Statut",
        required=False,
        choices=Session.Status.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    public = forms.ChoiceField(label="Public", required=False)
    annee = forms.TypedChoiceField(label="Année", required=False, coerce=int, empty_value=None)
    type = forms.ChoiceField(label="Type", required=False)
    format = forms.ModelChoiceField(
        label="Format", required=False, queryset=ActivityFormat.objects.none(), empty_label="Tous"
    )
    action = forms.ModelChoiceField(
        label="Action du plan", required=False, queryset=Action.objects.none(), empty_label="Toutes"
    )
    territoire = forms.ModelChoiceField(
        label="Territoire", required=False, queryset=None, empty_label="Tous"
    )

    def __init__(self, *args, programme, programme_territory=None, territories=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["public"].choices = [("", "Tous"), *Audience.choices]
        self.fields["type"].choices = [("", "Tous"), *SessionKind.choices]
        self.fields["annee"].choices = [("", "Toutes"), *((y, str(y)) for y in programme.years)]
        self.fields["format"].queryset = ActivityFormat.objects.filter(programme=programme)
        if programme_territory is not None:
            self.fields["action"].queryset = territory_actions(programme_territory)
            del self.fields["territoire"]
        else:
            self.fields["action"].queryset = Action.objects.filter(
                plan__programme_territory__in=territories
            ).order_by("code")
            territoire = self.fields["territoire"]
            territoire.queryset = territories.select_related("territory")
            territoire.label_from_instance = lambda pt: pt.territory.name
        self.apply_styles()

    def is_filtered(self) -> bool:
        return bool(self.querystring())

    def apply(self, sessions):
        if not self.is_valid():
            return sessions.none()
        data = self.cleaned_data
        territory = data.get("territoire")
        return filter_sessions(
            sessions,
            statuses=data["statut"],
            audience=data["public"],
            year=data["annee"],
            kind=data["type"],
            format_id=data["format"].pk if data["format"] else None,
            action_id=data["action"].pk if data["action"] else None,
            programme_territory_id=territory.pk if territory else None,
        )

    def querystring(self) -> str:
        """The filters in use, for pagination, sorting and export links."""
        if not self.is_valid():
            return ""
        pairs = []
        for name, value in self.cleaned_data.items():
            if value in (None, "", []):
                continue
            for item in value if isinstance(value, list) else [value]:
                pairs.append((name, getattr(item, "pk", item)))
        return urlencode(pairs)
