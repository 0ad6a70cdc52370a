"""Writes of the action plan of a programme territory: the plan, its axes, its actions with their
budget, indicators, follow-up notes, documents and comments, and the validation of a version.

Every function is keyword-only, atomic, takes the acting user and writes one PLAN_CHANGED audit
event with ids only (never a title, a note or a file name). Every write of an Action row sets
``_history_user`` first, so that django-simple-history records who made each change.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.core.concurrency import check_version
from tablee.diagnostic.services_records import check_attachment
from tablee.plans.models import (
    Action,
    ActionBudgetLine,
    ActionComment,
    ActionDocument,
    ActionIndicator,
    ActionPlan,
    ActionStatus,
    Axis,
    ConsultationSession,
    IndicatorMeasure,
    PlanValidation,
    ProgressUpdate,
    Proposal,
)
from tablee.territories.models import Audience

PLAN_FIELDS = ["title", "summary"]
ACTION_FIELDS = [
    "axis",
    "code",
    "title",
    "description",
    "objectives",
    "audiences",
    "elected_referent",
    "pat_axis",
    "participation_level",
    "start_date",
    "end_date",
    "status",
    "priority",
    "progress",
    "weight",
]
# The values shown back to the second editor of an action: short fields only.
ACTION_CONFLICT_FIELDS = [
    "code",
    "title",
    "axis",
    "status",
    "progress",
    "start_date",
    "end_date",
    "priority",
    "weight",
]
BUDGET_FIELDS = ["year", "funder", "planned", "spent"]
INDICATOR_FIELDS = ["label", "unit", "baseline", "target"]

PROGRESS_ERROR = "L'avancement doit être compris entre 0 et 100 %."
NEGATIVE_AMOUNT_ERROR = "Le montant {label} ne peut pas être négatif."


def _changed(*, acting_user, pt_id, action: str, **ids) -> None:
    """Record that ``acting_user`` did ``action`` on the plan of programme territory ``pt_id``."""
    audit(
        AuditEvent.Kind.PLAN_CHANGED,
        actor=acting_user,
        target=str(pt_id),
        action=action,
        **{key: str(value) for key, value in ids.items()},
    )


# ---- Checks shared by the forms and the services ----------------------------------------------


def done_confirmation_label(progress: int) -> str:
    return f"Confirmer : l'action est réalisée alors que son avancement est de {progress} %"


def validate_action_values(*, start_date, end_date, progress, status, confirm_done) -> None:
    """Dates in order, progress within 0–100, and a "réalisée" status below 100 % only when the
    person confirmed it. Raises a ValidationError keyed by field."""
    errors = {}
    if start_date and end_date and end_date < start_date:
        errors["end_date"] = (
            f"La date de fin ({end_date:%d/%m/%Y}) est antérieure à la date de début "
            f"({start_date:%d/%m/%Y}) : corrigez l'une ou l'autre."
        )
    if progress is None or not 0 <= progress <= 100:
        errors["progress"] = PROGRESS_ERROR
    elif status == ActionStatus.DONE and progress < 100 and not confirm_done:
        errors["confirm_done"] = (
            f"L'action est indiquée comme réalisée alors que son avancement est de {progress} % : "
            "cochez la case de confirmation, ou corrigez le statut ou l'avancement."
        )
    if errors:
        raise ValidationError(errors)


def validate_code(plan, code: str, *, exclude_pk=None) -> None:
    others = Action.objects.filter(plan=plan, code=code)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError(
            {"code": f"Le code « {code} » est déjà utilisé par une autre action de ce plan."}
        )


def _check_links(plan, *, axis, needs, proposals, pilots, partners, audiences) -> None:
    """Everything an action points at belongs to the plan's territory."""
    pt = plan.programme_territory
    errors = {}
    if axis is not None and axis.plan_id != plan.pk:
        errors["axis"] = "Choisissez un axe de ce plan."
    if needs is not None and any(n.programme_territory_id != pt.pk for n in needs):
        errors["needs"] = "Choisissez des besoins du diagnostic de ce territoire."
    if proposals is not None and any(p.programme_territory_id != pt.pk for p in proposals):
        errors["proposals"] = "Choisissez des propositions de ce territoire."
    for name, structures in (("pilots", pilots), ("partners", partners)):
        if structures is not None and any(
            s.commune.territory_id != pt.territory_id for s in structures
        ):
            errors[name] = "Choisissez des structures du territoire."
    if audiences is not None and any(value not in Audience.values for value in audiences):
        errors["audiences"] = "Choisissez des publics de la liste."
    if errors:
        raise ValidationError(errors)


def _check_action(action: Action, *, confirm_done: bool, **links) -> None:
    action.code = (action.code or "").strip()
    validate_action_values(
        start_date=action.start_date,
        end_date=action.end_date,
        progress=action.progress,
        status=action.status,
        confirm_done=confirm_done,
    )
    if action.code:
        validate_code(
            action.plan, action.code, exclude_pk=None if action._state.adding else action.pk
        )
    _check_links(action.plan, axis=action.axis, **links)
    # The constraints were checked above with French messages naming the code.
    action.full_clean(
        exclude=["plan", "needs", "proposals", "pilots", "partners"],
        validate_unique=False,
        validate_constraints=False,
    )


def _retain(proposals) -> None:
    """A proposal an action comes from is retained (its version moves on, as for any edit)."""
    pending = [Proposal.Status.OPEN, Proposal.Status.NOT_RETAINED]
    Proposal.objects.filter(pk__in=[p.pk for p in proposals], status__in=pending).update(
        status=Proposal.Status.RETAINED, version=F("version") + 1
    )


def _save_action(action: Action, acting_user) -> None:
    # The row is locked (or new): a plain increment, not an F() expression, because the historical
    # record copies the field values as they are.
    action._history_user = acting_user
    action.save()


# ---- The plan ---------------------------------------------------------------------------------


@transaction.atomic
def plan_create(*, programme_territory, title: str, summary: str = "", acting_user) -> ActionPlan:
    """Start the action plan of a territory (one per programme territory)."""
    if ActionPlan.objects.filter(programme_territory=programme_territory).exists():
        raise ValidationError("Ce territoire a déjà un plan d'action.")
    plan = ActionPlan(programme_territory=programme_territory, title=title, summary=summary)
    plan.full_clean(exclude=["programme_territory"])
    plan._history_user = acting_user
    plan.save()
    _changed(
        acting_user=acting_user, pt_id=programme_territory.pk, action="plan_create", plan=plan.pk
    )
    return plan


@transaction.atomic
def plan_update(*, plan: ActionPlan, version: int, acting_user, **fields) -> ActionPlan:
    """Change the title or the presentation of the plan, with a version check."""
    locked = ActionPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    check_version(locked, version, PLAN_FIELDS)
    for name in PLAN_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    locked.full_clean(exclude=["programme_territory"])
    locked.version += 1
    locked._history_user = acting_user
    locked.save()
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="plan_update",
        plan=locked.pk,
    )
    return locked


# ---- Axes -------------------------------------------------------------------------------------


def _check_axis_title(plan, title: str, *, exclude_pk=None) -> None:
    others = Axis.objects.filter(plan=plan, title=title)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        raise ValidationError({"title": f"Le plan a déjà un axe « {title} »."})


@transaction.atomic
def axis_create(*, plan: ActionPlan, title: str, description: str = "", acting_user) -> Axis:
    """Add an axis at the end of the plan."""
    _check_axis_title(plan, title)
    last = plan.axes.aggregate(last=Max("position"))["last"]
    axis = Axis(plan=plan, title=title, description=description, position=(last or 0) + 1)
    axis.full_clean(exclude=["plan"], validate_constraints=False)
    axis.save()
    _changed(
        acting_user=acting_user,
        pt_id=plan.programme_territory_id,
        action="axis_create",
        axis=axis.pk,
    )
    return axis


@transaction.atomic
def axis_update(*, axis: Axis, title: str, description: str = "", acting_user) -> Axis:
    _check_axis_title(axis.plan, title, exclude_pk=axis.pk)
    axis.title, axis.description = title, description
    axis.full_clean(exclude=["plan"], validate_constraints=False)
    axis.save()
    _changed(
        acting_user=acting_user,
        pt_id=axis.plan.programme_territory_id,
        action="axis_update",
        axis=axis.pk,
    )
    return axis


@transaction.atomic
def axis_move(*, axis: Axis, up: bool, acting_user) -> None:
    """Move an axis one place up or down; positions are renumbered 1, 2, 3… on the way."""
    axes = list(
        Axis.objects.select_for_update(of=("self",))
        .filter(plan_id=axis.plan_id)
        .order_by("position", "title")
    )
    index = next(i for i, a in enumerate(axes) if a.pk == axis.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(axes):
        axes[index], axes[other] = axes[other], axes[index]
    for position, item in enumerate(axes, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    _changed(
        acting_user=acting_user,
        pt_id=axis.plan.programme_territory_id,
        action="axis_move",
        axis=axis.pk,
    )


@transaction.atomic
def axis_delete(*, axis: Axis, acting_user) -> int:
    """Delete an axis; its actions stay in the plan, without an axis. Returns how many moved.

    The actions are saved one by one rather than left to the database's SET NULL, so that their
    history says who took them out of the axis."""
    actions = list(Action.objects.select_for_update(of=("self",)).filter(axis=axis))
    for action in actions:
        action.axis = None
        action.version += 1
        _save_action(action, acting_user)
    pt_id, axis_id = axis.plan.programme_territory_id, axis.pk
    axis.delete()
    _changed(
        acting_user=acting_user,
        pt_id=pt_id,
        action="axis_delete",
        axis=axis_id,
        actions_moved=len(actions),
    )
    return len(actions)


# ---- Actions ----------------------------------------------------------------------------------


def next_code(plan) -> str:
    """A free code A1, A2… for a new action."""
    taken = set(Action.objects.filter(plan=plan).values_list("code", flat=True))
    number = len(taken) + 1
    while f"A{number}" in taken:
        number += 1
    return f"A{number}"


@transaction.atomic
def action_create(
    *,
    plan: ActionPlan,
    acting_user,
    needs=(),
    proposals=(),
    pilots=(),
    partners=(),
    confirm_done: bool = False,
    **fields,
) -> Action:
    """Add an action to the plan. The proposals it comes from are marked as retained."""
    action = Action(
        plan=plan,
        created_by=acting_user,
        **{name: fields[name] for name in ACTION_FIELDS if name in fields},
    )
    needs, proposals, pilots, partners = list(needs), list(proposals), list(pilots), list(partners)
    _check_action(
        action,
        confirm_done=confirm_done,
        needs=needs,
        proposals=proposals,
        pilots=pilots,
        partners=partners,
        audiences=action.audiences,
    )
    last = plan.actions.aggregate(last=Max("position"))["last"]
    action.position = (last or 0) + 1
    _save_action(action, acting_user)
    action.needs.set(needs)
    action.proposals.set(proposals)
    action.pilots.set(pilots)
    action.partners.set(partners)
    _retain(proposals)
    _changed(
        acting_user=acting_user,
        pt_id=plan.programme_territory_id,
        action="action_create",
        plan_action=action.pk,
    )
    return action


@transaction.atomic
def action_update(
    *,
    action: Action,
    version: int,
    acting_user,
    needs=None,
    proposals=None,
    pilots=None,
    partners=None,
    confirm_done: bool = False,
    **fields,
) -> Action:
    """Update an action; refuses with EditConflict if it changed since ``version`` was read."""
    locked = (
        Action.objects.select_for_update(of=("self",))
        .select_related("plan__programme_territory", "axis")
        .get(pk=action.pk)
    )
    check_version(locked, version, ACTION_CONFLICT_FIELDS)
    for name in ACTION_FIELDS:
        if name in fields:
            setattr(locked, name, fields[name])
    links = {
        "needs": None if needs is None else list(needs),
        "proposals": None if proposals is None else list(proposals),
        "pilots": None if pilots is None else list(pilots),
        "partners": None if partners is None else list(partners),
    }
    _check_action(locked, confirm_done=confirm_done, audiences=locked.audiences, **links)
    locked.version += 1
    _save_action(locked, acting_user)
    for name, values in links.items():
        if values is not None:
            getattr(locked, name).set(values)
    if links["proposals"]:
        _retain(links["proposals"])
    _changed(
        acting_user=acting_user,
        pt_id=locked.plan.programme_territory_id,
        action="action_update",
        plan_action=locked.pk,
    )
    return locked


@transaction.atomic
def action_delete(*, action: Action, acting_user) -> None:
    """Delete an action (its history keeps a record of who deleted it)."""
    pt_id, action_id = action.plan.programme_territory_id, action.pk
    names = [document.file.name for document in action.documents.all()]
    storage = ActionDocument._meta.get_field("file").storage
    action._history_user = acting_user
    action.delete()
    transaction.on_commit(lambda: [storage.delete(name) for name in names])
    _changed(acting_user=acting_user, pt_id=pt_id, action="action_delete", plan_action=action_id)


# ---- Budget -----------------------------------------------------------------------------------


def _check_budget_line(line: ActionBudgetLine) -> None:
    errors = {}
    for name, label in (("planned", "prévu"), ("spent", "dépensé")):
        value = getattr(line, name)
        if value is not None and value < 0:
            errors[name] = NEGATIVE_AMOUNT_ERROR.format(label=label)
    if errors:
        raise ValidationError(errors)
    line.funder = (line.funder or "").strip()
    duplicates = ActionBudgetLine.objects.filter(
        action_id=line.action_id, year=line.year, funder=line.funder
    )
    if not line._state.adding:
        duplicates = duplicates.exclude(pk=line.pk)
    if duplicates.exists():
        raise ValidationError(
            {
                "funder": f"Une ligne existe déjà pour « {line.funder} » en {line.year} : "
                "modifiez-la plutôt que d'en ajouter une autre."
            }
        )
    line.full_clean(exclude=["action"], validate_constraints=False)


@transaction.atomic
def budget_line_add(*, action: Action, acting_user, **fields) -> ActionBudgetLine:
    """Add the budget of an action for one year and one funder (amounts ≥ 0)."""
    line = ActionBudgetLine(action=action, **{n: fields[n] for n in BUDGET_FIELDS if n in fields})
    _check_budget_line(line)
    line.save()
    _changed(
        acting_user=acting_user,
        pt_id=action.plan.programme_territory_id,
        action="budget_line_add",
        plan_action=action.pk,
        line=line.pk,
    )
    return line


@transaction.atomic
def budget_line_update(*, line: ActionBudgetLine, acting_user, **fields) -> ActionBudgetLine:
    for name in BUDGET_FIELDS:
        if name in fields:
            setattr(line, name, fields[name])
    _check_budget_line(line)
    line.save()
    _changed(
        acting_user=acting_user,
        pt_id=line.action.plan.programme_territory_id,
        action="budget_line_update",
        plan_action=line.action_id,
        line=line.pk,
    )
    return line


@transaction.atomic
def budget_line_delete(*, line: ActionBudgetLine, acting_user) -> None:
    pt_id, action_id, line_id = line.action.plan.programme_territory_id, line.action_id, line.pk
    line.delete()
    _changed(
        acting_user=acting_user,
        pt_id=pt_id,
        action="budget_line_delete",
        plan_action=action_id,
        line=line_id,
    )


# ---- Indicators -------------------------------------------------------------------------------


@transaction.atomic
def indicator_add(*, action: Action, acting_user, **fields) -> ActionIndicator:
    """Add an indicator with its target to an action."""
    last = action.indicators.aggregate(last=Max("position"))["last"]
    indicator = ActionIndicator(
        action=action,
        position=(last or 0) + 1,
        **{n: fields[n] for n in INDICATOR_FIELDS if n in fields},
    )
    indicator.full_clean(exclude=["action"])
    indicator.save()
    _changed(
        acting_user=acting_user,
        pt_id=action.plan.programme_territory_id,
        action="indicator_add",
        plan_action=action.pk,
        indicator=indicator.pk,
    )
    return indicator


@transaction.atomic
def indicator_update(*, indicator: ActionIndicator, acting_user, **fields) -> ActionIndicator:
    for name in INDICATOR_FIELDS:
        if name in fields:
            setattr(indicator, name, fields[name])
    indicator.full_clean(exclude=["action"])
    indicator.save()
    _changed(
        acting_user=acting_user,
        pt_id=indicator.action.plan.programme_territory_id,
        action="indicator_update",
        plan_action=indicator.action_id,
        indicator=indicator.pk,
    )
    return indicator


@transaction.atomic
def indicator_delete(*, indicator: ActionIndicator, acting_user) -> None:
    pt_id = indicator.action.plan.programme_territory_id
    action_id, indicator_id = indicator.action_id, indicator.pk
    indicator.delete()
    _changed(
        acting_user=acting_user,
        pt_id=pt_id,
        action="indicator_delete",
        plan_action=action_id,
        indicator=indicator_id,
    )


@transaction.atomic
def measure_add(
    *, indicator: ActionIndicator, date, value, note: str = "", acting_user
) -> IndicatorMeasure:
    """Record a measured value of an indicator."""
    measure = IndicatorMeasure(
        indicator=indicator, date=date, value=value, note=note, recorded_by=acting_user
    )
    measure.full_clean(exclude=["indicator", "recorded_by"])
    measure.save()
    _changed(
        acting_user=acting_user,
        pt_id=indicator.action.plan.programme_territory_id,
        action="measure_add",
        plan_action=indicator.action_id,
        indicator=indicator.pk,
        measure=measure.pk,
    )
    return measure


# ---- Follow-up notes --------------------------------------------------------------------------


@transaction.atomic
def progress_update_add(
    *,
    action: Action,
    version: int,
    date,
    status: str,
    progress: int,
    note: str,
    confirm_done: bool = False,
    acting_user,
) -> ProgressUpdate:
    """Write a follow-up note with the status and progress at that date; the action takes that
    status and progress (with a version check, as any edit of the action)."""
    locked = Action.objects.select_for_update(of=("self",)).select_related("axis").get(pk=action.pk)
    check_version(locked, version, ACTION_CONFLICT_FIELDS)
    validate_action_values(
        start_date=None, end_date=None, progress=progress, status=status, confirm_done=confirm_done
    )
    update = ProgressUpdate(
        action=locked, date=date, status=status, progress=progress, note=note, author=acting_user
    )
    update.full_clean(exclude=["action", "author"])
    update.save()
    if (locked.status, locked.progress) != (status, progress):
        locked.status, locked.progress = status, progress
        locked.version += 1
        _save_action(locked, acting_user)
    _changed(
        acting_user=acting_user,
        pt_id=action.plan.programme_territory_id,
        action="progress_update_add",
        plan_action=locked.pk,
        update=update.pk,
    )
    return update


# ---- Documents --------------------------------------------------------------------------------


@transaction.atomic
def document_add(*, action: Action, upload, acting_user) -> ActionDocument:
    """Attach a document to an action, after checking its size and its type by content. The file
    is stored under a random name; its original name stays in the database only."""
    content_type = check_attachment(upload)
    document = ActionDocument(
        action=action,
        original_name=upload.name[-255:],
        content_type=content_type,
        size=upload.size,
        uploaded_by=acting_user,
    )
    document.file.save("document", upload, save=False)
    try:
        document.save()
        _changed(
            acting_user=acting_user,
            pt_id=action.plan.programme_territory_id,
            action="document_add",
            plan_action=action.pk,
            document=document.pk,
        )
    except Exception:
        # Nothing half-written: no file stays behind a failed write.
        document.file.storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def document_remove(*, document: ActionDocument, acting_user) -> None:
    """Delete a document; the file goes once the deletion is committed."""
    name, storage = document.file.name, document.file.storage
    action = document.action
    document_id = document.pk
    document.delete()
    transaction.on_commit(lambda: storage.delete(name))
    _changed(
        acting_user=acting_user,
        pt_id=action.plan.programme_territory_id,
        action="document_remove",
        plan_action=action.pk,
        document=document_id,
    )


# ---- Comments ---------------------------------------------------------------------------------


@transaction.atomic
def comment_add(*, action: Action, text: str, acting_user) -> ActionComment:
    """A comment of the local authority or of the association on an action."""
    comment = ActionComment(action=action, text=text.strip(), author=acting_user)
    comment.full_clean(exclude=["action", "author"])
    comment.save()
    _changed(
        acting_user=acting_user,
        pt_id=action.plan.programme_territory_id,
        action="comment_add",
        plan_action=action.pk,
        comment=comment.pk,
    )
    return comment


# ---- Validation of a version ------------------------------------------------------------------


def validation_blockers(actions) -> str | None:
    """Why the plan cannot be validated with these actions (pilots prefetched), or None."""
    if not actions:
        return (
            "Le plan ne contient aucune action : ajoutez au moins une action avant de le valider."
        )
    missing = [action for action in actions if not list(action.pilots.all())]
    if missing:
        names = ", ".join(f"{a.code} « {a.title} »" for a in missing)
        plural = len(missing) > 1
        return (
            f"{'Ces actions n’ont' if plural else 'Cette action n’a'} pas de structure pilote : "
            f"{names}. Indiquez une structure pilote pour "
            f"{'chacune' if plural else 'elle'} avant de valider le plan."
        )
    return None


@transaction.atomic
def plan_validate(
    *, plan: ActionPlan, date, validated_by: str, committee=None, acting_user
) -> PlanValidation:
    """Record that a version of the plan was validated (at a steering committee), with a snapshot
    of its actions. Refused when the plan has no action or an action has no pilot structure."""
    locked = ActionPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    if committee is not None and (
        committee.programme_territory_id != locked.programme_territory_id
        or committee.kind != ConsultationSession.Kind.STEERING
    ):
        raise ValidationError({"committee": "Choisissez un comité de pilotage de ce territoire."})
    actions = list(locked.actions.order_by("position", "code").prefetch_related("pilots"))
    blocker = validation_blockers(actions)
    if blocker:
        raise ValidationError(blocker, code="not_ready")
    last = locked.validations.aggregate(last=Max("number"))["last"]
    validation = PlanValidation(
        plan=locked,
        number=(last or 0) + 1,
        date=date,
        committee=committee,
        validated_by=validated_by.strip(),
        recorded_by=acting_user,
        snapshot=[
            {
                "code": action.code,
                "title": action.title,
                "status": action.status,
                "progress": action.progress,
                "pilots": sorted(structure.name for structure in action.pilots.all()),
            }
            for action in actions
        ],
    )
    validation.full_clean(exclude=["plan", "committee", "recorded_by", "snapshot"])
    validation.save()
    _changed(
        acting_user=acting_user,
        pt_id=locked.programme_territory_id,
        action="plan_validate",
        plan=locked.pk,
        number=validation.number,
    )
    return validation
