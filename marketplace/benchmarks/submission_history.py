"""Reading back what a centre has sent: its submissions, its figures, and outlier flags."""

from __future__ import annotations

import csv
import io

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, defer, selectinload

from marketplace.audit import services as audit
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod, Submission
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.spreadsheets import neutralise, neutralise_text
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


def get_refused_submission(public_id: str, *, viewer) -> Submission:
    """A refused file whose errors the viewer may read: its centre's people, or an admin.

    Anyone else, and any accepted submission, is 'not found': a stranger learns nothing of
    another centre's files, not even that the reference exists.
    """
    submission = db.session.execute(
        select(Submission)
        .options(defer(Submission.content))
        .where(Submission.public_id == public_id, Submission.status == "rejected")
    ).scalar_one_or_none()
    if submission is None or not _may_read(submission, viewer):
        raise NotFound("There is no refused file with that reference that you can see.")
    return submission


def _may_read(submission: Submission, viewer) -> bool:
    role = getattr(viewer, "role", None)
    if role == "admin":
        return True
    if role != "centre" or viewer.organisation_id is None:
        return False
    centre = db.session.get(ServiceCentre, submission.centre_id)
    return centre is not None and centre.organisation_id == viewer.organisation_id


ERROR_COLUMNS = ("row", "column", "value", "message")


def errors_csv(submission: Submission) -> bytes:
    """Every kept error of a refused file: row, column, value (the cell as sent), message.

    Every text cell goes through the one formula neutralisation (spreadsheets.py): the value
    is what the centre typed, and a cell such as `=HYPERLINK(…)` must open as text.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ERROR_COLUMNS)
    for error in submission.errors or []:
        writer.writerow(
            (
                neutralise(error.get("row")),
                neutralise_text(error.get("column") or ""),
                neutralise_text(str(error.get("value") or "")),
                neutralise_text(error.get("message") or ""),
            )
        )
    return out.getvalue().encode("utf-8")


def errors_filename(submission: Submission) -> str:
    """The download's name, the same from the centre's page and from the API."""
    return f"errors-{submission.created_at:%Y-%m-%d}-{submission.public_id[:8]}.csv"


def error_count(submission: Submission) -> int:
    return int((submission.summary or {}).get("error_count", len(submission.errors or [])))


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
