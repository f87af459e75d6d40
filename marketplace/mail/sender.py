"""Deliver queued email by SMTP (only when MAIL_SMTP_HOST is configured).

Each message is locked while it is sent (SKIP LOCKED on PostgreSQL, so two senders never
send the same message), marked sent, and its body cleared: invitations and password resets
carry single-use secrets that the database should not keep once the message has left.
A failure is counted and kept for the next attempt; after MAX_ATTEMPTS it is marked failed.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from email.message import EmailMessage

from marketplace import clock
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail

MAX_ATTEMPTS = 5
SMTP_TIMEOUT_SECONDS = 15
log = logging.getLogger("marketplace.mail")


def configured(config) -> bool:
    return bool(config.get("MAIL_SMTP_HOST"))


def _message(email: OutboxEmail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message["Message-ID"] = f"<{email.public_id}@marketplace>"
    message.set_content(email.body_text)
    return message


def _connect(config) -> smtplib.SMTP:
    connection = smtplib.SMTP(
        config["MAIL_SMTP_HOST"], config.get("MAIL_SMTP_PORT", 587), timeout=SMTP_TIMEOUT_SECONDS
    )
    if config.get("MAIL_SMTP_STARTTLS", True):
        connection.starttls()
    if config.get("MAIL_SMTP_USERNAME"):
        connection.login(config["MAIL_SMTP_USERNAME"], config.get("MAIL_SMTP_PASSWORD") or "")
    return connection


def deliver_queued(config, *, limit: int = 50) -> tuple[int, int]:
    """Send up to `limit` queued messages; returns (sent, failed). The caller commits."""
    if not configured(config):
        return 0, 0
    emails = list(
        db.session.execute(
            db.select(OutboxEmail)
            .where(OutboxEmail.status == "queued")
            .order_by(OutboxEmail.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).scalars()
    )
    if not emails:
        return 0, 0
    sent = failed = 0
    try:
        connection = _connect(config)
    except (OSError, smtplib.SMTPException) as error:
        for email in emails:
            _failed(email, error)
        db.session.flush()
        return 0, len(emails)
    try:
        for email in emails:
            try:
                connection.send_message(_message(email, config.get("MAIL_FROM", "")))
            except smtplib.SMTPException as error:
                _failed(email, error)
                failed += 1
            else:
                email.status = "sent"
                email.sent_at = clock.now()
                email.attempts += 1
                email.last_error = ""
                email.body_text = ""
                sent += 1
    finally:
        with contextlib.suppress(OSError, smtplib.SMTPException):
            connection.quit()
    db.session.flush()
    return sent, failed


def _failed(email: OutboxEmail, error: Exception) -> None:
    email.attempts += 1
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    if email.attempts >= MAX_ATTEMPTS:
        email.status = "failed"
    log.warning(
        "mail delivery failed",
        extra={"email": email.public_id, "attempts": email.attempts, "error": email.last_error},
    )


def deliver_after_commit(config) -> None:
    """Views call this after their commit, so a click that queued mail also sends it.

    Sending never undoes the change that queued the message: anything left queued is sent
    by the next request or by `flask send-mail`.
    """
    if not configured(config):
        return
    try:
        with db.session.begin_nested():
            deliver_queued(config)
        db.session.commit()
    except Exception:  # the change is committed; delivery is retried later
        log.exception("mail delivery after commit failed")
