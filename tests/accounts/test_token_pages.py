"""Centre users manage their organisation's API tokens under /centre/tokens."""

from __future__ import annotations

import hashlib
import re

import pytest
from flask_login import current_user

from marketplace.accounts import tokens
from marketplace.accounts.models import ApiToken
from marketplace.extensions import db
from tests.accounts.helpers import csrf_token_from, events, fresh_request


@pytest.fixture
def token_a(personas):
    """A live token of centre A, made by its user."""
    token, _secret = tokens.create_token(personas["centre_user"], "Finance system upload")
    return token


def _is_live(secret: str, app) -> bool:
    with fresh_request(app, "/api/v1/centres", headers={"Authorization": f"Bearer {secret}"}):
        return current_user.is_authenticated


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 302),
        ("buyer", 403),
        ("alb_buyer", 403),
        ("admin", 403),
        ("centre_user", 200),
        ("other_centre_user", 200),
    ],
)
@pytest.mark.parametrize("path", ["/centre/tokens", "/centre/tokens/new"])
def test_only_centre_users_reach_the_tokens_pages(as_persona, persona, status, path):
    response = as_persona(persona).get(path)
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"] == f"/login?next={path}"


@pytest.mark.parametrize("persona", ["anonymous", "buyer", "admin"])
def test_others_cannot_create_tokens(as_persona, persona):
    response = as_persona(persona).post("/centre/tokens/new", data={"name": "sneaky"})
    assert response.status_code in (302, 403)
    assert db.session.execute(db.select(ApiToken)).first() is None


def test_the_list_shows_only_the_users_organisation(as_persona, personas, token_a):
    tokens.create_token(personas["other_centre_user"], "Centre B payroll feed")
    page = as_persona("centre_user").get("/centre/tokens").get_data(as_text=True)
    assert "Finance system upload" in page
    assert token_a.prefix in page
    assert "user@centre-a.example.org" in page
    assert "Never" in page
    assert "Centre B payroll feed" not in page
    assert "<caption" in page and "Tokens for Centre A Services" in page

    other = as_persona("other_centre_user").get("/centre/tokens").get_data(as_text=True)
    assert "Centre B payroll feed" in other
    assert "Finance system upload" not in other


def test_a_colleagues_tokens_are_listed_too(as_persona, personas, token_a):
    from tests.factories import UserFactory

    colleague = UserFactory(role="centre", organisation=personas["centre"].organisation)
    page = as_persona("centre_user").get("/centre/tokens")
    assert "Finance system upload" in page.get_data(as_text=True)
    from tests.conftest import sign_in

    from_colleague = as_persona(None)
    sign_in(from_colleague, colleague)
    assert "Finance system upload" in from_colleague.get("/centre/tokens").get_data(as_text=True)


def test_creating_a_token_shows_it_once(app, as_persona, personas):
    client = as_persona("centre_user")
    form = client.get("/centre/tokens/new").get_data(as_text=True)
    assert 'name="csrf_token"' in form
    assert '<label class="govuk-label govuk-label--s" for="name">' in form

    created = client.post("/centre/tokens/new", data={"name": "  Quarterly upload  "})
    assert created.status_code == 303  # POST/redirect/GET (this test read a 200 before)
    response = client.get(created.headers["Location"])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    secret = re.search(r'value="(ssm_[^"]+)"', page).group(1)
    assert "It will not be shown again" in page

    token = db.session.execute(db.select(ApiToken)).scalar_one()
    assert token.name == "Quarterly upload"
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.organisation_id == personas["centre"].organisation_id
    assert token.user_id == personas["centre_user"].id
    [event] = events("token.created")
    assert event.actor_id == personas["centre_user"].id
    assert event.object_id == token.public_id
    assert _is_live(secret, app)

    listing = client.get("/centre/tokens").get_data(as_text=True)
    assert "Quarterly upload" in listing
    assert secret not in listing


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Enter a name for the token, such as &#39;Quarterly upload&#39;."),
        ("   ", "Enter a name for the token, such as &#39;Quarterly upload&#39;."),
        ("x" * 101, "Enter a name of 100 characters or fewer."),
    ],
)
def test_a_token_needs_a_sensible_name(as_persona, name, message):
    response = as_persona("centre_user").post("/centre/tokens/new", data={"name": name})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert '<a href="#name">' in page
    assert message in page
    assert db.session.execute(db.select(ApiToken)).first() is None


def test_token_names_are_escaped(as_persona, personas):
    tokens.create_token(personas["centre_user"], "<script>alert(1)</script>")
    page = as_persona("centre_user").get("/centre/tokens").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_revoking_asks_for_confirmation_then_revokes(app, as_persona, personas):
    token, secret = tokens.create_token(personas["centre_user"], "Finance system upload")
    client = as_persona("centre_user")
    url = f"/centre/tokens/{token.public_id}/revoke"
    confirm = client.get(url)
    assert confirm.status_code == 200
    page = confirm.get_data(as_text=True)
    assert "Are you sure you want to revoke this token?" in page
    assert 'name="csrf_token"' in page
    assert _is_live(secret, app)

    response = client.post(url)
    assert response.status_code == 302
    assert response.headers["Location"] == "/centre/tokens"
    listing = client.get("/centre/tokens").get_data(as_text=True)
    assert "is revoked and no longer works" in listing
    assert "Revoked" in listing
    db.session.refresh(token)
    assert token.revoked_at is not None
    assert not _is_live(secret, app)
    [event] = events("token.revoked")
    assert event.actor_id == personas["centre_user"].id
    assert event.organisation_id == personas["centre"].organisation_id

    again = client.post(url)
    assert again.status_code == 302
    assert "already revoked" in client.get("/centre/tokens").get_data(as_text=True)
    assert len(events("token.revoked")) == 1


def test_another_centre_cannot_see_or_revoke_the_token(app, as_persona, personas):
    token, secret = tokens.create_token(personas["centre_user"], "Finance system upload")
    intruder = as_persona("other_centre_user")
    url = f"/centre/tokens/{token.public_id}/revoke"
    assert intruder.get(url).status_code == 404
    assert intruder.post(url).status_code == 404
    db.session.refresh(token)
    assert token.revoked_at is None
    assert _is_live(secret, app)
    assert events("token.revoked") == []


@pytest.mark.parametrize("persona", ["anonymous", "buyer", "admin"])
def test_non_centre_users_cannot_revoke(as_persona, persona, token_a):
    response = as_persona(persona).post(f"/centre/tokens/{token_a.public_id}/revoke")
    assert response.status_code in (302, 403)
    db.session.refresh(token_a)
    assert token_a.revoked_at is None


def test_unknown_token_ids_are_not_found(as_persona, personas):
    assert as_persona("centre_user").get("/centre/tokens/nope/revoke").status_code == 404


def test_token_forms_need_the_csrf_token(app, as_persona, token_a, csrf_enabled):
    client = as_persona("centre_user")
    assert client.post("/centre/tokens/new", data={"name": "x"}).status_code == 400
    url = f"/centre/tokens/{token_a.public_id}/revoke"
    assert client.post(url).status_code == 400
    form = client.get(url).get_data(as_text=True)
    assert client.post(url, data={"csrf_token": csrf_token_from(form)}).status_code == 302
    db.session.refresh(token_a)
    assert token_a.revoked_at is not None


@pytest.mark.parametrize(("persona", "shown"), [("centre_user", True), ("buyer", False)])
def test_the_menu_links_centre_users_to_their_tokens(as_persona, persona, shown):
    page = as_persona(persona).get("/").get_data(as_text=True)
    assert ('href="/centre/tokens"' in page) is shown
