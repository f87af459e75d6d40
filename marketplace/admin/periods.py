"""Admin pages: opening a reporting period and reopening a closed one.

The periods list, closing and publishing are on /admin/periods (admin/publishing.py), which
call the publication service; these two pages complete the cycle beside them and return to
that list.
"""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

from marketplace import clock
from marketplace.admin import bp
from marketplace.admin import forms as f
from marketplace.admin.services import periods as service
from marketplace.benchmarks import periods as period_service

PERIODS_LIST = "publication_admin.periods"


def _me():
    return current_user._get_current_object()


def _suggested() -> str:
    return period_service.quarter_of(clock.today())


@bp.route("/periods/new", methods=["GET", "POST"])
def open_period():
    if request.method == "GET":
        return f.form_page("admin/period_open.html", suggested=_suggested())

    def perform():
        return service.open_period(f.text("period"), actor=_me())

    def confirm(period):
        return f.confirm_page(
            title=f"Open {period.code}?",
            caption="Reporting periods",
            rows=[
                ("Period", f"{period.label} ({period.code})"),
                ("Runs", f"{period.starts_on:%-d %B %Y} to {period.ends_on:%-d %B %Y}"),
                ("Status after", "Open: centres can send data"),
            ],
            action_url=url_for("admin.open_period"),
            cancel_url=url_for(PERIODS_LIST),
            button=f"Open {period.code}",
        )

    def done(period):
        flash(f"{period.code} is open for data.", "success")
        return redirect(url_for(PERIODS_LIST))

    return f.run_action(
        "admin/period_open.html", lambda: {"suggested": _suggested()}, perform, confirm, done
    )


@bp.route("/periods/<code>/reopen", methods=["GET", "POST"])
def reopen_period(code: str):
    def context():
        return {"period": period_service.get_period(code)}

    if request.method == "GET":
        return f.form_page("admin/period_reopen.html", **context())

    def perform():
        return period_service.reopen_period(
            period_service.get_period(code), actor=_me(), reason=f.text("reason")
        )

    def confirm(period):
        return f.confirm_page(
            title=f"Reopen {code}?",
            caption="Reporting periods",
            rows=[
                ("Period", f"{period.label} ({period.code})"),
                ("Status after", "Open: centres can send new data again"),
                ("Reason", f.text("reason")),
            ],
            action_url=url_for("admin.reopen_period", code=code),
            cancel_url=url_for(PERIODS_LIST),
            button=f"Reopen {code}",
        )

    def done(period):
        flash(f"{period.code} is open again.", "success")
        return redirect(url_for(PERIODS_LIST))

    return f.run_action("admin/period_reopen.html", context, perform, confirm, done)
