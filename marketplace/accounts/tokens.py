"""API tokens: made for a user, acting for the user's organisation, stored only as a hash.

Callers commit. The secret is returned once by create_token and never kept: only its SHA-256
(for lookup) and its first characters (so people can tell their tokens apart) are stored.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, has_app_context

from marketplace import clock
from marketplace.accounts.auth import hash_token
from marketplace.accounts.membership import require_member
from marketplace.accounts.models import ApiToken, User
from marketplace.audit import services as audit
from marketplace.errors import FieldError, NotFound, ValidationFailed
from marketplace.extensions import db

TOKEN_PREFIX = "ssm_"  # noqa: S105 - a public marker, not a secret
TOKEN_NAME_MAX = 100
DEFAULT_LIFETIME_DAYS = 365


def lifetime() -> timedelta:
    days = DEFAULT_LIFETIME_DAYS
    if has_app_context():
        days = int(current_app.config.get("TOKEN_LIFETIME_DAYS") or DEFAULT_LIFETIME_DAYS)
    return timedelta(days=days)


def create_token(
    user: User,
    name: str,
    *,
    actor=None,
    actor_label: str | None = None,
    ip_address: str | None = None,
) -> tuple[ApiToken, str]:
    """Returns the token row and the secret, which is shown once and never stored.

    The token acts for the user's organisation at the time it is made, and only for it.
    """
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(
            "Name the token.",
            errors=[FieldError("Enter a name for the token, such as 'Quarterly upload'.", "name")],
        )
    if len(name) > TOKEN_NAME_MAX:
        raise ValidationFailed(
            "Name the token.",
            errors=[FieldError(f"Enter a name of {TOKEN_NAME_MAX} characters or fewer.", "name")],
        )
    if not user.active:
        raise ValidationFailed(f"{user.email} is deactivated; it cannot hold tokens.")
    # Tokens are for members: a buyer waiting for approval to join (or refused) gets none.
    require_member(user)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    token = ApiToken(
        created_at=now,
        expires_at=now + lifetime(),
        user=user,
        organisation_id=user.organisation_id,
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:10],
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.created",
        actor=actor if actor is not None or actor_label else user,
        actor_label=actor_label,
        organisation_id=user.organisation_id,
        object_type="api_token",
        object_id=token.public_id,
        detail={
            "name": token.name,
            "owner": user.email,
            "prefix": token.prefix,
            "expires_at": token.expires_at,
        },
        ip_address=ip_address,
    )
    return token, secret


def organisation_tokens(organisation_id: int) -> list[ApiToken]:
    """Every token of an organisation, live ones first, newest first."""
    return list(
        db.session.execute(
            db.select(ApiToken)
            .where(ApiToken.organisation_id == organisation_id)
            .order_by(
                ApiToken.revoked_at.is_not(None),
                ApiToken.created_at.desc(),
                ApiToken.id.desc(),
            )
        ).scalars()
    )


def organisation_token(public_id: str, organisation_id: int) -> ApiToken:
    """One of the organisation's tokens; another organisation's is 'not found', not 'forbidden',
    so nobody learns which ids exist elsewhere."""
    token = db.session.execute(
        db.select(ApiToken).where(
            ApiToken.public_id == public_id, ApiToken.organisation_id == organisation_id
        )
    ).scalar_one_or_none()
    if token is None:
        raise NotFound("There is no such API token for your organisation.")
    return token


def revoke_user_tokens(user: User, *, actor=None, reason: str) -> int:
    """Revoke for good every live token of a person (on deactivation); returns how many.

    Reactivating the account does not bring them back: the person makes new ones.
    """
    live = db.session.execute(
        db.select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).scalars()
    return sum(revoke_token(token, actor=actor, reason=reason) for token in live)


def revoke_token(
    token: ApiToken,
    *,
    actor=None,
    actor_label: str | None = None,
    ip_address: str | None = None,
    reason: str = "",
) -> bool:
    """Revoke at once; True if this call revoked it, False if it already was."""
    if token.revoked_at is not None:
        return False
    token.revoked_at = clock.now()
    audit.record(
        "token.revoked",
        actor=actor,
        actor_label=actor_label,
        organisation_id=token.organisation_id,
        object_type="api_token",
        object_id=token.public_id,
        detail={
            "name": token.name,
            "owner": token.user.email,
            "prefix": token.prefix,
            **({"reason": reason} if reason else {}),
        },
        ip_address=ip_address,
    )
    db.session.flush()
    return True
