"""Figures for the admin dashboard."""

from __future__ import annotations

from sqlalchemy import func

from marketplace.accounts.models import ApiToken, User
from marketplace.benchmarks.variation_models import LatestVariation
from marketplace.catalogue.models import CentreEditReview, ServiceCentre
from marketplace.extensions import db


def dashboard_counts() -> dict[str, int]:
    def count(statement) -> int:
        return db.session.execute(statement).scalar_one()

    return {
        "applied": count(
            db.select(func.count())
            .select_from(ServiceCentre)
            .where(ServiceCentre.accreditation_status == "applied")
        ),
        "pending_reviews": count(
            db.select(func.count())
            .select_from(CentreEditReview)
            .where(CentreEditReview.status == "pending")
        ),
        "active_users": count(db.select(func.count()).select_from(User).where(User.active)),
        "centres_of_concern": count(
            db.select(func.count(func.distinct(LatestVariation.centre_id))).where(
                LatestVariation.kind == "concern"
            )
        ),
        "live_tokens": count(
            db.select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
        ),
    }
