"""Buyers' evaluations under /buyer/evaluations (thin: parse, call a service, commit, render).

Everyone who may not see an evaluation (centres, other buyers) gets 404 for its pages.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.auth import role_required
from marketplace.benchmarks import drivers, readings
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.catalogue.models import ServiceLine
from marketplace.contracts import schemas as contract_schemas
from marketplace.contracts import services as contracts
from marketplace.contracts.models import MIN_KPIS
from marketplace.errors import Conflict, FieldError, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.selection import compare as comparing
from marketplace.selection import exports, record, services
from marketplace.selection.csvexport import csv_response
from marketplace.selection.models import OUTCOME_LABELS
from marketplace.selection.schemas import (
    EvaluationDetailsSchema,
    OutcomeSchema,
    load_form,
    scores_from_form,
    weights_from_form,
)
from marketplace.web import dates

bp = Blueprint("evaluations", __name__, url_prefix="/buyer/evaluations")
# The outcome form's date inputs, and how its messages name them.
CONTRACT_DATES = {
    "contract_starts_on": "the date the contract starts",
    "contract_ends_on": "the date the contract ends",
}


def _errors(error: ValidationFailed) -> tuple[list[dict], dict[str, str]]:
    summary = [{"text": e.message, "href": f"#{e.field or 'main-content'}"} for e in error.errors]
    by_field: dict[str, str] = {}
    for e in error.errors:
        by_field.setdefault(e.field or "", e.message)
    return summary or [{"text": error.detail, "href": "#main-content"}], by_field


def _details_choices(service_lines=()):
    periods = db.session.execute(
        db.select(ReportingPeriod).order_by(*ReportingPeriod.newest_first())
    ).scalars()
    lines = db.session.execute(db.select(ServiceLine).order_by(ServiceLine.position)).scalars()
    return list(periods), list(lines), services.accredited_centres()


def _default_period_code() -> str:
    periods = db.session.execute(
        db.select(ReportingPeriod).order_by(*ReportingPeriod.newest_first())
    ).scalars()
    period = readings.default_period(list(periods))
    return period.code if period is not None else ""


def _details_form(template_args: dict, status: int = 200):
    periods, lines, centres = _details_choices()
    return (
        render_template(
            "selection/evaluation_form.html",
            periods=periods,
            lines=lines,
            centres=centres,
            max_centres=comparing.MAX_CENTRES,
            **template_args,
        ),
        status,
    )


def _posted_details() -> dict:
    return {
        "title": request.form.get("title", ""),
        "needs": request.form.get("needs", ""),
        "period": request.form.get("period", ""),
        "service_lines": request.form.getlist("service_lines"),
        "centres": request.form.getlist("centres"),
        "reason": request.form.get("reason", ""),
    }


@bp.get("")
@role_required("buyer", "admin")
def index():
    return render_template(
        "selection/evaluations.html",
        evaluations=services.visible_evaluations(current_user),
        outcome_labels=OUTCOME_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@role_required("buyer")
def new():
    if request.method == "GET":
        values = {
            "title": "",
            "needs": "",
            # The latest published period unless the buyer came with another one chosen.
            "period": request.args.get("period", "") or _default_period_code(),
            "service_lines": comparing.split_list(request.args.getlist("service_lines")),
            "centres": comparing.split_list(request.args.getlist("centres")),
        }
        return _details_form({"values": values, "evaluation": None})
    values = _posted_details()
    try:
        data = load_form(EvaluationDetailsSchema(), values, "The evaluation could not be started.")
        evaluation = services.create(current_user, data)
    except ValidationFailed as error:
        db.session.rollback()
        summary, by_field = _errors(error)
        return _details_form(
            {"values": values, "evaluation": None, "form_errors": summary, "errors": by_field},
            400,
        )
    db.session.commit()
    flash("Evaluation started. Set the weights and your scores next.", "success")
    return redirect(url_for("evaluations.weights", public_id=evaluation.public_id))


@bp.get("/<public_id>")
@login_required
def show(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    view = services.results_for(evaluation)
    contract = contracts.for_outcome(evaluation.outcome.id) if evaluation.outcome else None
    contract_url = None
    if contract is not None and contracts.can_view(current_user, contract):
        endpoint = (
            "admin_contracts.admin_show" if current_user.role == "admin" else "buyer_contracts.show"
        )
        contract_url = url_for(endpoint, public_id=contract.public_id)
    return render_template(
        "selection/evaluation.html",
        evaluation=evaluation,
        view=view,
        results_shown=services.results_shown(evaluation),
        record=record.parts(evaluation, view),
        contract_url=contract_url,
        standing_changes=services.standing_changes(evaluation),
        can_edit=services.can_edit(current_user, evaluation),
        outcome_labels=OUTCOME_LABELS,
    )


@bp.route("/<public_id>/edit", methods=["GET", "POST"])
@login_required
def edit(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    _require_editable(evaluation)
    if request.method == "GET":
        values = {
            "title": evaluation.title,
            "needs": evaluation.needs,
            "period": evaluation.period.code,
            "service_lines": [s.code for s in evaluation.service_lines],
            "centres": [c.centre.slug for c in evaluation.candidates],
            "reason": "",
        }
        return _details_form({"values": values, "evaluation": evaluation})
    values = _posted_details()
    try:
        data = load_form(EvaluationDetailsSchema(), values, "The evaluation could not be changed.")
        services.update_details(current_user, evaluation, data)
    except ValidationFailed as error:
        db.session.rollback()
        summary, by_field = _errors(error)
        return _details_form(
            {
                "values": values,
                "evaluation": evaluation,
                "form_errors": summary,
                "errors": by_field,
            },
            400,
        )
    db.session.commit()
    flash("Evaluation updated.", "success")
    return redirect(url_for("evaluations.show", public_id=public_id))


def _require_editable(evaluation) -> None:
    if not services.can_edit(current_user, evaluation):
        raise PermissionDenied("Only buyers of the organisation that owns it can change it.")
    if evaluation.is_locked:
        raise Conflict("This evaluation is locked; a locked evaluation cannot be changed.")


@bp.route("/<public_id>/weights", methods=["GET", "POST"])
@login_required
def weights(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    _require_editable(evaluation)
    form_errors, errors = [], {}
    status = 200
    if request.method == "POST":
        try:
            names = {c.code: c.name for c in evaluation.criteria}
            weights, new_criterion, reason = weights_from_form(request.form, names)
            services.set_weights(current_user, evaluation, weights, new_criterion, reason=reason)
        except ValidationFailed as error:
            db.session.rollback()
            form_errors, errors = _errors(error)
            status = 400
        else:
            db.session.commit()
            flash("Weights saved.", "success")
            if request.form.get("next") == "add":
                return redirect(url_for("evaluations.weights", public_id=public_id))
            return redirect(url_for("evaluations.show", public_id=public_id))
    evaluation = services.get_for_viewer(public_id, current_user)
    return (
        render_template(
            "selection/evaluation_weights.html",
            evaluation=evaluation,
            view=services.evaluate(evaluation),
            posted=request.form if status != 200 else None,
            form_errors=form_errors,
            errors=errors,
        ),
        status,
    )


@bp.post("/<public_id>/seal")
@login_required
def seal(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    _require_editable(evaluation)
    try:
        services.seal(current_user, evaluation)
    except ValidationFailed as error:
        db.session.rollback()
        flash(error.errors[0].message if error.errors else error.detail, "error")
        return redirect(url_for("evaluations.weights", public_id=public_id))
    db.session.commit()
    flash("Weights sealed. The centres' results are shown now; score the centres next.", "success")
    return redirect(url_for("evaluations.show", public_id=public_id))


@bp.route("/<public_id>/scores", methods=["GET", "POST"])
@login_required
def scores(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    _require_editable(evaluation)
    if not evaluation.is_sealed:
        raise Conflict(services.SEAL_FIRST)
    form_errors, errors, status = [], {}, 200
    if request.method == "POST":
        try:
            entries = {
                key: services.ScoreEntry(**entry)
                for key, entry in scores_from_form(
                    request.form,
                    {c.code: c.name for c in evaluation.criteria},
                    {c.centre.slug: c.centre.name for c in evaluation.candidates},
                ).items()
            }
            services.set_scores(current_user, evaluation, entries)
        except ValidationFailed as error:
            db.session.rollback()
            form_errors, errors = _errors(error)
            status = 400
        else:
            db.session.commit()
            flash("Scores saved.", "success")
            return redirect(url_for("evaluations.show", public_id=public_id))
    evaluation = services.get_for_viewer(public_id, current_user)
    return (
        render_template(
            "selection/evaluation_scores.html",
            evaluation=evaluation,
            view=services.evaluate(evaluation),
            posted=request.form if status != 200 else None,
            form_errors=form_errors,
            errors=errors,
        ),
        status,
    )


@bp.route("/<public_id>/lock", methods=["GET", "POST"])
@login_required
def lock(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    _require_editable(evaluation)
    if request.method == "POST":
        try:
            services.lock(current_user, evaluation, seen=request.form.get("seen") or None)
        except (ValidationFailed, Conflict) as error:
            db.session.rollback()
            if isinstance(error, ValidationFailed):
                form_errors, _ = _errors(error)
            else:
                form_errors = [{"text": error.detail, "href": "#results"}]
            return _lock_page(evaluation, form_errors, error.status)
        db.session.commit()
        flash("Shortlist locked. Record the outcome when it is decided.", "success")
        return redirect(url_for("evaluations.show", public_id=public_id))
    return _lock_page(evaluation)


def _lock_page(evaluation, form_errors=(), status: int = 200):
    """The confirmation: what will be frozen, and the fingerprint of exactly that."""
    view = services.evaluate(evaluation)
    return (
        render_template(
            "selection/evaluation_lock.html",
            evaluation=evaluation,
            view=view,
            results_shown=services.results_shown(evaluation),
            unscored=services.unscored(view) if evaluation.is_sealed else [],
            seen=services.fingerprint(view),
            form_errors=list(form_errors),
        ),
        status,
    )


def _further_problems(evaluation, posted, values, loaded, found) -> list[FieldError]:
    """The service's refusals of what the schema let through, each on a field the schema did
    not already flag: a field the schema refused is missing from `loaded`, and the service
    would only add "give …" for it. A KPI refused by the schema leaves the KPI list out of
    `loaded`, so the KPI checks wait until the rows read."""
    flagged = {e.field for e in found}
    kpis_flagged = any((e.field or "").startswith("kpi") for e in found)
    contract = {**loaded, "kpis": [] if kpis_flagged else loaded.get("kpis", [])}
    further = services.outcome_problems(
        evaluation, posted["kind"], posted["centre"], values["rationale"], contract=contract
    )
    return [
        e
        for e in further
        if e.field not in flagged and not (kpis_flagged and (e.field or "").startswith("kpi"))
    ]


@bp.route("/<public_id>/outcome", methods=["GET", "POST"])
@login_required
def outcome(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    if not services.can_edit(current_user, evaluation):
        raise PermissionDenied("Only buyers of the organisation that owns it can decide.")
    if not evaluation.is_locked:
        raise Conflict("Lock the shortlist before recording the outcome.")
    if evaluation.outcome is not None:
        raise Conflict("The outcome has been recorded already; it cannot be changed.")
    values = {
        "outcome": "",
        "rationale": "",
        "contract_value": "",
        **{box: "" for name in CONTRACT_DATES for box in dates.input_names(name)},
    }
    volumes = {line.code: "" for line in evaluation.service_lines}
    kpi_rows = contract_schemas.kpi_rows_from_form({})
    form_errors, errors, status = [], {}, 200
    if request.method == "POST":
        values = {key: request.form.get(key, "") for key in values}
        # Day, month and year boxes; the schema takes each date as YYYY-MM-DD.
        date_readings = {
            name: dates.read(request.form, name, label, required=False)
            for name, label in CONTRACT_DATES.items()
        }
        volumes = {code: request.form.get(f"volume_{code}", "") for code in volumes}
        kpi_rows = contract_schemas.kpi_rows_from_form(request.form)
        # One radio group: "award:<slug>", "none_suitable" or "cancelled".
        kind, _sep, slug = values["outcome"].partition(":")
        posted = {"kind": "awarded" if kind == "award" else kind, "centre": slug or None}
        try:
            data = load_form(
                OutcomeSchema(),
                {
                    **posted,
                    "rationale": values["rationale"],
                    "contract_value": values["contract_value"],
                    **{name: reading.schema_value() for name, reading in date_readings.items()},
                    "annual_volumes": {
                        code: v.strip().replace(",", "") for code, v in volumes.items() if v.strip()
                    },
                    "kpis": kpi_rows,
                },
                "The outcome could not be recorded.",
            )
            services.record_outcome(
                current_user,
                evaluation,
                data["kind"],
                data.get("centre"),
                data["rationale"],
                contract=data,
            )
        except ValidationFailed as error:
            db.session.rollback()
            found = [
                FieldError(e.message, contract_schemas.form_field(e.field), e.row)
                for e in error.errors
            ]
            if getattr(error, "valid_data", None) is not None:
                # The schema refused something: the service's checks (the centre, the
                # contract basics, the KPIs) run on what did load, so all come at once.
                found += _further_problems(evaluation, posted, values, error.valid_data, found)
            form_errors, errors = _errors(
                ValidationFailed(error.detail, errors=dates.with_date_errors(found, date_readings))
            )
            status = 400
        else:
            db.session.commit()
            flash("Outcome recorded.", "success")
            return redirect(url_for("evaluations.show", public_id=public_id))
    evaluation = services.get_for_viewer(public_id, current_user)
    weighted = [c.metric.code for c in evaluation.criteria if c.metric is not None and c.weight > 0]
    return (
        render_template(
            "selection/evaluation_outcome.html",
            evaluation=evaluation,
            view=evaluation.snapshot,
            values=values,
            volumes=volumes,
            volume_labels=drivers.volume_labels(volumes),
            kpi_rows=[
                {
                    "row": row["row"],
                    "metric": request.form.get(f"kpi_metric_{row['row']}", ""),
                    "target": request.form.get(f"kpi_target_{row['row']}", ""),
                }
                for row in kpi_rows
            ],
            kpi_metrics=contracts.kpi_metrics(weighted),
            weighted=set(weighted),
            min_kpis=MIN_KPIS,
            standings=services.standings(evaluation),
            form_errors=form_errors,
            errors=errors,
            outcome_labels=OUTCOME_LABELS,
        ),
        status,
    )


@bp.get("/<public_id>/export.csv")
@login_required
def export(public_id: str):
    evaluation = services.get_for_viewer(public_id, current_user)
    view = services.results_for(evaluation)
    rows = exports.evaluation_rows(view, evaluation, shown=services.results_shown(evaluation))
    return csv_response(rows, f"evaluation-{evaluation.public_id}.csv")
