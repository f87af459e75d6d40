"""`flask --app marketplace send-mail`: send what the outbox still holds (for cron or retries)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace.clihelpers import one_transaction
from marketplace.mail import sender


@click.command("send-mail")
@click.option("--limit", type=click.IntRange(1, 10_000), default=500, show_default=True)
@with_appcontext
def send_mail_command(limit: int) -> None:
    """Send queued email by SMTP (MAIL_SMTP_HOST must be set)."""
    if not sender.configured(current_app.config):
        raise click.ClickException(
            "MAIL_SMTP_HOST is not set: email stays in the outbox (admins see it at /admin/mail)."
        )
    with one_transaction():
        sent, failed = sender.deliver_queued(current_app.config, limit=limit)
    click.echo(f"Sent {sent} email(s); {failed} failed and will be retried.")
