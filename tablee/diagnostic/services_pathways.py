"""Writes of the pathways (parcours types) and their ordered steps.

Positions of the steps of a pathway stay unique and contiguous (1, 2, 3…): every change of order
locks the pathway row first, so that two people moving steps at once queue instead of colliding
on the unique (pathway, position) constraint. Audit events carry ids only.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max

from tablee.core.concurrency import check_version
from tablee.diagnostic.audit import diagnostic_changed as _changed
from tablee.diagnostic.models import Pathway, PathwayStep

PATHWAY_FIELDS = ["title", "persona"]
STEP_FIELDS = [
    "structure",
    "structure_type",
    "description",
    "delay_days",
    "distance_km",
    "break_after",
]


def _lock(pathway: Pathway) -> Pathway:
    return Pathway.objects.select_for_update().get(pk=pathway.pk)


@transaction.atomic
def pathway_create(*, programme_territory, title: str, persona: str, acting_user) -> Pathway:
    """Create a pathway of a programme territory."""
    pathway = Pathway(
        programme_territory=programme_territory,
        title=title,
        persona=persona,
        created_by=acting_user,
    )
    pathway.full_clean()
    pathway.save()
    _changed(
        acting_user=acting_user,
        pt_id=programme_territory.pk,
        action="pathway_create",
        pathway=pathway.pk,
    )
    return pathway


@transaction.atomic
def pathway_update(
    *, pathway: Pathway, version: int, title: str, persona: str, acting_user
) -> Pathway:
    """Change the title and persona; refuses with EditConflict if it changed since ``version``."""
    locked = _lock(pathway)
    check_version(locked, version, PATHWAY_FIELDS)
    locked.title = title
    locked.persona = persona
    locked.full_clean()
    locked.version = F("version") + 1
    locked.save()
    locked.refresh_from_db()
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="pathway_update",
        pathway=locked.pk,
    )
    return locked


@transaction.atomic
def pathway_delete(*, pathway: Pathway, acting_user) -> None:
    """Delete a pathway with its steps (the needs linked to its breaks stay)."""
    pathway_id, pt_id = pathway.pk, pathway.programme_territory_id
    Pathway.objects.filter(pk=pathway_id).delete()
    _changed(acting_user=acting_user, pt_id=pt_id, action="pathway_delete", pathway=pathway_id)


def _check_step(pathway: Pathway, fields: dict, break_needs) -> None:
    """A step names a structure of the territory or a type; its needs are the territory's."""
    structure = fields.get("structure")
    territory_id = pathway.programme_territory.territory_id
    errors = {}
    if structure is None and not (fields.get("structure_type") or "").strip():
        errors["structure_type"] = "Choisissez une structure du territoire ou indiquez un type."
    if structure is not None and structure.commune.territory_id != territory_id:
        errors["structure"] = "Cette structure n'est pas sur le territoire du parcours."
    if any(need.programme_territory_id != pathway.programme_territory_id for need in break_needs):
        errors["break_needs"] = "Un besoin lié n'appartient pas à ce territoire."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def step_add(*, pathway: Pathway, break_needs=(), acting_user, **fields) -> PathwayStep:
    """Add a step at the end of the pathway; ``fields`` are those of STEP_FIELDS."""
    locked = _lock(pathway)
    break_needs = list(break_needs)
    _check_step(pathway, fields, break_needs)
    last = locked.steps.aggregate(last=Max("position"))["last"] or 0
    step = PathwayStep(pathway=locked, position=last + 1, **_step_fields(fields))
    step.full_clean()
    step.save()
    step.break_needs.set(break_needs)
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="pathway_step_add",
        pathway=locked.pk,
        step=step.pk,
    )
    return step


@transaction.atomic
def step_update(*, step: PathwayStep, break_needs=(), acting_user, **fields) -> PathwayStep:
    """Change what a step says; its position stays."""
    pathway = _lock(step.pathway)
    break_needs = list(break_needs)
    _check_step(step.pathway, fields, break_needs)
    for name, value in _step_fields(fields).items():
        setattr(step, name, value)
    step.full_clean()
    step.save()
    step.break_needs.set(break_needs)
    _changed(
        acting_user=acting_user,
        pt_id=pathway.programme_territory_id,
        action="pathway_step_update",
        pathway=pathway.pk,
        step=step.pk,
    )
    return step


@transaction.atomic
def step_remove(*, step: PathwayStep, acting_user) -> None:
    """Remove a step; the following ones move up one place, so positions stay contiguous."""
    pathway = _lock(step.pathway)
    removed_at = PathwayStep.objects.get(pk=step.pk).position
    step_id = step.pk
    PathwayStep.objects.filter(pk=step_id).delete()
    # One row at a time, in ascending order: a single UPDATE … SET position = position - 1 may
    # meet the unique constraint halfway on some databases.
    for following in pathway.steps.filter(position__gt=removed_at).order_by("position"):
        PathwayStep.objects.filter(pk=following.pk).update(position=following.position - 1)
    _changed(
        acting_user=acting_user,
        pt_id=pathway.programme_territory_id,
        action="pathway_step_remove",
        pathway=pathway.pk,
        step=step_id,
    )


class Direction:
    UP = "up"
    DOWN = "down"


@transaction.atomic
def step_move(*, step: PathwayStep, direction: str, acting_user) -> bool:
    """Swap a step with its neighbour above (``"up"``) or below (``"down"``).

    Returns False, changing nothing, when there is no neighbour that way (first step up, last
    step down).
    """
    if direction not in (Direction.UP, Direction.DOWN):
        raise ValueError(f"unknown direction: {direction!r}")
    pathway = _lock(step.pathway)
    current = PathwayStep.objects.get(pk=step.pk)
    neighbours = pathway.steps.filter(
        **(
            {"position__lt": current.position}
            if direction == Direction.UP
            else {"position__gt": current.position}
        )
    ).order_by("-position" if direction == Direction.UP else "position")
    neighbour = neighbours.first()
    if neighbour is None:
        return False
    # Position 0 is never used by a step: it holds one of the two while they swap places.
    PathwayStep.objects.filter(pk=current.pk).update(position=0)
    PathwayStep.objects.filter(pk=neighbour.pk).update(position=current.position)
    PathwayStep.objects.filter(pk=current.pk).update(position=neighbour.position)
    step.position = neighbour.position
    _changed(
        acting_user=acting_user,
        pt_id=pathway.programme_territory_id,
        action="pathway_step_move",
        pathway=pathway.pk,
        step=step.pk,
    )
    return True


def _step_fields(fields: dict) -> dict:
    unknown = set(fields) - set(STEP_FIELDS)
    if unknown:
        raise TypeError(f"unknown step fields: {sorted(unknown)}")
    values = dict(fields)
    values["structure_type"] = (values.get("structure_type") or "").strip()
    values["break_after"] = (values.get("break_after") or "").strip()
    return values
