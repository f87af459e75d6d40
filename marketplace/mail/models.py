"""The outbox: every email the service sends is first a row here, written in the transaction
that caused it, so an email exists exactly when the change that sent it was committed."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import CheckConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from marketplace import clock
from marketplace.db import IdMixin, UTCDateTime, one_of
from marketplace.extensions import db

MAIL_STATUSES = ("queued", "sent", "failed")


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


class OutboxEmail(IdMixin, db.Model):
    __tablename__ = "outbox_emails"

    public_id: Mapped[str] = mapped_column(
        String(22), unique=True, nullable=False, default=new_public_id
    )
    to_address: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(300), nullable=False)
    # Invitations and resets carry single-use secrets: the body is cleared once SMTP has
    # taken the message, so the database does not keep working links.
    body_text: Mapped[str] = mapped_column(Text, nullable=False, default="")
    template: Mapped[str] = mapped_column(String(80), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Why the last attempt failed; kept with the message, so one bad message stops no other.
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # When a failed message is tried again (growing delays); None: as soon as possible.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(one_of("status", MAIL_STATUSES), name="status"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_at"),
    )
