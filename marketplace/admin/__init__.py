"""The accreditation authority's administration area under /admin (admins only).

One blueprint; each module adds the pages of one aggregate (accreditation, metrics, periods,
organisations, users, tokens, domains, reviews); the audit trail (audit_trail.py), the
outbox (outbox.py) and closing and publishing periods (publishing.py) are blueprints of
their own under /admin. Business rules live in the areas' services and admin/services/,
so the API and the CLI share them.
"""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_login import current_user

from marketplace.errors import PermissionDenied
from marketplace.extensions import login_manager

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def _admins_only():
    # Checked once for every page of the area, so a new page cannot forget it.
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if current_user.role != "admin":
        raise PermissionDenied("Only the accreditation authority's administrators can see this.")
    return None


def register(app: Flask) -> None:
    from marketplace.admin import (  # noqa: F401 - each module adds its pages to bp
        accreditation,
        domains,
        join_requests,
        metrics,
        organisations,
        periods,
        restatements,
        reviews,
        signals,
        tokens,
        users,
    )
    from marketplace.admin.audit_trail import bp as audit_bp
    from marketplace.admin.outbox import bp as mail_bp
    from marketplace.admin.publishing import bp as publishing_bp

    for blueprint in (bp, audit_bp, mail_bp, publishing_bp):
        app.register_blueprint(blueprint)
