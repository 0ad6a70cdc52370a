"""The audit event of every write on a territory's diagnostic: ids only, never free text."""

from tablee.accounts.audit import audit
from tablee.accounts.models import AuditEvent


def diagnostic_changed(*, acting_user, pt_id, action: str, **ids) -> None:
    """Record that ``acting_user`` did ``action`` on the diagnostic of programme territory ``pt_id``."""
    audit(
        AuditEvent.Kind.DIAGNOSTIC_CHANGED,
        actor=acting_user,
        target=str(pt_id),
        action=action,
        **{key: str(value) for key, value in ids.items()},
    )
