"""Helpers shared by the accounts tests."""

from __future__ import annotations

import contextlib
import re

from flask import Flask
from flask.globals import app_ctx

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from tests.factories import PASSWORD


def log_in(client, email: str, password: str = PASSWORD, **kwargs):
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token field"
    return match.group(1)


@contextlib.contextmanager
def fresh_request(app: Flask, path: str, **kwargs):
    """A test request context with an empty `g`, as a real request would have.

    The test's application context outlives requests, and Flask-Login caches the user in
    `g`; without the reset a second request would see the first one's caller.
    """
    app_ctx.g = app.app_ctx_globals_class()
    with app.test_request_context(path, **kwargs) as context:
        yield context
