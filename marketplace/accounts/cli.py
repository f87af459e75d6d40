"""create-user and create-token."""

from __future__ import annotations

import sys

import click
from flask.cli import with_appcontext

from marketplace.accounts import services
from marketplace.accounts.models import ROLES
from marketplace.clihelpers import one_transaction, operator_label
from marketplace.errors import NotFound


@click.command("create-user")
@click.argument("email")
@click.option("--org", "org_slug", required=True, help="The organisation's slug.")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--name", default="", help="The person's name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(email, org_slug, role, name, password_stdin):
    """Create a user account for an organisation."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with one_transaction():
        org = services.get_organisation(org_slug)
        user = services.create_user(
            email=email,
            organisation=org,
            role=role,
            password=password,
            name=name,
        )
        from marketplace.audit import services as audit

        audit.record(
            "cli.create-user",
            actor_label=operator_label(),
            organisation_id=org.id,
            object_type="user",
            object_id=user.email,
        )
    click.echo(f"Created {role} account {user.email} for {org.name}.")


@click.command("create-token")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'quarterly upload'.")
@with_appcontext
def create_token_command(email, name):
    """Create an API token for a user and print it once."""
    with one_transaction():
        user = services.get_user_by_email(email)
        if user is None:
            raise NotFound(f"There is no account for {email}.")
        _token, secret = services.create_token(user, name)
    click.echo("Store this token now; it will not be shown again:", err=True)
    click.echo(secret)
