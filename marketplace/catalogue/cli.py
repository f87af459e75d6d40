"""The accreditation command."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from marketplace.catalogue import accreditation
from marketplace.catalogue.models import ServiceCentre
from marketplace.clihelpers import one_transaction, operator_label
from marketplace.errors import NotFound
from marketplace.extensions import db


@click.command("accreditation")
@click.argument("centre_slug")
@click.argument("action", type=click.Choice(accreditation.ACTIONS))
@click.option(
    "--from",
    "valid_from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="Start of validity (accredit only; default today).",
)
@click.option(
    "--until",
    "valid_until",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="End of validity (accredit, renew).",
)
@click.option("--reason", default="", help="Why (required to suspend, reinstate or withdraw).")
@with_appcontext
def accreditation_command(centre_slug, action, valid_from, valid_until, reason):
    """Move a centre through the accreditation lifecycle."""
    with one_transaction():
        centre = db.session.execute(
            db.select(ServiceCentre).where(ServiceCentre.slug == centre_slug)
        ).scalar_one_or_none()
        if centre is None:
            raise NotFound(f"There is no service centre '{centre_slug}'.")
        event = accreditation.change(
            centre,
            action,
            actor_label=operator_label(),
            reason=reason,
            valid_from=valid_from.date() if valid_from else None,
            valid_until=valid_until.date() if valid_until else None,
        )
    until = f" until {event.valid_until:%d %B %Y}" if event.valid_until else ""
    click.echo(f"{centre.name}: {event.from_status} -> {event.to_status}{until}.")
