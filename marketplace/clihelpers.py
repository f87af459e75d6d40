"""Shared pieces for CLI commands: the operator identity and how domain errors are shown."""

from __future__ import annotations

import contextlib
import getpass
import os
from collections.abc import Iterator

import click

from marketplace.errors import DomainError
from marketplace.extensions import db


def operator_label() -> str:
    """Audit events from the CLI name the operating-system user who ran the command."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):
        who = os.environ.get("USER", "unknown")
    return f"cli:{who}"


@contextlib.contextmanager
def one_transaction() -> Iterator[None]:
    """Commit once if the body succeeds; otherwise roll back and exit with a clear message."""
    try:
        yield
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        lines = [f"Error: {error.detail}"]
        for item in error.errors:
            where = ", ".join(
                part
                for part in (
                    f"row {item.row}" if item.row else "",
                    item.field or "",
                )
                if part
            )
            lines.append(f"  - {where + ': ' if where else ''}{item.message}")
        raise click.ClickException("\n".join(lines)[len("Error: ") :]) from None
    except Exception:
        db.session.rollback()
        raise
