"""Where rendering runs: a local pool (`--jobs N`) or RQ workers on any host.

Local: N threads each hand one work item at a time to render.py, which renders it in its own
capped child process, so N reports render at once on N cores; the calling thread records each
result (the database session is not shared between threads).

RQ (REDIS_URL set): each work item is one job on the 'reports' queue. `rq worker reports`,
started on any host with the same DATABASE_URL and REPORTS_DIR, renders, stores and records
the artefact and commits it: each finished report is durable on its own, and a rerun of
`publish` plans only what is still missing. Both paths call services.produce with the same
work item, so both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed

from marketplace.publications import services
from marketplace.publications.render import RenderFailed
from marketplace.publications.services import Plan, Produced, WorkItem

QUEUE_NAME = "reports"
# The job a worker runs: marketplace/worker.py builds the app around publish_item. (Named by
# its path, so that the publications area never imports the app factory above it.)
WORKER_JOB = "marketplace.worker.publish_item"
JOB_TIMEOUT_SECONDS = 900
# A worker killed mid-render leaves its job "started"; the next worker's maintenance finds it
# abandoned and, while retries are left, queues it again for any worker (RQ's Retry). Each
# render is content-addressed and record() refuses a second recording of the same figures,
# so a retry can never publish an artefact twice.
JOB_RETRIES = 3


def run_local(
    items: list[WorkItem], config, jobs: int
) -> Iterator[tuple[WorkItem, Produced | None, str | None]]:
    """Produce the items with up to `jobs` renders at once; yields (item, produced, error)."""
    config = dict(config)
    if not items:
        return
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="publish") as pool:
        futures = {pool.submit(services.produce, item, config): item for item in items}
        for future in as_completed(futures):
            item = futures[future]
            try:
                yield item, future.result(), None
            except RenderFailed as error:
                yield item, None, str(error)


# --- RQ ------------------------------------------------------------------------------------


def queue_name(config) -> str:
    """REPORTS_QUEUE, or 'reports': workers run `rq worker <that name>`."""
    return config.get("REPORTS_QUEUE") or QUEUE_NAME


def queue(redis_url: str, name: str = QUEUE_NAME):
    from redis import Redis
    from rq import Queue

    return Queue(name, connection=Redis.from_url(redis_url))


def enqueue(plan: Plan, redis_url: str, name: str = QUEUE_NAME) -> list:
    """One RQ job per work item; returns the jobs."""
    from rq import Retry

    target = queue(redis_url, name)
    return [
        target.enqueue(
            WORKER_JOB,
            item.as_dict(),
            job_timeout=JOB_TIMEOUT_SECONDS,
            retry=Retry(max=JOB_RETRIES),
            description=item.label,
            result_ttl=24 * 3600,
            failure_ttl=7 * 24 * 3600,
        )
        for item in plan.items
    ]


def publish_item(values: dict) -> dict:
    """Produce one work item and record it, committed on its own (in an app context)."""
    from flask import current_app

    from marketplace.extensions import db

    item = WorkItem.from_dict(values)
    produced = services.produce(item, current_app.config)
    try:
        publication = services.record(item, produced)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return {
        "label": item.label,
        "sha256": produced.sha256,
        "recorded": publication is not None,
        "public_id": publication.public_id if publication is not None else None,
    }


def wait_for(jobs: list, on_finished: Callable[[object], None], poll_seconds: float = 0.5):
    """Block until every job has finished or failed, calling on_finished once for each."""
    import time

    pending = {job.id: job for job in jobs}
    while pending:
        for job_id, job in list(pending.items()):
            status = job.get_status(refresh=True)
            if status in ("finished", "failed", "stopped", "canceled"):
                del pending[job_id]
                on_finished(job)
        if pending:
            time.sleep(poll_seconds)
