"""The outbox: stored, shown to admins in development, sent by SMTP when configured."""

from __future__ import annotations

import smtplib

import pytest

from marketplace import clock
from marketplace.extensions import db
from marketplace.mail import sender
from marketplace.mail import services as mail
from marketplace.mail.models import OutboxEmail


class FakeSMTP:
    sent: list = []
    envelopes: list = []
    fail = False

    def __init__(self, host, port, timeout):
        self.host, self.port = host, port

    def starttls(self):
        pass

    def login(self, user, password):
        pass

    def send_message(self, message, from_addr=None, to_addrs=None):
        FakeSMTP.envelopes.append(to_addrs)
        if FakeSMTP.fail:
            raise smtplib.SMTPRecipientsRefused({message["To"]: (550, b"no")})
        FakeSMTP.sent.append(message)

    def quit(self):
        pass


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.sent, FakeSMTP.envelopes, FakeSMTP.fail = [], [], False
    monkeypatch.setattr(sender.smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SMTP_HOST", "smtp.example.invalid")
    return FakeSMTP


def _queue(to="person@example.gov.uk"):
    return mail.queue(
        to,
        "Reset your password",
        "password_reset",
        name="Sam",
        link="https://example.invalid/reset?token=secret",
        expires_at=None,
    )


def test_admins_read_the_outbox_in_development(admin, personas, as_persona):
    email = _queue()
    page = admin.get("/admin/mail").get_data(as_text=True)
    assert "Reset your password" in page and "person@example.gov.uk" in page
    body = admin.get(f"/admin/mail/{email.public_id}").get_data(as_text=True)
    assert "https://example.invalid/reset?token=secret" in body
    assert as_persona("buyer").get("/admin/mail").status_code == 403


def test_the_outbox_page_does_not_exist_in_production(admin, personas, app, monkeypatch):
    monkeypatch.setitem(app.config, "MARKETPLACE_ENV", "production")
    assert admin.get("/admin/mail").status_code == 404


def test_smtp_sends_queued_mail_and_clears_the_secret_body(app, smtp, personas):
    email = _queue()
    assert sender.deliver_queued(app.config) == (1, 0)
    [message] = smtp.sent
    assert message["To"] == "person@example.gov.uk"
    assert "token=secret" in message.get_content()
    db.session.refresh(email)
    assert (email.status, email.body_text) == ("sent", "")
    assert email.sent_at is not None


def test_a_failure_is_kept_for_another_attempt_then_given_up(app, smtp, personas):
    email = _queue()
    smtp.fail = True
    for _ in range(sender.MAX_ATTEMPTS):
        sender.deliver_queued(app.config)
        # Each retry waits its turn (next_attempt_at); step past it.
        db.session.refresh(email)
        if email.next_attempt_at is not None:
            clock.freeze(email.next_attempt_at)
    db.session.refresh(email)
    assert (email.status, email.attempts) == ("failed", sender.MAX_ATTEMPTS)
    assert "SMTPRecipientsRefused" in email.last_error


def test_a_reset_request_is_sent_at_once_when_smtp_is_configured(client, smtp, personas):
    response = client.post(
        "/password-reset", data={"email": personas["buyer"].email}, buffered=False
    )
    assert smtp.sent == []  # not in the request: once the response has gone
    response.close()
    assert [m["To"] for m in smtp.sent] == [personas["buyer"].email]
    stored = db.session.execute(db.select(OutboxEmail)).scalars().one()
    assert stored.status == "sent"


def test_without_smtp_nothing_is_sent(app, personas):
    _queue()
    assert sender.deliver_queued(app.config) == (0, 0)


def test_send_mail_command_sends_what_is_queued(app, smtp, personas):
    _queue()
    _queue("other@example.gov.uk")
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 0, result.output
    assert "Sent 2 email(s); 0 failed" in result.output
    assert sorted(m["To"] for m in smtp.sent) == ["other@example.gov.uk", "person@example.gov.uk"]


def test_send_mail_command_needs_an_smtp_host(app, personas):
    result = app.test_cli_runner().invoke(args=["send-mail"])
    assert result.exit_code == 1
    assert "MAIL_SMTP_HOST is not set" in result.output
