"""/buyer/contracts/<id>/<year>.pdf: a contract's yearly performance as a PDF.

For those who may see the contract (contracts' rule: buyers of its organisation and its
parent department, the centre's users, admins); everyone else gets 404, as does a year
outside the contract's term. Private, so never cached by shared caches.
"""

from __future__ import annotations

from flask import Blueprint, current_app, send_file
from flask_login import current_user, login_required

from marketplace.contracts import services as contracts
from marketplace.extensions import db
from marketplace.publications.contract_reports import performance_pdf
from marketplace.publications.storage import storage_for

bp = Blueprint("contract_reports", __name__, url_prefix="/buyer/contracts")


@bp.get("/<public_id>/<int:year>.pdf")
@login_required
def performance(public_id: str, year: int):
    contract = contracts.get_for_viewer(public_id, current_user)
    stored, filename = performance_pdf(contract, year)
    db.session.commit()  # nothing is written to the database; ends the read transaction
    response = send_file(
        storage_for(current_app.config).path(stored.key),
        mimetype="application/pdf",
        download_name=filename,
        conditional=True,
        etag=stored.sha256,
    )
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
