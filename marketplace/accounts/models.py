"""Organisations, the people who sign in for them, and their API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import clock
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from marketplace.extensions import db

ORG_KINDS = ("department", "alb", "centre", "authority")
ROLES = ("buyer", "centre", "admin")
# Which kind of organisation each role may belong to.
ROLE_ORG_KINDS = {"buyer": ("department", "alb"), "centre": ("centre",), "admin": ("authority",)}


class Organisation(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "organisations"

    slug: Mapped[str] = mapped_column(String(80), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )

    parent: Mapped[Organisation | None] = relationship(remote_side="Organisation.id")

    __table_args__ = (
        CheckConstraint(one_of("kind", ORG_KINDS), name="kind"),
        # An ALB always has a sponsoring department; nothing else has a parent.
        CheckConstraint(
            "(kind = 'alb' AND parent_id IS NOT NULL) OR (kind <> 'alb' AND parent_id IS NULL)",
            name="alb_has_parent",
        ),
        CheckConstraint("parent_id IS NULL OR parent_id <> id", name="not_own_parent"),
    )

    def __repr__(self) -> str:
        return f"<Organisation {self.slug}>"


class User(UserMixin, IdMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    # Addresses the person in admin URLs without exposing a guessable sequence.
    public_id: Mapped[str] = mapped_column(
        String(22), unique=True, nullable=False, default=lambda: secrets.token_urlsafe(12)
    )
    # Stored lower-cased (checked by the database) so uniqueness ignores case.
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    password_hash: Mapped[str | None] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    # Bumped on logout-everywhere, password change and deactivation: every session cookie
    # carries the version it was issued with and is refused once it no longer matches.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Failures older than a day are forgotten, so old typos cannot add up to a lock.
    last_failed_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # May approve or refuse requests to join its own organisation (set by admins).
    is_approver: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=text("false")
    )

    organisation: Mapped[Organisation] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint(one_of("role", ROLES), name="role"),
        CheckConstraint("NOT is_approver OR role = 'buyer'", name="approver_is_buyer"),
        CheckConstraint("email = lower(email)", name="email_lower_case"),
        CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
        CheckConstraint("session_version >= 1", name="session_version_positive"),
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return bool(self.active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_buyer(self) -> bool:
        return self.role == "buyer"

    @property
    def is_centre_user(self) -> bool:
        return self.role == "centre"

    @property
    def join_request_waiting(self) -> JoinRequest | None:
        """The request that keeps a buyer out: their latest join request, if not approved.

        THE rule for buyer-specific work (see accounts.membership): a buyer with none (an
        invited, fixture or CLI account) or whose latest request is approved is a member.
        """
        if self.role != "buyer" or self.id is None:
            return None
        latest = db.session.execute(
            db.select(JoinRequest)
            .where(JoinRequest.user_id == self.id)
            .order_by(JoinRequest.created_at.desc(), JoinRequest.id.desc())
            .limit(1)
        ).scalar_one_or_none()
        if latest is None or latest.status == "approved":
            return None
        return latest

    @property
    def acts_as_buyer(self) -> bool:
        """A buyer who may do buyer-specific work: a member, not waiting or refused."""
        return self.role == "buyer" and bool(self.active) and self.join_request_waiting is None

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginThrottle(IdMixin, db.Model):
    """Failed sign-ins for an address with no usable account (unknown or deactivated).

    Real accounts count failures on the user row. Counting these as well means a lock
    message looks the same whether or not an account exists, so it reveals nothing.
    """

    __tablename__ = "login_throttles"

    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    failed_logins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_failed_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),)


DEFAULT_TOKEN_LIFETIME = timedelta(days=365)


def new_token_public_id() -> str:
    # Hex, not URL-safe base64: an id starting with '-' reads as an option to `revoke-token`.
    return secrets.token_hex(11)


class ApiToken(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "api_tokens"

    # Addresses the token in URLs (revoke pages) without exposing a guessable sequence.
    public_id: Mapped[str] = mapped_column(
        String(22), unique=True, nullable=False, default=new_token_public_id
    )

    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    # Only a SHA-256 of the token is kept; the prefix lets people recognise it in lists.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    # Written at most once a minute (accounts.auth), to spare the database a write a call.
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every token dies: TOKEN_LIFETIME_DAYS after it is made, unless revoked sooner.
    expires_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=lambda: clock.now() + DEFAULT_TOKEN_LIFETIME
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(lazy="joined")
    organisation: Mapped[Organisation] = relationship()

    __table_args__ = (CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),)

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()

    @property
    def is_live(self) -> bool:
        return not self.is_revoked and not self.is_expired


# --- onboarding (accounts.registration, accounts.password_reset) ---------------------------

EMAIL_LINK_PURPOSES = ("invitation", "registration", "password_reset")


# The buyer organisations an allow-listed domain's people may ask to join.
email_domain_organisations = Table(
    "email_domain_organisations",
    db.metadata,
    Column(
        "email_domain_id",
        Integer,
        ForeignKey("email_domains.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "organisation_id",
        Integer,
        ForeignKey("organisations.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class EmailDomain(IdMixin, TimestampMixin, db.Model):
    """A domain whose addresses may register as buyers themselves (the allow-list).

    An address matches its own domain or any subdomain of it: 'example.gov.uk' admits
    'sam@example.gov.uk' and 'sam@team.example.gov.uk'. The domain names the department(s)
    or ALB(s) its people may ask to join; one naming none (older fixture files) lets them
    ask to join any. Either way the request waits for approval (JoinRequest).
    """

    __tablename__ = "email_domains"

    domain: Mapped[str] = mapped_column(String(253), unique=True, nullable=False)
    description: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )

    organisations: Mapped[list[Organisation]] = relationship(
        secondary=email_domain_organisations, order_by="Organisation.name"
    )

    __table_args__ = (CheckConstraint("domain = lower(domain)", name="domain_lower_case"),)


class EmailLink(IdMixin, db.Model):
    """A single-use, expiring link sent by email: an invitation, a buyer's address check on
    self-registration, or a password reset. Only a SHA-256 of the secret is stored."""

    __tablename__ = "email_links"

    purpose: Mapped[str] = mapped_column(String(20), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    # Invitations name the organisation and role the account will have; a reset its user.
    organisation_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT")
    )
    role: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    user_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(
        UTCDateTime, nullable=False, default=lambda: clock.now() + DEFAULT_TOKEN_LIFETIME
    )
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when a newer link of the same purpose for the same address replaces this one.
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation | None] = relationship()
    user: Mapped[User | None] = relationship(foreign_keys=[user_id])

    __table_args__ = (
        CheckConstraint(one_of("purpose", EMAIL_LINK_PURPOSES), name="purpose"),
        CheckConstraint("length(token_hash) = 64", name="token_hash_sha256"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
        CheckConstraint(
            "purpose <> 'invitation' OR (organisation_id IS NOT NULL AND role IS NOT NULL)",
            name="invitation_names_organisation_and_role",
        ),
        CheckConstraint(
            "purpose <> 'password_reset' OR user_id IS NOT NULL", name="reset_names_user"
        ),
    )


# --- joining an organisation (accounts.membership) ------------------------------------------

JOIN_STATUSES = ("pending", "approved", "refused")
JOIN_REASON_MAX = 1000


class JoinRequest(IdMixin, TimestampMixin, db.Model):
    """A self-registered buyer's request to join an organisation, until its approver (or the
    accreditation authority) approves or refuses it. Until then the account does nothing
    buyer-specific (User.acts_as_buyer)."""

    __tablename__ = "join_requests"

    public_id: Mapped[str] = mapped_column(
        String(22), unique=True, nullable=False, default=lambda: secrets.token_urlsafe(12)
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    reason: Mapped[str] = mapped_column(String(JOIN_REASON_MAX), nullable=False, default="")
    decided_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    __table_args__ = (
        CheckConstraint(one_of("status", JOIN_STATUSES), name="status"),
        # Decided exactly when it is no longer pending, and by someone.
        CheckConstraint(
            "(status = 'pending' AND decided_at IS NULL AND decided_by_id IS NULL) OR "
            "(status <> 'pending' AND decided_at IS NOT NULL AND decided_by_id IS NOT NULL)",
            name="decided_when_not_pending",
        ),
        CheckConstraint(
            "status <> 'refused' OR length(trim(reason)) > 0", name="refusal_has_reason"
        ),
        CheckConstraint("decided_by_id IS NULL OR decided_by_id <> user_id", name="not_own"),
        # At most one request waits per person.
        Index(
            "uq_join_requests_one_pending_per_user",
            "user_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
