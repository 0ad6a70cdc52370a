"""The short questionnaire of a session, answered on a phone or typed from paper."""

from django import forms

from tablee.activities.models import Evaluation
from tablee.activities.services_evaluations import MAX_TEXT
from tablee.core.forms import StyledFormMixin

SATISFACTION_CHOICES = [
    ("1", "1 — Pas du tout satisfait·e"),
    ("2", "2 — Peu satisfait·e"),
    ("3", "3 — Moyennement satisfait·e"),
    ("4", "4 — Satisfait·e"),
    ("5", "5 — Très satisfait·e"),
]
SATISFACTION_MESSAGE = "Choisissez une satisfaction de 1 (pas du tout) à 5 (tout à fait)."
INTENTION_MESSAGE = (
    "Répondez « Oui », « Peut-être » ou « Non », ou laissez la question sans réponse."
)
PRIVACY_HELP = (
    "N'écrivez ni nom de personne, ni information sur votre santé ou sur celle de quelqu'un "
    "d'autre."
)


def _text_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=PRIVACY_HELP,
        error_messages={
            "max_length": f"{MAX_TEXT} caractères au plus (ce texte en compte %(show_value)d)."
        },
    )


class EvaluationForm(StyledFormMixin, forms.Form):
    """Satisfaction (required), what was learnt, intention to change a practice, comment.

    ``submission_token`` is the one-time token of this copy of the form: the view checks it, and
    refuses a missing or altered one with a page-level message a person can see.
    """

    submission_token = forms.CharField(widget=forms.HiddenInput, required=False)
    satisfaction = forms.TypedChoiceField(
        label="Êtes-vous satisfait·e de cette séance ?",
        choices=SATISFACTION_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": SATISFACTION_MESSAGE, "invalid_choice": SATISFACTION_MESSAGE},
    )
    learnt = _text_field("Qu'avez-vous appris ?")
    intends_to_change = forms.ChoiceField(
        label="Pensez-vous changer quelque chose dans vos habitudes ou vos pratiques ?",
        choices=Evaluation.Intention.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": INTENTION_MESSAGE},
    )
    comment = _text_field("Un commentaire, une idée ?")

    def answer(self) -> dict:
        return {
            "satisfaction": self.cleaned_data["satisfaction"],
            "learnt": self.cleaned_data["learnt"],
            "intends_to_change": self.cleaned_data["intends_to_change"],
            "comment": self.cleaned_data["comment"],
        }


class ResultsFilterForm(StyledFormMixin, forms.Form):
    """The filters of the results page (GET): a year of the programme, one of the territories the
    reader may see. Unknown values are ignored rather than refused: the page shows everything."""

    annee = forms.TypedChoiceField(label="Année", required=False, coerce=int, empty_value=None)
    territoire = forms.ChoiceField(label="Territoire", required=False)

    def __init__(self, data, *, years, territories):
        super().__init__(data)
        self.fields["annee"].choices = [("", "Toutes les années")] + [(y, str(y)) for y in years]
        self.fields["territoire"].choices = [("", "Tous les territoires")] + [
            (str(pt.pk), pt.territory.name) for pt in territories
        ]

    def filters(self) -> tuple[int | None, str]:
        """(year or None, programme territory id or ""): each filter when its value is valid."""
        if not self.is_bound:
            return None, ""
        self.is_valid()
        return self.cleaned_data.get("annee"), self.cleaned_data.get("territoire") or ""
