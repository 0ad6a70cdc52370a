"""Writes of the evaluations of a session: one anonymous answer to the short questionnaire.

An answer holds the satisfaction (1 to 5), what was learnt, the intention to change a practice, a
free comment and how it was collected (online or typed from paper): nothing about who answered,
not even a submission token. Answers typed by the team from paper are audited (ids only); answers
given through the public link are not, one by one, so that the audit trail keeps no trace of the
people who answered.

A copy of the form carries a one-time token (a random nonce signed for the session, valid
``SUBMISSION_TOKEN_MAX_AGE`` seconds). A nonce is claimed in the cache when its answer is written,
for as long as the token could still be presented: the same form sent twice, by a reload or a
double tap, is recorded once.
"""

import datetime
import secrets

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.signing import BadSignature, TimestampSigner
from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.activities.models import Evaluation, Session

# The public link takes answers from the start of the session until this many days after its end.
ANSWER_DAYS_AFTER = 30
# How long a copy of the form stays valid: a phone left on the page over lunch still sends it.
SUBMISSION_TOKEN_MAX_AGE = 24 * 60 * 60
SATISFACTION_RANGE = range(1, 6)
MAX_TEXT = 1000


class DuplicateSubmission(Exception):
    """This copy of the form was already recorded: the answer is not written twice."""


class EvaluationClosed(Exception):
    """The session does not take answers now; ``message`` says why, in French."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


def answers_close_at(session: Session) -> datetime.datetime:
    return session.ends_at + datetime.timedelta(days=ANSWER_DAYS_AFTER)


def closed_reason(session: Session, *, source: str, now: datetime.datetime | None = None):
    """Why ``session`` takes no answer from ``source`` at ``now``, or None when it does.

    Online answers are taken from the start of the session to ANSWER_DAYS_AFTER days after its
    end; paper answers, typed in later by the team, from the start of the session on. A cancelled
    session takes none.
    """
    now = now or timezone.now()
    if session.status == Session.Status.CANCELLED:
        return "Cette séance a été annulée : elle ne reçoit pas d'avis."
    if now < session.starts_at:
        start = timezone.localtime(session.starts_at)
        return (
            "Le questionnaire n'est pas encore ouvert : il ouvre au début de la séance, le "
            f"{date_format(start, 'j F Y')} à {start:%H:%M}."
        )
    if source == Evaluation.Source.ONLINE and now > answers_close_at(session):
        return (
            f"Le questionnaire est fermé : il restait ouvert {ANSWER_DAYS_AFTER} jours après la "
            "séance. Merci de l'intérêt que vous lui portez."
        )
    return None


def answer_errors(
    *, satisfaction, learnt: str, intends_to_change: str, comment: str
) -> dict[str, str]:
    """French errors per field for an answer out of range; empty when the answer is valid."""
    errors = {}
    if not isinstance(satisfaction, int) or satisfaction not in SATISFACTION_RANGE:
        errors["satisfaction"] = "Choisissez une satisfaction de 1 (pas du tout) à 5 (tout à fait)."
    if intends_to_change not in {"", *Evaluation.Intention.values}:
        errors["intends_to_change"] = "Répondez « Oui », « Peut-être » ou « Non »."
    for name, text in (("learnt", learnt), ("comment", comment)):
        if len(text) > MAX_TEXT:
            errors[name] = f"{MAX_TEXT} caractères au plus (ce texte en compte {len(text)})."
    return errors


def evaluation_record(
    *,
    session: Session,
    satisfaction: int,
    learnt: str = "",
    intends_to_change: str = "",
    comment: str = "",
    source: str,
    submission_token: str,
    acting_user=None,
) -> Evaluation:
    """Record one anonymous answer to the questionnaire of ``session``.

    ``submission_token`` is the nonce read by ``read_submission_token``. Raises ValidationError
    (French, per field) for an answer out of range, EvaluationClosed when the session does not take
    answers from ``source`` now, DuplicateSubmission when the nonce was already used. Nothing is
    written in any of these cases.
    """
    if source not in Evaluation.Source.values:
        raise ValueError(f"unknown source: {source!r}")
    learnt, comment = (learnt or "").strip(), (comment or "").strip()
    intends_to_change = intends_to_change or ""
    errors = answer_errors(
        satisfaction=satisfaction,
        learnt=learnt,
        intends_to_change=intends_to_change,
        comment=comment,
    )
    if errors:
        raise ValidationError(errors)
    if not submission_token or len(submission_token) > 64:
        raise ValidationError("Ce formulaire n'est plus valide : rechargez la page.", code="token")
    with transaction.atomic():
        # Read the session again: a cancellation or a new date wins over an answer under way.
        current = Session.objects.select_for_update(of=("self",)).get(pk=session.pk)
        reason = closed_reason(current, source=source)
        if reason:
            raise EvaluationClosed(reason)
        used_key = f"evaluation:used:{submission_token}"
        if not cache.add(used_key, 1, timeout=SUBMISSION_TOKEN_MAX_AGE + 60):
            raise DuplicateSubmission
        try:
            evaluation = Evaluation.objects.create(
                session=current,
                satisfaction=satisfaction,
                learnt=learnt,
                intends_to_change=intends_to_change,
                comment=comment,
                source=source,
            )
            if acting_user is not None:
                audit(
                    AuditEvent.Kind.ACTIVITY_CHANGED,
                    actor=acting_user,
                    target=str(current.programme_territory_id),
                    action="evaluation_paper_entry",
                    session=str(current.pk),
                    evaluation=str(evaluation.pk),
                )
        except BaseException:
            # Not written: the same copy of the form may be sent again.
            cache.delete(used_key)
            raise
    return evaluation


# ---- One-time submission tokens ---------------------------------------------------------------


def _signer(session: Session) -> TimestampSigner:
    return TimestampSigner(salt=f"tablee.evaluation.submission.{session.evaluation_token}")


def new_submission_token(session: Session) -> str:
    """A fresh signed token for one copy of the questionnaire of ``session``."""
    return _signer(session).sign(secrets.token_urlsafe(24))


def read_submission_token(session: Session, signed: str) -> str | None:
    """The nonce of a token made by new_submission_token for ``session`` and still valid, or
    None (forged, made for another session, or older than SUBMISSION_TOKEN_MAX_AGE)."""
    try:
        return _signer(session).unsign(signed or "", max_age=SUBMISSION_TOKEN_MAX_AGE)
    except BadSignature:
        return None
