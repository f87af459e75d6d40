"""Entry points of RQ jobs: each builds the app its job runs in.

An `rq worker` process has no Flask app, so a job first needs one: the running app when the
job runs in-process (tests, `rq` SimpleWorker), otherwise one built from the environment.
Jobs live here, above every area, because only the top of the house may import the app
factory; the areas enqueue them by their dotted path.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def _app_context() -> Iterator[None]:
    from flask import has_app_context

    if has_app_context():
        yield
        return
    from marketplace import create_app

    with create_app().app_context():
        yield


def send_mail() -> None:
    """RQ job: send what the outbox holds that is due (queued by mail.sender)."""
    from marketplace.mail import sender

    with _app_context():
        sender.deliver_due()


def publish_item(values: dict) -> dict:
    """RQ job: produce one report, league table or open-data file and record it."""
    from marketplace.publications import jobs

    with _app_context():
        return jobs.publish_item(values)


def republish_period(period_id: int) -> dict:
    """RQ job: republish a period whose approved restatements wait (publications)."""
    from marketplace.publications import republishing

    with _app_context():
        return republishing.run_period(period_id)


def request_password_reset(email: str, ip_address: str | None) -> None:
    """RQ job: look the address up, issue a reset link and queue its mail (accounts)."""
    from marketplace.accounts.onboarding_views import request_reset_now

    with _app_context():
        request_reset_now(email, ip_address)
