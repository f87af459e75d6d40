"""`flask restatements list|approve|refuse`: the authority's decision on restatements, from a
terminal — the same service and schema as the admin page and the API."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace import formatting
from marketplace.benchmarks import restatements as service
from marketplace.benchmarks.restatement_schemas import decision_schema
from marketplace.clihelpers import one_transaction, operator_label
from marketplace.web import forms

restatements_group = AppGroup(
    "restatements", help="Restatements of published figures waiting for the authority."
)


@restatements_group.command("list")
@click.option(
    "--status",
    type=click.Choice(service.STATUSES),
    default="pending",
    show_default=True,
    help="Which restatements to list.",
)
def list_command(status: str) -> None:
    """List restatements, oldest first: id, centre, metric, period, published → restated."""
    with one_transaction():
        page, shown = 1, 0
        while True:
            items, total = service.listed(status, page=page, per_page=100)
            for item in items:
                observation = item.observation
                metric = observation.metric
                click.echo(
                    "\t".join(
                        (
                            item.public_id,
                            observation.centre.slug,
                            metric.code,
                            observation.period.code,
                            f"{formatting.figure(observation.value, metric.decimals, metric.unit)}"
                            f" → {formatting.figure(item.value, metric.decimals, metric.unit)}",
                            item.reason,
                        )
                    )
                )
            shown += len(items)
            if shown >= total or not items:
                break
            page += 1
    click.echo(f"{formatting.plural(shown, 'restatement')} {status}.", err=True)


def _decide(decision: str, ids: tuple[str, ...], reason: str) -> None:
    with one_transaction():
        data = forms.load(
            decision_schema(decision),
            {"restatements": list(ids), "reason": reason},
            "The restatements could not be decided.",
        )
        items = service.decide(
            decision,
            data["restatements"],
            actor=None,
            reason=data["reason"],
            actor_label=operator_label(),
        )
    verb = "approved; republishing queued" if decision == "approve" else "refused"
    click.echo(f"{formatting.plural(len(items), 'restatement')} {verb}.")


@restatements_group.command("approve")
@click.argument("ids", nargs=-1, required=True)
@click.option("--note", default="", help="An optional note kept with the approval.")
def approve_command(ids: tuple[str, ...], note: str) -> None:
    """Approve restatements IDS together: each affected period is republished once (queued)."""
    _decide("approve", ids, note)


@restatements_group.command("refuse")
@click.argument("ids", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why: the centre sees this reason.")
def refuse_command(ids: tuple[str, ...], reason: str) -> None:
    """Refuse restatements IDS: the published figures stay; the centre sees the reason."""
    _decide("refuse", ids, reason)
