"""Use-cases for organisations, users and signing in. Callers commit.

API tokens are in accounts.tokens.
"""

from __future__ import annotations

from datetime import timedelta
from typing import NoReturn

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace import addresses, clock, formatting
from marketplace.accounts.models import ROLE_ORG_KINDS, LoginThrottle, Organisation, User
from marketplace.audit import services as audit
from marketplace.errors import Conflict, FieldError, NotFound, TooManyAttempts, ValidationFailed
from marketplace.extensions import db

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase; short enough that nobody can make us hash megabytes.
MAX_PASSWORD_LENGTH = 256
# Checked against when the address is unknown, so both paths cost the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password-used-for-timing")
WRONG_CREDENTIALS = "Enter a correct email address and password."
# Failures for an address without an account are forgotten after a quiet day.
STALE_FAILURES = timedelta(days=1)


def normalise_email(email: str) -> str:
    """For looking an address up; what is stored goes through checked_email first."""
    return (email or "").strip().lower()


def checked_email(email: str) -> str:
    """The one-mailbox form of an address (marketplace.addresses), or ValidationFailed."""
    try:
        return addresses.normalise(email)
    except addresses.AddressNotValid as error:
        raise ValidationFailed(
            "Enter an email address.", errors=[FieldError(str(error), "email")]
        ) from None


def hash_password(password: str) -> str:
    # Werkzeug's default is scrypt (N=2**15, r=8, p=1) with a 16-character random salt:
    # memory-hard, so guessing on GPUs is expensive, and the parameters are stored in the
    # hash so they can be raised later without breaking existing passwords.
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


def check_password_strength(password: str, *, email: str = "") -> list[FieldError]:
    """Length is what makes a password strong (NCSC guidance); no composition rules."""
    password = password or ""
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        return [
            FieldError(
                f"Enter a password of between {MIN_PASSWORD_LENGTH} and "
                f"{MAX_PASSWORD_LENGTH} characters.",
                field="password",
            )
        ]
    lowered = password.lower()
    if len(set(password)) < 4 or (email and normalise_email(email) in lowered):
        return [
            FieldError(
                "Choose a password that is harder to guess: not your email address and not "
                "one character repeated. Three random words work well.",
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
    actor_label: str | None = None,
    password_hash: str | None = None,
) -> User:
    errors: list[FieldError] = []
    try:
        email = addresses.normalise(email)
    except addresses.AddressNotValid as error:
        errors.append(FieldError(str(error), "email"))
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
        errors.extend(check_password_strength(password, email=email))
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
        actor_label=actor_label,
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
    """Check a password, counting failures; the caller commits whatever the outcome.

    After max_failures wrong passwords in a row the account is locked for throttle_seconds,
    even against the right password; a run of failures is forgotten after STALE_FAILURES.
    Addresses without a usable account are counted too (LoginThrottle), so the lock cannot be
    used to find out which addresses have accounts.
    """
    address = normalise_email(email)
    now = clock.now()
    # Locked so that simultaneous attempts cannot lose a failure between read and write.
    user = db.session.execute(
        db.select(User).where(User.email == address).with_for_update(of=User)
    ).scalar_one_or_none()
    if user is None or not user.active or not user.password_hash:
        _refuse_unknown(user, address, password, now, ip_address, max_failures, throttle_seconds)
    if user.locked_until is not None and user.locked_until > now:
        audit.record(
            "login.throttled",
            actor=user,
            object_type="user",
            object_id=user.email,
            ip_address=ip_address,
        )
        raise TooManyAttempts(_throttle_message(user.locked_until))
    if not check_password_hash(user.password_hash, password or ""):
        if user.last_failed_login_at is not None and (
            user.last_failed_login_at < now - STALE_FAILURES
        ):
            user.failed_logins = 0
        user.failed_logins += 1
        user.last_failed_login_at = now
        audit.record(
            "login.failed",
            actor=user,
            object_type="user",
            object_id=user.email,
            detail={"why": "wrong password", "failures": user.failed_logins},
            ip_address=ip_address,
        )
        if user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(seconds=throttle_seconds)
            user.failed_logins = 0
            _record_lock(user.email, user, user.locked_until, ip_address)
            db.session.flush()
            raise TooManyAttempts(_throttle_message(user.locked_until))
        db.session.flush()
        raise LoginFailed(WRONG_CREDENTIALS)
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


def _refuse_unknown(
    user, address, password, now, ip_address, max_failures, throttle_seconds
) -> NoReturn:
    """No usable account: answer exactly as for a real one, counting failures alike."""
    label = address[:320] or "(blank)"
    throttle = _throttle_row(label, now)
    if throttle.locked_until is not None and throttle.locked_until > now:
        audit.record("login.throttled", actor_label=label, ip_address=ip_address)
        raise TooManyAttempts(_throttle_message(throttle.locked_until))
    check_password_hash(_DUMMY_HASH, password or "")
    if throttle.last_failed_at < now - STALE_FAILURES:
        throttle.failed_logins = 0
    throttle.failed_logins += 1
    throttle.last_failed_at = now
    audit.record(
        "login.failed",
        actor_label=label,
        organisation_id=user.organisation_id if user else None,
        detail={
            "why": "inactive account" if user else "unknown account",
            "failures": throttle.failed_logins,
        },
        ip_address=ip_address,
    )
    if throttle.failed_logins >= max_failures:
        throttle.locked_until = now + timedelta(seconds=throttle_seconds)
        throttle.failed_logins = 0
        _record_lock(label, None, throttle.locked_until, ip_address)
        db.session.flush()
        raise TooManyAttempts(_throttle_message(throttle.locked_until))
    db.session.flush()
    raise LoginFailed(WRONG_CREDENTIALS)


def _throttle_row(label: str, now) -> LoginThrottle:
    """The address's counter, locked for this transaction; made if it is the first failure."""
    query = db.select(LoginThrottle).where(LoginThrottle.email == label).with_for_update()
    row = db.session.execute(query).scalar_one_or_none()
    if row is not None:
        return row
    # Counters nobody has touched for a day are forgotten, so junk addresses cannot pile up.
    db.session.execute(
        db.delete(LoginThrottle).where(
            LoginThrottle.last_failed_at < now - STALE_FAILURES,
            or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until < now),
        )
    )
    try:
        with db.session.begin_nested():
            row = LoginThrottle(email=label, failed_logins=0, last_failed_at=now)
            db.session.add(row)
    except IntegrityError:  # a simultaneous first failure for the same address made it
        row = db.session.execute(query).scalar_one()
    return row


def _record_lock(label: str, user: User | None, locked_until, ip_address) -> None:
    audit.record(
        "login.locked",
        actor=user,
        actor_label=label,
        object_type="user" if user else None,
        object_id=user.email if user else None,
        detail={"until": locked_until.isoformat()},
        ip_address=ip_address,
    )


def _throttle_message(locked_until) -> str:
    # London time, as every time shown to people is (formatting.datetime_text).
    until = formatting.datetime_text(locked_until)
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


def set_active(user: User, active: bool, *, actor, reason: str = "") -> None:
    user.active = active
    # Deactivation ends every session at once; reactivation needs a fresh sign-in anyway.
    user.session_version += 1
    if not active:
        # Revoked for good: reactivation must not bring a forgotten script's token back.
        from marketplace.accounts.tokens import revoke_user_tokens

        revoke_user_tokens(user, actor=actor, reason="account deactivated")
    audit.record(
        "user.activated" if active else "user.deactivated",
        actor=actor,
        organisation_id=user.organisation_id,
        object_type="user",
        object_id=user.email,
        detail={"reason": reason} if reason else None,
    )
    db.session.flush()
