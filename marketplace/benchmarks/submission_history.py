"""Reading back what a centre has sent: its submissions, its figures, and outlier flags."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, defer, selectinload

from marketplace.audit import services as audit
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod, Submission
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.web.pagination import Page

PER_PAGE = 20


def list_submissions(centre: ServiceCentre, *, page: int = 1, per_page: int = PER_PAGE) -> Page:
    base = select(Submission).where(Submission.centre_id == centre.id)
    total = db.session.execute(select(func.count()).select_from(base.subquery())).scalar_one()
    items = db.session.execute(
        base.options(defer(Submission.content))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).scalars()
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def get_submission(centre: ServiceCentre, public_id: str) -> Submission:
    """One of this centre's submissions; anyone else's is 'not found', never 'forbidden'."""
    submission = db.session.execute(
        select(Submission).where(
            Submission.centre_id == centre.id, Submission.public_id == public_id
        )
    ).scalar_one_or_none()
    if submission is None:
        raise NotFound("There is no submission with that reference for your centre.")
    return submission


def _observations(centre: ServiceCentre):
    return (
        select(Observation)
        .join(Observation.metric)
        .join(Observation.period)
        .options(contains_eager(Observation.metric), contains_eager(Observation.period))
        .where(Observation.centre_id == centre.id)
    )


def flagged_observations(centre: ServiceCentre) -> list[Observation]:
    return list(
        db.session.execute(
            _observations(centre)
            .where(Observation.flag_status == "flagged")
            .order_by(ReportingPeriod.starts_on.desc(), Metric.code)
        ).scalars()
    )


def flag_states(centre: ServiceCentre, submission: Submission) -> dict[tuple[str, str], str]:
    """Where each flag of a submission stands now: flagged, confirmed, or since changed."""
    listed = {(f["metric"], f["period"]) for f in (submission.summary or {}).get("flags", [])}
    if not listed:
        return {}
    states = {}
    for obs in db.session.execute(
        _observations(centre).where(
            Metric.code.in_({m for m, _ in listed}),
            ReportingPeriod.code.in_({p for _, p in listed}),
        )
    ).scalars():
        key = (obs.metric.code, obs.period.code)
        if key in listed:
            states[key] = obs.flag_status if obs.submission_id == submission.id else "replaced"
    return states


def confirm_flag(
    centre: ServiceCentre, metric_code: str, period_code: str, *, actor
) -> Observation:
    """The centre says a flagged figure is right: it stays, marked as confirmed."""
    observation = db.session.execute(
        _observations(centre)
        .where(
            Metric.code == metric_code,
            ReportingPeriod.code == period_code,
            Observation.flag_status == "flagged",
        )
        .with_for_update(of=Observation)
    ).scalar_one_or_none()
    if observation is None:
        raise NotFound("There is no flagged figure for that metric and period.")
    observation.flag_status = "confirmed"
    audit.record(
        "observation.flag_confirmed",
        actor=actor,
        organisation_id=centre.organisation_id,
        object_type="observation",
        object_id=f"{centre.slug}/{metric_code}/{period_code}",
        detail={"value": str(observation.value), "score": observation.flag_score},
    )
    db.session.flush()
    return observation


def observations_for(centre: ServiceCentre, *, period_code: str | None, sees_everything: bool):
    """The centre's current figures; others see only those of published periods."""
    query = _observations(centre)
    if period_code:
        query = query.where(ReportingPeriod.code == period_code)
    if not sees_everything:
        query = query.where(ReportingPeriod.status == "published")
    # The API names each value's submission: one extra query per page, not one per row.
    query = query.options(selectinload(Observation.submission).load_only(Submission.public_id))
    return query.order_by(ReportingPeriod.starts_on.desc(), Metric.position, Metric.code)
