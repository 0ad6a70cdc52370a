"""Writing the audit trail. No personal data goes in ``detail``: ids and counts only."""

from tablee.accounts.models import AuditEvent


def audit(kind: str, *, actor=None, target: str = "", **detail) -> AuditEvent:
    """Record one audit event; ``actor`` is the acting user or None (anonymous, unknown account)."""
    if actor is not None and not actor.is_authenticated:
        actor = None
    return AuditEvent.objects.create(kind=kind, actor=actor, target=target[:200], detail=detail)
