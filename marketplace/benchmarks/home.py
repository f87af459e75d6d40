"""What a centre has to do now: its landing page's figures (issue 14, "landing pages")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from marketplace import clock
from marketplace.benchmarks import periods, restatements, signals
from marketplace.benchmarks import submission_history as history
from marketplace.benchmarks.models import Observation, PendingRestatement, ReportingPeriod
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue.models import CentreEditReview, ServiceCentre
from marketplace.extensions import db


@dataclass(frozen=True)
class Due:
    """A quarter whose figures are (or were) due, and where the centre stands with it."""

    period: ReportingPeriod
    deadline: date
    figures: int  # how many figures the centre has sent for it
    days_left: int  # negative once the deadline has passed

    @property
    def sent(self) -> bool:
        return self.figures > 0


@dataclass(frozen=True)
class CentreHome:
    centre: ServiceCentre
    running: ReportingPeriod  # the quarter running today (always open)
    due: Due | None  # the ended quarter whose figures are due now, if any
    flagged: int  # figures far from their peers, to confirm or correct
    pending_restatements: list[PendingRestatement]
    pending_reviews: int  # changes to the live entry the authority has not yet reviewed
    signals: list[signals.Signal]


def centre_home(centre: ServiceCentre, viewer) -> CentreHome:
    today = clock.today()
    running = periods.ensure_current(actor_label="system")
    return CentreHome(
        centre=centre,
        running=running,
        due=_due(centre, today),
        flagged=len(history.flagged_observations(centre)),
        pending_restatements=restatements.pending(centre_id=centre.id),
        pending_reviews=db.session.execute(
            select(func.count())
            .select_from(CentreEditReview)
            .where(CentreEditReview.centre_id == centre.id, CentreEditReview.status == "pending")
        ).scalar_one(),
        signals=signals.signals_for(centre, audience_for(viewer), today=today),
    )


def _due(centre: ServiceCentre, today: date) -> Due | None:
    """The latest quarter that has ended: its figures are due until its deadline (and the
    page says so after it, until the next quarter ends)."""
    period = db.session.execute(
        select(ReportingPeriod)
        .where(ReportingPeriod.ends_on < today)
        .order_by(*ReportingPeriod.newest_first())
        .limit(1)
    ).scalar_one_or_none()
    if period is None:
        return None
    deadline = periods.submission_deadline(period)
    figures = db.session.execute(
        select(func.count())
        .select_from(Observation)
        .where(Observation.centre_id == centre.id, Observation.period_id == period.id)
    ).scalar_one()
    return Due(period, deadline, figures, (deadline - today).days)
