from django import forms

from tablee.core.forms import StyledFormMixin
from tablee.diagnostic import fies
from tablee.diagnostic.models import Answer, Survey


class SurveyForm(StyledFormMixin, forms.ModelForm):
    class Meta:
        model = Survey
        fields = ["title"]
        help_texts = {
            "title": "Par exemple : « Distribution alimentaire de Loudéac, printemps 2026 ».",
        }


class FiesAnswersForm(forms.Form):
    """The eight FIES questions, each answered yes / no / don't know or refuse.

    ``submission_token`` is the one-time token of this copy of the form: the view makes it and
    checks it; the same token twice is the same submission.
    """

    # Not required here: a missing or altered token is refused by the view with a page-level
    # message ("rechargez la page"), which a person sees, unlike an error on a hidden field.
    submission_token = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for number, (field, question) in enumerate(
            zip(fies.FIELDS, fies.QUESTIONS, strict=True), start=1
        ):
            message = (
                f"Question {number} : choisissez « Oui », « Non » ou « Ne sait pas ou refuse de "
                "répondre »."
            )
            self.fields[field] = forms.ChoiceField(
                label=f"{number}. {question}",
                choices=Answer.choices,
                widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                error_messages={"required": message, "invalid_choice": message},
            )

    @property
    def question_fields(self):
        return [self[field] for field in fies.FIELDS]

    def answers(self) -> dict[str, str]:
        return {field: self.cleaned_data[field] for field in fies.FIELDS}
