"""Admin pages: the queue of changes centre users made to live catalogue entries."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.admin import bp
from marketplace.admin import forms as f
from marketplace.catalogue import reviews as service
from marketplace.errors import DomainError
from marketplace.extensions import db

DECISIONS = {
    "acknowledge": service.acknowledge,
    "revert": service.revert,
    "request_change": service.request_change,
}
DONE = {
    "acknowledge": "acknowledged",
    "revert": "reverted, and the centre is told",
    "request_change": "the centre is asked to change it",
}


@bp.get("/reviews")
def reviews():
    return render_template(
        "admin/reviews.html",
        pending=service.pending(),
        acknowledged=service.recently_acknowledged(),
    )


@bp.route("/reviews/<public_id>", methods=["GET", "POST"])
def review(public_id: str):
    """The before/after comparison is the confirmation step: each decision posts from it.

    Acknowledge (keep it), revert (restore the previous entry in one audited step and tell
    the centre) or ask the centre to change it (with a note the centre receives).
    """
    item = service.get(public_id)
    if request.method == "POST":
        decision = request.form.get("decision", "acknowledge")
        act = DECISIONS.get(decision, service.acknowledge)
        try:
            with db.session.begin_nested():
                act(item, actor=current_user._get_current_object(), note=f.text("note"))
        except DomainError as error:
            page, _ = f.form_page(
                "admin/review.html",
                f.failure_errors(error),
                review=service.get(public_id),
                rows=service.diff(service.get(public_id)),
            )
            return page, error.status
        db.session.commit()
        flash(f"The change to {item.centre.name}: {DONE.get(decision, 'acknowledged')}.", "success")
        return redirect(url_for("admin.reviews"))
    return f.form_page("admin/review.html", review=item, rows=service.diff(item))
