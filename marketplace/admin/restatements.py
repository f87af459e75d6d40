"""Admin page: restatements of published figures waiting for the authority.

Approving applies the chosen values and republishes each affected period once (the
publications receiver of events.restatements_approved); refusing keeps the published figures
and gives the centre the reason. Both are audited.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.admin import bp
from marketplace.benchmarks import restatements as service
from marketplace.errors import ValidationFailed
from marketplace.extensions import db


@bp.get("/restatements")
def restatements():
    return render_template("admin/restatements.html", pending=service.pending())


@bp.post("/restatements")
def decide_restatements():
    chosen = request.form.getlist("restatements")
    decision = request.form.get("decision", "")
    actor = current_user._get_current_object()
    try:
        if decision == "approve":
            items = service.approve(chosen, actor=actor, note=request.form.get("reason", ""))
        elif decision == "refuse":
            items = service.refuse(chosen, actor=actor, reason=request.form.get("reason", ""))
        else:
            raise ValidationFailed("Choose whether to approve or refuse.")
    except ValidationFailed as error:
        messages = [e.message for e in error.errors] or [error.detail]
        return (
            render_template(
                "admin/restatements.html",
                pending=service.pending(),
                form_errors=[{"text": m, "href": "#restatements"} for m in messages],
                chosen=chosen,
                reason=request.form.get("reason", ""),
            ),
            error.status,
        )
    db.session.commit()
    verb = "approved and published" if decision == "approve" else "refused"
    flash(f"{len(items)} restatement{'s' if len(items) != 1 else ''} {verb}.", "success")
    return redirect(url_for("admin.restatements"))
