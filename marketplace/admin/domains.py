"""Admin pages: the allow-list of email domains whose people may register as buyers."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user

from marketplace.accounts import registration
from marketplace.admin import bp
from marketplace.admin import forms as f


def _me():
    return current_user._get_current_object()


def _context():
    return {
        "domains": registration.allowed_domains(),
        "organisations": registration.buyer_organisations(),
        "chosen": request.form.getlist("organisations"),
    }


def _names(slugs: list[str]) -> str:
    by_slug = {org.slug: org.name for org in registration.buyer_organisations()}
    return ", ".join(by_slug.get(slug, slug) for slug in slugs) or (
        "Any department or ALB (none named)"
    )


@bp.route("/domains", methods=["GET", "POST"])
def domains():
    if request.method == "GET":
        return f.form_page("admin/domains.html", **_context())

    def perform():
        return registration.add_domain(
            f.text("domain"),
            description=f.text("description"),
            organisations=request.form.getlist("organisations")[:500],
            actor=_me(),
        )

    def confirm(row):
        return f.confirm_page(
            title=f"Allow {row.domain}?",
            caption="Buyer email domains",
            rows=[
                ("Domain", row.domain),
                ("Also admits", f"addresses at any subdomain, such as name@team.{row.domain}"),
                ("Description", row.description or "None"),
                ("May ask to join", _names([org.slug for org in row.organisations])),
            ],
            action_url=url_for("admin.domains"),
            cancel_url=url_for("admin.domains"),
            button="Add to the allow-list",
            warning=(
                "Anyone with an address on this domain can register and ask to join; each "
                "request waits for the organisation's approvers or an admin."
            ),
        )

    def done(row):
        flash(f"People at {row.domain} can now register as buyers.", "success")
        return redirect(url_for("admin.domains"))

    return f.run_action("admin/domains.html", _context, perform, confirm, done)


@bp.route("/domains/<domain>/remove", methods=["GET", "POST"])
def remove_domain(domain: str):
    def context():
        return {"row": registration.get_domain(domain)}

    if request.method == "GET":
        return f.form_page("admin/domain_remove.html", **context())

    def perform():
        row = registration.get_domain(domain)
        registration.remove_domain(row, actor=_me(), reason=f.text("reason"))
        return row

    def confirm(row):
        return f.confirm_page(
            title=f"Remove {domain} from the allow-list?",
            caption="Buyer email domains",
            rows=[("Domain", domain), ("Reason", f.text("reason"))],
            action_url=url_for("admin.remove_domain", domain=domain),
            cancel_url=url_for("admin.domains"),
            button="Remove domain",
            warning="Existing accounts are not affected; nobody new can register with it.",
        )

    def done(row):
        flash(f"{domain} is no longer on the allow-list.", "success")
        return redirect(url_for("admin.domains"))

    return f.run_action("admin/domain_remove.html", context, perform, confirm, done)


@bp.route("/domains/<domain>/organisations", methods=["GET", "POST"])
def domain_organisations(domain: str):
    def context():
        row = registration.get_domain(domain)
        chosen = (
            request.form.getlist("organisations")
            if request.method == "POST"
            else [org.slug for org in row.organisations]
        )
        return {
            "row": row,
            "organisations": registration.buyer_organisations(),
            "chosen": chosen,
        }

    if request.method == "GET":
        return f.form_page("admin/domain_organisations.html", **context())

    def perform():
        row = registration.get_domain(domain)
        before = [org.slug for org in row.organisations]
        registration.set_domain_organisations(
            row, request.form.getlist("organisations")[:500], actor=_me()
        )
        return row, before

    def confirm(result):
        _row, before = result
        return f.confirm_page(
            title=f"Change who at {domain} may ask to join?",
            caption="Buyer email domains",
            rows=[
                ("Domain", domain),
                ("Now", _names(before)),
                ("After", _names(request.form.getlist("organisations"))),
            ],
            action_url=url_for("admin.domain_organisations", domain=domain),
            cancel_url=url_for("admin.domains"),
            button="Save organisations",
            warning="Requests already made are not changed; they still wait for a decision.",
        )

    def done(result):
        flash(f"People at {domain} may now ask to join what you chose.", "success")
        return redirect(url_for("admin.domains"))

    return f.run_action("admin/domain_organisations.html", context, perform, confirm, done)
