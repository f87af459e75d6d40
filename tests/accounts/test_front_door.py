"""The front door, tried as an attacker would (issue 11): each test replays one attack and
checks that it no longer gets through."""

from __future__ import annotations

import pytest

from marketplace import create_app
from marketplace.config import ConfigurationError
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail
from tests.admin.conftest import confirm
from tests.conftest import sign_in
from tests.factories import ServiceCentreFactory

EVIL = {"Host": "evil.example"}
PRODUCTION = {
    "MARKETPLACE_ENV": "production",
    "SECRET_KEY": "x" * 48,
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
}


def _outbox(address: str) -> OutboxEmail:
    return db.session.execute(
        db.select(OutboxEmail).where(OutboxEmail.to_address == address)
    ).scalar_one()


def as_admin(client, personas):
    admin = client.application.test_client()
    sign_in(admin, personas["admin"])
    return admin


# --- 1. links come from PUBLIC_URL, never from the Host header ------------------------------


def test_a_reset_link_ignores_a_forged_host_header(client, personas):
    client.post("/password-reset", data={"email": personas["buyer"].email}, headers=EVIL)
    body = _outbox(personas["buyer"].email).body_text
    assert "http://localhost/password-reset/new?token=" in body
    assert "evil.example" not in body


def test_registration_and_invitation_links_ignore_a_forged_host_header(client, personas):
    admin = client.application.test_client()
    # The admin's session cookie belongs to the forged host, as it would in a browser there.
    with admin.session_transaction(base_url="http://evil.example") as session:
        session["_user_id"] = personas["admin"].get_id()
    confirm(as_admin(client, personas), "/admin/domains", {"domain": "example.gov.uk"})
    client.post("/register", data={"email": "sam@example.gov.uk"}, headers=EVIL)
    invited = {"email": "new@example.org", "organisation": "centre-a", "role": "centre"}
    admin.post("/admin/users/invite", data=invited, headers=EVIL)
    admin.post("/admin/users/invite", data={**invited, "confirmed": "yes"}, headers=EVIL)
    for address in ("sam@example.gov.uk", "new@example.org"):
        body = _outbox(address).body_text
        assert "http://localhost/" in body
        assert "evil.example" not in body


def test_api_pagination_and_the_feed_ignore_a_forged_host_header(client, personas):
    ServiceCentreFactory.create_batch(2)
    body = client.get("/api/v1/centres?per_page=1", headers=EVIL).get_json()
    assert body["links"]["next"].startswith("http://localhost/api/v1/centres?")
    feed = client.get("/reports/feed.atom", headers=EVIL).get_data(as_text=True)
    assert "http://localhost/reports/feed.atom" in feed
    assert "evil.example" not in feed


def test_production_refuses_to_start_without_public_url():
    with pytest.raises(ConfigurationError, match="PUBLIC_URL"):
        create_app({**PRODUCTION, "PUBLIC_URL": None})


def test_production_refuses_unknown_host_headers():
    app = create_app({**PRODUCTION, "PUBLIC_URL": "https://marketplace.example.gov.uk"})
    client = app.test_client()
    assert client.get("/", headers=EVIL).status_code == 400
    assert client.get("/", headers={"Host": "marketplace.example.gov.uk"}).status_code != 400


# --- 2. one e-mail address means one mailbox -------------------------------------------------

NOT_ONE_MAILBOX = [
    "attacker@evil.example,x@demo.example",
    "attacker@evil.example;x@demo.example",
    "Attacker <attacker@evil.example>",
    "<x@demo.example>",
    '"attacker@evil.example"@demo.example',
    "x@demo.example\r\nBcc: attacker@evil.example",
    "x@demo.example\nattacker@evil.example",
    "x y@demo.example",
    "x\x00@demo.example",
    "x@demo.example (comment)",
]


@pytest.mark.parametrize("address", NOT_ONE_MAILBOX)
def test_registration_refuses_anything_but_one_mailbox(client, personas, address):
    confirm(as_admin(client, personas), "/admin/domains", {"domain": "demo.example"})
    response = client.post("/register", data={"email": address})
    if "\x00" in address:  # the request guard refuses NUL before any form is read
        assert response.status_code == 422
    else:
        assert response.status_code == 400
        assert "Enter an email address like" in response.get_data(as_text=True)
    assert db.session.execute(db.select(OutboxEmail)).first() is None


@pytest.mark.parametrize("address", NOT_ONE_MAILBOX[:3] + NOT_ONE_MAILBOX[5:6])
def test_reset_sign_in_and_invitations_refuse_anything_but_one_mailbox(client, personas, address):
    assert client.post("/password-reset", data={"email": address}).status_code == 400
    assert client.post("/login", data={"email": address, "password": "x"}).status_code == 400
    invited = {"email": address, "organisation": "centre-a", "role": "centre"}
    response = as_admin(client, personas).post("/admin/users/invite", data=invited)
    assert response.status_code in (400, 422)
    assert db.session.execute(db.select(OutboxEmail)).first() is None


def test_create_user_refuses_a_list_of_addresses(app, personas):
    result = app.test_cli_runner().invoke(
        args=[
            "create-user",
            "a@evil.example,b@dept.example.gov.uk",
            "--org",
            "dept-persona",
            "--role",
            "buyer",
            "--password-stdin",
        ],
        input="a long enough passphrase\n",
    )
    assert result.exit_code != 0
    assert "Enter an email address like" in result.output


def test_an_allowed_address_is_stored_in_its_one_normal_form(client, personas):
    confirm(as_admin(client, personas), "/admin/domains", {"domain": "demo.example"})
    assert client.post("/register", data={"email": "  Sam@Demo.Example "}).status_code == 200
    assert _outbox("sam@demo.example").to_address == "sam@demo.example"
