"""create-user, create-token and revoke-token, run as an operator would."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from flask_login import current_user
from werkzeug.security import check_password_hash

from marketplace import clock
from marketplace.accounts.auth import acting_organisation_id
from marketplace.accounts.models import ApiToken, User
from marketplace.extensions import db
from tests.accounts.helpers import events, fresh_request, log_in
from tests.conftest import TEST_TODAY
from tests.factories import OrganisationFactory, ServiceCentreFactory, UserFactory

GOOD_PASSWORD = "three random words here"


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def centre_org(db_session):
    return ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug="north-shared", name="North Shared")
    ).organisation


def _create_user(runner, email, org, role, password=GOOD_PASSWORD, *extra):
    return runner.invoke(
        args=["create-user", email, "--org", org, "--role", role, "--password-stdin", *extra],
        input=password + "\n",
    )


def _user(email: str) -> User | None:
    return db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none()


def test_create_user_makes_an_account_that_can_sign_in(runner, client, centre_org):
    result = _create_user(
        runner, "Ana.Lyst@North.example.org", "north-shared", "centre", GOOD_PASSWORD,
        "--name", "Ana Lyst",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created centre account ana.lyst@north.example.org for North Shared." in result.output
    user = _user("ana.lyst@north.example.org")
    assert user.name == "Ana Lyst"
    assert user.organisation_id == centre_org.id
    assert check_password_hash(user.password_hash, GOOD_PASSWORD)
    [event] = events("user.created")
    assert event.actor_label.startswith("cli:")
    assert event.object_id == "ana.lyst@north.example.org"
    assert log_in(client, "ana.lyst@north.example.org", GOOD_PASSWORD).status_code == 302


def test_create_user_prompts_for_the_password_twice_without_stdin(runner, centre_org):
    result = runner.invoke(
        args=["create-user", "p@north.example.org", "--org", "north-shared", "--role", "centre"],
        input=f"{GOOD_PASSWORD}\n{GOOD_PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert _user("p@north.example.org") is not None


@pytest.mark.parametrize(
    ("role", "org_kind", "message"),
    [
        ("buyer", "centre", "A buyer account must belong to a department or alb organisation"),
        ("centre", "department", "A centre account must belong to a centre organisation"),
        ("admin", "department", "A admin account must belong to a authority organisation"),
    ],
)
def test_create_user_refuses_a_role_that_does_not_fit_the_organisation(
    runner, db_session, role, org_kind, message
):
    org = OrganisationFactory(**({} if org_kind == "department" else {org_kind: True}))
    result = _create_user(runner, "x@example.gov.uk", org.slug, role)
    assert result.exit_code == 1
    assert message in result.output
    assert _user("x@example.gov.uk") is None
    assert events("user.created") == []


def test_create_user_refuses_an_unknown_role(runner, centre_org):
    result = _create_user(runner, "x@example.gov.uk", "north-shared", "superuser")
    assert result.exit_code == 2
    assert "'superuser' is not one of 'buyer', 'centre', 'admin'" in result.output


def test_create_user_refuses_a_duplicate_email_whatever_its_case(runner, centre_org):
    UserFactory(email="taken@north.example.org", role="centre", organisation=centre_org)
    result = _create_user(runner, "TAKEN@north.example.org", "north-shared", "centre")
    assert result.exit_code == 1
    assert "An account for taken@north.example.org already exists." in result.output


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "Enter a password of between 12 and 256 characters."),
        ("", "Enter a password of between 12 and 256 characters."),
        ("a" * 257, "Enter a password of between 12 and 256 characters."),
        ("aaaaaaaaaaaaaaaa", "Choose a password that is harder to guess"),
        ("weak@north.example.org!", "Choose a password that is harder to guess"),
    ],
)
def test_create_user_refuses_a_weak_password(runner, centre_org, password, message):
    result = _create_user(runner, "weak@north.example.org", "north-shared", "centre", password)
    assert result.exit_code == 1
    assert message in result.output
    assert "password" in result.output
    assert _user("weak@north.example.org") is None


def test_create_user_refuses_an_unknown_organisation(runner, db_session):
    result = _create_user(runner, "x@example.gov.uk", "no-such-org", "buyer")
    assert result.exit_code == 1
    assert "There is no organisation 'no-such-org'." in result.output


def test_create_user_refuses_a_malformed_email(runner, centre_org):
    result = _create_user(runner, "not-an-address", "north-shared", "centre")
    assert result.exit_code == 1
    assert "Enter an email address like name@example.gov.uk." in result.output


def _create_token(runner, email, name="Quarterly upload"):
    return runner.invoke(args=["create-token", email, "--name", name])


def test_create_token_prints_the_secret_once_and_stores_only_its_hash(runner, centre_org):
    user = UserFactory(email="robot@north.example.org", role="centre", organisation=centre_org)
    result = _create_token(runner, "ROBOT@north.example.org")
    assert result.exit_code == 0, result.output
    secret = result.stdout.strip()
    assert secret.startswith("ssm_") and len(secret) > 40
    assert "will not be shown again" in result.stderr
    assert secret not in result.stderr

    token = db.session.execute(db.select(ApiToken)).scalar_one()
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in (token.token_hash, token.prefix, token.name)
    assert secret.startswith(token.prefix)
    assert token.public_id in result.stderr
    assert token.user_id == user.id
    assert token.organisation_id == centre_org.id
    [event] = events("token.created")
    assert event.actor_label.startswith("cli:")
    assert secret not in str(event.detail)


def test_create_token_for_an_unknown_email_fails(runner, db_session):
    result = _create_token(runner, "ghost@example.gov.uk")
    assert result.exit_code == 1
    assert "There is no account for ghost@example.gov.uk." in result.output


def test_create_token_needs_a_name(runner, centre_org):
    UserFactory(email="robot@north.example.org", role="centre", organisation=centre_org)
    result = _create_token(runner, "robot@north.example.org", name="   ")
    assert result.exit_code == 1
    assert "Enter a name for the token" in result.output
    assert db.session.execute(db.select(ApiToken)).first() is None


def _bearer(app, secret: str, path: str = "/api/v1/centres"):
    """Resolve a request's caller the way every API view does."""
    with fresh_request(app, path, headers={"Authorization": f"Bearer {secret}"}):
        user = current_user._get_current_object()
        return (user if user.is_authenticated else None), acting_organisation_id()


def test_a_cli_token_works_as_bearer_scoped_to_the_users_organisation(app, runner, centre_org):
    user = UserFactory(email="robot@north.example.org", role="centre", organisation=centre_org)
    secret = _create_token(runner, user.email).stdout.strip()
    caller, organisation_id = _bearer(app, secret)
    assert caller.id == user.id
    assert organisation_id == centre_org.id


def test_last_use_is_recorded_on_real_api_requests(app, client, runner, centre_org):
    user = UserFactory(email="robot@north.example.org", role="centre", organisation=centre_org)
    secret = _create_token(runner, user.email).stdout.strip()
    token = db.session.execute(db.select(ApiToken)).scalar_one()
    assert token.last_used_at is None
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/openapi.json", headers=headers).status_code == 200
    db.session.refresh(token)
    assert token.last_used_at == TEST_TODAY
    later = TEST_TODAY + timedelta(hours=2)
    with clock.frozen_at(later):
        client.get("/api/v1/openapi.json", headers=headers)
    db.session.refresh(token)
    assert token.last_used_at == later


def test_a_revoked_token_stops_working(app, runner, centre_org):
    user = UserFactory(email="robot@north.example.org", role="centre", organisation=centre_org)
    secret = _create_token(runner, user.email).stdout.strip()
    token = db.session.execute(db.select(ApiToken)).scalar_one()

    result = runner.invoke(args=["revoke-token", token.public_id])
    assert result.exit_code == 0, result.output
    assert "Revoked token 'Quarterly upload'" in result.output
    assert _bearer(app, secret) == (None, None)
    [event] = events("token.revoked")
    assert event.actor_label.startswith("cli:")
    assert event.object_id == token.public_id

    again = runner.invoke(args=["revoke-token", token.public_id])
    assert again.exit_code == 0
    assert "already revoked" in again.output
    assert len(events("token.revoked")) == 1
    missing = runner.invoke(args=["revoke-token", "nope"])
    assert missing.exit_code == 1
    assert "There is no API token with the id nope." in missing.output


def test_tokens_stop_working_when_the_person_is_deactivated_or_moves(app, runner, personas):
    user = personas["centre_user"]
    secret = _create_token(runner, user.email).stdout.strip()
    assert _bearer(app, secret)[0] is not None
    user.organisation_id = personas["other_centre"].organisation_id
    db.session.flush()
    assert _bearer(app, secret) == (None, None)  # it never acts for the new organisation
    user.organisation_id = personas["centre"].organisation_id
    user.active = False
    db.session.flush()
    assert _bearer(app, secret) == (None, None)


@pytest.mark.parametrize(
    "header",
    ["Bearer ", "Bearer ssm_wrong", "Basic dXNlcjpwYXNz", "ssm_abc", "Bearer  "],
)
def test_wrong_or_malformed_bearer_headers_are_anonymous(app, db_session, header):
    with fresh_request(app, "/api/v1/centres", headers={"Authorization": header}):
        assert not current_user.is_authenticated


def test_bearer_tokens_are_ignored_on_html_pages(app, client, runner, personas):
    secret = _create_token(runner, personas["centre_user"].email).stdout.strip()
    response = client.get("/centre/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert _bearer(app, secret, path="/centre/tokens") == (None, None)
