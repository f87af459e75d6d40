"""`flask recompute-statistics`: rebuild peer statistics (and, for all periods, the market's
latest variations) from the observations."""

from __future__ import annotations

import re

import click
from flask.cli import with_appcontext

from marketplace import clock
from marketplace.audit import services as audit
from marketplace.benchmarks import market_signals, peers
from marketplace.benchmarks import periods as periods_service
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.clihelpers import one_transaction
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db

PERIOD_CODE = re.compile(r"^\d{4}-Q[1-4]$")


@click.command("recompute-statistics")
@click.option("--period", "period_code", default=None, help="Only this period (YYYY-Qn).")
@click.option(
    "--current",
    is_flag=True,
    help="Only periods not yet ended, whose peer groups are drawn as of today (run daily).",
)
@with_appcontext
def recompute_statistics_command(period_code: str | None, current: bool):
    """Rebuild the peer statistics of one period, the running periods, or all periods."""
    if period_code and current:
        raise click.UsageError("Give --period or --current, not both.")
    with one_transaction():
        query = db.select(ReportingPeriod).order_by(ReportingPeriod.starts_on)
        if period_code:
            if not PERIOD_CODE.match(period_code):
                raise ValidationFailed(f"'{period_code}' is not a period; write it as 2026-Q1.")
            query = query.where(ReportingPeriod.code == period_code)
        elif current:
            # The running quarter is always open: opened here if nobody did.
            periods_service.ensure_current(actor_label=audit.SYSTEM)
            query = query.where(ReportingPeriod.ends_on >= clock.today())
        periods = db.session.scalars(query).all()
        if period_code and not periods:
            raise NotFound(f"There is no reporting period {period_code}.")
        groups = 0
        with click.progressbar(
            periods, label="Recomputing peer statistics", item_show_func=_code
        ) as bar:
            for period in bar:
                groups += peers.recompute_period(period.id)
        # Rebuilt from scratch, the statistics leave nothing stale; nor must the signals.
        judged = None if (period_code or current) else market_signals.refresh_market()
    click.echo(f"Recomputed {groups} peer groups in {len(periods)} periods.")
    if judged is not None:
        click.echo(f"Judged the latest point of {judged} series for early warning.")


def _code(period: ReportingPeriod | None) -> str | None:
    return period.code if period is not None else None
