"""`flask --app marketplace publish --period YYYY-Qn [--jobs N]`."""

from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from marketplace.benchmarks.models import ReportingPeriod
from marketplace.clihelpers import one_transaction, operator_label
from marketplace.extensions import db
from marketplace.publications import jobs as runners
from marketplace.publications import republishing, services


@click.command("publish")
@click.option("--period", "period_code", required=True, help="The period to publish, YYYY-Qn.")
@click.option(
    "--jobs",
    type=click.IntRange(1, 64),
    default=None,
    help="Reports rendered at once on this machine (default: the number of CPUs). "
    "Ignored when REDIS_URL is set: then rq workers render them.",
)
@click.option(
    "--wait/--no-wait",
    default=True,
    help="With REDIS_URL: wait for the workers and show progress (default), or only queue.",
)
@with_appcontext
def publish_command(period_code: str, jobs: int | None, wait: bool) -> None:
    """Render and publish a closed period's reports, league table and open data.

    Publishes only what is missing or whose figures changed since it was published, so it
    is safe to run again, and a run that stopped resumes. Each artefact is committed as soon
    as it is stored, so a stop loses at most the reports being rendered at that moment.
    """
    actor = operator_label()
    with one_transaction():
        period = services.get_period(period_code)
    plan = _start_and_plan(period, actor)
    click.echo(
        f"{plan.period_code}: {len(plan.items)} to publish, {plan.unchanged} already up to date."
    )
    if not plan.items:
        return
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        _through_queue(plan, redis_url, wait)
    else:
        _locally(plan, jobs or os.cpu_count() or 1)


def publish_recent_closed(count: int = 4, actor: str | None = None) -> None:
    """Publish the `count` most recent periods that are no longer open, oldest first (for
    seed-demo), so the newest reports already have a trend over the quarters before them.

    Idempotent: a period published and unchanged is not rendered again.
    """
    periods = db.session.scalars(
        select(ReportingPeriod)
        .where(ReportingPeriod.status != "open")
        .order_by(*ReportingPeriod.newest_first())
        .limit(count)
    ).all()
    actor = actor or operator_label()
    for period in reversed(periods):
        plan = _start_and_plan(period, actor)
        if not plan.items:
            click.echo(f"{period.code} is published and up to date.")
            continue
        click.echo(f"Publishing {period.code}: {len(plan.items)} report(s) and data file(s).")
        _locally(plan, os.cpu_count() or 1)


def _start_and_plan(period: ReportingPeriod, actor: str) -> services.Plan:
    """Mark the period as publishing (committed), then list what is missing or changed."""
    with one_transaction():
        services.start_publication(period, actor_label=actor)
    return services.plan_period(period, actor_label=actor)


def _locally(plan: services.Plan, jobs: int) -> None:
    failures: list[str] = []
    pages = 0
    with click.progressbar(
        length=len(plan.items), label=f"Rendering with {jobs} job(s)", show_pos=True
    ) as bar:
        for item, produced, error in runners.run_local(plan.items, current_app.config, jobs):
            if error is not None:
                failures.append(f"{item.label}: {error}")
            else:
                # Committed one by one on purpose: a long run that stops keeps what it made.
                with one_transaction():
                    services.record(item, produced)
                pages += produced.page_count or 0
            bar.update(1)
    _summary(len(plan.items) - len(failures), pages, failures)


def _through_queue(plan: services.Plan, redis_url: str, wait: bool) -> None:
    name = runners.queue_name(current_app.config)
    queued = runners.enqueue(plan, redis_url, name)
    click.echo(f"Queued {len(queued)} job(s) on '{name}'.")
    if not wait:
        click.echo(f"Start workers with: rq worker {name} --url $REDIS_URL")
        return
    failures: list[str] = []
    with click.progressbar(length=len(queued), label="Waiting for rq workers") as bar:

        def finished(job) -> None:
            if job.get_status() != "finished":
                failures.append(f"{job.description}: {job.get_status()}")
            bar.update(1)

        runners.wait_for(queued, finished)
    db.session.expire_all()
    _summary(len(queued) - len(failures), None, failures)


def _summary(done: int, pages: int | None, failures: list[str]) -> None:
    extra = f" ({pages} pages)" if pages else ""
    click.echo(f"Published {done} artefact(s){extra}.")
    if failures:
        for line in failures:
            click.echo(f"  failed: {line}", err=True)
        raise click.ClickException(
            f"{len(failures)} artefact(s) failed; fix the cause and run publish again."
        )


@click.group("publications")
def publications_group() -> None:
    """Publication work that runs after the request: republishing after restatements."""


@publications_group.command("run-pending")
@with_appcontext
def run_pending_command() -> None:
    """Republish every period whose approved restatements are still waiting.

    What a job does after an approval (with REDIS_URL an rq worker runs it): use it to finish
    work a failed or lost job left, or without REDIS_URL outside a request. Safe to repeat: a
    period with nothing pending is skipped, and only missing or changed artefacts render.
    """
    waiting = republishing.pending()
    codes = {row.period_id: row.period.code for row in waiting}
    db.session.commit()
    if not codes:
        click.echo("Nothing waits to be republished.")
        return
    failures = 0
    with click.progressbar(sorted(codes), label="Republishing", show_pos=True) as bar:
        for period_id in bar:
            try:
                result = republishing.run_period(period_id)
            except Exception as error:
                failures += 1
                click.echo(f"\n  {codes[period_id]} failed: {error}", err=True)
                continue
            click.echo(f"\n  {codes[period_id]}: {result['published']} artefact(s) republished.")
    if failures:
        raise click.ClickException(f"{failures} period(s) failed; they stay pending.")
