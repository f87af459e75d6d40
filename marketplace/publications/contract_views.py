"""/buyer/contracts/<id>/<year>.pdf: a contract's yearly performance as a PDF.

For those who may see the contract (contracts' rule: buyers of its organisation and its
parent department, the centre's users, admins); everyone else gets 404, as does a year
outside the contract's term. Private, so never cached by shared caches.
"""

from __future__ import annotations

from flask import Blueprint
from flask_login import current_user, login_required

from marketplace.contracts import services as contracts
from marketplace.extensions import db
from marketplace.publications import private_pdfs
from marketplace.publications.contract_reports import performance_pdf

bp = Blueprint("contract_reports", __name__, url_prefix="/buyer/contracts")


@bp.get("/<public_id>/<int:year>.pdf")
@login_required
def performance(public_id: str, year: int):
    contract = contracts.get_for_viewer(public_id, current_user)
    stored, filename = performance_pdf(contract, year)
    db.session.commit()  # nothing is written to the database; ends the read transaction
    return private_pdfs.send_private(stored, filename)
