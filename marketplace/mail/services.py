"""Queue email in the outbox (flush only) and read it back for the development page.

Messages are rendered from plain-text templates in templates/mail/ when they are queued, so
the outbox shows exactly what was (or will be) sent. Delivery is mail.sender's job.
"""

from __future__ import annotations

from flask import render_template

from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail

MAX_SUBJECT = 300


def queue(to_address: str, subject: str, template: str, **context) -> OutboxEmail:
    """Add an email to the outbox in the caller's transaction.

    It is sent only if that transaction commits: an invitation whose account change was
    rolled back never goes out.
    """
    body = render_template(f"mail/{template}.txt", **context)
    email = OutboxEmail(
        to_address=to_address,
        subject=subject[:MAX_SUBJECT],
        body_text=body,
        template=template,
        status="queued",
    )
    db.session.add(email)
    db.session.flush()
    return email


def recent(limit: int = 100, *, to_address: str | None = None) -> list[OutboxEmail]:
    statement = db.select(OutboxEmail).order_by(OutboxEmail.id.desc()).limit(limit)
    if to_address:
        statement = statement.where(OutboxEmail.to_address == to_address.strip().lower())
    return list(db.session.execute(statement).scalars())


def get(public_id: str) -> OutboxEmail:
    email = db.session.execute(
        db.select(OutboxEmail).where(OutboxEmail.public_id == public_id)
    ).scalar_one_or_none()
    if email is None:
        raise NotFound("There is no such email in the outbox.")
    return email
