"""Republishing after approved restatements: recorded in the approval, done after it (issue 15).

    approve ──► mark_pending (a pending_republications row per period, same transaction)
            └─► after the commit: dispatch ──► one job per period (RQ with REDIS_URL; otherwise
                after the response, or when the CLI command ends)
                                                └─► run_period: plan, render, record, delete row

The approving request never renders. Several approvals of one period before its job runs
leave one row (its `generation` counts them), so the period is republished once; a job that
finds no row does nothing; each artefact is recorded by services.record, which refuses a
second recording of the same figures, so a retry or a second job never publishes twice. A
job that fails midway rolls back only the artefact it was recording, keeps what it had
committed, and leaves the row (with the error) for the retry or `flask publications
run-pending`, whose plan holds only what is still missing.
"""

from __future__ import annotations

import logging

from flask import current_app, has_request_context
from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session, lazyload

from marketplace import background, clock
from marketplace.audit import services as audit
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.extensions import db
from marketplace.publications import planning
from marketplace.publications.models import PendingRepublication

log = logging.getLogger("marketplace.publications.republishing")

# The job a worker runs (marketplace/worker.py builds the app around run_period).
WORKER_JOB = "marketplace.worker.republish_period"
# A period's whole set of renders runs in one job: a national period takes a while.
JOB_TIMEOUT_SECONDS = 3 * 3600
JOB_RETRIES = 3
_SESSION_KEY = "republish_after_commit"
REASONS_MAX = 20_000


# --- in the approval's transaction -------------------------------------------------------


def mark_pending(period_id: int, *, reason: str, actor_label: str) -> PendingRepublication | None:
    """Record that a published period must be republished; one row per period (coalesced).

    Flushes only. The job is dispatched once the caller's transaction commits.
    """
    period = db.session.get(ReportingPeriod, period_id)
    if period is None or period.status != "published":
        return None
    now = clock.now()
    row = db.session.scalars(
        select(PendingRepublication)
        # No outer-joined period: PostgreSQL refuses FOR UPDATE on the nullable side.
        .options(lazyload(PendingRepublication.period))
        .where(PendingRepublication.period_id == period_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        row = PendingRepublication(
            period_id=period_id,
            generation=1,
            reasons=reason,
            requested_by=actor_label,
            first_requested_at=now,
            last_requested_at=now,
            attempts=0,
        )
        db.session.add(row)
    else:
        row.generation += 1
        row.reasons = (row.reasons + "\n" + reason)[-REASONS_MAX:] if row.reasons else reason
        row.requested_by = actor_label
        row.last_requested_at = now
    db.session.flush()
    audit.record(
        "publication.restatement_republish",
        actor_label=actor_label,
        object_type="period",
        object_id=period.code,
        detail={"centre_id": None, "reason": reason, "queued": True},
    )
    db.session.info.setdefault(_SESSION_KEY, set()).add(period_id)
    return row


def pending() -> list[PendingRepublication]:
    return list(
        db.session.scalars(
            select(PendingRepublication).order_by(PendingRepublication.first_requested_at)
        )
    )


def pending_by_period() -> dict[int, PendingRepublication]:
    return {row.period_id: row for row in pending()}


# --- after the commit --------------------------------------------------------------------


def _after_commit(session: Session) -> None:
    period_ids = session.info.pop(_SESSION_KEY, None)
    if period_ids:
        try:
            dispatch(sorted(period_ids))
        except Exception:  # never fail a committed approval; the rows wait for run-pending
            log.exception("could not dispatch republishing", extra={"periods": period_ids})


def _after_rollback(session: Session, _previous=None) -> None:
    session.info.pop(_SESSION_KEY, None)


def install() -> None:
    """Dispatch the jobs of committed approvals (connected once, by publications.register)."""
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_rollback)


def dispatch(period_ids: list[int]) -> None:
    """One job per period: RQ with REDIS_URL; else after the response or the CLI command.

    Elsewhere (a service called on its own) nothing runs: the rows wait for `flask
    publications run-pending` (or the next dispatch).
    """
    app = current_app._get_current_object()
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        try:
            enqueue(period_ids, redis_url, app.config)
            return
        except Exception:
            log.exception("could not queue republishing; running it after the response")
    if has_request_context():
        background.after_response(run_periods, period_ids)
        return
    import click

    context = click.get_current_context(silent=True)
    if context is not None:
        context.call_on_close(lambda: background.run(app, run_periods, period_ids))


def enqueue(period_ids: list[int], redis_url: str, config) -> list:
    from rq import Retry

    from marketplace.publications import jobs

    target = jobs.queue(redis_url, jobs.queue_name(config))
    return [
        target.enqueue(
            WORKER_JOB,
            period_id,
            job_timeout=JOB_TIMEOUT_SECONDS,
            retry=Retry(max=JOB_RETRIES),
            description=f"republish period {period_id}",
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
        )
        for period_id in period_ids
    ]


# --- the job -----------------------------------------------------------------------------


def run_periods(period_ids: list[int]) -> None:
    for period_id in period_ids:
        run_period(period_id)


def run_pending() -> list[dict]:
    """Republish every period still waiting (the CLI and tests); returns each run's result."""
    ids = list(db.session.scalars(select(PendingRepublication.period_id)))
    db.session.commit()
    return [run_period(period_id) for period_id in sorted(ids)]


def run_period(period_id: int) -> dict:
    """Republish one period if it is still pending; commits each artefact, then the row.

    Returns {"period_id", "published": n, "pending": bool}. Raises after recording the error
    on the row when a render or record fails (so RQ retries it).
    """
    from marketplace.publications import services

    row = db.session.scalars(
        select(PendingRepublication).where(PendingRepublication.period_id == period_id)
    ).one_or_none()
    if row is None:
        db.session.commit()
        return {"period_id": period_id, "published": 0, "pending": False}
    generation, label = row.generation, row.requested_by
    period = row.period
    plan = planning.plan_period(period, actor_label=label)
    db.session.commit()  # end the reading transaction; each artefact commits on its own
    published = 0
    config = current_app.config
    try:
        for item in plan.items:
            publication = services.record(item, services.produce(item, config))
            db.session.commit()
            published += publication is not None
    except Exception as error:
        db.session.rollback()
        _note_failure(period_id, error)
        raise
    # Done with the generation read at the start; a newer approval keeps its row (and job).
    db.session.execute(
        delete(PendingRepublication).where(
            PendingRepublication.period_id == period_id,
            PendingRepublication.generation == generation,
        )
    )
    db.session.commit()
    still = db.session.scalar(
        select(PendingRepublication.id).where(PendingRepublication.period_id == period_id)
    )
    db.session.commit()
    return {"period_id": period_id, "published": published, "pending": still is not None}


def _note_failure(period_id: int, error: Exception) -> None:
    row = db.session.scalars(
        select(PendingRepublication).where(PendingRepublication.period_id == period_id)
    ).one_or_none()
    if row is not None:
        row.attempts += 1
        row.last_error = f"{type(error).__name__}: {error}"[:2000]
        db.session.commit()
