"""Alerts: a centre's new early-warning signals, told to the centre first and to its buyers
and the authority after ALERT_GRACE_HOURS (DOMAIN.md "Early warning").

- Alert: one new signal of one centre (or a deadline reminder, for the centre alone), kept
  once per identity: the same signal seen again tomorrow is not a new alert.
- AlertRecipient: who is told, from when (`due_at`), and when it went out by e-mail.
- AlertMute: a person who does not want a centre's alerts.
- AlertFeedKey: the secret of a person's private Atom feed, stored hashed; revocable.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import clock
from marketplace.accounts.models import User
from marketplace.catalogue.models import ServiceCentre
from marketplace.db import IdMixin, UTCDateTime
from marketplace.extensions import db

DEADLINE_REMINDER = "deadline_reminder"


def new_public_id() -> str:
    return secrets.token_urlsafe(12)


class Alert(IdMixin, db.Model):
    __tablename__ = "alerts"

    public_id: Mapped[str] = mapped_column(
        String(22), unique=True, nullable=False, default=new_public_id
    )
    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="CASCADE"), nullable=False
    )
    # A signal kind (benchmarks/signals.py KINDS) or DEADLINE_REMINDER.
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    identity: Mapped[str] = mapped_column(String(200), nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    link: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    # Reminders concern only the centre: nobody else is told of them.
    centre_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    # When buyers and the authority are told: created_at + ALERT_GRACE_HOURS.
    released_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    centre: Mapped[ServiceCentre] = relationship()

    __table_args__ = (
        UniqueConstraint("centre_id", "identity"),
        CheckConstraint("released_at >= created_at", name="released_after_created"),
        CheckConstraint("length(trim(detail)) > 0", name="detail_not_blank"),
    )


class AlertRecipient(IdMixin, db.Model):
    __tablename__ = "alert_recipients"

    alert_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("alerts.id", ondelete="CASCADE"), nullable=False
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    alert: Mapped[Alert] = relationship(lazy="joined")
    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("alert_id", "user_id"),
        Index("ix_alert_recipients_user_id_due_at", "user_id", "due_at"),
        CheckConstraint("emailed_at IS NULL OR emailed_at >= due_at", name="emailed_when_due"),
    )


class AlertMute(IdMixin, db.Model):
    __tablename__ = "alert_mutes"

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    )
    centre_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("service_centres.id", ondelete="CASCADE"), nullable=False
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)

    __table_args__ = (UniqueConstraint("user_id", "centre_id"),)


class AlertFeedKey(IdMixin, db.Model):
    __tablename__ = "alert_feed_keys"

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    # SHA-256 of the secret in the feed's address: the database cannot hand the feed out.
    key_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)
    last_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
