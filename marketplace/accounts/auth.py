"""Who is asking: session cookies (people) and Bearer tokens (scripts), and role checks."""

from __future__ import annotations

import functools
import hashlib

from flask import Flask, current_app, g, redirect, request, url_for
from flask_login import current_user

from marketplace import clock
from marketplace.accounts.membership import require_member
from marketplace.errors import DomainError, PermissionDenied
from marketplace.extensions import db, limiter, login_manager


class Unauthenticated(DomainError):
    status = 401
    title = "Sign in required"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def install(app: Flask) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(identity: str):
        from marketplace.accounts.models import User

        try:
            user_id, version = (int(part) for part in identity.split(":", 1))
        except ValueError:
            return None
        user = db.session.get(User, user_id)
        # A bumped session_version (logout, deactivation) ends every older session.
        if user is None or not user.active or user.session_version != version:
            return None
        return user

    @login_manager.request_loader
    def load_user_from_bearer(req):
        # Tokens are for scripts calling the API. On the HTML pages they are ignored, so a
        # leaked upload token cannot be used to browse the site or to manage tokens.
        if not req.path.startswith("/api/"):
            return None
        scheme, _, raw = req.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return None
        return user_for_token(raw.strip())

    @app.before_request
    def _identify_api_caller():
        # Resolve the caller first, so the token's last-use commit precedes the view's work.
        if request.path.startswith("/api/") and "Authorization" in request.headers:
            _ = current_user.is_authenticated

    @login_manager.unauthorized_handler
    def unauthorised():
        if request.path.startswith("/api/"):
            raise Unauthenticated("Sign in, or send 'Authorization: Bearer <token>'.")
        return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def user_for_token(raw: str):
    from marketplace.accounts.models import ApiToken

    if not raw:
        return None
    token = db.session.execute(
        db.select(ApiToken).where(ApiToken.token_hash == hash_token(raw))
    ).scalar_one_or_none()
    if token is None or not token.is_live or not token.user.active:
        return None
    if token.organisation_id != token.user.organisation_id:
        # The person has moved organisation: the token never follows them to act elsewhere.
        return None
    if token.user.role == "buyer" and not token.user.acts_as_buyer:
        return None  # not (or no longer) a member: tokens are for members only
    now = clock.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        # Bookkeeping of its own, committed before the request's work begins (install()
        # loads API callers before any view runs). At most once a minute per token.
        token.last_used_at = now
        db.session.commit()
    g.api_token = token
    return token.user


def authenticated_by_token() -> bool:
    return g.get("api_token") is not None


def acting_organisation_id() -> int | None:
    """The organisation a request acts for: the token's scope, else the user's."""
    token = g.get("api_token")
    if token is not None:
        return token.organisation_id
    return current_user.organisation_id if current_user.is_authenticated else None


def _front_door_limit() -> str:
    return current_app.config.get("AUTH_RATE_LIMIT") or "10 per minute"


# One budget per client address shared by sign-in, registration and password reset, so a
# password sprayer cannot spread guesses across the doors. Only POSTs count.
front_door_limit = limiter.shared_limit(_front_door_limit, scope="front-door", methods=["POST"])


def role_required(*roles: str):
    """Views: send anonymous people to sign in; refuse signed-in people of other roles."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if roles and current_user.role not in roles:
                raise PermissionDenied("Your account does not have access to this page.")
            if current_user.role == "buyer":
                # A buyer waiting for (or refused) approval to join does nothing buyer-specific.
                require_member(current_user)
            return view(*args, **kwargs)

        return wrapped

    return decorator
