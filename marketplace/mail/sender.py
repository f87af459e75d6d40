"""Deliver queued email by SMTP (only when MAIL_SMTP_HOST is configured), off the request path.

Each message is locked while it is sent (SKIP LOCKED on PostgreSQL, so two senders never
send the same message), marked sent, and its body cleared: invitations and password resets
carry single-use secrets that the database should not keep once the message has left.

One message can never stop the others: each is built and sent on its own, and any exception
(an SMTP refusal, a dropped connection, the email library's ValueError on a bad header) is
kept with that message only (`last_error`). A message that cannot be built (a recipient that
is not one plain mailbox) is given up at once; any other failure is tried again after a
growing delay (`next_attempt_at`), and given up after MAX_ATTEMPTS.

The sender addresses exactly the stored recipient, in the envelope and the To header alike;
nothing is parsed back out of a header.

Views call `deliver_after_commit`, which never sends inside the request: an RQ job does when
REDIS_URL is set, otherwise marketplace.background once the response has gone. So a password
reset costs the same time whether or not the address has an account (and so an email).
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from datetime import timedelta
from email.message import EmailMessage

from flask import current_app, g, has_request_context

from marketplace import addresses, background, clock
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail

MAX_ATTEMPTS = 5
# The wait before the next attempt, by the number of attempts made so far.
RETRY_DELAYS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
)
SMTP_TIMEOUT_SECONDS = 15
MAIL_JOB = "marketplace.worker.send_mail"  # by its dotted path: mail imports no app factory
log = logging.getLogger("marketplace.mail")


class CannotBuild(ValueError):
    """The message itself is wrong: another attempt would fail the same way."""


def configured(config) -> bool:
    return bool(config.get("MAIL_SMTP_HOST"))


def _message(email: OutboxEmail, sender: str) -> EmailMessage:
    if not addresses.is_plain(email.to_address):
        raise CannotBuild("the recipient is not one plain email address")
    try:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = email.to_address
        message["Subject"] = email.subject
        message["Message-ID"] = f"<{email.public_id}@marketplace>"
        message.set_content(email.body_text)
    except (ValueError, TypeError) as error:  # e.g. CR/LF in a header
        raise CannotBuild(str(error)) from error
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


def _close(connection) -> None:
    with contextlib.suppress(Exception):
        connection.quit()


def due():
    """Queued messages whose first or next attempt is due."""
    return db.select(OutboxEmail).where(
        OutboxEmail.status == "queued",
        OutboxEmail.next_attempt_at.is_(None) | (OutboxEmail.next_attempt_at <= clock.now()),
    )


def deliver_queued(config, *, limit: int = 50) -> tuple[int, int]:
    """Send up to `limit` due messages, each on its own; returns (sent, failed).

    The caller commits.
    """
    if not configured(config):
        return 0, 0
    emails = list(
        db.session.execute(
            due().order_by(OutboxEmail.id).limit(limit).with_for_update(skip_locked=True)
        ).scalars()
    )
    sender = config.get("MAIL_FROM", "")
    sent = failed = 0
    connection = None
    try:
        for email in emails:
            try:
                message = _message(email, sender)
            except CannotBuild as error:
                _failed(email, error, permanent=True)
                failed += 1
                continue
            try:
                if connection is None:
                    connection = _connect(config)
                # The envelope names the stored recipient itself, not the parsed header.
                connection.send_message(message, from_addr=sender, to_addrs=[email.to_address])
            except Exception as error:  # whatever it was, it belongs to this message only
                _failed(email, error)
                failed += 1
                if connection is not None:
                    # The session may be half-way through a command: the next starts afresh.
                    _close(connection)
                    connection = None
            else:
                email.status = "sent"
                email.sent_at = clock.now()
                email.attempts += 1
                email.last_error = ""
                email.body_text = ""
                email.next_attempt_at = None
                sent += 1
    finally:
        if connection is not None:
            _close(connection)
    db.session.flush()
    return sent, failed


def _failed(email: OutboxEmail, error: Exception, *, permanent: bool = False) -> None:
    email.attempts += 1
    email.last_error = f"{type(error).__name__}: {error}"[:2000]
    if permanent or email.attempts >= MAX_ATTEMPTS:
        email.status = "failed"
        email.next_attempt_at = None
    else:
        delay = RETRY_DELAYS[min(email.attempts, len(RETRY_DELAYS)) - 1]
        email.next_attempt_at = clock.now() + delay
    log.warning(
        "mail delivery failed",
        extra={"email": email.public_id, "attempts": email.attempts, "error": email.last_error},
    )


def deliver_due() -> None:
    """Send what is due, in a transaction of its own (run after the response, or by RQ)."""
    deliver_queued(current_app.config)
    db.session.commit()


def deliver_after_commit(config) -> None:
    """Views call this after their commit: the mail leaves soon, never inside the request.

    With REDIS_URL an RQ job sends it; otherwise marketplace.background, once the response
    has been sent. Anything left queued is sent by a later call or by `flask send-mail`.
    """
    if not configured(config):
        return
    if config.get("REDIS_URL"):
        try:
            _enqueue(config)
            return
        except Exception:
            log.exception("could not queue the mail job; sending after the response instead")
    if has_request_context():
        if g.get("_mail_after_response"):
            return
        g._mail_after_response = True
    background.after_response(deliver_due)


def _enqueue(config) -> None:
    from redis import Redis
    from rq import Queue

    queue = Queue(
        config.get("MAIL_QUEUE") or "mail", connection=Redis.from_url(config["REDIS_URL"])
    )
    queue.enqueue(MAIL_JOB, job_timeout=300, result_ttl=3600, failure_ttl=7 * 24 * 3600)
