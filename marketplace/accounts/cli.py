"""create-user, create-token and revoke-token: thin commands over the accounts services."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from marketplace.accounts import membership, schemas, services, tokens
from marketplace.accounts.models import ROLES, ApiToken
from marketplace.clihelpers import one_transaction, operator_label
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.web import forms


@click.command("create-user")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="The organisation's slug.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="The person's name.")
@click.option(
    "--approver",
    is_flag=True,
    help="Buyers only: may approve or refuse requests to join the organisation.",
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)
@with_appcontext
def create_user_command(email, org_slug, role, name, approver, password_stdin):
    """Create a user account for an organisation.

    Buyers belong to a department or arm's-length body, centre users to a centre, admins
    to the accreditation authority. An account made here is a member at once (no request to
    join waits). Without --password-stdin the password is asked for.
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with one_transaction():
        form = forms.load(
            schemas.NewUserSchema(),
            {"email": email, "role": role, "name": name, "password": password},
            detail="The account could not be created.",
        )
        org = services.get_organisation(org_slug)
        user = services.create_user(
            email=form["email"],
            organisation=org,
            role=form["role"],
            password=form["password"],
            name=form["name"],
            actor_label=operator_label(),
        )
        if approver:
            membership.set_approver(user, True, actor_label=operator_label())
    note = " (approves requests to join)" if approver else ""
    click.echo(f"Created {user.role} account {user.email} for {org.name}{note}.")


@click.command("create-token")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'quarterly upload'.")
@with_appcontext
def create_token_command(email, name):
    """Create an API token for a user and print it once.

    The token acts for the user's organisation. Only its SHA-256 is stored, so it cannot
    be shown again: store it now. The token alone goes to standard output, for scripts.
    """
    with one_transaction():
        form = forms.load(schemas.NewTokenSchema(), {"name": name}, detail="Name the token.")
        user = services.get_user_by_email(email)
        if user is None:
            raise NotFound(f"There is no account for {email}.")
        token, secret = tokens.create_token(user, form["name"], actor_label=operator_label())
    click.echo(
        f"Token '{token.name}' (id {token.public_id}) for {user.email}, acting for "
        f"{user.organisation.name}. Store it now; it will not be shown again:",
        err=True,
    )
    click.echo(secret)


@click.command("revoke-token")
@click.argument("token_id")
@with_appcontext
def revoke_token_command(token_id):
    """Revoke an API token at once, by the id printed when it was created."""
    with one_transaction():
        token = db.session.execute(
            db.select(ApiToken).where(ApiToken.public_id == token_id)
        ).scalar_one_or_none()
        if token is None:
            raise NotFound(f"There is no API token with the id {token_id}.")
        changed = tokens.revoke_token(token, actor_label=operator_label())
    if changed:
        click.echo(f"Revoked token '{token.name}' ({token.prefix}…) of {token.user.email}.")
    else:
        click.echo(f"Token '{token.name}' was already revoked; nothing changed.")
