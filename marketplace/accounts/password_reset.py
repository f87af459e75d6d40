"""Forgotten passwords: a single-use link, valid for an hour, sent through the outbox.

The request page answers the same whether or not the address has an account, and the email
goes only to an active account's own address. Choosing the new password ends every other
session and cancels any other reset link. Callers commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from marketplace import clock
from marketplace.accounts import email_links
from marketplace.accounts import services as accounts
from marketplace.accounts.models import EmailLink, User
from marketplace.audit import services as audit
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.mail import services as mail

RESET_LIFETIME = timedelta(hours=1)
# Reset emails per address per hour; more requests are counted in the audit trail only.
MAX_RESETS_PER_HOUR = 3


def request_reset(email: str, *, link: Callable[[str], str], ip_address: str | None = None) -> None:
    address = accounts.checked_email(email)
    user = accounts.get_user_by_email(address)
    if user is None or not user.active:
        audit.record(
            "password_reset.requested",
            actor_label=address[:320] or "(blank)",
            detail={"sent": False},
            ip_address=ip_address,
        )
        return
    if (
        email_links.recent_count("password_reset", address, timedelta(hours=1))
        >= MAX_RESETS_PER_HOUR
    ):
        audit.record(
            "password_reset.throttled",
            actor=user,
            object_type="user",
            object_id=user.email,
            ip_address=ip_address,
        )
        return
    row, secret = email_links.issue("password_reset", address, lifetime=RESET_LIFETIME, user=user)
    mail.queue(
        address,
        "Reset your password",
        "password_reset",
        name=user.name,
        link=link(secret),
        expires_at=row.expires_at,
    )
    audit.record(
        "password_reset.requested",
        actor=user,
        object_type="user",
        object_id=user.email,
        detail={"sent": True, "expires_at": row.expires_at},
        ip_address=ip_address,
    )


def check_link(secret: str) -> EmailLink:
    return email_links.find("password_reset", secret)


def reset_password(secret: str, *, password: str, ip_address: str | None = None) -> User:
    row = email_links.find("password_reset", secret, lock=True)
    user = row.user
    if not user.active:
        raise email_links.LinkNotValid("This account is deactivated.")
    problems = accounts.check_password_strength(password, email=user.email)
    if problems:
        raise ValidationFailed("Choose a different password.", errors=problems)
    user.password_hash = accounts.hash_password(password)
    user.session_version += 1  # every session signed in with the old password ends
    user.failed_logins = 0
    user.locked_until = None
    email_links.use(row)
    db.session.execute(
        db.update(EmailLink)
        .where(
            EmailLink.purpose == "password_reset",
            EmailLink.user_id == user.id,
            EmailLink.used_at.is_(None),
            EmailLink.cancelled_at.is_(None),
        )
        .values(cancelled_at=clock.now())
        .execution_options(synchronize_session=False)
    )
    audit.record(
        "password_reset.completed",
        actor=user,
        object_type="user",
        object_id=user.email,
        ip_address=ip_address,
    )
    db.session.flush()
    return user
