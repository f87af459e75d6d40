"""The outbox page: admins read stored email in development (where no SMTP is configured).

In production the page does not exist (404): mail there goes by SMTP and its bodies, which
carry single-use links, are not for reading in a browser.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template

from marketplace.accounts.auth import role_required
from marketplace.mail import services

bp = Blueprint("mail", __name__, url_prefix="/admin/mail")


@bp.before_request
def _development_only():
    if current_app.config.get("MARKETPLACE_ENV") == "production":
        abort(404)


@bp.get("")
@role_required("admin")
def index():
    return render_template("mail/outbox.html", emails=services.recent())


@bp.get("/<public_id>")
@role_required("admin")
def show(public_id: str):
    return render_template("mail/email.html", email=services.get(public_id))
