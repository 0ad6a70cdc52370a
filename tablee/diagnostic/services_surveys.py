"""Writes of the FIES questionnaires: create, open or close, record one set of answers.

Answers are anonymous: a response holds the eight answers, the channel and a one-time submission
token, nothing about who answered. Answers typed by a facilitator are audited (ids only); answers
given through the public link are not, one by one: the counts stay cheap and the audit trail
holds no trace of the people who answered.
"""

import secrets

from django.core.exceptions import ValidationError
from django.core.signing import BadSignature, Signer
from django.db import IntegrityError, transaction
from django.db.models import Count

from tablee.diagnostic import fies
from tablee.diagnostic.audit import diagnostic_changed as _changed
from tablee.diagnostic.models import Survey, SurveyResponse


class DuplicateSubmission(Exception):
    """The same submission token was already recorded: the answers are not written twice."""


class SurveyClosed(Exception):
    """The questionnaire no longer takes answers through its public link."""


@transaction.atomic
def survey_create(*, programme_territory, title: str, acting_user) -> Survey:
    """Create a questionnaire of a programme territory, open to answers."""
    survey = Survey(programme_territory=programme_territory, title=title, created_by=acting_user)
    survey.full_clean()
    survey.save()
    _changed(
        acting_user=acting_user,
        pt_id=programme_territory.pk,
        action="survey_create",
        survey=survey.pk,
    )
    return survey


@transaction.atomic
def survey_set_open(*, survey: Survey, is_open: bool, acting_user) -> Survey:
    """Open or close the public link of a questionnaire."""
    Survey.objects.filter(pk=survey.pk).update(is_open=is_open)
    survey.is_open = is_open
    _changed(
        acting_user=acting_user,
        pt_id=survey.programme_territory_id,
        action="survey_open" if is_open else "survey_close",
        survey=survey.pk,
    )
    return survey


def response_record(
    *,
    survey: Survey,
    answers: dict[str, str],
    channel: str,
    submission_token: str,
    acting_user=None,
) -> SurveyResponse:
    """Record one set of answers ({"q1": "yes", …, "q8": "refused"}).

    Raises ValidationError (French, naming the question) when an answer is missing or not
    yes / no / refused, SurveyClosed when an online answer reaches a closed questionnaire (paper
    answers may be typed in after closing), DuplicateSubmission when ``submission_token`` was
    already used. Nothing is written in any of these cases.
    """
    if channel not in SurveyResponse.Channel.values:
        raise ValueError(f"unknown channel: {channel!r}")
    errors = fies.answer_errors(answers)
    if errors:
        raise ValidationError(errors)
    if not submission_token or len(submission_token) > 64:
        raise ValidationError("Le jeton de saisie est invalide.", code="bad_token")
    try:
        with transaction.atomic():
            if channel == SurveyResponse.Channel.ONLINE:
                # Read again inside the transaction: closing wins over an answer under way.
                if not Survey.objects.filter(pk=survey.pk, is_open=True).exists():
                    raise SurveyClosed
            if SurveyResponse.objects.filter(submission_token=submission_token).exists():
                raise DuplicateSubmission
            response = SurveyResponse(
                survey=survey,
                channel=channel,
                submission_token=submission_token,
                **{field: answers[field] for field in fies.FIELDS},
            )
            response.save()
            if acting_user is not None:
                _changed(
                    acting_user=acting_user,
                    pt_id=survey.programme_territory_id,
                    action="survey_response_record",
                    survey=survey.pk,
                    response=response.pk,
                )
    except IntegrityError as exc:
        # Two identical submissions at the same instant: the unique token keeps only one.
        raise DuplicateSubmission from exc
    return response


def results_for(responses) -> fies.Results:
    """The results of a SurveyResponse queryset, in one query (scores counted by the database)."""
    rows = (
        responses.order_by()
        .values("raw_score")
        .annotate(answers=Count("pk"))
        .values_list("raw_score", "answers")
    )
    return fies.results_from_counts(dict(rows))


def survey_results(survey: Survey) -> fies.Results:
    """The results of one questionnaire."""
    return results_for(SurveyResponse.objects.filter(survey=survey))


def territory_results(programme_territory) -> fies.Results:
    """The results of every questionnaire of a programme territory together (for the synthesis)."""
    return results_for(
        SurveyResponse.objects.filter(survey__programme_territory=programme_territory)
    )


# ---- One-time submission tokens ---------------------------------------------------------------
# The form carries a random nonce signed for its questionnaire; the nonce alone is stored with the
# answers. A forged or foreign token is refused, the same token twice is a duplicate.


def _signer(survey: Survey) -> Signer:
    return Signer(salt=f"tablee.fies.submission.{survey.token}")


def new_submission_token(survey: Survey) -> str:
    """A fresh signed token for one copy of the form of ``survey``."""
    return _signer(survey).sign(secrets.token_urlsafe(24))


def read_submission_token(survey: Survey, signed: str) -> str | None:
    """The nonce of a token made by new_submission_token for ``survey``, or None."""
    try:
        return _signer(survey).unsign(signed or "")
    except BadSignature:
        return None
