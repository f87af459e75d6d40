"""Admin pages: every API token, and revoking one."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts import tokens as token_service
from marketplace.accounts.models import ApiToken
from marketplace.admin import bp
from marketplace.admin import forms as f
from marketplace.errors import IllegalTransition, NotFound
from marketplace.extensions import db


def _all_tokens() -> list[ApiToken]:
    return list(
        db.session.execute(
            db.select(ApiToken).order_by(
                ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc()
            )
        ).scalars()
    )


def _token(public_id: str) -> ApiToken:
    token = db.session.execute(
        db.select(ApiToken).where(ApiToken.public_id == public_id)
    ).scalar_one_or_none()
    if token is None:
        raise NotFound("There is no such API token.")
    return token


@bp.get("/tokens")
def tokens():
    return render_template("admin/tokens.html", tokens=_all_tokens())


@bp.route("/tokens/<public_id>/revoke", methods=["GET", "POST"])
def revoke_token(public_id: str):
    def context():
        return {"token": _token(public_id)}

    if request.method == "GET":
        return f.form_page("admin/token_revoke.html", **context())

    def perform():
        token = _token(public_id)
        reason = f.text("reason")
        if not reason:
            raise f.ValidationFailed(
                "Give the reason.",
                errors=[f.FieldError("Give the reason to revoke this token.", "reason")],
            )
        if not token_service.revoke_token(
            token,
            actor=current_user._get_current_object(),
            reason=reason,
            ip_address=request.remote_addr,
        ):
            raise IllegalTransition("This token is already revoked.")
        return token

    def confirm(token):
        return f.confirm_page(
            title=f"Revoke the token '{token.name}'?",
            caption="API tokens",
            rows=[
                ("Organisation", token.organisation.name),
                ("Owner", token.user.email),
                ("Starts with", f"{token.prefix}…"),
                ("Reason", f.text("reason")),
            ],
            action_url=url_for("admin.revoke_token", public_id=public_id),
            cancel_url=url_for("admin.tokens"),
            button="Revoke token",
            warning="Any script using this token stops working at once.",
        )

    def done(token):
        flash(f"The token '{token.name}' ({token.prefix}…) is revoked.", "success")
        return redirect(url_for("admin.tokens"))

    return f.run_action("admin/token_revoke.html", context, perform, confirm, done)
