"""Writing audit events, and reading them back (filters, pages, CSV).

Callers pass the acting user. Where the change came from (the client's address and the API
token, if any) is read from marketplace.provenance, so every event records it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, func

from marketplace import provenance
from marketplace.audit.models import AuditEvent
from marketplace.errors import FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.spreadsheets import neutralise_text

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
    """Add an event to the current transaction, so it commits or rolls back with the change.

    An event made in a request authenticated by an API token names the token in its
    detail (`api_token`: the token's public id).
    """
    detail = dict(detail or {})
    token_id = provenance.api_token_id()
    if token_id is not None:
        detail.setdefault("api_token", token_id)
    if ip_address is None:
        ip_address = provenance.ip_address()
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
        detail=jsonable(detail),
        ip_address=ip_address,
    )
    db.session.add(event)
    db.session.flush()
    return event


def jsonable(value: Any) -> Any:
    """Dates, decimals and other values as JSON-safe text, as events store them."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


# --- reading the trail (the admin page, the API and the CSV export) -----------------------
# Nothing here, or anywhere in the application, updates or deletes an event; on PostgreSQL
# a trigger (migration 0002) refuses it too.

CSV_COLUMNS = (
    "occurred_at",
    "actor",
    "organisation",
    "action",
    "object_type",
    "object_id",
    "detail",
    "ip_address",
)


@dataclass(frozen=True)
class AuditQuery:
    """Filters, all optional. action 'accreditation.' or 'accreditation.*' matches a prefix;
    object is 'type' or 'type:id'; the dates are inclusive days in UTC."""

    actor: str | None = None
    organisation: str | None = None
    action: str | None = None
    object: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def is_filtered(self) -> bool:
        return any(getattr(self, name) for name in self.__dataclass_fields__)


def _organisations():
    # By table, not model: audit sits below accounts and does not import it.
    return db.metadata.tables["organisations"]


TO_BEFORE_FROM = "'To' must be on or after 'from'."


def statement(query: AuditQuery, *columns):
    """The events matching the filters, newest first, with the organisation's slug.

    Without columns, rows are (AuditEvent, slug); with them, those columns then the slug.
    """
    organisations = _organisations()
    select = (
        db.select(*(columns or (AuditEvent,)), organisations.c.slug)
        .select_from(AuditEvent)
        .outerjoin(organisations, organisations.c.id == AuditEvent.organisation_id)
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
    )
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ValidationFailed(
            "The dates are the wrong way round.",
            errors=[FieldError(TO_BEFORE_FROM, "to")],
        )
    if query.actor:
        select = select.where(
            AuditEvent.actor_label.icontains(query.actor.strip(), autoescape=True)
        )
    if query.organisation:
        org_id = db.session.execute(
            db.select(organisations.c.id).where(organisations.c.slug == query.organisation.strip())
        ).scalar_one_or_none()
        if org_id is None:
            raise ValidationFailed(
                "Unknown organisation.",
                errors=[
                    FieldError(f"There is no organisation '{query.organisation}'.", "organisation")
                ],
            )
        select = select.where(AuditEvent.organisation_id == org_id)
    if query.action:
        action = query.action.strip()
        if action.endswith("*") or action.endswith("."):
            select = select.where(AuditEvent.action.startswith(action.rstrip("*"), autoescape=True))
        else:
            select = select.where(AuditEvent.action == action)
    if query.object:
        object_type, _, object_id = query.object.strip().partition(":")
        select = select.where(AuditEvent.object_type == object_type)
        if object_id:
            select = select.where(AuditEvent.object_id == object_id)
    if query.date_from:
        select = select.where(AuditEvent.occurred_at >= _midnight(query.date_from))
    if query.date_to:
        select = select.where(AuditEvent.occurred_at < _midnight(query.date_to + timedelta(days=1)))
    return select


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    organisation: str | None

    def as_dict(self) -> dict:
        event = self.event
        return {
            "id": event.id,
            "occurred_at": event.occurred_at,
            "actor": event.actor_label,
            "organisation": self.organisation,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "detail": event.detail,
            "ip_address": event.ip_address,
        }


def search(query: AuditQuery, *, page: int = 1, per_page: int = 50):
    """One page of matching events: (rows, total)."""
    select = statement(query)
    total = db.session.execute(
        db.select(func.count()).select_from(select.order_by(None).subquery())
    ).scalar_one()
    rows = db.session.execute(select.limit(per_page).offset((page - 1) * per_page)).all()
    return [AuditRow(event, slug) for event, slug in rows], total


def csv_chunks(query: AuditQuery, *, batch: int = 1000) -> Iterator[str]:
    """The matching events as CSV text, in chunks, read in batches (not all in memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    # Plain columns, not ORM objects: an export of the whole trail builds no identity map.
    columns = (
        AuditEvent.occurred_at,
        AuditEvent.actor_label,
        AuditEvent.action,
        AuditEvent.object_type,
        AuditEvent.object_id,
        # The stored JSON text as it is: parsing and dumping it again is most of the work.
        cast(AuditEvent.detail, Text),
        AuditEvent.ip_address,
    )
    result = db.session.execute(
        statement(query, *columns).execution_options(yield_per=batch, stream_results=True)
    )
    for occurred_at, actor, action, object_type, object_id, detail, ip_address, slug in result:
        writer.writerow(
            (
                occurred_at.isoformat(),
                _cell(actor),
                slug or "",
                action,
                _cell(object_type or ""),
                _cell(object_id or ""),
                _cell(detail or "{}"),
                ip_address or "",
            )
        )
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _cell(value: str) -> str:
    # Spreadsheets run formulas; a leading quote keeps them text (marketplace.spreadsheets).
    return neutralise_text(value)
