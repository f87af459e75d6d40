"""Admin pages: the metric library (add a metric, publish a new version, retire one)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.admin import bp, schemas
from marketplace.admin import forms as f
from marketplace.admin.services import metrics as service
from marketplace.benchmarks.models import UNIT_LABELS
from marketplace.catalogue.services import service_lines
from marketplace.web import forms


def _me():
    return current_user._get_current_object()


def _choices():
    return {"service_lines": service_lines(), "units": UNIT_LABELS}


@bp.get("/metrics")
def metrics():
    return render_template("admin/metrics.html", metrics=service.library())


@bp.route("/metrics/new", methods=["GET", "POST"])
def new_metric():
    if request.method == "GET":
        return f.form_page("admin/metric_form.html", metric=None, **_choices())

    def perform():
        values = forms.load(schemas.NewMetricSchema(), request.form)
        return service.add_metric(values, actor=_me())

    def confirm(metric):
        return f.confirm_page(
            title=f"Add the metric {metric.code}?",
            caption="Metric library",
            rows=[
                ("Code", metric.code),
                ("Name", metric.name),
                ("Service line", metric.service_line.name),
                ("Definition", metric.definition),
                ("Unit", UNIT_LABELS[metric.unit]),
                ("Better when", metric.direction),
            ],
            action_url=url_for("admin.new_metric"),
            cancel_url=url_for("admin.metrics"),
            button="Add metric",
        )

    def done(metric):
        flash(f"{metric.name} ({metric.code}) is in the metric library as version 1.", "success")
        return redirect(url_for("admin.metric", code=metric.code))

    return f.run_action(
        "admin/metric_form.html", lambda: {"metric": None, **_choices()}, perform, confirm, done
    )


@bp.get("/metrics/<code>")
def metric(code: str):
    current = service.current(code)
    return render_template(
        "admin/metric.html", metric=current, versions=service.versions(code), units=UNIT_LABELS
    )


@bp.route("/metrics/<code>/version", methods=["GET", "POST"])
def metric_version(code: str):
    current = service.current(code)
    context = {"metric": current, **_choices()}
    if request.method == "GET":
        return f.form_page("admin/metric_form.html", **context)

    def perform():
        values = forms.load(schemas.MetricVersionSchema(), request.form)
        return service.publish_version(code, values, actor=_me(), reason=f.text("reason"))

    def confirm(new):
        before = service.definition_of(current)
        rows = [
            ("Metric", f"{current.name} ({code})"),
            ("Version", f"{current.version} → {new.version}"),
        ]
        for name in service.DEFINITION_FIELDS:
            if before[name] != getattr(new, name):
                rows.append(
                    (name.replace("_", " ").capitalize(), f"{before[name]} → {getattr(new, name)}")
                )
        rows.append(("Reason", f.text("reason")))
        return f.confirm_page(
            title=f"Publish version {new.version} of {code}?",
            caption="Metric library",
            rows=rows,
            action_url=url_for("admin.metric_version", code=code),
            cancel_url=url_for("admin.metric", code=code),
            button=f"Publish version {new.version}",
            warning=(
                "New data will be collected under the new definition. Values already "
                "collected keep their version, and charts show the break between them."
            ),
        )

    def done(new):
        flash(f"Version {new.version} of {code} is now the current definition.", "success")
        return redirect(url_for("admin.metric", code=code))

    return f.run_action("admin/metric_form.html", lambda: context, perform, confirm, done)


@bp.route("/metrics/<code>/retire", methods=["GET", "POST"])
def retire_metric(code: str):
    current = service.current(code)
    context = {"metric": current}
    if request.method == "GET":
        return f.form_page("admin/metric_retire.html", **context)

    def perform():
        return service.retire(code, actor=_me(), reason=f.text("reason"))

    def confirm(metric):
        return f.confirm_page(
            title=f"Retire {metric.name}?",
            caption="Metric library",
            rows=[("Metric", f"{metric.name} ({code})"), ("Reason", f.text("reason"))],
            action_url=url_for("admin.retire_metric", code=code),
            cancel_url=url_for("admin.metric", code=code),
            button="Retire metric",
            warning="Centres will no longer be able to send data for this metric.",
        )

    def done(metric):
        flash(f"{metric.name} is retired.", "success")
        return redirect(url_for("admin.metric", code=code))

    return f.run_action("admin/metric_retire.html", lambda: context, perform, confirm, done)
