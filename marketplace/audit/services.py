"""Writing audit events. Callers pass the acting user; nothing here reads the request."""

from __future__ import annotations

from typing import Any

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db

SYSTEM = "system"


def record(
    action: str,
    *,
    actor: Any | None = None,
    actor_label: str | None = None,
    organisation_id: int | None = None,
    object_type: str | None = None,
    object_id: Any | None = None,
    detail: dict | None = None,
    ip_address: str | None = None,
) -> AuditEvent:
    """Add an event to the current transaction, so it commits or rolls back with the change."""
    label = actor_label or (getattr(actor, "email", None) if actor is not None else None) or SYSTEM
    if organisation_id is None and actor is not None:
        organisation_id = getattr(actor, "organisation_id", None)
    event = AuditEvent(
        action=action,
        actor_id=getattr(actor, "id", None),
        actor_label=label,
        organisation_id=organisation_id,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=_jsonable(detail or {}),
        ip_address=ip_address,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
