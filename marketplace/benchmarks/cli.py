"""`import-benchmarks CENTRE_SLUG FILE [--reason TEXT]`: the ingest service from a terminal."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace.benchmarks import submissions
from marketplace.benchmarks.parsing import XLSX_TYPE
from marketplace.clihelpers import operator_label
from marketplace.errors import DomainError
from marketplace.extensions import db

CONTENT_TYPES = {
    ".csv": "text/csv",
    ".txt": "text/csv",
    ".json": "application/json",
    ".xlsx": XLSX_TYPE,
}


@click.command("import-benchmarks")
@click.argument("centre_slug")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--reason",
    default="",
    help="Why figures of closed or published periods change (required for restatements).",
)
@with_appcontext
def import_benchmarks_command(centre_slug: str, file: Path, reason: str):
    """Import a CSV, Excel (.xlsx) or JSON file of benchmark figures for one centre.

    The same checks as a web or API upload: the file is applied whole or refused with every
    problem listed, and sending the same file again changes nothing.
    """
    limit = current_app.config["MAX_UPLOAD_BYTES"]
    with file.open("rb") as handle:
        # Never more than one byte past the limit: enough for the service to refuse it.
        content = handle.read(limit + 1)
    try:
        centre = submissions.get_centre(centre_slug)
        outcome = submissions.submit(
            centre,
            content,
            filename=file.name,
            content_type=CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream"),
            channel="cli",
            actor_label=operator_label(),
            reason=reason,
        )
        db.session.commit()
    except DomainError as error:
        # Nothing of the file was kept; commit only the audit event of the refusal.
        db.session.commit()
        raise click.ClickException(_describe(error)) from None
    sub = outcome.submission
    if not outcome.created:
        click.echo(
            f"This exact file was already accepted for {centre.name} as submission "
            f"{sub.public_id} ({sub.created_at:%d %B %Y %H:%M} UTC). Nothing changed."
        )
        return
    summary = sub.summary
    click.echo(
        f"Accepted for {centre.name} as submission {sub.public_id}: {sub.row_count} rows, "
        f"{summary['created']} new, {summary['updated']} changed, "
        f"{summary['unchanged']} unchanged."
    )
    if summary.get("pending"):
        click.echo(
            f"  {summary['pending']} restated figure(s) of published periods wait for the "
            "authority's approval; the published figures stay until then."
        )
    for flag in outcome.flags:
        click.echo(
            f"  Check: {flag.metric} {flag.period} = {flag.value} is far from its peer group "
            f"(robust z {flag.score:+.1f}). Confirm it in the centre area or correct it."
        )


def _describe(error: DomainError) -> str:
    lines = [error.detail]
    for item in error.errors:
        where = ", ".join(
            part for part in (f"row {item.row}" if item.row else "", item.field or "") if part
        )
        lines.append(f"  - {where + ': ' if where else ''}{item.message}")
    return "\n".join(lines)
