"""/buyer/join-requests: an organisation's approvers see who asked to join and decide.

Thin: find what this approver may decide (404 otherwise), parse the answer through
JoinDecisionSchema, call accounts.membership.decide, commit once, send the mail after the
commit. Admins have the same pages under /admin/join-requests (admin/join_requests.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts import membership, schemas
from marketplace.accounts.auth import role_required
from marketplace.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.mail import sender
from marketplace.web import forms

bp = Blueprint("join_requests", __name__, url_prefix="/buyer/join-requests")


def _me():
    return current_user._get_current_object()


def _require_approver() -> None:
    if not membership.is_approver(_me()):
        raise PermissionDenied(
            "Only your organisation's approvers can see requests to join it. Ask an admin to "
            "make you one."
        )


def list_page(requests, *, decide_endpoint: str, caption: str):
    return render_template(
        "accounts/join_requests.html",
        requests=requests,
        decide_endpoint=decide_endpoint,
        caption=caption,
    )


def decide_page(public_id: str, *, list_endpoint: str, decide_endpoint: str, caption: str):
    """The request and the decision form; on POST, the decision."""
    me = _me()
    join_request = membership.get_for_approver(public_id, me)
    errors = []
    if request.method == "POST":
        try:
            form = forms.load(
                schemas.JoinDecisionSchema(), request.form.to_dict(), detail="Decide the request."
            )
            membership.decide(
                join_request,
                approver=me,
                approve=form["decision"] == "approve",
                reason=form["reason"],
            )
        except ValidationFailed as error:
            db.session.rollback()
            errors = error.errors
        except Conflict as error:
            db.session.rollback()
            flash(error.detail, "error")
            return redirect(url_for(list_endpoint), 303)
        else:
            db.session.commit()
            sender.deliver_after_commit(current_app.config)
            who = join_request.user.name or join_request.user.email
            organisation = join_request.organisation.name
            if join_request.status == "approved":
                message = f"{who} is now a buyer of {organisation}. We have e-mailed them."
            else:
                message = (
                    f"You refused {who}'s request to join {organisation}. We have e-mailed them."
                )
            flash(message, "success")
            return redirect(url_for(list_endpoint), 303)
        join_request = membership.get_for_approver(public_id, me)
    return (
        render_template(
            "accounts/join_request.html",
            join_request=join_request,
            action_url=url_for(decide_endpoint, public_id=public_id),
            back_url=url_for(list_endpoint),
            caption=caption,
            form=request.form,
            errors=forms.by_field(errors),
            form_errors=forms.error_summary(errors, default="#decision"),
        ),
        400 if errors else 200,
    )


@bp.get("")
@role_required("buyer")
def index():
    _require_approver()
    return list_page(
        membership.pending_for(_me()),
        decide_endpoint="join_requests.decide",
        caption=_me().organisation.name,
    )


@bp.route("/<public_id>", methods=["GET", "POST"])
@role_required("buyer")
def decide(public_id: str):
    _require_approver()
    return decide_page(
        public_id,
        list_endpoint="join_requests.index",
        decide_endpoint="join_requests.decide",
        caption=_me().organisation.name,
    )
