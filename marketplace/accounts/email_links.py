"""Single-use, expiring links sent by email (invitations, address checks, password resets).

The secret goes into the email only; the database keeps its SHA-256, so a copy of the
database opens no account. A link works once, until it expires, and a newer link of the same
purpose for the same address cancels the older ones. Callers commit.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from marketplace import clock
from marketplace.accounts.auth import hash_token
from marketplace.accounts.models import EmailLink
from marketplace.errors import DomainError
from marketplace.extensions import db


class LinkNotValid(DomainError):
    status = 400
    title = "This link cannot be used"


def issue(
    purpose: str,
    email: str,
    *,
    lifetime: timedelta,
    organisation=None,
    role: str | None = None,
    name: str = "",
    user=None,
    actor=None,
) -> tuple[EmailLink, str]:
    """A new link; returns the row and the secret for the email (never stored)."""
    now = clock.now()
    db.session.execute(
        db.update(EmailLink)
        .where(
            EmailLink.purpose == purpose,
            EmailLink.email == email,
            EmailLink.used_at.is_(None),
            EmailLink.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    secret = secrets.token_urlsafe(32)
    link = EmailLink(
        purpose=purpose,
        token_hash=hash_token(secret),
        email=email,
        organisation=organisation,
        role=role,
        name=name,
        user=user,
        created_by_id=getattr(actor, "id", None),
        created_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(link)
    db.session.flush()
    return link, secret


def find(purpose: str, secret: str, *, lock: bool = False) -> EmailLink:
    """The usable link for a secret, or LinkNotValid saying what to do instead."""
    statement = db.select(EmailLink).where(
        EmailLink.token_hash == hash_token(secret or ""), EmailLink.purpose == purpose
    )
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    link = db.session.execute(statement).scalar_one_or_none() if secret else None
    if link is None:
        raise LinkNotValid("This link is not valid. Check that you copied all of it.")
    if link.used_at is not None:
        raise LinkNotValid("This link has already been used. Each link works once.")
    if link.cancelled_at is not None:
        raise LinkNotValid("A newer link has been sent; use the link in the latest email.")
    if link.expires_at <= clock.now():
        raise LinkNotValid("This link has expired. Ask for a new one.")
    return link


def use(link: EmailLink) -> None:
    link.used_at = clock.now()
    db.session.flush()


def recent_count(purpose: str, email: str, within: timedelta) -> int:
    return len(
        db.session.execute(
            db.select(EmailLink.id).where(
                EmailLink.purpose == purpose,
                EmailLink.email == email,
                EmailLink.created_at > clock.now() - within,
            )
        ).all()
    )
