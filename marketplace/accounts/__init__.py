"""Accounts: organisations, people, roles, sign-in, registration and API tokens."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.accounts.cli import (
        create_token_command,
        create_user_command,
        revoke_token_command,
    )
    from marketplace.accounts.membership_views import bp as join_requests_bp
    from marketplace.accounts.onboarding_views import bp as onboarding_bp
    from marketplace.accounts.views import bp, centre_tokens

    for blueprint in (bp, centre_tokens, onboarding_bp, join_requests_bp):
        app.register_blueprint(blueprint)
    for command in (create_user_command, create_token_command, revoke_token_command):
        app.cli.add_command(command)

    from marketplace import events
    from marketplace.accounts.refusals import record_refusal

    events.access_refused.connect(record_refusal)
