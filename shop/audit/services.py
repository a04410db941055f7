"""Writing to the audit trail, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from shop.audit.models import AuditEntry
from shop.extensions import db


def record(
    action: str,
    entity: Any,
    *,
    actor: Any | None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> AuditEntry | None:
    """Add an audit entry for ``entity``; the caller's transaction commits it or rolls it back.
    A change that changed nothing (``before`` equal to ``after``: a form saved as it was) is no
    event, and leaves no entry."""
    if before is not None and before == after:
        return None
    db.session.flush()  # so a new entity has its id
    entry = AuditEntry(
        action=action,
        entity_type=type(entity).__name__,
        entity_id=getattr(entity, "id", None),
        actor_id=getattr(actor, "id", actor),
        before=before,
        after=after,
        reason=reason,
    )
    db.session.add(entry)
    return entry
