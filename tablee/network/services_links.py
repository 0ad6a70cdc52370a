"""Links entered by hand: a referral, a partnership or an exchange of information between two
structures of a territory, with a date and a note; ended when it stops.

Every function is keyword-only, atomic, takes the acting user and writes one audit event with ids
only (never the note). Links derived from the records are not edited here: they follow their
records (``network.services``).
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.core.concurrency import check_version
from tablee.network.models import Link, LinkKind, LinkSource
from tablee.network.services import ordered_pair

MANUAL_KINDS = [LinkKind.REFERRAL, LinkKind.PARTNERSHIP, LinkKind.INFORMATION]
EDITABLE_FIELDS = ["kind", "started_on", "ended_on", "note"]


def network_changed(*, acting_user, pt_id, action: str, **ids) -> None:
    """Record that ``acting_user`` did ``action`` on the network of programme territory ``pt_id``."""
    audit(
        AuditEvent.Kind.NETWORK_CHANGED,
        actor=acting_user,
        target=str(pt_id),
        action=action,
        **{key: str(value) for key, value in ids.items()},
    )


def _check_kind(kind: str) -> None:
    if kind not in MANUAL_KINDS:
        raise ValidationError(
            {"kind": "Choisissez une orientation, un partenariat ou un échange d'informations."}
        )


def _check_dates(started_on: datetime.date, ended_on: datetime.date | None) -> None:
    if ended_on is not None and started_on is not None and ended_on <= started_on:
        raise ValidationError(
            {"ended_on": "La fin du lien doit être postérieure à son début."},
            code="end_before_start",
        )


def _check_not_derived(link: Link) -> None:
    if link.source != LinkSource.MANUAL:
        raise ValidationError(
            "Ce lien est déduit des rencontres, concertations et séances : il suit ces "
            "enregistrements et ne se modifie pas à la main.",
            code="derived",
        )


def _check_unique(programme_territory, first, second, kind, *, exclude=None) -> None:
    twins = Link.objects.filter(
        programme_territory=programme_territory,
        structure_a=first,
        structure_b=second,
        kind=kind,
        source=LinkSource.MANUAL,
    )
    if exclude is not None:
        twins = twins.exclude(pk=exclude.pk)
    if twins.exists():
        raise ValidationError(
            f"Un lien « {LinkKind(kind).label} » saisi à la main existe déjà entre ces deux "
            "structures : modifiez-le plutôt que d'en créer un autre.",
            code="duplicate",
        )


@transaction.atomic
def link_create(
    *,
    programme_territory,
    structure,
    linked_structure,
    kind: str,
    started_on: datetime.date,
    note: str = "",
    acting_user,
) -> Link:
    """Enter a link between two distinct structures of the territory's directory."""
    if structure.pk == linked_structure.pk:
        raise ValidationError(
            {"linked_structure": "Choisissez deux structures différentes."}, code="same_structure"
        )
    territory_id = programme_territory.territory_id
    outside = [s for s in (structure, linked_structure) if s.commune.territory_id != territory_id]
    if outside:
        raise ValidationError(
            f"« {outside[0].name} » n'est pas une structure du territoire : choisissez des "
            "structures de son annuaire.",
            code="outside_territory",
        )
    _check_kind(kind)
    # Stored once per pair: structure_a is the structure whose id is smaller as text.
    first, second = (structure, linked_structure)
    if ordered_pair(structure.pk, linked_structure.pk)[0] != structure.pk:
        first, second = second, first
    _check_unique(programme_territory, first, second, kind)
    link = Link(
        programme_territory=programme_territory,
        structure_a=first,
        structure_b=second,
        kind=kind,
        source=LinkSource.MANUAL,
        started_on=started_on,
        note=note,
        created_by=acting_user,
    )
    link.full_clean(exclude=["programme_territory", "structure_a", "structure_b", "created_by"])
    link.save()
    network_changed(
        acting_user=acting_user, pt_id=programme_territory.pk, action="link_create", link=link.pk
    )
    return link


@transaction.atomic
def link_update(*, link: Link, version: int, acting_user, **fields) -> Link:
    """Change the kind, dates or note of a link entered by hand; EditConflict if it changed
    since ``version`` was read."""
    locked = Link.objects.select_for_update(of=("self",)).get(pk=link.pk)
    _check_not_derived(locked)
    check_version(locked, version, EDITABLE_FIELDS)
    for name in EDITABLE_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    _check_kind(locked.kind)
    _check_dates(locked.started_on, locked.ended_on)
    _check_unique(
        locked.programme_territory_id,
        locked.structure_a_id,
        locked.structure_b_id,
        locked.kind,
        exclude=locked,
    )
    locked.full_clean(exclude=["programme_territory", "structure_a", "structure_b", "created_by"])
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    network_changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="link_update",
        link=locked.pk,
    )
    return locked


@transaction.atomic
def link_end(*, link: Link, version: int, ended_on: datetime.date, acting_user) -> Link:
    """Record that a link entered by hand stopped on ``ended_on``."""
    locked = Link.objects.select_for_update(of=("self",)).get(pk=link.pk)
    _check_not_derived(locked)
    check_version(locked, version, EDITABLE_FIELDS)
    _check_dates(locked.started_on, ended_on)
    locked.ended_on = ended_on
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    network_changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="link_end",
        link=locked.pk,
    )
    return locked


@transaction.atomic
def link_delete(*, link: Link, acting_user) -> None:
    """Delete a link entered by mistake (a link that stopped is ended, not deleted)."""
    _check_not_derived(link)
    pt_id, pk = link.programme_territory_id, link.pk
    link.delete()
    network_changed(acting_user=acting_user, pt_id=pt_id, action="link_delete", link=pk)
