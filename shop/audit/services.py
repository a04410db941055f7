"""Writing to the audit trail, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from shop.audit.models import AuditEntry
from shop.extensions import db

_INSERT_ENTRY = insert(AuditEntry.__table__)


def record(
    action: str,
    entity: Any,
    *,
    actor: Any | None,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Add an audit entry for ``entity``; the caller's transaction commits it or rolls it back."""
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


def entry_values(
    action: str, entity_type: str, entity_id: int | None, *, actor_id: int | None, after: dict | None = None
) -> dict:
    """The columns of an audit entry written with Core (its time comes from the column's default)."""
    return {
        "action": action,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "actor_id": actor_id,
        "before": None,
        "after": after,
        "reason": None,
    }


def record_inserted(
    action: str, entity_type: str, entity_id: int, *, actor_id: int | None, after: dict | None = None
) -> None:
    """``record`` for an entity written with Core on a hot path: one INSERT, no flush, no ORM
    object. Same row, same transaction."""
    db.session.connection().execute(
        _INSERT_ENTRY, entry_values(action, entity_type, entity_id, actor_id=actor_id, after=after)
    )
