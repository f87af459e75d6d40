"""The front door, tried as an attacker would (issue 11): each test replays one attack and
checks that it no longer gets through."""

from __future__ import annotations

import re
import statistics
import time
from datetime import timedelta

import pytest

from marketplace import background, clock, create_app, worker
from marketplace.accounts import onboarding_views, tokens
from marketplace.accounts import services as accounts
from marketplace.accounts.models import ApiToken, EmailLink
from marketplace.audit.models import AuditEvent
from marketplace.config import ConfigurationError
from marketplace.extensions import db, limiter
from marketplace.mail import sender
from marketplace.mail.models import OutboxEmail
from tests.accounts import helpers
from tests.admin.conftest import confirm
from tests.conftest import TEST_TODAY, sign_in
from tests.factories import PASSWORD, ServiceCentreFactory, UserFactory

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


# --- 3. mail that one message cannot stop, sent off the request path ------------------------


class FakeSMTP:
    """smtplib.SMTP as a slow server that refuses one poisoned recipient."""

    delay = 0.0
    envelopes: list = []
    refuse: set = set()

    def __init__(self, host, port, timeout):
        pass

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message, from_addr=None, to_addrs=None):
        time.sleep(FakeSMTP.delay)
        if set(to_addrs) & FakeSMTP.refuse:
            raise RuntimeError("the server hung up")
        FakeSMTP.envelopes.append((message["To"], to_addrs))

    def quit(self):
        pass


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.delay, FakeSMTP.envelopes, FakeSMTP.refuse = 0.0, [], set()
    monkeypatch.setattr(sender.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SMTP_HOST", "smtp.example.invalid")
    return FakeSMTP


def _queue_raw(to_address: str) -> OutboxEmail:
    """A row as an older release could have queued it, before addresses were checked."""
    email = OutboxEmail(to_address=to_address, subject="Hi", body_text="Hello", template="t")
    db.session.add(email)
    db.session.flush()
    return email


def test_a_poisoned_message_does_not_stop_the_next_one(app, smtp, personas):
    poisoned = _queue_raw("x@demo.example\r\nBcc: attacker@evil.example")
    hung_up = _queue_raw("hangs@demo.example")
    good = _queue_raw("good@demo.example")
    smtp.refuse = {"hangs@demo.example"}
    assert sender.deliver_queued(app.config) == (1, 2)
    assert smtp.envelopes == [("good@demo.example", ["good@demo.example"])]
    for email in (poisoned, hung_up, good):
        db.session.refresh(email)
    assert good.status == "sent"
    # The bad address can never be sent: given up at once, with the reason.
    assert poisoned.status == "failed" and "not one plain email address" in poisoned.last_error
    # A failure of the moment waits, then is tried again.
    assert (hung_up.status, hung_up.attempts) == ("queued", 1)
    assert "RuntimeError: the server hung up" in hung_up.last_error
    assert hung_up.next_attempt_at == TEST_TODAY + sender.RETRY_DELAYS[0]
    assert sender.deliver_queued(app.config) == (0, 0)  # not yet due
    smtp.refuse = set()
    clock.freeze(hung_up.next_attempt_at)
    assert sender.deliver_queued(app.config) == (1, 0)


def test_a_request_after_a_poisoned_message_still_sends_its_own(client, smtp, personas):
    _queue_raw("x@demo.example\r\nBcc: attacker@evil.example")
    response = client.post("/password-reset", data={"email": personas["buyer"].email})
    assert response.status_code == 200
    assert [to for to, _ in smtp.envelopes] == [personas["buyer"].email]


def _reset_seconds(client, address: str) -> tuple[float, object]:
    started = time.perf_counter()
    response = client.post("/password-reset", data={"email": address}, buffered=False)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200
    return elapsed, response


def test_a_reset_takes_the_same_time_for_real_and_unknown_addresses(client, smtp, app):
    smtp.delay = 0.5  # a slow SMTP server: 0.5 s a message
    rounds = 11
    real = [UserFactory(email=f"real{n}@dept.example.gov.uk").email for n in range(rounds)]
    unknown = [f"nobody{n}@dept.example.gov.uk" for n in range(rounds)]
    warm_real = UserFactory(email="warm-up@dept.example.gov.uk").email
    for warm_up in (warm_real, "warm-up-unknown@dept.example.gov.uk"):
        _reset_seconds(client, warm_up)[1].close()
    real_times, unknown_times, responses = [], [], []
    # Interleaved, so a busy machine slows both kinds alike.
    for real_address, unknown_address in zip(real, unknown, strict=True):
        for address, times in ((real_address, real_times), (unknown_address, unknown_times)):
            elapsed, response = _reset_seconds(client, address)
            times.append(elapsed)
            responses.append(response)
    for response in responses:
        response.close()  # now the slow server is called, after the measured requests
    medians = statistics.median(real_times), statistics.median(unknown_times)
    # The fastest of each kind is its own cost with the least of the machine's other load
    # in it (this suite shares its cores); the medians are printed alongside.
    fastest = min(real_times), min(unknown_times)
    print(  # the figures the issue asks for
        f"\nreset timing over {rounds} interleaved rounds, fake SMTP 500 ms a message: "
        f"median real {medians[0] * 1000:.1f} ms, unknown {medians[1] * 1000:.1f} ms "
        f"(difference {(medians[0] - medians[1]) * 1000:.1f} ms); fastest real "
        f"{fastest[0] * 1000:.1f} ms, unknown {fastest[1] * 1000:.1f} ms "
        f"(difference {(fastest[0] - fastest[1]) * 1000:.1f} ms)"
    )
    assert abs(fastest[0] - fastest[1]) < 0.020
    # Nowhere near the half second a message takes the server: no request waited for it.
    assert max(medians) < 0.25
    # And the mail did go, once each response had been sent.
    assert sorted(to for to, _ in smtp.envelopes) == sorted([*real, warm_real])


def test_with_redis_the_mail_is_a_job_not_part_of_the_request(client, smtp, app, monkeypatch):
    queued = []
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(sender, "_enqueue", lambda config: queued.append(config["MAIL_QUEUE"]))
    client.post("/password-reset", data={"email": "buyer@dept.example.gov.uk"})
    assert queued == ["mail"] and smtp.envelopes == []


def test_with_redis_the_whole_reset_lookup_is_a_job(client, smtp, app, monkeypatch):
    jobs = []
    UserFactory(email="sam@dept.example.gov.uk")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setattr(onboarding_views, "_enqueue_reset", lambda config, *args: jobs.append(args))
    monkeypatch.setattr(sender, "_enqueue", lambda config: None)
    response = client.post("/password-reset", data={"email": "Sam@dept.example.gov.uk"})
    assert response.status_code == 200
    # Nothing was looked up during the request: no link, no audit event, no mail.
    assert helpers.events("password_reset.requested") == []
    assert db.session.scalar(db.select(db.func.count(EmailLink.id))) == 0
    assert jobs == [("sam@dept.example.gov.uk", "127.0.0.1")]
    worker.request_password_reset(*jobs[0])  # what `rq worker mail` runs
    [event] = helpers.events("password_reset.requested")
    assert event.detail["sent"] is True
    [message] = db.session.execute(db.select(OutboxEmail)).scalars()
    assert message.to_address == "sam@dept.example.gov.uk"


def test_when_the_reset_job_cannot_be_queued_the_lookup_runs_after_the_response(
    client, smtp, app, monkeypatch
):
    UserFactory(email="sam@dept.example.gov.uk")
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")

    def refuse(config, *args):
        raise ConnectionError("no redis")

    monkeypatch.setattr(onboarding_views, "_enqueue_reset", refuse)
    monkeypatch.setattr(sender, "_enqueue", lambda config: None)
    client.post("/password-reset", data={"email": "sam@dept.example.gov.uk"})
    [event] = helpers.events("password_reset.requested")
    assert event.detail["sent"] is True


def test_without_redis_a_thread_does_the_work_after_the_response(client, smtp, app, monkeypatch):
    started = []
    monkeypatch.setitem(app.config, "AFTER_RESPONSE_THREADS", True)
    monkeypatch.setattr(
        background, "Thread", lambda **kwargs: started.append(kwargs) or _NoThread()
    )
    response = client.post(
        "/password-reset", data={"email": "buyer@dept.example.gov.uk"}, buffered=False
    )
    assert started == []  # nothing during the request
    response.close()
    assert [kwargs["target"] for kwargs in started] == [background.run]


class _NoThread:
    def start(self):
        pass


# --- 4. tokens with a life ---------------------------------------------------------------------

CENTRE_A = "/api/v1/centres/centre-a"
CHANGE = {"summary": "Payroll for 40,000 people across Wales."}


def _bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def test_reactivating_an_account_does_not_revive_its_tokens(client, personas):
    user, admin = personas["centre_user"], personas["admin"]
    token, secret = tokens.create_token(user, "nightly upload")
    accounts.set_active(user, False, actor=admin, reason="left")
    accounts.set_active(user, True, actor=admin, reason="came back")
    assert token.revoked_at is not None
    assert client.patch(CENTRE_A, json=CHANGE, headers=_bearer(secret)).status_code == 401
    [event] = [e for e in helpers.events("token.revoked") if e.object_id == token.public_id]
    assert event.detail["reason"] == "account deactivated"


def test_a_token_expires(client, app, personas, monkeypatch):
    monkeypatch.setitem(app.config, "TOKEN_LIFETIME_DAYS", 30)
    token, secret = tokens.create_token(personas["centre_user"], "nightly upload")
    assert token.expires_at == TEST_TODAY + timedelta(days=30)
    clock.freeze(token.expires_at - timedelta(seconds=1))
    assert client.patch(CENTRE_A, json=CHANGE, headers=_bearer(secret)).status_code == 200
    clock.freeze(token.expires_at)
    assert client.patch(CENTRE_A, json=CHANGE, headers=_bearer(secret)).status_code == 401


def test_last_use_is_written_at_most_once_a_minute(client, personas):
    token, secret = tokens.create_token(personas["centre_user"], "nightly upload")
    client.get("/api/v1/centres", headers=_bearer(secret))
    first = token.last_used_at
    assert first == TEST_TODAY
    clock.freeze(TEST_TODAY + timedelta(seconds=59))
    client.get("/api/v1/centres", headers=_bearer(secret))
    db.session.refresh(token)
    assert token.last_used_at == first
    clock.freeze(TEST_TODAY + timedelta(seconds=61))
    client.get("/api/v1/centres", headers=_bearer(secret))
    db.session.refresh(token)
    assert token.last_used_at == TEST_TODAY + timedelta(seconds=61)


def test_an_audit_event_made_with_a_token_names_the_token(client, personas):
    token, secret = tokens.create_token(personas["centre_user"], "nightly upload")
    response = client.patch(
        CENTRE_A, json=CHANGE, headers=_bearer(secret), environ_base={"REMOTE_ADDR": "203.0.113.9"}
    )
    assert response.status_code == 200
    [event] = [e for e in _all_events() if e.action.startswith("centre.")]
    assert event.detail["api_token"] == token.public_id
    assert event.ip_address == "203.0.113.9"


def test_the_new_token_page_shows_the_secret_once_and_a_reload_creates_nothing(as_persona):
    client = as_persona("centre_user")
    response = client.post("/centre/tokens/new", data={"name": "nightly upload"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    [token] = db.session.execute(db.select(ApiToken)).scalars()
    secret = re.search(r'value="(ssm_[^"]+)"', page).group(1)
    assert f'curl -H "Authorization: Bearer {secret}" "http://localhost/api/v1/centres"' in page
    assert 'data-copy-target="token-secret"' in page and "hidden>Copy token" in page
    assert re.search(r"js/copy-button(\.[0-9a-f]{12})?\.js", page)
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert secret not in again and "cannot be shown again" in again
    assert len(db.session.execute(db.select(ApiToken)).all()) == 1
    with client.session_transaction() as session:
        assert "new_api_token" not in session
    listing = client.get("/centre/tokens").get_data(as_text=True)
    assert "Expires" in listing and "365 days" in listing
    assert token.expires_at == TEST_TODAY + timedelta(days=365)


def _all_events() -> list[AuditEvent]:
    return list(db.session.execute(db.select(AuditEvent).order_by(AuditEvent.id)).scalars())


# --- 5. an audit trail of refusals, with the address on every event ----------------------------

FROM = {"REMOTE_ADDR": "198.51.100.7"}


def _refusals() -> list[AuditEvent]:
    return [e for e in _all_events() if e.action == "access.refused"]


def test_a_cross_centre_patch_is_recorded(client, personas):
    _, secret = tokens.create_token(personas["other_centre_user"], "sneaky")
    response = client.patch(CENTRE_A, json=CHANGE, headers=_bearer(secret), environ_base=FROM)
    assert response.status_code == 403
    [event] = _refusals()
    assert event.actor_id == personas["other_centre_user"].id
    assert event.ip_address == "198.51.100.7"
    assert (event.detail["method"], event.detail["path"], event.detail["status"]) == (
        "PATCH",
        CENTRE_A,
        403,
    )
    assert event.detail["reason"]


def test_a_buyer_reading_the_audit_api_and_a_non_admin_on_an_admin_page_are_recorded(
    as_persona, personas
):
    buyer = as_persona("buyer")
    assert buyer.get("/api/v1/audit-events", environ_base=FROM).status_code == 403
    assert buyer.get("/admin/users", environ_base=FROM).status_code == 403
    events = _refusals()
    assert [(e.detail["path"], e.actor_id, e.ip_address) for e in events] == [
        ("/api/v1/audit-events", personas["buyer"].id, "198.51.100.7"),
        ("/admin/users", personas["buyer"].id, "198.51.100.7"),
    ]


def test_an_anonymous_write_with_a_bad_token_is_recorded(client, personas):
    response = client.patch(CENTRE_A, json=CHANGE, headers=_bearer("ssm_guess"), environ_base=FROM)
    assert response.status_code == 401
    [event] = _refusals()
    assert (event.actor_id, event.actor_label, event.ip_address) == (
        None,
        "anonymous",
        "198.51.100.7",
    )


def test_public_pages_that_are_not_found_are_not_recorded(client, personas):
    assert client.get("/centres/no-such-centre").status_code == 404
    assert _refusals() == []


def test_every_audit_event_made_in_a_request_records_the_address(client, personas):
    client.post("/password-reset", data={"email": "nobody@dept.example.gov.uk"}, environ_base=FROM)
    client.post("/logout", environ_base=FROM)
    assert {e.ip_address for e in _all_events()} == {"198.51.100.7"}


# --- 6. throttling per client address -----------------------------------------------------------


@pytest.fixture
def throttle(app, monkeypatch):
    """The per-address limit at 3 a minute, counting from nothing."""
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT", "3 per minute")
    limiter.reset()
    yield
    limiter.reset()


def test_password_spraying_from_one_address_is_throttled(client, personas, throttle):
    # A different account each time, so the per-account lock never fires.
    for n in range(3):
        response = client.post(
            "/login", data={"email": f"victim{n}@dept.example.gov.uk", "password": "Winter2026!"}
        )
        assert response.status_code == 401
    response = client.post(
        "/login", data={"email": "victim9@dept.example.gov.uk", "password": "Winter2026!"}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    page = response.get_data(as_text=True)
    assert "govuk-template" in page and "too many attempts from your address" in page


def test_one_budget_covers_sign_in_registration_and_reset(client, personas, throttle):
    assert client.get("/login").status_code == 200  # reading the form costs nothing
    client.post("/password-reset", data={"email": "a@dept.example.gov.uk"})
    client.post("/register", data={"email": "a@dept.example.gov.uk"})
    client.post("/login", data={"email": "a@dept.example.gov.uk", "password": "x"})
    assert client.post("/password-reset", data={"email": "b@dept.example.gov.uk"}).status_code == (
        429
    )
    # Another address is not held back by the first one's attempts.
    other = client.post(
        "/password-reset",
        data={"email": "b@dept.example.gov.uk"},
        environ_base={"REMOTE_ADDR": "192.0.2.44"},
    )
    assert other.status_code == 200


def test_the_per_account_lock_still_holds_under_the_address_limit(client, personas, app):
    buyer = personas["buyer"]
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"email": buyer.email, "password": "wrong password"})
    response = client.post("/login", data={"email": buyer.email, "password": PASSWORD})
    assert response.status_code == 429
    assert "locked until" in response.get_data(as_text=True)
