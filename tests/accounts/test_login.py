"""Signing in and out: sessions, cookies, throttling, CSRF and role checks."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_login import login_user
from werkzeug.security import check_password_hash

from marketplace import clock
from marketplace.accounts import services
from marketplace.accounts.auth import role_required
from marketplace.accounts.models import LoginThrottle, User
from marketplace.errors import PermissionDenied
from marketplace.extensions import db
from tests.accounts.helpers import csrf_token_from, events, fresh_request, log_in
from tests.conftest import TEST_TODAY
from tests.factories import PASSWORD, LoginThrottleFactory, UserFactory

WRONG = "not-the-right-password"


@pytest.fixture
def centre_user(personas):
    return personas["centre_user"]


def _signed_in_as(client) -> str | None:
    """Who the site thinks the client is, read from the page a person sees."""
    page = client.get("/login").get_data(as_text=True)
    marker = "Sign out ("
    if marker not in page:
        return None
    return page.split(marker, 1)[1].split(")", 1)[0]


def test_login_page_is_a_labelled_form(client):
    response = client.get("/login")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '<label class="govuk-label" for="email">' in html
    assert '<label class="govuk-label" for="password">' in html
    assert 'name="csrf_token"' in html
    assert '<main class="govuk-main-wrapper" id="main-content">' in html


def test_correct_password_signs_in_and_is_audited(client, centre_user):
    response = log_in(client, "USER@centre-a.example.org ")
    assert response.status_code == 302
    assert _signed_in_as(client) == "user@centre-a.example.org"
    [event] = events("login.succeeded")
    assert event.actor_id == centre_user.id
    assert db.session.get(User, centre_user.id).last_login_at == TEST_TODAY


def test_passwords_are_stored_as_scrypt_hashes(db_session):
    stored = services.hash_password("a long enough passphrase")
    assert stored.startswith("scrypt:")
    assert "a long enough passphrase" not in stored
    assert check_password_hash(stored, "a long enough passphrase")


def test_wrong_password_shows_an_error_summary_and_is_audited(client, centre_user):
    response = log_in(client, centre_user.email, WRONG)
    assert response.status_code == 401
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert "Enter a correct email address and password." in html
    assert '<a href="#email">' in html
    assert _signed_in_as(client) is None
    [event] = events("login.failed")
    assert event.actor_id == centre_user.id
    assert event.detail["why"] == "wrong password"


def test_blank_fields_each_get_a_message(client):
    response = client.post("/login", data={"email": "  ", "password": ""})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Enter your email address." in html
    assert "Enter your password." in html
    assert events("login.failed") == []


def test_failed_login_for_an_unknown_address_is_audited(client, db_session):
    response = log_in(client, "Nobody@Example.gov.uk", WRONG)
    assert response.status_code == 401
    assert "Enter a correct email address and password." in response.get_data(as_text=True)
    [event] = events("login.failed")
    assert event.actor_id is None
    assert event.actor_label == "nobody@example.gov.uk"
    assert event.detail["why"] == "unknown account"
    assert event.ip_address == "127.0.0.1"


def test_a_deactivated_account_cannot_sign_in(client, personas):
    user = personas["buyer"]
    services.set_active(user, False, actor=personas["admin"])
    db.session.commit()
    response = log_in(client, user.email)
    assert response.status_code == 401
    assert _signed_in_as(client) is None
    assert events("login.failed")[-1].detail["why"] == "inactive account"


def test_five_failures_throttle_the_account_until_the_lock_passes(client, centre_user):
    for _ in range(4):
        assert log_in(client, centre_user.email, WRONG).status_code == 401
    fifth = log_in(client, centre_user.email, WRONG)
    assert fifth.status_code == 429
    message = fifth.get_data(as_text=True)
    assert "too many failed attempts to sign in to this account" in message
    assert "locked until 27 November 2026 at 09:15 GMT" in message

    during = log_in(client, centre_user.email)  # the right password is refused too
    assert during.status_code == 429
    assert "locked until 27 November 2026 at 09:15 GMT" in during.get_data(as_text=True)
    assert _signed_in_as(client) is None

    with clock.frozen_at(TEST_TODAY + timedelta(minutes=14, seconds=59)):
        assert log_in(client, centre_user.email).status_code == 429
    with clock.frozen_at(TEST_TODAY + timedelta(minutes=15, seconds=1)):
        assert log_in(client, centre_user.email).status_code == 302
    assert _signed_in_as(client) == centre_user.email
    assert len(events("login.failed")) == 5
    assert len(events("login.locked")) == 1
    assert len(events("login.throttled")) == 2


def test_the_lock_message_reads_london_time_in_summer(client, centre_user):
    summer = TEST_TODAY.replace(month=7, day=1)  # 09:00 UTC is 10:00 BST
    with clock.frozen_at(summer):
        for _ in range(4):
            log_in(client, centre_user.email, WRONG)
        page = log_in(client, centre_user.email, WRONG).get_data(as_text=True)
    assert "locked until 1 July 2026 at 10:15 BST" in page
    assert "UTC" not in page.split("locked until", 1)[1].split(".", 1)[0]


def test_failures_more_than_a_day_apart_do_not_add_up_to_a_lock(client, centre_user):
    for _ in range(4):
        assert log_in(client, centre_user.email, WRONG).status_code == 401
    a_day_later = TEST_TODAY + timedelta(days=1, minutes=1)
    with clock.frozen_at(a_day_later):
        assert log_in(client, centre_user.email, WRONG).status_code == 401
        for _ in range(3):
            assert log_in(client, centre_user.email, WRONG).status_code == 401
        assert log_in(client, centre_user.email, WRONG).status_code == 429
    assert events("login.failed")[-1].detail["failures"] == 5


def test_a_success_resets_the_failure_count(client, centre_user):
    for _ in range(4):
        log_in(client, centre_user.email, WRONG)
    assert log_in(client, centre_user.email).status_code == 302
    client.post("/logout")
    for _ in range(4):
        assert log_in(client, centre_user.email, WRONG).status_code == 401


def test_unknown_addresses_are_throttled_alike_so_accounts_cannot_be_discovered(client, personas):
    known, unknown = personas["buyer"].email, "no-such-person@dept.example.gov.uk"
    for address in (known, unknown):
        statuses = [log_in(client, address, WRONG).status_code for _ in range(5)]
        assert statuses == [401, 401, 401, 401, 429]
        page = log_in(client, address, WRONG).get_data(as_text=True)
        assert "locked until 27 November 2026 at 09:15 GMT" in page
    with clock.frozen_at(TEST_TODAY + timedelta(minutes=16)):
        assert log_in(client, unknown, WRONG).status_code == 401


def test_failures_for_unknown_addresses_are_forgotten_after_a_quiet_day(client, db_session):
    old = TEST_TODAY - timedelta(days=2)
    LoginThrottleFactory(email="stale@example.gov.uk", failed_logins=4, last_failed_at=old)
    LoginThrottleFactory(email="junk@example.gov.uk", failed_logins=1, last_failed_at=old)
    assert log_in(client, "stale@example.gov.uk", WRONG).status_code == 401  # not the 5th
    assert log_in(client, "new@example.gov.uk", WRONG).status_code == 401
    left = db.session.execute(db.select(LoginThrottle.email, LoginThrottle.failed_logins)).all()
    assert sorted(left) == [("new@example.gov.uk", 1), ("stale@example.gov.uk", 1)]


def test_login_starts_a_new_session(client, centre_user):
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    csrf_before = csrf_token_from(client.get("/login").get_data(as_text=True))
    log_in(client, centre_user.email)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["_user_id"] == f"{centre_user.id}:{centre_user.session_version}"
    csrf_after = csrf_token_from(client.get("/logout").get_data(as_text=True))
    assert csrf_after != csrf_before


def test_session_cookie_is_httponly_and_samesite_lax(client, centre_user):
    response = log_in(client, centre_user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development and tests run over plain HTTP


def test_session_cookie_is_secure_when_configured_for_production(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    user = UserFactory()
    assert "Secure" in log_in(client, user.email).headers["Set-Cookie"]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/centre/tokens", "/centre/tokens"),
        ("/centres?q=payroll", "/centres?q=payroll"),
        # Anything else lands on the role's own page: a centre user's is /centre.
        ("https://evil.example/", "/centre"),
        ("//evil.example/", "/centre"),
        ("/\\evil.example/", "/centre"),
        ("javascript:alert(1)", "/centre"),
    ],
)
def test_after_login_only_same_site_paths_are_followed(client, centre_user, target, expected):
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": centre_user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == expected


def test_logout_needs_a_post_and_ends_the_session(client, centre_user):
    log_in(client, centre_user.email)
    assert "Sign out" in client.get("/logout").get_data(as_text=True)
    assert _signed_in_as(client) == centre_user.email
    response = client.post("/logout")
    assert response.status_code == 302
    assert _signed_in_as(client) is None
    assert len(events("user.logout")) == 1


def test_a_copied_cookie_stops_working_after_logout(app, client, centre_user):
    log_in(client, centre_user.email)
    stolen = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get("/centre/tokens").status_code == 200

    client.post("/logout")

    response = thief.get("/centre/tokens")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    # Signing in again works, with a new cookie; the stolen one stays dead.
    log_in(client, centre_user.email)
    assert client.get("/centre/tokens").status_code == 200
    assert thief.get("/centre/tokens").status_code == 302


def test_a_copied_cookie_stops_working_after_deactivation(app, client, personas):
    user = personas["centre_user"]
    log_in(client, user.email)
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    assert thief.get("/centre/tokens").status_code == 200

    services.set_active(user, False, actor=personas["admin"])
    db.session.commit()

    assert thief.get("/centre/tokens").status_code == 302
    assert client.get("/centre/tokens").status_code == 302
    # Reactivation does not bring the old sessions back.
    services.set_active(user, True, actor=personas["admin"])
    db.session.commit()
    assert thief.get("/centre/tokens").status_code == 302
    assert [e.action for e in events("user.deactivated")] == ["user.deactivated"]


def test_login_without_a_csrf_token_is_refused(client, centre_user, csrf_enabled):
    response = log_in(client, centre_user.email)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert _signed_in_as(client) is None
    assert events("login.succeeded") == []


def test_login_with_the_csrf_token_is_accepted(client, centre_user, csrf_enabled):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login",
        data={"email": centre_user.email, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    assert _signed_in_as(client) == centre_user.email


def test_logout_without_a_csrf_token_is_refused(client, centre_user, csrf_enabled):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    client.post(
        "/login", data={"email": centre_user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert client.post("/logout").status_code == 400
    assert _signed_in_as(client) == centre_user.email


@role_required("centre", "admin")
def _guarded_view():
    return "allowed"


@pytest.mark.parametrize(
    ("persona", "outcome"),
    [
        ("buyer", "forbidden"),
        ("alb_buyer", "forbidden"),
        ("centre_user", "allowed"),
        ("other_centre_user", "allowed"),
        ("admin", "allowed"),
    ],
)
def test_role_required_admits_only_the_named_roles(app, personas, persona, outcome):
    with fresh_request(app, "/somewhere"):
        login_user(personas[persona])
        if outcome == "allowed":
            assert _guarded_view() == "allowed"
        else:
            with pytest.raises(PermissionDenied):
                _guarded_view()


def test_role_required_sends_anonymous_people_to_sign_in(app, db_session):
    with fresh_request(app, "/somewhere?x=1"):
        response = _guarded_view()
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/somewhere?x%3D1"
