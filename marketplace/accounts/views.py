"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user

from marketplace.accounts import services
from marketplace.errors import FieldError, TooManyAttempts, ValidationFailed
from marketplace.extensions import db

bp = Blueprint("accounts", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted link cannot bounce people elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def home_for(user) -> str:
    return url_for("catalogue.centres")


@bp.route("/login", methods=["GET", "POST"])
def login():
    errors: list[FieldError] = []
    email = ""
    status = 200
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        if not email.strip():
            errors.append(FieldError("Enter your email address.", "email"))
        if not password:
            errors.append(FieldError("Enter your password.", "password"))
        if not errors:
            try:
                user = services.authenticate(
                    email,
                    password,
                    ip_address=request.remote_addr,
                    max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                    throttle_seconds=current_app.config["LOGIN_THROTTLE_SECONDS"],
                )
            except TooManyAttempts as error:
                db.session.commit()
                errors.append(FieldError(error.detail, "email"))
                status = 429
            except ValidationFailed as error:
                db.session.commit()
                errors.append(FieldError(error.detail, "email"))
                status = 401
            else:
                db.session.commit()
                # A fresh session on sign-in: nothing from before survives (session fixation).
                session.clear()
                login_user(user)
                flash(f"You are signed in as {user.email}.", "success")
                return redirect(_safe_next(request.args.get("next")) or home_for(user))
        else:
            status = 400
    return (
        render_template(
            "accounts/login.html",
            email=email,
            errors={e.field: e.message for e in errors},
            form_errors=[{"text": e.message, "href": f"#{e.field}"} for e in errors],
        ),
        status,
    )


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
