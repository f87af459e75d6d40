"""Alerts: new early-warning signals told to the centre first, then to its buyers and the
authority; a daily digest by e-mail, a private Atom feed, per-centre muting, deadline
reminders (DOMAIN.md "Early warning")."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.alerts import receivers
    from marketplace.alerts.cli import alerts_cli
    from marketplace.alerts.views import bp

    app.register_blueprint(bp)
    app.cli.add_command(alerts_cli)
    receivers.connect()
