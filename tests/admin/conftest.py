"""Fixtures for the admin tests: an admin's client, and reading the audit trail."""

from __future__ import annotations

import pytest

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db


@pytest.fixture
def admin(as_persona):
    return as_persona("admin")


def events(action: str, object_id: str | None = None) -> list[AuditEvent]:
    statement = db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    if object_id is not None:
        statement = statement.where(AuditEvent.object_id == object_id)
    return list(db.session.execute(statement).scalars())


def date_fields(name: str, day) -> dict:
    return {
        f"{name}-day": str(day.day),
        f"{name}-month": str(day.month),
        f"{name}-year": str(day.year),
    }


def confirm(client, url: str, data: dict):
    """Post an admin action twice, as a person does: the form, then its confirmation page."""
    first = client.post(url, data=data)
    assert first.status_code == 200, first.get_data(as_text=True)
    assert 'name="confirmed" value="yes"' in first.get_data(as_text=True)
    return client.post(url, data={**data, "confirmed": "yes"})
