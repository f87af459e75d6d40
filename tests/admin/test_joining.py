"""Joining and getting back in: the buyer domain allow-list, self-registration with an email
check, and password resets by single-use, expiring links — all through the outbox."""

from __future__ import annotations

import re
from datetime import timedelta

from marketplace import clock
from marketplace.accounts.models import EmailLink, User
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail
from tests.admin.conftest import confirm, events
from tests.factories import PASSWORD, UserFactory

NEW_PASSWORD = "a brand new passphrase"


def _email_to(address: str) -> OutboxEmail:
    return (
        db.session.execute(
            db.select(OutboxEmail)
            .where(OutboxEmail.to_address == address)
            .order_by(OutboxEmail.id.desc())
        )
        .scalars()
        .first()
    )


def _link(email: OutboxEmail) -> tuple[str, str]:
    match = re.search(r"http://localhost(/[\w/-]+)\?token=([\w-]+)", email.body_text)
    return match.group(1), match.group(2)


def test_admins_keep_the_allow_list(admin, personas):
    assert (
        confirm(
            admin, "/admin/domains", {"domain": "@Justice.gov.uk", "description": "MoJ"}
        ).status_code
        == 302
    )
    assert "justice.gov.uk" in admin.get("/admin/domains").get_data(as_text=True)
    response = admin.post("/admin/domains", data={"domain": "not a domain"})
    assert response.status_code == 422
    assert (
        confirm(admin, "/admin/domains/justice.gov.uk/remove", {"reason": "Typo"}).status_code
        == 302
    )
    assert [e.action for e in events("email_domain.added") + events("email_domain.removed")] == [
        "email_domain.added",
        "email_domain.removed",
    ]


def test_only_an_allowed_domain_can_register(client, admin, personas):
    response = client.post("/register", data={"email": "someone@gmail.example"})
    assert response.status_code == 400
    assert "cannot register themselves" in response.get_data(as_text=True)
    assert _email_to("someone@gmail.example") is None


def test_a_buyer_registers_after_confirming_their_address(client, admin, personas):
    confirm(admin, "/admin/domains", {"domain": "example.gov.uk"})
    response = client.post("/register", data={"email": "Sam@Team.Example.gov.uk"})
    assert response.status_code == 200
    assert "Check your email" in response.get_data(as_text=True)
    path, token = _link(_email_to("sam@team.example.gov.uk"))
    assert path == "/register/confirm"
    page = client.get(f"{path}?token={token}")
    assert page.headers["Cache-Control"] == "no-store"
    assert "Persona Agency" in page.get_data(as_text=True)  # departments and ALBs to choose
    bad = client.post(
        path,
        data={"token": token, "name": "Sam", "password": NEW_PASSWORD, "organisation": "centre-a"},
    )
    assert bad.status_code == 400
    done = client.post(
        path,
        data={
            "token": token,
            "name": "Sam",
            "password": NEW_PASSWORD,
            "organisation": "alb-persona",
        },
    )
    assert done.status_code == 302
    user = db.session.execute(
        db.select(User).where(User.email == "sam@team.example.gov.uk")
    ).scalar_one()
    assert (user.role, user.organisation.slug) == ("buyer", "alb-persona")
    assert (
        client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )
    assert events("user.registered")[0].detail["domain"] == "example.gov.uk"


def test_registering_an_existing_address_says_the_same_and_tells_the_owner(client, admin, personas):
    confirm(admin, "/admin/domains", {"domain": "example.gov.uk"})
    UserFactory(email="taken@example.gov.uk")
    response = client.post("/register", data={"email": "taken@example.gov.uk"})
    assert "Check your email" in response.get_data(as_text=True)
    assert _email_to("taken@example.gov.uk").subject == "You already have an account"


def test_a_reset_link_works_once_and_ends_other_sessions(client, personas, as_persona):
    buyer = personas["buyer"]
    other_session = as_persona("buyer")
    response = client.post("/password-reset", data={"email": buyer.email.upper()})
    assert "If BUYER@DEPT.EXAMPLE.GOV.UK has an account" in response.get_data(as_text=True)
    path, token = _link(_email_to(buyer.email))
    stored = db.session.execute(db.select(EmailLink.token_hash)).scalars().all()
    assert token not in stored  # only a hash is kept
    assert client.post(path, data={"token": token, "password": "short"}).status_code == 400
    assert client.post(path, data={"token": token, "password": NEW_PASSWORD}).status_code == 302
    assert other_session.get("/buyer/evaluations").status_code == 302
    again = client.post(path, data={"token": token, "password": "another long passphrase"})
    assert "already been used" in again.get_data(as_text=True)
    assert (
        client.post("/login", data={"email": buyer.email, "password": PASSWORD}).status_code == 401
    )
    assert (
        client.post("/login", data={"email": buyer.email, "password": NEW_PASSWORD}).status_code
        == 302
    )


def test_a_reset_link_expires(client, personas):
    client.post("/password-reset", data={"email": personas["buyer"].email})
    path, token = _link(_email_to(personas["buyer"].email))
    with clock.frozen_at(clock.now() + timedelta(hours=1, seconds=1)):
        page = client.get(f"{path}?token={token}")
    assert page.status_code == 400
    assert "This link has expired" in page.get_data(as_text=True)


def test_a_newer_reset_link_cancels_the_older(client, personas):
    email = personas["buyer"].email
    client.post("/password-reset", data={"email": email})
    _, first = _link(_email_to(email))
    client.post("/password-reset", data={"email": email})
    page = client.get(f"/password-reset/new?token={first}")
    assert "A newer link has been sent" in page.get_data(as_text=True)


def test_unknown_addresses_get_the_same_answer_and_no_email(client, personas):
    response = client.post("/password-reset", data={"email": "nobody@example.gov.uk"})
    assert response.status_code == 200
    assert "If nobody@example.gov.uk has an account" in response.get_data(as_text=True)
    assert _email_to("nobody@example.gov.uk") is None


def test_reset_requests_are_limited_per_hour(client, personas):
    email = personas["buyer"].email
    for _ in range(5):
        client.post("/password-reset", data={"email": email})
    sent = (
        db.session.execute(db.select(OutboxEmail).where(OutboxEmail.to_address == email))
        .scalars()
        .all()
    )
    assert len(sent) == 3
    assert events("password_reset.throttled")
