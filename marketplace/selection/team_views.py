"""The team section of an evaluation's page: invite a colleague, remove a member.

Thin: find the evaluation as the viewer may see it (404 otherwise), call selection.teams,
commit once, and go back to the team section of the evaluation page.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db
from marketplace.selection import access, teams

bp = Blueprint("evaluation_team", __name__, url_prefix="/buyer/evaluations")


def _me():
    return current_user._get_current_object()


def _back(public_id: str):
    return redirect(url_for("evaluations.show", public_id=public_id, _anchor="team"), 303)


@bp.post("/<public_id>/team")
@role_required("buyer")
def invite(public_id: str):
    evaluation = access.get_for_viewer(public_id, _me())
    try:
        member = teams.invite(_me(), evaluation, request.form.get("member", "")[:40])
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        flash(error.errors[0].message if error.errors else error.detail, "error")
        return _back(public_id)
    person = member.user
    db.session.commit()
    flash(f"{person.name or person.email} is on the team now.", "success")
    return _back(public_id)


@bp.post("/<public_id>/team/remove")
@role_required("buyer")
def remove(public_id: str):
    evaluation = access.get_for_viewer(public_id, _me())
    try:
        person = teams.remove(_me(), evaluation, request.form.get("member", "")[:40])
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        flash(error.errors[0].message if error.errors else error.detail, "error")
        return _back(public_id)
    db.session.commit()
    flash(f"{person.name or person.email} is no longer on the team.", "success")
    return _back(public_id)


def template_globals() -> dict:
    """`evaluation_team(evaluation)`: the team section's contents for the signed-in viewer."""

    def evaluation_team(evaluation):
        return teams.team_view(evaluation, _me() if current_user.is_authenticated else None)

    return {"evaluation_team": evaluation_team}
