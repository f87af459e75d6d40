"""/buyer/evaluations/<id>/decision-record.pdf: a locked evaluation and outcome as a PDF.

Visible exactly to those who may see the evaluation (selection's rule: its organisation, the
parent department of an ALB, and admins); everyone else gets 404. Private, so never cached
by shared caches; the ETag lets the buyer's browser revalidate cheaply.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from marketplace.extensions import db
from marketplace.publications import private_pdfs
from marketplace.publications.decision_records import decision_record
from marketplace.selection import services as selection

bp = Blueprint("decision_records", __name__, url_prefix="/buyer/evaluations")


@bp.get("/<public_id>/decision-record.pdf")
@login_required
def decision_record_pdf(public_id: str):
    evaluation = selection.get_for_viewer(public_id, current_user)
    stored, filename = decision_record(evaluation)
    db.session.commit()  # nothing is written to the database; ends the read transaction
    return private_pdfs.send_private(stored, filename)
