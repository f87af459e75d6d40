"""Admin pages: organisations (departments, ALBs with their parent) and new centres."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts.tokens import organisation_tokens
from marketplace.admin import bp, schemas
from marketplace.admin import forms as f
from marketplace.admin.services import organisations as service
from marketplace.catalogue.models import BUSINESS_MODEL_LABELS, DELIVERY_MODEL_LABELS
from marketplace.catalogue.services import service_lines
from marketplace.web import forms

NEW_KINDS = {"department": "a department", "alb": "an arm's-length body"}


def _me():
    return current_user._get_current_object()


@bp.get("/organisations")
def organisations():
    return render_template(
        "admin/organisations.html",
        organisations=service.list_organisations(),
        kinds=service.KIND_LABELS,
    )


@bp.get("/organisations/<slug>")
def organisation(slug: str):
    org = service.get(slug)
    return render_template(
        "admin/organisation.html",
        organisation=org,
        kinds=service.KIND_LABELS,
        members=service.members(org),
        tokens=organisation_tokens(org.id),
    )


@bp.route("/organisations/new/<any(department, alb):kind>", methods=["GET", "POST"])
def new_organisation(kind: str):
    def context():
        return {"kind": kind, "kind_text": NEW_KINDS[kind], "departments": service.departments()}

    if request.method == "GET":
        return f.form_page("admin/organisation_form.html", **context())

    def perform():
        values = forms.load(schemas.OrganisationSchema(), request.form)
        create = service.create_department if kind == "department" else service.create_alb
        return create(values, actor=_me())

    def confirm(org):
        rows = [("Name", org.name), ("Identifier", org.slug), ("Kind", service.KIND_LABELS[kind])]
        if org.parent is not None:
            rows.append(("Sponsoring department", org.parent.name))
        return f.confirm_page(
            title=f"Add {org.name}?",
            caption="Organisations",
            rows=rows,
            action_url=url_for("admin.new_organisation", kind=kind),
            cancel_url=url_for("admin.organisations"),
            button="Add organisation",
        )

    def done(org):
        flash(f"{org.name} is added. Invite its people from its page.", "success")
        return redirect(url_for("admin.organisation", slug=org.slug))

    return f.run_action("admin/organisation_form.html", context, perform, confirm, done)


@bp.route("/centres/new", methods=["GET", "POST"])
def new_centre():
    def context():
        return {
            "service_lines": service_lines(),
            "business_models": BUSINESS_MODEL_LABELS,
            "delivery_models": DELIVERY_MODEL_LABELS,
        }

    if request.method == "GET":
        return f.form_page("admin/centre_form.html", **context())

    def perform():
        values = forms.load(schemas.NewCentreSchema(), request.form)
        return service.create_centre(values, actor=_me())

    def confirm(centre):
        return f.confirm_page(
            title=f"Add {centre.name}?",
            caption="Service centres",
            rows=[
                ("Name", centre.name),
                ("Identifier", centre.slug),
                ("Business model", centre.business_model_label),
                ("Delivery model", centre.delivery_model_label),
                (
                    "Ownership",
                    f"employees {centre.ownership_employee}%, government "
                    f"{centre.ownership_government}%, private partner {centre.ownership_private}%",
                ),
                ("Service lines", ", ".join(line.name for line in centre.service_lines)),
                ("Status after", "Applied: not listed publicly until accredited"),
            ],
            action_url=url_for("admin.new_centre"),
            cancel_url=url_for("admin.centres"),
            button="Add centre",
        )

    def done(centre):
        flash(
            f"{centre.name} is added as an applicant. Invite its people, then accredit it.",
            "success",
        )
        return redirect(url_for("admin.centre", slug=centre.slug))

    return f.run_action("admin/centre_form.html", context, perform, confirm, done)
