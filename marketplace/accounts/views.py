"""Sign in and sign out, and the centre users' API tokens page (/centre/tokens)."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from marketplace.accounts import membership, schemas, services, tokens
from marketplace.accounts.auth import front_door_limit, role_required
from marketplace.errors import FieldError, TooManyAttempts, ValidationFailed
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.web import forms

bp = Blueprint("accounts", __name__)
# The session key holding a new token's secret until its page has shown it.
NEW_TOKEN = "new_api_token"  # noqa: S105 - a key name, not a secret


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted link cannot bounce people elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read a backslash as a slash ("/\\evil.example") and drop control characters.
    if "\\" in target or any(ord(char) < 32 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


# Where each role lands after signing in (a `next` address still wins).
HOMES = {"buyer": "buyer_home.index", "centre": "centre_home.index", "admin": "admin.index"}


def home_for(user) -> str:
    return url_for(HOMES.get(getattr(user, "role", None), "catalogue.centres"))


def _login_page(email: str, errors: list[FieldError], status: int):
    return (
        render_template(
            "accounts/login.html",
            email=email,
            errors=forms.by_field(errors),
            form_errors=forms.error_summary(errors, default="#email"),
        ),
        status,
    )


@bp.route("/login", methods=["GET", "POST"])
@front_door_limit
def login():
    if request.method == "GET":
        return _login_page("", [], 200)
    email = request.form.get("email", "")
    try:
        form = forms.load(schemas.LoginSchema(), request.form.to_dict(), detail="Sign in")
        user = services.authenticate(
            form["email"],
            form["password"],
            ip_address=request.remote_addr,
            max_failures=current_app.config["LOGIN_MAX_FAILURES"],
            throttle_seconds=current_app.config["LOGIN_THROTTLE_SECONDS"],
        )
    except TooManyAttempts as error:
        db.session.commit()  # the failure and the lock are kept
        return _login_page(email, [FieldError(error.detail, "email")], 429)
    except services.LoginFailed as error:
        db.session.commit()
        return _login_page(email, [FieldError(error.detail, "email")], 401)
    except ValidationFailed as error:
        return _login_page(email, error.errors, 400)
    db.session.commit()
    # A fresh session on sign-in: nothing from before survives (session fixation), and the
    # CSRF token is new too.
    session.clear()
    login_user(user)
    flash(f"You are signed in as {user.email}.", "success")
    waiting = user.join_request_waiting
    if waiting is not None:
        flash(membership.MembershipPending(waiting).detail, "info")
    return redirect(_safe_next(request.args.get("next")) or home_for(user))


@bp.get("/logout")
def logout_confirm():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login"))
    return render_template("accounts/logout.html")


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        services.end_all_sessions(current_user._get_current_object())
        db.session.commit()
        logout_user()
    session.clear()
    flash("You have been signed out.", "success")
    return redirect(url_for("main.home"))


# --- API tokens for a centre's scripts (/centre/tokens) ------------------------------------

centre_tokens = Blueprint("centre_tokens", __name__, url_prefix="/centre/tokens")


def _me():
    return current_user._get_current_object()


@centre_tokens.get("")
@role_required("centre")
def index():
    user = _me()
    return render_template(
        "accounts/tokens.html",
        organisation=user.organisation,
        tokens=tokens.organisation_tokens(user.organisation_id),
    )


@centre_tokens.route("/new", methods=["GET", "POST"])
@role_required("centre")
def new():
    name = ""
    errors: list[FieldError] = []
    if request.method == "POST":
        name = request.form.get("name", "")
        try:
            form = forms.load(
                schemas.NewTokenSchema(), request.form.to_dict(), detail="Name the token."
            )
            token, secret = tokens.create_token(
                _me(), form["name"], actor=_me(), ip_address=request.remote_addr
            )
        except ValidationFailed as error:
            errors = error.errors
        else:
            db.session.commit()
            # POST/redirect/GET: reloading the page that shows the secret creates nothing.
            # The secret waits in the session only until that page has shown it once.
            session[NEW_TOKEN] = {"id": token.public_id, "secret": secret}
            return redirect(url_for("centre_tokens.created", public_id=token.public_id), 303)
    return (
        render_template(
            "accounts/token_new.html",
            name=name,
            errors=forms.by_field(errors),
            form_errors=forms.error_summary(errors, default="#name"),
        ),
        400 if errors else 200,
    )


@centre_tokens.get("/<public_id>/created")
@role_required("centre")
def created(public_id: str):
    token = tokens.organisation_token(public_id, _me().organisation_id)
    kept = session.get(NEW_TOKEN) or {}
    secret = None
    if kept.get("id") == token.public_id:
        secret = session.pop(NEW_TOKEN)["secret"]
    response = make_response(
        render_template(
            "accounts/token_created.html",
            token=token,
            secret=secret,
            example_url=absolute_url("centres.list_centres"),
        )
    )
    # The secret is on this page only: no browser or proxy may keep a copy.
    response.headers["Cache-Control"] = "no-store"
    return response


@centre_tokens.route("/<public_id>/revoke", methods=["GET", "POST"])
@role_required("centre")
def revoke(public_id: str):
    user = _me()
    token = tokens.organisation_token(public_id, user.organisation_id)
    if request.method == "GET":
        return render_template("accounts/token_revoke.html", token=token)
    if tokens.revoke_token(token, actor=user, ip_address=request.remote_addr):
        db.session.commit()
        flash(
            f"The token '{token.name}' ({token.prefix}…) is revoked and no longer works.", "success"
        )
    else:
        flash(f"The token '{token.name}' was already revoked.", "info")
    return redirect(url_for("centre_tokens.index"))
