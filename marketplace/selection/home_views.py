"""/buyer: a buyer's landing page."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.selection import home
from marketplace.selection.models import OUTCOME_LABELS

bp = Blueprint("buyer_home", __name__, url_prefix="/buyer")


@bp.get("")
@role_required("buyer")
def index():
    viewer = current_user._get_current_object()
    sections = []
    context = {}
    for template, build in home.extra_sections():
        sections.append(template)
        context.update(build(viewer))
    return render_template(
        "selection/home.html",
        home=home.buyer_home(viewer),
        outcome_labels=OUTCOME_LABELS,
        sections=sections,
        **context,
    )
