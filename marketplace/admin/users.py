"""Admin pages: people (find, invite, change role, deactivate and reactivate)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace import formatting
from marketplace.accounts import membership, registration
from marketplace.accounts.models import ROLES
from marketplace.accounts.tokens import organisation_tokens
from marketplace.admin import bp, schemas
from marketplace.admin import forms as f
from marketplace.admin.services import organisations
from marketplace.admin.services import users as service
from marketplace.links import absolute_url
from marketplace.mail import sender
from marketplace.web import forms

USERS_SHOWN = 200
ROLE_LABELS = {"buyer": "Buyer", "centre": "Centre user", "admin": "Administrator"}


def _me():
    return current_user._get_current_object()


@bp.get("/users")
def users():
    query = service.UserQuery(
        q=request.args.get("q") or None,
        role=request.args.get("role") if request.args.get("role") in ROLES else None,
        state=request.args.get("state")
        if request.args.get("state") in ("active", "deactivated")
        else None,
    )
    return render_template(
        "admin/users.html",
        users=service.find(query, limit=USERS_SHOWN),
        limit=USERS_SHOWN,
        query=query,
        roles=ROLE_LABELS,
    )


@bp.get("/users/<public_id>")
def user(public_id: str):
    person = service.get(public_id)
    return render_template(
        "admin/user.html",
        person=person,
        roles=ROLE_LABELS,
        tokens=[t for t in organisation_tokens(person.organisation_id) if t.user_id == person.id],
    )


def _invite_link(secret: str) -> str:
    return absolute_url("onboarding.accept_invitation", token=secret)


@bp.route("/users/invite", methods=["GET", "POST"])
def invite_user():
    def context():
        return {
            "organisations": organisations.list_organisations(),
            "roles": ROLE_LABELS,
            "preset": request.args.get("organisation", ""),
        }

    if request.method == "GET":
        return f.form_page("admin/user_invite.html", **context())

    def perform():
        values = forms.load(schemas.InvitationSchema(), request.form)
        org = organisations.get(values["organisation"])
        return registration.invite(
            values["email"],
            organisation=org,
            role=values["role"],
            name=values["name"],
            actor=_me(),
            link=_invite_link,
        )

    def confirm(link):
        return f.confirm_page(
            title=f"Invite {link.email}?",
            caption="Users",
            rows=[
                ("Email", link.email),
                ("Name", link.name or "Not given"),
                ("Organisation", link.organisation.name),
                ("Role", ROLE_LABELS[link.role]),
                ("Link expires", formatting.datetime_text(link.expires_at)),
            ],
            action_url=url_for("admin.invite_user"),
            cancel_url=url_for("admin.users"),
            button="Send invitation",
        )

    def done(link):
        sender.deliver_after_commit(current_app.config)
        flash(f"An invitation is on its way to {link.email}.", "success")
        return redirect(url_for("admin.organisation", slug=link.organisation.slug))

    return f.run_action("admin/user_invite.html", context, perform, confirm, done)


@bp.route("/users/<public_id>/role", methods=["GET", "POST"])
def change_role(public_id: str):
    def context():
        return {
            "person": service.get(public_id),
            "organisations": organisations.list_organisations(),
            "roles": ROLE_LABELS,
        }

    if request.method == "GET":
        return f.form_page("admin/user_role.html", **context())

    def perform():
        values = forms.load(schemas.RoleChangeSchema(), request.form)
        return service.change_role(
            service.get(public_id),
            role=values["role"],
            organisation=organisations.get(values["organisation"]),
            actor=_me(),
            reason=values["reason"],
        )

    def confirm(person):
        # The rehearsal was undone, so `person` reads as before; the form says what comes.
        after = organisations.get(f.text("organisation"))
        return f.confirm_page(
            title=f"Change {person.email}'s role?",
            caption="Users",
            rows=[
                ("Now", f"{ROLE_LABELS[person.role]}, {person.organisation.name}"),
                ("After", f"{ROLE_LABELS[f.text('role')]}, {after.name}"),
                ("Reason", f.text("reason")),
            ],
            action_url=url_for("admin.change_role", public_id=public_id),
            cancel_url=url_for("admin.user", public_id=public_id),
            button="Change role",
            warning=(
                "They are signed out everywhere at once, and their API tokens stop working "
                "(a token acts only for the organisation it was made in)."
            ),
        )

    def done(person):
        flash(
            f"{person.email} is now {ROLE_LABELS[person.role].lower()} for "
            f"{person.organisation.name}.",
            "success",
        )
        return redirect(url_for("admin.user", public_id=public_id))

    return f.run_action("admin/user_role.html", context, perform, confirm, done)


@bp.route("/users/<public_id>/<any(deactivate, reactivate):action>", methods=["GET", "POST"])
def user_state(public_id: str, action: str):
    def context():
        return {"person": service.get(public_id), "action": action}

    if request.method == "GET":
        return f.form_page("admin/user_state.html", **context())

    def perform():
        change = service.deactivate if action == "deactivate" else service.reactivate
        return change(service.get(public_id), actor=_me(), reason=f.text("reason"))

    def confirm(person):
        return f.confirm_page(
            title=f"{action.capitalize()} {person.email}?",
            caption="Users",
            rows=[
                ("Person", f"{person.name} <{person.email}>"),
                ("Organisation", person.organisation.name),
                ("Reason", f.text("reason")),
            ],
            action_url=url_for("admin.user_state", public_id=public_id, action=action),
            cancel_url=url_for("admin.user", public_id=public_id),
            button=f"{action.capitalize()} account",
            warning=(
                "They are signed out everywhere at once and cannot sign in or use API tokens."
                if action == "deactivate"
                else "They can sign in again with their password."
            ),
        )

    def done(person):
        flash(f"{person.email} is {action}d.", "success")
        return redirect(url_for("admin.user", public_id=public_id))

    return f.run_action("admin/user_state.html", context, perform, confirm, done)


@bp.route("/users/<public_id>/approver/<any(grant, remove):action>", methods=["GET", "POST"])
def user_approver(public_id: str, action: str):
    def context():
        return {"person": service.get(public_id), "action": action}

    if request.method == "GET":
        return f.form_page("admin/user_approver.html", **context())

    def perform():
        return membership.set_approver(service.get(public_id), action == "grant", actor=_me())

    def confirm(person):
        organisation = person.organisation.name
        return f.confirm_page(
            title=(
                f"Make {person.email} an approver for {organisation}?"
                if action == "grant"
                else f"Stop {person.email} approving for {organisation}?"
            ),
            caption="Users",
            rows=[("Person", f"{person.name} <{person.email}>"), ("Organisation", organisation)],
            action_url=url_for("admin.user_approver", public_id=public_id, action=action),
            cancel_url=url_for("admin.user", public_id=public_id),
            button="Make approver" if action == "grant" else "Stop approving",
            warning=(
                f"They will decide who may join {organisation} as a buyer."
                if action == "grant"
                else None
            ),
        )

    def done(person):
        flash(
            f"{person.email} {'now approves' if action == 'grant' else 'no longer approves'} "
            f"requests to join {person.organisation.name}.",
            "success",
        )
        return redirect(url_for("admin.user", public_id=public_id))

    return f.run_action("admin/user_approver.html", context, perform, confirm, done)
