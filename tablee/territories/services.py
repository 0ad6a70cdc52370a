"""Writes on programmes, their territories and their targets."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.core.concurrency import check_version
from tablee.territories.models import (
    Audience,
    Programme,
    ProgrammeTerritory,
    SessionTarget,
    Territory,
)

PROGRAMME_FIELDS = ["name", "funder", "start_date", "end_date", "description", "target_sessions"]
PROGRAMME_TERRITORY_FIELDS = [
    "pat_name",
    "pat_contact_name",
    "pat_contact_email",
    "target_sessions",
]


@transaction.atomic
def programme_create(*, acting_user, **fields) -> Programme:
    """Create a programme from the fields of PROGRAMME_FIELDS."""
    programme = Programme(
        **{k: v for k, v in fields.items() if k in PROGRAMME_FIELDS + ["is_demo"]}
    )
    programme.full_clean()
    programme.save()
    audit(
        AuditEvent.Kind.PROGRAMME_CHANGED,
        actor=acting_user,
        target=str(programme.pk),
        action="create",
    )
    return programme


@transaction.atomic
def programme_update(*, programme: Programme, version: int, acting_user, **fields) -> Programme:
    """Update a programme; refuses with EditConflict if it changed since ``version`` was read."""
    locked = Programme.objects.select_for_update().get(pk=programme.pk)
    check_version(locked, version, PROGRAMME_FIELDS)
    for name in PROGRAMME_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.full_clean()
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    audit(
        AuditEvent.Kind.PROGRAMME_CHANGED, actor=acting_user, target=str(locked.pk), action="update"
    )
    return locked


@transaction.atomic
def programme_territory_add(
    *, programme: Programme, territory: Territory, acting_user
) -> ProgrammeTerritory:
    """Add an EPCI to a programme. Adding one already there is refused with a French message."""
    if ProgrammeTerritory.objects.filter(programme=programme, territory=territory).exists():
        raise ValidationError(f"{territory.name} fait déjà partie de ce programme.")
    try:
        with transaction.atomic():
            programme_territory = ProgrammeTerritory.objects.create(
                programme=programme, territory=territory
            )
    except IntegrityError as exc:  # a concurrent request added it first
        raise ValidationError(f"{territory.name} fait déjà partie de ce programme.") from exc
    audit(
        AuditEvent.Kind.PROGRAMME_CHANGED,
        actor=acting_user,
        target=str(programme.pk),
        action="territory_add",
        territory=territory.siren,
    )
    return programme_territory


@transaction.atomic
def programme_territory_update(
    *, programme_territory: ProgrammeTerritory, version: int, acting_user, **fields
) -> ProgrammeTerritory:
    """Update the PAT and local target of a programme territory, with a version check."""
    locked = ProgrammeTerritory.objects.select_for_update().get(pk=programme_territory.pk)
    check_version(locked, version, PROGRAMME_TERRITORY_FIELDS)
    for name in PROGRAMME_TERRITORY_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.full_clean()
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    audit(
        AuditEvent.Kind.PROGRAMME_CHANGED,
        actor=acting_user,
        target=str(locked.programme_id),
        action="territory_update",
        territory=locked.territory_id,
    )
    return locked


@transaction.atomic
def programme_territory_remove(*, programme_territory: ProgrammeTerritory, acting_user) -> None:
    """Take an EPCI out of a programme (its memberships scoped to it go with it)."""
    programme_id, siren = programme_territory.programme_id, programme_territory.territory_id
    programme_territory.delete()
    audit(
        AuditEvent.Kind.PROGRAMME_CHANGED,
        actor=acting_user,
        target=str(programme_id),
        action="territory_remove",
        territory=siren,
    )


@transaction.atomic
def programme_set_targets(
    *,
    programme: Programme,
    total: int,
    by_territory: dict,
    by_audience: dict[str, int],
    by_year: dict[int, int],
    acting_user,
) -> Programme:
    """Set every target of a programme at once: total, per territory, per audience, per year.

    ``by_territory`` maps ProgrammeTerritory ids to targets. Targets at 0 are kept (they say
    "none planned"), so the table always shows every audience and year.
    """
    unknown_audiences = set(by_audience) - set(Audience.values)
    if unknown_audiences:
        raise ValidationError(f"Public inconnu : {', '.join(sorted(unknown_audiences))}.")
    outside = [y for y in by_year if y not in programme.years]
    if outside:
        raise ValidationError(
            f"L'année {outside[0]} est hors de la période du programme "
            f"({programme.start_date.year}–{programme.end_date.year})."
        )
    if any(
        v < 0 for v in [total, *by_territory.values(), *by_audience.values(), *by_year.values()]
    ):
        raise ValidationError("Un objectif ne peut pas être négatif.")

    Programme.objects.filter(pk=programme.pk).update(
        target_sessions=total, version=F("version") + 1
    )
    territories = {pt.pk: pt for pt in programme.territories.all()}
    for pk, value in by_territory.items():
        if pk not in territories:
            raise ValidationError("Ce territoire ne fait pas partie du programme.")
        territories[pk].target_sessions = value
    ProgrammeTerritory.objects.bulk_update(territories.values(), ["target_sessions"])
    rows = [
        SessionTarget(
            programme=programme, dimension=SessionTarget.Dimension.AUDIENCE, key=k, value=v
        )
        for k, v in by_audience.items()
    ] + [
        SessionTarget(
            programme=programme, dimension=SessionTarget.Dimension.YEAR, key=str(y), value=v
        )
        for y, v in by_year.items()
    ]
    SessionTarget.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["programme", "dimension", "key"],
        update_fields=["value"],
    )
    audit(
        AuditEvent.Kind.PROGRAMME_CHANGED,
        actor=acting_user,
        target=str(programme.pk),
        action="targets",
    )
    programme.refresh_from_db()
    return programme
