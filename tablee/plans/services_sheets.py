"""Writes behind the plan's spreadsheet: the audited export and the import, all or nothing."""

from django.db import transaction
from django.db.models import Max

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent
from tablee.plans.models import Action, ActionBudgetLine, ActionPlan
from tablee.plans.spreadsheet import (
    CREATED,
    UPDATED,
    ImportPlan,
    plan_actions,
    plan_import,
    plan_workbook,
)


class ImportOutdated(Exception):
    """The plan changed between the preview and the confirmation: the preview must be seen again."""

    message = (
        "Le plan a changé depuis l'aperçu (quelqu'un a modifié une action entre-temps) : rien "
        "n'a été importé. Vérifiez le nouvel aperçu ci-dessous, puis confirmez de nouveau."
    )


def plan_export(*, plan: ActionPlan, acting_user) -> bytes:
    """The XLSX workbook of ``plan`` (actions, budget, accepted values), with its audit event."""
    actions = list(plan_actions(plan))
    content = plan_workbook(plan, actions)
    audit(
        AuditEvent.Kind.EXPORT,
        actor=acting_user,
        target=f"plan d'action {plan.pk}",
        format="xlsx",
        actions=len(actions),
    )
    return content


def plan_import_preview(*, plan: ActionPlan, data: bytes) -> ImportPlan:
    """What importing ``data`` would change; raises SpreadsheetRejected. Writes nothing."""
    return plan_import(plan, data)


@transaction.atomic
def plan_import_apply(
    *, plan: ActionPlan, data: bytes, acting_user, expected_fingerprint: str | None = None
) -> ImportPlan:
    """Import ``data`` into ``plan``: every row is checked again, then everything is written in
    one transaction, or nothing.

    The actions of the plan are locked first, so that the comparison holds until the commit.
    With ``expected_fingerprint`` (the preview's), raises ImportOutdated when the changes are not
    those the person confirmed. Raises SpreadsheetRejected on any problem. Importing the same
    file twice changes nothing the second time: unchanged actions are not saved, keep their
    version and get no history entry.
    """
    locked = ActionPlan.objects.select_for_update(of=("self",)).get(pk=plan.pk)
    list(
        Action.objects.select_for_update(of=("self",))
        .filter(plan=locked)
        .values_list("pk", flat=True)
    )
    import_plan = plan_import(locked, data)
    if expected_fingerprint is not None and import_plan.fingerprint != expected_fingerprint:
        raise ImportOutdated(ImportOutdated.message)
    if not import_plan.has_changes:
        return import_plan

    by_code = {row.action.code: row.action for row in import_plan.actions if row.action}
    position = locked.actions.aggregate(last=Max("position"))["last"] or 0
    for row in import_plan.actions:
        if row.kind == CREATED:
            position += 1
            action = Action(plan=locked, code=row.code, position=position, created_by=acting_user)
        elif row.kind == UPDATED:
            action = row.action
            # Read under the lock above: nobody changed it since.
            action.version += 1
        else:
            continue
        for name, value in row.updates.items():
            setattr(action, name, value)
        action._history_user = acting_user
        action.save()
        for name, objects in row.relations.items():
            getattr(action, name).set(objects)
        by_code[action.code] = action

    for row in import_plan.budget:
        if row.kind == CREATED:
            ActionBudgetLine.objects.create(
                action=by_code[row.code],
                year=row.year,
                funder=row.funder,
                planned=row.planned,
                spent=row.spent,
            )
        elif row.kind == UPDATED:
            row.existing.planned = row.planned
            row.existing.spent = row.spent
            row.existing.save(update_fields=["planned", "spent"])

    audit(
        AuditEvent.Kind.PLAN_IMPORTED,
        actor=acting_user,
        target=f"plan d'action {locked.pk}",
        **import_plan.counts,
    )
    return import_plan
