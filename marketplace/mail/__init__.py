"""Mail: the outbox (written in the transaction of the change) and the SMTP sender."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.mail.cli import send_mail_command

    app.cli.add_command(send_mail_command)
