"""Admin pages: the dashboard, centres and their accreditation (history and each action)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.admin import bp
from marketplace.admin import forms as f
from marketplace.admin.services import accreditation as service
from marketplace.admin.services.summary import dashboard_counts
from marketplace.catalogue import accreditation
from marketplace.catalogue.accreditation import TRANSITIONS
from marketplace.errors import FieldError, ValidationFailed

ACTIONS = "any(accredit, suspend, reinstate, withdraw, renew)"


@bp.get("")
def index():
    return render_template(
        "admin/index.html",
        attention=service.needing_attention(),
        attention_days=service.ATTENTION_DAYS,
        counts=dashboard_counts(),
    )


@bp.get("/centres")
def centres():
    return render_template("admin/centres.html", centres=service.all_centres())


@bp.get("/centres/<slug>")
def centre(slug: str):
    centre = service.get_centre(slug)
    return render_template(
        "admin/centre.html",
        centre=centre,
        history=service.history(centre),
        actions=service.allowed_actions(centre),
        labels=service.ACTION_LABELS,
    )


def _read_form(action: str) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []
    values = {"reason": f.text("reason"), "valid_from": None, "valid_until": None}
    if action == "accredit":
        values["valid_from"], problems = f.date_field(
            "valid_from", "the start date", required=False
        )
        errors += problems
    if action in ("accredit", "renew"):
        values["valid_until"], problems = f.date_field(
            "valid_until", "the date the accreditation is valid until", required=True
        )
        errors += problems
    if TRANSITIONS[action].needs_reason and not values["reason"]:
        errors.append(FieldError(f"Give the reason to {action} this centre.", "reason"))
    return values, errors


@bp.route(f"/centres/<slug>/<{ACTIONS}:action>", methods=["GET", "POST"])
def accreditation_action(slug: str, action: str):
    def context() -> dict:
        return {
            "centre": service.get_centre(slug),
            "action": action,
            "label": service.ACTION_LABELS[action],
            "needs_reason": TRANSITIONS[action].needs_reason,
        }

    if request.method == "GET":
        return f.form_page("admin/accreditation_form.html", **context())
    me = current_user._get_current_object()

    def perform():
        values, errors = _read_form(action)
        if errors:
            raise ValidationFailed("Check the details of the change.", errors=errors)
        return accreditation.change(service.get_centre(slug), action, actor=me, **values)

    def done(event):
        until = f" until {event.valid_until:%-d %B %Y}" if event.valid_until else ""
        flash(f"{event.centre.name} is {service.PAST[action]}{until}.", "success")
        return redirect(url_for("admin.centre", slug=slug))

    return f.run_action(
        "admin/accreditation_form.html",
        context,
        perform,
        lambda event: _confirm(service.get_centre(slug), action, event),
        done,
    )


def _confirm(centre, action, event):
    rows = [
        ("Centre", centre.name),
        ("Status now", event.from_status.capitalize()),
        ("Status after", event.to_status.capitalize()),
    ]
    if action in ("accredit", "renew"):
        rows.append(("Valid from", f"{event.valid_from:%-d %B %Y}"))
        rows.append(("Valid until", f"{event.valid_until:%-d %B %Y}"))
    rows.append(("Reason", event.reason or "None given"))
    warning = None
    if action in ("suspend", "withdraw"):
        warning = (
            f"{centre.name} will no longer be selectable by buyers, and leaves the peer groups "
            "of periods that end from today."
        )
    return f.confirm_page(
        title=f"{service.ACTION_LABELS[action]} {centre.name}?",
        caption="Accreditation",
        rows=rows,
        action_url=url_for("admin.accreditation_action", slug=centre.slug, action=action),
        cancel_url=url_for("admin.centre", slug=centre.slug),
        button=f"Confirm: {service.ACTION_LABELS[action].lower()}",
        warning=warning,
    )
