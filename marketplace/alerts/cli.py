"""`flask alerts run`: find new alerts, remind centres of deadlines, send the digests.

Run it every hour (cron or a scheduler): a signal raised by the clock (a deadline passing, an
accreditation coming within 60 days of its end) or by a publication is found here; the
digests of people whose grace period or daily limit has passed go out here too.
"""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.alerts import services
from marketplace.clihelpers import one_transaction

alerts_cli = AppGroup("alerts", help="Early-warning alerts.")


@alerts_cli.command("run")
def run_command():
    """Find new alerts for every followed centre, remind, and queue the due digests."""
    with one_transaction():
        found = services.detect_all()
        reminded = services.remind_deadlines()
        sent = services.deliver()
    click.echo(
        f"{found} new alert{'s' if found != 1 else ''}, {reminded} deadline "
        f"reminder{'s' if reminded != 1 else ''}, {sent} digest{'s' if sent != 1 else ''} queued."
    )
