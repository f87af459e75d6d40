"""The publication workflow: plan what a period needs, produce each artefact, record it.

    plan_period ──► [WorkItem …] ──► produce (render + store; any process or host)
                                            └──► record (a Publication row; supersede the old)

Planning (planning.py, re-exported here) builds the period's primitives and compares each
artefact's input hash with its current publication: only what is missing or changed becomes
a work item, so publishing is idempotent and a stopped run resumes where it stopped. A work
item carries everything its render needs as plain data, so a local worker process or an RQ
worker elsewhere produces the same bytes. Services flush only; the CLI and views commit.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload

from marketplace import clock, events
from marketplace.audit import services as audit
from marketplace.benchmarks import periods as period_service
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.errors import IllegalTransition
from marketplace.extensions import db
from marketplace.publications import formatting as fmt
from marketplace.publications import opendata, render, tables
from marketplace.publications.models import Publication
from marketplace.publications.planning import (  # noqa: F401 - part of this module's interface
    DEFAULT_AUTHOR,
    Plan,
    WorkItem,
    author_name,
    min_group,
    plan_period,
)
from marketplace.publications.storage import storage_for

PDF_TEMPLATES = {
    "centre_report": "reports/centre_report.html",
    "league_table": "reports/league_table.html",
}
CONTENT_TYPES = {
    "centre_report": "application/pdf",
    "league_table": "application/pdf",
    "open_data_csv": "text/csv",
    "open_data_json": "application/json",
}


@dataclass
class Produced:
    storage_key: str
    sha256: str
    size_bytes: int
    content_type: str
    page_count: int | None
    seconds: float


# --- producing -----------------------------------------------------------------------------


def envelope(item: WorkItem) -> dict:
    moment = item.moment.astimezone(UTC)
    return {
        "version": item.version,
        "published_iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "published_text": fmt.datetime_text(moment),
        "author": item.author,
        "previous": item.previous,
        "change_note": item.change_note,
    }


def render_limits(kind: str, config) -> tuple[float, int]:
    """(timeout seconds, memory MB) for one render.

    A league table grows with the number of centres (about 17 pages per metric for 1,000
    centres; a service line's document holds 4 to 10 metrics), so it gets
    LEAGUE_TABLE_RENDER_TIMEOUT / _MEMORY_MB when those are larger.
    """
    timeout = config.get("REPORT_RENDER_TIMEOUT", render.DEFAULT_TIMEOUT_SECONDS)
    memory = config.get("REPORT_RENDER_MEMORY_MB", render.DEFAULT_MEMORY_MB)
    if kind == "league_table":
        timeout = max(timeout, config.get("LEAGUE_TABLE_RENDER_TIMEOUT", 1800))
        memory = max(memory, config.get("LEAGUE_TABLE_RENDER_MEMORY_MB", 4096))
    return timeout, memory


def render_bytes(item: WorkItem, config) -> tuple[bytes, int | None, float]:
    """The artefact's bytes, page count and render seconds. Needs no database."""
    if item.kind in PDF_TEMPLATES:
        html = render.render_html(PDF_TEMPLATES[item.kind], data=item.data, envelope=envelope(item))
        timeout, memory = render_limits(item.kind, config)
        result = render.render_pdf(
            html, published_at=item.moment, timeout=timeout, memory_mb=memory
        )
        return result.pdf, result.pages, result.seconds
    if item.kind == "open_data_csv":
        return opendata.to_csv(item.data), None, 0.0
    return opendata.to_json(item.data, envelope(item)), None, 0.0


def produce(item: WorkItem, config) -> Produced:
    """Render and store one artefact (content-addressed, so repeating it is harmless)."""
    content, pages, seconds = render_bytes(item, config)
    stored = storage_for(config).put(content, CONTENT_TYPES[item.kind])
    return Produced(
        stored.key, stored.sha256, stored.size_bytes, CONTENT_TYPES[item.kind], pages, seconds
    )


# --- recording -----------------------------------------------------------------------------


def filename_for(item: WorkItem) -> str:
    if item.kind == "centre_report":
        return f"{item.centre_slug}-{item.period_code}-performance-report-v{item.version}.pdf"
    if item.kind == "league_table":
        line = tables.line_code(item.subject)
        part = f"-{line}" if line else ""
        return f"league-table-{item.period_code}{part}-v{item.version}.pdf"
    extension = "csv" if item.kind == "open_data_csv" else "json"
    return f"benchmarks-{item.period_code}-v{item.version}.{extension}"


def record(item: WorkItem, produced: Produced) -> Publication | None:
    """Record a produced artefact as the current version, superseding the previous one.

    Returns None when another publisher got there first (the same figures are already
    current, or a newer version exists): the caller's work is then simply not needed.
    """
    versions = db.session.scalars(
        select(Publication)
        # Lock the artefact's rows only (no outer-joined period or centre: PostgreSQL
        # refuses FOR UPDATE on the nullable side of an outer join).
        .options(lazyload(Publication.period), lazyload(Publication.centre))
        .where(
            Publication.kind == item.kind,
            Publication.period_id == item.period_id,
            Publication.subject == item.subject,
        )
        .with_for_update()
    ).all()
    current = next((p for p in versions if p.is_current), None)
    if current is not None and current.input_hash == item.input_hash:
        return None
    if any(p.version >= item.version for p in versions):
        return None
    publication = Publication(
        public_id=secrets.token_hex(8),
        kind=item.kind,
        period_id=item.period_id,
        centre_id=item.centre_id,
        subject=item.subject,
        version=item.version,
        status="current",
        title=item.title,
        storage_key=produced.storage_key,
        sha256=produced.sha256,
        size_bytes=produced.size_bytes,
        content_type=produced.content_type,
        filename=filename_for(item),
        page_count=produced.page_count,
        input_hash=item.input_hash,
        data=item.data,
        envelope=envelope(item),
        change_note="\n".join(item.change_note),
        published_at=item.moment,
        published_by=item.actor_label,
        render_seconds=round(produced.seconds, 3),
    )
    try:
        with db.session.begin_nested():
            if current is not None:
                current.status = "superseded"
                current.superseded_at = clock.now()
                db.session.flush()
            db.session.add(publication)
            db.session.flush()
    except IntegrityError:
        # A first version recorded by another publisher at the same moment (no row to lock).
        return None
    audit.record(
        "publication.published",
        actor_label=item.actor_label,
        object_type="publication",
        object_id=publication.public_id,
        detail={
            "kind": item.kind,
            "period": item.period_code,
            "centre": item.centre_slug,
            "version": item.version,
            "sha256": produced.sha256,
            "size_bytes": produced.size_bytes,
            "supersedes": current.public_id if current is not None else None,
        },
    )
    return publication


# --- the period ----------------------------------------------------------------------------


def start_publication(
    period: ReportingPeriod, *, actor=None, actor_label: str | None = None
) -> ReportingPeriod:
    """closed -> published (its reports follow as they are rendered); published stays so."""
    period = db.session.execute(
        select(ReportingPeriod)
        .where(ReportingPeriod.id == period.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if period.status == "published":
        return period
    if period.status != "closed":
        raise IllegalTransition(
            f"{period.code} is {period.status}; close it before publishing, so that no new "
            "data arrives while its reports are rendered."
        )
    period_service.check_publishable(period)
    period.status = "published"
    period.published_at = clock.now()
    db.session.flush()
    audit.record(
        "period.published",
        actor=actor,
        actor_label=actor_label,
        object_type="period",
        object_id=period.code,
        detail={"from": "closed", "to": "published"},
    )
    # Contracts rate their KPIs for the quarter (contracts/receivers.py), in this transaction.
    events.period_published.send(
        period, actor=actor, actor_label=actor_label or getattr(actor, "email", None)
    )
    return period


def publish_inline(
    period: ReportingPeriod, *, actor=None, actor_label: str, config=None
) -> list[Publication]:
    """Publish what is missing or changed, rendering here one at a time (flush only)."""
    config = config or current_app.config
    start_publication(period, actor=actor, actor_label=actor_label)
    plan = plan_period(period, actor_label=actor_label)
    published = []
    for item in plan.items:
        publication = record(item, produce(item, config))
        if publication is not None:
            published.append(publication)
    return published


def republish_for_restatement(
    centre_id: int | None,
    period_id: int,
    *,
    actor=None,
    actor_label: str | None = None,
    reason: str = "",
) -> list:
    """After a restatement of a published period: publish every artefact whose figures moved.

    The restated centre's report becomes version N+1 with a note of what changed; other
    centres' reports follow only if a figure they show moved too (a peer median, say), and
    the league table and open data follow. Nothing happens for a period not yet published:
    its first publication will include the restated figure. With REDIS_URL set the renders
    are queued (returns the queued work items); otherwise they run here (returns the new
    publications). Call it after the restatement and its statistics are flushed.
    """
    period = db.session.get(ReportingPeriod, period_id)
    if period is None or period.status != "published":
        return []
    label = actor_label or getattr(actor, "email", None) or audit.SYSTEM
    audit.record(
        "publication.restatement_republish",
        actor=actor,
        actor_label=label,
        object_type="period",
        object_id=period.code,
        detail={"centre_id": centre_id, "reason": reason},
    )
    if current_app.config.get("REDIS_URL"):
        from marketplace.publications import jobs

        plan = plan_period(period, actor_label=label)
        jobs.enqueue(plan, current_app.config["REDIS_URL"], jobs.queue_name(current_app.config))
        return plan.items
    return publish_inline(period, actor=actor, actor_label=label)


def after_approval(restatements, *, period_ids, actor=None, actor_label: str | None = None) -> list:
    """Record that each published period whose restatements the authority approved must be
    republished: once per period, however many it approved (and however many approvals come
    before the job runs), so each affected report, the league table and the open data get
    exactly one new version. Nothing renders here: the job runs after the commit
    (publications/republishing.py). Returns the pending rows.

    Called by publications/receivers.py on events.restatements_approved, in the transaction
    of the approval.
    """
    from marketplace.publications import republishing

    label = actor_label or getattr(actor, "email", None) or audit.SYSTEM
    rows: list = []
    for period_id in period_ids:
        names = [
            f"{item.observation.centre.slug} {item.observation.metric.code}"
            for item in restatements
            if item.observation.period_id == period_id
        ]
        row = republishing.mark_pending(
            period_id, reason="Approved restatements: " + "; ".join(names), actor_label=label
        )
        if row is not None:
            rows.append(row)
    return rows


def get_period(code: str) -> ReportingPeriod:
    return period_service.get_period(code)


def count_current(period_id: int) -> dict[str, int]:
    rows = db.session.execute(
        select(Publication.kind, func.count())
        .where(Publication.period_id == period_id, Publication.status == "current")
        .group_by(Publication.kind)
    ).all()
    return dict(rows)
