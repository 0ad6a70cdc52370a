"""Writes of the co-construction: sessions with their headcounts and named professionals,
proposals with their linked needs and votes, and proposals received through the public link.

Every function is keyword-only and atomic, and writes one audit event (PLAN_CHANGED) with ids and
counts only: never a proposal's text, a note or a name.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.core.concurrency import check_version
from tablee.diagnostic.services_records import validate_meeting_date
from tablee.plans.models import (
    MAX_PARTICIPANTS,
    ConsultationSession,
    NamedParticipant,
    ParticipantCount,
    Proposal,
    ProposalVote,
    StakeholderGroup,
)

# The upper bound of ProposalVote.votes: beyond it, a typing mistake.
MAX_VOTES = 5000
MAX_TEXT = Proposal._meta.get_field("text").max_length

SESSION_FIELDS = ["kind", "date", "title", "place", "notes"]
PROPOSAL_FIELDS = ["text", "origin_group", "session", "status"]

GROUP_LABELS = dict(StakeholderGroup.choices)


class ProposalsClosed(Exception):
    """The public link of a session no longer accepts proposals."""


def _changed(*, acting_user, pt_id, action: str, **ids) -> None:
    audit(
        AuditEvent.Kind.PLAN_CHANGED,
        actor=acting_user,
        target=str(pt_id),
        action=action,
        **{key: str(value) for key, value in ids.items()},
    )


def validate_session_date(day, programme_territory) -> None:
    """The rule of the diagnostic's meetings: at most a year ahead, at most a year before the
    programme starts (a committee may be planned, a typo of year is caught)."""
    validate_meeting_date(day, programme_territory)


def _check_numbers(numbers: dict, *, field: str, maximum: int, noun: str) -> dict[str, int]:
    """A number per stakeholder group, each from 0 to ``maximum``; unknown groups refused."""
    errors = []
    clean = {}
    for group, value in numbers.items():
        if group not in GROUP_LABELS:
            errors.append(f"Groupe inconnu : « {group} ».")
            continue
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
            errors.append(
                f"« {GROUP_LABELS[group]} » : le nombre{noun} doit être compris entre 0 et "
                f"{maximum}."
            )
            continue
        clean[group] = value
    if errors:
        raise ValidationError({field: errors})
    return clean


def _store_numbers(model, owner_field: str, owner, numbers: dict[str, int], value_field: str):
    """One row per group with a positive number; a group brought back to zero loses its row."""
    for group, value in numbers.items():
        lookup = {owner_field: owner, "group": group}
        if value:
            model.objects.update_or_create(**lookup, defaults={value_field: value})
        else:
            model.objects.filter(**lookup).delete()


def _check_structures(structures, programme_territory) -> None:
    territory_id = programme_territory.territory_id
    if any(s.commune.territory_id != territory_id for s in structures):
        raise ValidationError({"structures": "Choisissez des structures du territoire."})


# ---- Sessions ---------------------------------------------------------------------------------


def _check_session(session: ConsultationSession, programme_territory) -> None:
    try:
        validate_session_date(session.date, programme_territory)
    except ValidationError as error:
        raise ValidationError({"date": error}) from None
    session.full_clean(exclude=["programme_territory", "structures", "proposal_token"])


@transaction.atomic
def session_create(
    *, programme_territory, acting_user, structures=(), counts=None, **fields
) -> ConsultationSession:
    """Record a co-construction session with its headcounts per stakeholder group."""
    counts = _check_numbers(counts or {}, field="counts", maximum=MAX_PARTICIPANTS, noun="")
    session = ConsultationSession(
        programme_territory=programme_territory,
        created_by=acting_user,
        **{name: fields[name] for name in SESSION_FIELDS if name in fields},
    )
    _check_session(session, programme_territory)
    _check_structures(structures, programme_territory)
    session.save()
    session.structures.set(structures)
    _store_numbers(ParticipantCount, "session", session, counts, "count")
    _changed(
        acting_user=acting_user,
        pt_id=programme_territory.pk,
        action="session_create",
        session=session.pk,
        participants=sum(counts.values()),
    )
    return session


@transaction.atomic
def session_update(
    *,
    session: ConsultationSession,
    version: int,
    acting_user,
    structures=None,
    counts=None,
    **fields,
) -> ConsultationSession:
    """Update a session; EditConflict if it changed since ``version`` was read."""
    if counts is not None:
        counts = _check_numbers(counts, field="counts", maximum=MAX_PARTICIPANTS, noun="")
    locked = (
        ConsultationSession.objects.select_for_update(of=("self",))
        .select_related("programme_territory__programme")
        .get(pk=session.pk)
    )
    check_version(locked, version, SESSION_FIELDS)
    for name in SESSION_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    _check_session(locked, locked.programme_territory)
    if structures is not None:
        _check_structures(structures, locked.programme_territory)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    if structures is not None:
        locked.structures.set(structures)
    if counts is not None:
        _store_numbers(ParticipantCount, "session", locked, counts, "count")
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="session_update",
        session=locked.pk,
    )
    return locked


@transaction.atomic
def session_delete(*, session: ConsultationSession, acting_user) -> None:
    """Delete a session with its headcounts and named professionals; its proposals stay, without
    a session."""
    pt_id, session_id = session.programme_territory_id, session.pk
    kept = session.proposals.count()
    session.delete()
    _changed(
        acting_user=acting_user,
        pt_id=pt_id,
        action="session_delete",
        session=session_id,
        proposals_kept=kept,
    )


@transaction.atomic
def session_set_public_proposals(
    *, session: ConsultationSession, is_open: bool, acting_user
) -> None:
    """Open or close the public proposal link. The version is left alone: an edit form open
    elsewhere does not carry this setting and must not conflict with it."""
    ConsultationSession.objects.filter(pk=session.pk).update(public_proposals_open=is_open)
    session.public_proposals_open = is_open
    _changed(
        acting_user=acting_user,
        pt_id=session.programme_territory_id,
        action="public_link_open" if is_open else "public_link_close",
        session=session.pk,
    )


@transaction.atomic
def named_participant_add(
    *,
    session: ConsultationSession,
    full_name: str,
    job_title: str = "",
    structure=None,
    acting_user,
) -> NamedParticipant:
    """Name a professional who took part (with their consent, checked by the form)."""
    if structure is not None and (
        structure.commune.territory_id != session.programme_territory.territory_id
    ):
        raise ValidationError({"structure": "Choisissez une structure du territoire."})
    participant = NamedParticipant(
        session=session,
        full_name=full_name.strip(),
        job_title=job_title.strip(),
        structure=structure,
    )
    participant.full_clean()
    participant.save()
    _changed(
        acting_user=acting_user,
        pt_id=session.programme_territory_id,
        action="named_participant_add",
        session=session.pk,
        participant=participant.pk,
    )
    return participant


@transaction.atomic
def named_participant_remove(*, participant: NamedParticipant, acting_user) -> None:
    """Erase a named professional from a session."""
    session = participant.session
    participant_id = participant.pk
    participant.delete()
    _changed(
        acting_user=acting_user,
        pt_id=session.programme_territory_id,
        action="named_participant_remove",
        session=session.pk,
        participant=participant_id,
    )


# ---- Proposals --------------------------------------------------------------------------------


def _check_text(text: str, empty_message: str) -> None:
    # TextField.max_length is not enforced by the model: the services do it for every caller.
    if not text:
        raise ValidationError({"text": empty_message})
    if len(text) > MAX_TEXT:
        raise ValidationError(
            {"text": f"La proposition est trop longue : {MAX_TEXT} caractères au plus."}
        )


def _check_proposal(proposal: Proposal, programme_territory, needs) -> None:
    _check_text(proposal.text, "Écrivez la proposition : le texte ne peut pas être vide.")
    if proposal.session_id and proposal.session.programme_territory_id != programme_territory.pk:
        raise ValidationError({"session": "Choisissez une séance de ce territoire."})
    if needs is not None and any(n.programme_territory_id != programme_territory.pk for n in needs):
        raise ValidationError({"needs": "Choisissez des besoins de ce territoire."})
    proposal.full_clean(exclude=["programme_territory", "session", "needs", "created_by"])


@transaction.atomic
def proposal_create(*, programme_territory, acting_user, needs=(), **fields) -> Proposal:
    """Record a proposal of the territory, with the needs of its diagnostic it answers."""
    proposal = Proposal(
        programme_territory=programme_territory,
        created_by=acting_user,
        **{name: fields[name] for name in PROPOSAL_FIELDS if name in fields},
    )
    proposal.text = proposal.text.strip() if proposal.text else ""
    _check_proposal(proposal, programme_territory, needs)
    proposal.save()
    proposal.needs.set(needs)
    _changed(
        acting_user=acting_user,
        pt_id=programme_territory.pk,
        action="proposal_create",
        proposal=proposal.pk,
        needs=len(needs),
    )
    return proposal


@transaction.atomic
def proposal_update(*, proposal: Proposal, version: int, acting_user, needs=None, **fields):
    """Update a proposal; EditConflict if it changed since ``version`` was read."""
    locked = (
        Proposal.objects.select_for_update(of=("self",))
        .select_related("programme_territory", "session")
        .get(pk=proposal.pk)
    )
    check_version(locked, version, PROPOSAL_FIELDS)
    for name in PROPOSAL_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.text = locked.text.strip() if locked.text else ""
    _check_proposal(locked, locked.programme_territory, needs)
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    if needs is not None:
        locked.needs.set(needs)
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="proposal_update",
        proposal=locked.pk,
    )
    return locked


@transaction.atomic
def proposal_delete(*, proposal: Proposal, acting_user) -> None:
    """Delete a proposal (a duplicate, or an abuse of the public link) and its votes."""
    pt_id, proposal_id = proposal.programme_territory_id, proposal.pk
    proposal.delete()
    _changed(acting_user=acting_user, pt_id=pt_id, action="proposal_delete", proposal=proposal_id)


@transaction.atomic
def proposal_set_votes(*, proposal: Proposal, version: int, votes: dict, acting_user) -> Proposal:
    """Record the votes each stakeholder group gave a proposal. The proposal's version guards the
    votes too: two people counting the same sheet of stickers never overwrite each other."""
    votes = _check_numbers(votes, field="votes", maximum=MAX_VOTES, noun=" de voix")
    locked = Proposal.objects.select_for_update(of=("self",)).get(pk=proposal.pk)
    check_version(locked, version, ["text", "origin_group", "status"])
    _store_numbers(ProposalVote, "proposal", locked, votes, "votes")
    locked.version = F("version") + 1
    locked.save(update_fields=["version", "updated_at"])
    locked.refresh_from_db()
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="proposal_votes",
        proposal=locked.pk,
        votes=sum(votes.values()),
    )
    return locked


@transaction.atomic
def proposal_submit_public(*, session: ConsultationSession, text: str) -> Proposal:
    """A proposal of a person concerned, sent through the session's public link (no account).
    Raises ProposalsClosed if the link was closed in the meantime."""
    locked = ConsultationSession.objects.select_for_update(of=("self",)).get(pk=session.pk)
    if not locked.public_proposals_open:
        raise ProposalsClosed
    proposal = Proposal(
        programme_territory_id=locked.programme_territory_id,
        session=locked,
        text=(text or "").strip(),
        origin_group=StakeholderGroup.PEOPLE,
        submitted_publicly=True,
    )
    _check_text(proposal.text, "Écrivez votre proposition avant d'envoyer.")
    proposal.full_clean(exclude=["programme_territory", "session", "needs", "created_by"])
    proposal.save()
    _changed(
        acting_user=None,
        pt_id=locked.programme_territory_id,
        action="proposal_submit_public",
        session=locked.pk,
        proposal=proposal.pk,
    )
    return proposal
