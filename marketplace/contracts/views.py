"""Contract pages: the buyer's (/buyer/contracts), the centre's (/centre/contracts) and the
authority's (/admin/contracts); and the buyer's override of a quarter's rating.

Thin: read through the service (which says who may see what), commit once, render. Anyone
who may not see a contract gets 404 for its pages, whichever area they come from.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.benchmarks import drivers
from marketplace.contracts import services
from marketplace.contracts.models import RATING_LABELS, RATINGS
from marketplace.contracts.schemas import OVERRIDE_MESSAGES, OverrideSchema
from marketplace.errors import PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.web import forms

buyer_bp = Blueprint("buyer_contracts", __name__, url_prefix="/buyer/contracts")
centre_bp = Blueprint("centre_contracts", __name__, url_prefix="/centre/contracts")
admin_bp = Blueprint("admin_contracts", __name__, url_prefix="/admin/contracts")
# One address for a contract whoever reads it (an alert's e-mail or feed entry goes to the
# centre, its buyers and the authority): each is sent to their own page of it.
go_bp = Blueprint("contracts", __name__, url_prefix="/contracts")

# area: (index endpoint, show endpoint, caption of the list)
AREAS = {
    "buyer": ("buyer_contracts.index", "buyer_contracts.show", "Your organisation's contracts"),
    "centre": (
        "centre_contracts.centre_index",
        "centre_contracts.centre_show",
        "Your centre's contracts",
    ),
    "admin": ("admin_contracts.admin_index", "admin_contracts.admin_show", "Every contract"),
}


def _index(area: str):
    _index_endpoint, show_endpoint, caption = AREAS[area]
    return render_template(
        "contracts/index.html",
        contracts=services.visible_contracts(current_user),
        show_endpoint=show_endpoint,
        caption=caption,
        # The roll-up page belongs to selection (above contracts): linked by endpoint name.
        rollup_url=(url_for(f"rollup.{area}_rollup") if area in ("buyer", "admin") else None),
    )


def _show(area: str, public_id: str):
    contract = services.get_for_viewer(public_id, current_user)
    return render_template(
        "contracts/show.html",
        contract=services.detail(contract),
        volume_texts=drivers.volume_texts(contract.annual_volumes),
        index_endpoint=AREAS[area][0],
        can_override=services.can_override(current_user, contract),
    )


@buyer_bp.get("")
@role_required("buyer")
def index():
    return _index("buyer")


@buyer_bp.get("/<public_id>")
@role_required("buyer")
def show(public_id: str):
    return _show("buyer", public_id)


@centre_bp.get("")
@role_required("centre")
def centre_index():
    return _index("centre")


@centre_bp.get("/<public_id>")
@role_required("centre")
def centre_show(public_id: str):
    return _show("centre", public_id)


@admin_bp.get("")
@role_required("admin")
def admin_index():
    return _index("admin")


@admin_bp.get("/<public_id>")
@role_required("admin")
def admin_show(public_id: str):
    return _show("admin", public_id)


@go_bp.get("/<public_id>")
@role_required("buyer", "centre", "admin")
def go(public_id: str):
    """Send the reader to their own page of the contract (404 for anyone who may not see it)."""
    services.get_for_viewer(public_id, current_user)
    return redirect(url_for(AREAS[current_user.role][1], public_id=public_id))


@buyer_bp.route("/<public_id>/ratings/<metric>/<period>", methods=["GET", "POST"])
@role_required("buyer")
def override(public_id: str, metric: str, period: str):
    """The buyer's own rating of a quarter, with the reason (shown beside the computed one)."""
    contract = services.get_for_viewer(public_id, current_user)
    rating = services.rating_of(contract, metric, period)
    if not services.can_override(current_user, contract):
        raise PermissionDenied("Only buyers of the organisation that holds the contract can.")
    values = {"rating": rating.rating, "reason": rating.override_reason or ""}
    form_errors, errors, status = [], {}, 200
    if request.method == "POST":
        values = {key: (request.form.get(key) or "").strip() for key in values}
        try:
            data = forms.load(
                OverrideSchema(),
                {k: v for k, v in values.items() if v},
                "The rating could not be changed.",
                messages=OVERRIDE_MESSAGES,
            )
            services.override(current_user, contract, rating, data["rating"], data["reason"])
        except ValidationFailed as error:
            db.session.rollback()
            form_errors = forms.error_summary(error.errors)
            errors = {e.field: e.message for e in reversed(error.errors)}
            status = 400
        else:
            db.session.commit()
            flash("Rating saved, with your reason.", "success")
            return redirect(url_for("buyer_contracts.show", public_id=public_id))
        contract = services.get_for_viewer(public_id, current_user)
        rating = services.rating_of(contract, metric, period)
    return (
        render_template(
            "contracts/override.html",
            contract=contract,
            rating=rating,
            values=values,
            ratings=RATINGS,
            labels=RATING_LABELS,
            form_errors=form_errors,
            errors=errors,
        ),
        status,
    )
