"""/admin/periods: the accreditation authority closes a period and publishes it.

Each action has a confirmation page (GET) and is carried out by a POST with its CSRF token.
Closing and publishing leave audit events (periods.close_period, services.start_publication
and one per published artefact). With REDIS_URL set, publishing queues the renders for rq
workers and returns at once; without it the renders run here, a few at a time — fine for a
few dozen centres; for thousands use REDIS_URL or `flask publish`.
"""

from __future__ import annotations

import os

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from marketplace import clock
from marketplace.accounts.auth import role_required
from marketplace.benchmarks import periods as period_service
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.publications import jobs, queries, republishing, services

bp = Blueprint("publication_admin", __name__, url_prefix="/admin/periods")
CONFIRM_FIELD = "confirm"


@bp.get("")
@role_required("admin")
def periods():
    rows = db.session.scalars(
        select(ReportingPeriod).order_by(*ReportingPeriod.newest_first())
    ).all()
    return render_template(
        "reports/admin_periods.html",
        today=clock.today(),
        periods=rows,
        counts=queries.current_counts([period.id for period in rows]),
        republishing=republishing.pending_by_period(),
    )


@bp.route("/<code>/close", methods=["GET", "POST"])
@role_required("admin")
def close(code: str):
    period = period_service.get_period(code)
    if request.method == "POST":
        unanswered = _unless_confirmed(period, "close")
        if unanswered is not None:
            return unanswered
        try:
            period_service.close_period(
                period, actor=current_user, reason=request.form.get("reason", "")
            )
        except ValidationFailed as error:
            # Refused before anything changed; the session is discarded with the request.
            message = error.errors[0].message if error.errors else error.detail
            return (
                render_template(
                    "reports/admin_confirm.html",
                    **_close_context(period),
                    form_errors=[{"text": message, "href": "#reason"}],
                    reason_error=message,
                ),
                422,
            )
        db.session.commit()
        note = " early" if period.closed_early_reason else ""
        flash(f"{period.code} is closed{note}: no new data, restatements only.", "success")
        return redirect(url_for(".periods"))
    return render_template("reports/admin_confirm.html", **_close_context(period))


def _close_context(period: ReportingPeriod) -> dict:
    return {
        "period": period,
        "action": "close",
        "early": not period.has_ended(clock.today()),
        "reason": request.form.get("reason", ""),
    }


@bp.route("/<code>/publish", methods=["GET", "POST"])
@role_required("admin")
def publish(code: str):
    period = period_service.get_period(code)
    if request.method == "POST":
        unanswered = _unless_confirmed(period, "publish")
        if unanswered is not None:
            return unanswered
        actor_label = current_user.email
        # Refused (IllegalTransition) for a quarter that has not ended, whatever the form says.
        services.start_publication(period, actor=current_user)
        plan = services.plan_period(period, actor_label=actor_label)
        redis_url = current_app.config.get("REDIS_URL")
        if redis_url and plan.items:
            db.session.commit()
            jobs.enqueue(plan, redis_url, jobs.queue_name(current_app.config))
            flash(
                f"{period.code} is published; {len(plan.items)} report(s) are queued for "
                "rendering and will appear as they finish.",
                "success",
            )
            return redirect(url_for(".periods"))
        failures = []
        workers = min(len(plan.items), os.cpu_count() or 1) or 1
        for item, produced, error in jobs.run_local(plan.items, current_app.config, workers):
            if error:
                failures.append(f"{item.label}: {error}")
            else:
                services.record(item, produced)
        db.session.commit()
        published = len(plan.items) - len(failures)
        flash(
            f"{period.code} is published: {published} new or changed artefact(s), "
            f"{plan.unchanged} already up to date."
            + (f" {len(failures)} failed: {'; '.join(failures)}" if failures else ""),
            "success" if not failures else "error",
        )
        return redirect(url_for(".periods"))
    publishable = period.status == "published" or period.has_ended(clock.today())
    plan = services.plan_period(period, actor_label=current_user.email) if publishable else None
    return render_template(
        "reports/admin_confirm.html",
        period=period,
        action="publish",
        plan=plan,
        publishable=publishable,
    )


def _unless_confirmed(period: ReportingPeriod, action: str):
    """Back to the list on 'No', the question again unless 'Yes'; None once confirmed."""
    answer = request.form.get(CONFIRM_FIELD)
    if answer == "no":
        return redirect(url_for(".periods"))
    if answer != "yes":
        return _unconfirmed(period, action)
    return None


def _unconfirmed(period: ReportingPeriod, action: str):
    message = f"Select 'Yes, {action} {period.code}' to confirm, or go back to the periods."
    plan = (
        services.plan_period(period, actor_label=current_user.email)
        if action == "publish"
        else None
    )
    return (
        render_template(
            "reports/admin_confirm.html",
            period=period,
            action=action,
            plan=plan,
            publishable=True,
            early=action == "close" and not period.has_ended(clock.today()),
            form_errors=[{"text": message, "href": f"#{CONFIRM_FIELD}"}],
            confirm_error=message,
        ),
        400,
    )
