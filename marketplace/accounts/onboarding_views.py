"""Pages for joining and getting back in: buyer self-registration, accepting an invitation,
and resetting a forgotten password. Each link's secret travels in the query string (our
request log records paths only) and then in a hidden field; pages holding it are not cached.
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from marketplace import background
from marketplace.accounts import email_links, password_reset, registration, schemas
from marketplace.accounts.auth import front_door_limit
from marketplace.errors import FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.mail import sender
from marketplace.web import forms

bp = Blueprint("onboarding", __name__)
log = logging.getLogger("marketplace.onboarding")


def _page(template: str, errors: list[FieldError] | None = None, status: int | None = None, **ctx):
    errors = errors or []
    response = make_response(
        render_template(
            template,
            errors=forms.by_field(errors, default="form"),
            form_errors=forms.error_summary(errors, default="#form"),
            form=request.form,
            **ctx,
        ),
        status or (400 if errors else 200),
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _token() -> str:
    return request.values.get("token", "")


def _invalid_link(error: email_links.LinkNotValid, again_url: str | None):
    return _page(
        "onboarding/link_invalid.html", detail=error.detail, again_url=again_url, status=400
    )


# --- buyers registering themselves ----------------------------------------------------------


@bp.route("/register", methods=["GET", "POST"])
@front_door_limit
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    if request.method == "GET":
        return _page("onboarding/register.html")
    try:
        form = forms.load(schemas.AddressSchema(), request.form.to_dict(), detail="Register")
        registration.request_registration(
            form["email"],
            link=lambda secret: absolute_url("onboarding.complete_registration", token=secret),
            sign_in_link=absolute_url("accounts.login"),
        )
    except ValidationFailed as error:
        return _page("onboarding/register.html", error.errors)
    db.session.commit()
    sender.deliver_after_commit(current_app.config)
    return _page("onboarding/check_email.html", email=request.form.get("email", "").strip())


@bp.route("/register/confirm", methods=["GET", "POST"])
def complete_registration():
    token = _token()
    try:
        email = registration.registration_email(token)
    except email_links.LinkNotValid as error:
        return _invalid_link(error, url_for("onboarding.register"))
    context = {
        "token": token,
        "email": email,
        "organisations": registration.joinable_organisations(email),
    }
    if request.method == "GET":
        return _page("onboarding/register_complete.html", **context)
    try:
        with db.session.begin_nested():
            user = registration.complete_registration(
                token,
                name=request.form.get("name", ""),
                password=request.form.get("password", ""),
                organisation_slug=request.form.get("organisation", ""),
                decision_link=lambda public_id: absolute_url(
                    "join_requests.decide", public_id=public_id
                ),
            )
    except ValidationFailed as error:
        return _page("onboarding/register_complete.html", error.errors, **context)
    db.session.commit()
    sender.deliver_after_commit(current_app.config)  # the approvers hear someone is waiting
    flash(
        f"Your account for {user.email} is made, and your request to join "
        f"{user.organisation.name} is waiting for approval by its approvers or the "
        "accreditation authority. You can sign in now; we will e-mail you when it is decided.",
        "success",
    )
    return redirect(url_for("accounts.login"))


# --- invitations -----------------------------------------------------------------------------


@bp.route("/invitation", methods=["GET", "POST"])
def accept_invitation():
    token = _token()
    try:
        link = email_links.find("invitation", token)
    except email_links.LinkNotValid as error:
        return _invalid_link(error, None)
    context = {"token": token, "invitation": link}
    if request.method == "GET":
        return _page("onboarding/invitation.html", **context)
    try:
        with db.session.begin_nested():
            user = registration.accept_invitation(
                token, name=request.form.get("name", ""), password=request.form.get("password", "")
            )
    except ValidationFailed as error:
        return _page("onboarding/invitation.html", error.errors, **context)
    db.session.commit()
    flash(f"Your account for {user.email} is ready. Sign in to start.", "success")
    return redirect(url_for("accounts.login"))


# --- forgotten passwords --------------------------------------------------------------------


@bp.route("/password-reset", methods=["GET", "POST"])
@front_door_limit
def request_password_reset():
    if request.method == "GET":
        return _page("onboarding/reset_request.html")
    try:
        form = forms.load(schemas.AddressSchema(), request.form.to_dict(), detail="Reset")
    except ValidationFailed as error:
        return _page("onboarding/reset_request.html", error.errors)
    # Looking the address up, issuing the link and sending it all happen outside the
    # request (an RQ job with REDIS_URL, else once the answer has gone), so the request costs
    # the same time whether or not there is an account.
    _look_up_later(current_app.config, form["email"], request.remote_addr)
    # The same answer whether or not there is an account, so it reveals nothing.
    return _page("onboarding/reset_sent.html", email=request.form.get("email", "").strip())


# By its dotted path: the job's entry point builds an app, so it lives above every area.
RESET_JOB = "marketplace.worker.request_password_reset"


def _look_up_later(config, email: str, ip_address: str | None) -> None:
    if config.get("REDIS_URL"):
        try:
            _enqueue_reset(config, email, ip_address)
            return
        except Exception:
            log.exception("could not queue the reset job; looking it up after the response")
    background.after_response(request_reset_now, email, ip_address)


def _enqueue_reset(config, email: str, ip_address: str | None) -> None:
    from redis import Redis
    from rq import Queue

    queue = Queue(
        config.get("MAIL_QUEUE") or "mail", connection=Redis.from_url(config["REDIS_URL"])
    )
    # Short-lived: the address is personal data, and a reset link is worth an hour at most.
    queue.enqueue(RESET_JOB, email, ip_address, job_timeout=60, result_ttl=0, failure_ttl=24 * 3600)


def request_reset_now(email: str, ip_address: str | None) -> None:
    """The reset's whole lookup, in a transaction of its own (after the response, or RQ)."""
    password_reset.request_reset(
        email,
        link=lambda secret: absolute_url("onboarding.choose_password", token=secret),
        ip_address=ip_address,
    )
    db.session.commit()
    sender.deliver_after_commit(current_app.config)


@bp.route("/password-reset/new", methods=["GET", "POST"])
def choose_password():
    token = _token()
    try:
        link = password_reset.check_link(token)
    except email_links.LinkNotValid as error:
        return _invalid_link(error, url_for("onboarding.request_password_reset"))
    context = {"token": token, "email": link.email}
    if request.method == "GET":
        return _page("onboarding/reset_choose.html", **context)
    try:
        with db.session.begin_nested():
            password_reset.reset_password(
                token, password=request.form.get("password", ""), ip_address=request.remote_addr
            )
    except email_links.LinkNotValid as error:
        return _invalid_link(error, url_for("onboarding.request_password_reset"))
    except ValidationFailed as error:
        return _page("onboarding/reset_choose.html", error.errors, **context)
    db.session.commit()
    flash("Your password is changed, and you are signed out everywhere. Sign in again.", "success")
    return redirect(url_for("accounts.login"))
