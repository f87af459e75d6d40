"""Admin page: restatements of published figures waiting for the authority.

Approving applies the chosen values and queues each affected period's republication once
(the publications receiver of events.restatements_approved; it runs after the response);
refusing keeps the published figures and gives the centre the reason. Both are audited.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.admin import bp
from marketplace.benchmarks import restatements as service
from marketplace.benchmarks.restatement_schemas import decision_schema
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.publications import republishing
from marketplace.web import forms

ANCHORS = {"restatements": "#restatements", "decision": "#restatements", "reason": "#reason"}


def _form() -> dict:
    data = {"restatements": request.form.getlist("restatements")}
    if "reason" in request.form:
        data["reason"] = request.form["reason"]
    return data


@bp.get("/restatements")
def restatements():
    return render_template(
        "admin/restatements.html",
        pending=service.pending(),
        republishing=republishing.pending(),
    )


@bp.post("/restatements")
def decide_restatements():
    chosen = request.form.getlist("restatements")
    actor = current_user._get_current_object()
    try:
        decision = request.form.get("decision", "")
        data = forms.load(
            decision_schema(decision), _form(), "The restatements could not be decided."
        )
        items = service.decide(decision, data["restatements"], actor=actor, reason=data["reason"])
    except ValidationFailed as error:
        return (
            render_template(
                "admin/restatements.html",
                pending=service.pending(),
                republishing=republishing.pending(),
                form_errors=forms.error_summary(
                    error.errors, anchors=ANCHORS, default="#restatements", detail=error.detail
                ),
                chosen=chosen,
                reason=request.form.get("reason", ""),
            ),
            error.status,
        )
    db.session.commit()
    verb = "approved; republishing queued" if decision == "approve" else "refused"
    flash(f"{len(items)} restatement{'s' if len(items) != 1 else ''} {verb}.", "success")
    return redirect(url_for("admin.restatements"))
