"""Use-cases for organisations, users, sign-in and API tokens. Callers commit."""

from __future__ import annotations

import secrets
from datetime import timedelta

from werkzeug.security import check_password_hash, generate_password_hash

from marketplace import clock
from marketplace.accounts.auth import hash_token
from marketplace.accounts.models import ROLE_ORG_KINDS, ApiToken, Organisation, User
from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, NotFound, TooManyAttempts, ValidationFailed
from marketplace.extensions import db

MIN_PASSWORD_LENGTH = 12
# Checked against when the address is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-used-for-timing")
TOKEN_PREFIX = "ssm_"  # noqa: S105 - a public marker, not a secret


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def hash_password(password: str) -> str:
    return generate_password_hash(password)


def get_organisation(slug: str) -> Organisation:
    org = db.session.execute(
        db.select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if org is None:
        raise NotFound(f"There is no organisation '{slug}'.")
    return org


def get_user_by_email(email: str) -> User | None:
    return db.session.execute(
        db.select(User).where(User.email == normalise_email(email))
    ).scalar_one_or_none()


def create_organisation(
    *, slug: str, name: str, kind: str, parent_slug: str | None = None, actor=None
) -> Organisation:
    parent = get_organisation(parent_slug) if parent_slug else None
    if kind == "alb" and (parent is None or parent.kind != "department"):
        raise ValidationFailed(
            "An arm's-length body needs a parent department.",
            errors=[FieldError("Choose the department that sponsors this body.", field="parent")],
        )
    if get_organisation_or_none(slug) is not None:
        raise Conflict(f"An organisation with the identifier '{slug}' already exists.")
    org = Organisation(slug=slug, name=name, kind=kind, parent=parent)
    db.session.add(org)
    db.session.flush()
    audit.record(
        "organisation.created",
        actor=actor,
        organisation_id=org.id,
        object_type="organisation",
        object_id=org.slug,
        detail={"kind": kind, "name": name, "parent": parent_slug},
    )
    return org


def get_organisation_or_none(slug: str) -> Organisation | None:
    return db.session.execute(
        db.select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()


def check_password_strength(password: str) -> list[FieldError]:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return [
            FieldError(
                f"Enter a password of at least {MIN_PASSWORD_LENGTH} characters.",
                field="password",
            )
        ]
    return []


def create_user(
    *,
    email: str,
    organisation: Organisation,
    role: str,
    password: str | None = None,
    name: str = "",
    actor=None,
    password_hash: str | None = None,
) -> User:
    email = normalise_email(email)
    errors: list[FieldError] = []
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        errors.append(FieldError("Enter an email address like name@example.gov.uk.", "email"))
    if role not in ROLE_ORG_KINDS:
        errors.append(FieldError("Choose buyer, centre or admin.", "role"))
    elif organisation.kind not in ROLE_ORG_KINDS[role]:
        allowed = " or ".join(ROLE_ORG_KINDS[role])
        errors.append(
            FieldError(
                f"A {role} account must belong to a {allowed} organisation; "
                f"'{organisation.slug}' is a {organisation.kind}.",
                "role",
            )
        )
    if password is not None:
        errors.extend(check_password_strength(password))
    if errors:
        raise ValidationFailed("The account could not be created.", errors=errors)
    if get_user_by_email(email) is not None:
        raise Conflict(f"An account for {email} already exists.")
    user = User(
        email=email,
        name=name,
        role=role,
        organisation=organisation,
        password_hash=password_hash or (hash_password(password) if password else None),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created",
        actor=actor,
        organisation_id=organisation.id,
        object_type="user",
        object_id=user.email,
        detail={"role": role},
    )
    return user


class LoginFailed(ValidationFailed):
    status = 401
    title = "Sign-in failed"


def authenticate(
    email: str,
    password: str,
    *,
    ip_address: str | None = None,
    max_failures: int = 5,
    throttle_seconds: int = 900,
) -> User:
    """Check a password, counting failures; the caller commits whatever the outcome."""
    user = get_user_by_email(email)
    now = clock.now()
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_DUMMY_HASH, password or "")
        audit.record(
            "login.failed",
            actor_label=normalise_email(email)[:320] or "(blank)",
            organisation_id=user.organisation_id if user else None,
            detail={"why": "unknown or inactive account"},
            ip_address=ip_address,
        )
        raise LoginFailed("Enter a correct email address and password.")
    if user.locked_until is not None and user.locked_until > now:
        audit.record(
            "login.throttled",
            actor=user,
            object_type="user",
            object_id=user.email,
            ip_address=ip_address,
        )
        raise TooManyAttempts(_throttle_message(user))
    if not check_password_hash(user.password_hash, password or ""):
        user.failed_logins += 1
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(seconds=throttle_seconds)
            user.failed_logins = 0
            audit.record(
                "login.failed",
                actor=user,
                object_type="user",
                object_id=user.email,
                detail={"why": "wrong password", "throttled": True},
                ip_address=ip_address,
            )
            db.session.flush()
            raise TooManyAttempts(_throttle_message(user))
        audit.record(
            "login.failed",
            actor=user,
            object_type="user",
            object_id=user.email,
            detail={"why": "wrong password"},
            ip_address=ip_address,
        )
        db.session.flush()
        raise LoginFailed("Enter a correct email address and password.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    audit.record(
        "login.succeeded",
        actor=user,
        object_type="user",
        object_id=user.email,
        ip_address=ip_address,
    )
    db.session.flush()
    return user


def _throttle_message(user: User) -> str:
    until = user.locked_until.strftime("%H:%M UTC")
    return (
        "There have been too many failed attempts to sign in to this account. "
        f"For your security it is locked until {until}. Try again after that time."
    )


def end_all_sessions(user: User, *, actor=None, why: str = "logout") -> None:
    user.session_version += 1
    audit.record(
        f"user.{why}",
        actor=actor or user,
        organisation_id=user.organisation_id,
        object_type="user",
        object_id=user.email,
    )
    db.session.flush()


def set_active(user: User, active: bool, *, actor) -> None:
    user.active = active
    # Deactivation ends every session at once; reactivation needs a fresh sign-in anyway.
    user.session_version += 1
    audit.record(
        "user.activated" if active else "user.deactivated",
        actor=actor,
        organisation_id=user.organisation_id,
        object_type="user",
        object_id=user.email,
    )
    db.session.flush()


def create_token(user: User, name: str, *, actor=None) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is shown once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed("Name the token.", errors=[FieldError("Enter a name.", "name")])
    if not user.active:
        raise ValidationFailed(f"{user.email} is deactivated; it cannot hold tokens.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        organisation_id=user.organisation_id,
        name=name[:100],
        token_hash=hash_token(secret),
        prefix=secret[:10],
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.created",
        actor=actor or user,
        organisation_id=user.organisation_id,
        object_type="api_token",
        object_id=token.id,
        detail={"name": token.name, "owner": user.email, "prefix": token.prefix},
    )
    return token, secret


def revoke_token(token: ApiToken, *, actor) -> None:
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(
            "token.revoked",
            actor=actor,
            organisation_id=token.organisation_id,
            object_type="api_token",
            object_id=token.id,
            detail={"name": token.name, "prefix": token.prefix},
        )
        db.session.flush()
