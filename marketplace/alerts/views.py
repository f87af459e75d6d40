"""/alerts: a person's alerts, which centres they hear about, and their private feed."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.alerts import feed, recipients, services
from marketplace.catalogue import services as catalogue
from marketplace.errors import ValidationFailed
from marketplace.extensions import db, limiter

bp = Blueprint("alerts", __name__, url_prefix="/alerts")

ROLES = ("buyer", "centre", "admin")
# The session key holding a new feed address until the page has shown it once (as tokens do).
NEW_FEED_KEY = "alerts_new_feed_key"


@bp.get("")
@role_required(*ROLES)
def index():
    user = current_user._get_current_object()
    muted = services.muted_centre_ids(user)
    followed = recipients.followed_centres(user)
    return render_template(
        "alerts/index.html",
        alerts=services.alerts_for(user),
        followed=followed,
        muted=muted,
        muted_centres=[c for c in services.centres_by_id(muted) if c not in followed],
        feed_key=services.feed_key_of(user),
        new_feed_url=_new_feed_url(user),
    )


def _new_feed_url(user) -> str | None:
    key = session.pop(NEW_FEED_KEY, None)
    # Only while it is still the person's key (not revoked or replaced since).
    if key and services.feed_key_of(user) is not None:
        return url_for(".private_feed", key=key)
    return None


@bp.post("/subscriptions")
@role_required(*ROLES)
def subscriptions():
    user = current_user._get_current_object()
    choice = request.form.get("alerts", "")
    if choice not in ("on", "off"):
        raise ValidationFailed("Choose whether to hear about the centre.")
    centre = catalogue.get_public_centre(request.form.get("centre", ""), viewer=user)
    if user.role == "centre" and centre.organisation_id == user.organisation_id:
        raise ValidationFailed("A centre hears of its own alerts first: they cannot be muted.")
    if services.set_muted(user, centre, choice == "off"):
        db.session.commit()
        flash(
            f"You will hear about {centre.name} again."
            if choice == "on"
            else f"You will no longer hear about {centre.name}.",
            "success",
        )
    return redirect(url_for(".index"))


@bp.post("/feed-key")
@role_required(*ROLES)
def feed_key():
    user = current_user._get_current_object()
    if request.form.get("action") == "revoke":
        if services.revoke_feed_key(user):
            db.session.commit()
            flash("Your feed address no longer works.", "success")
        return redirect(url_for(".index"))
    session[NEW_FEED_KEY] = services.new_feed_key(user)
    db.session.commit()
    return redirect(url_for(".index") + "#feed")


@bp.get("/feed/<key>.atom")
@limiter.limit("60 per minute")
def private_feed(key: str):
    user = services.user_for_feed(key)
    body = feed.atom(services.alerts_for(user), self_path=request.path)
    db.session.commit()  # last read
    response = Response(body, mimetype="application/atom+xml")
    # Private: never kept by a shared cache, and the address is not to be passed on.
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
