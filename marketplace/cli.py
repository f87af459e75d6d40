"""The operators' command line: `flask --app marketplace COMMAND`. Commands stay thin."""

from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    from marketplace.accounts.cli import (
        create_token_command,
        create_user_command,
        revoke_token_command,
    )
    from marketplace.catalogue.cli import accreditation_command

    for command in (create_user_command, create_token_command, accreditation_command):
        app.cli.add_command(command)
    app.cli.add_command(revoke_token_command)

    from marketplace.benchmarks.cli import import_benchmarks_command
    from marketplace.benchmarks.recompute_cli import recompute_statistics_command

    app.cli.add_command(import_benchmarks_command)

    app.cli.add_command(recompute_statistics_command)

    from marketplace.fixtures.cli import (
        demo_accounts_command,
        load_fixtures_command,
        seed_demo_command,
    )

    for command in (load_fixtures_command, seed_demo_command, demo_accounts_command):
        app.cli.add_command(command)

    from marketplace.publications.cli import publish_command

    app.cli.add_command(publish_command)

    from marketplace.mail.cli import send_mail_command

    app.cli.add_command(send_mail_command)
