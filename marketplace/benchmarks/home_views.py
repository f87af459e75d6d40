"""/centre: a centre user's landing page — what is due, what to confirm, what waits."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.benchmarks import home, submissions
from marketplace.extensions import db

bp = Blueprint("centre_home", __name__, url_prefix="/centre")


@bp.get("")
@role_required("centre")
def index():
    centre = submissions.centre_for_organisation(current_user.organisation_id)
    if centre is None:
        # An organisation the authority has not yet put in the catalogue: nothing is due.
        return render_template("centre/home.html", home=None, centre=None)
    page = home.centre_home(centre, current_user)
    db.session.commit()  # the running quarter, opened if nobody had (audited)
    return render_template("centre/home.html", home=page, centre=centre)
