"""Running the service: health check, structured logs, production settings, security headers."""

from __future__ import annotations

import json
import logging
import re

import flask_smorest
import pytest
from sqlalchemy.exc import OperationalError

from marketplace import config as config_module
from marketplace import create_app, extensions
from marketplace.config import DEV_SECRET_KEY, ConfigurationError
from marketplace.extensions import db
from marketplace.logconfig import JsonFormatter

LONG_KEY = "k" * 48


def test_healthz_answers_ok_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_answers_503_when_the_database_fails(client, monkeypatch):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused by db.internal"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unhealthy", "database": "unavailable"}
    assert "db.internal" not in response.get_data(as_text=True)


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def log_records():
    handler = _Collect()
    logger = logging.getLogger("marketplace")
    logger.addHandler(handler)
    yield handler.records
    logger.removeHandler(handler)


def test_each_request_is_logged_as_one_json_line(client, log_records):
    client.get("/healthz?probe=1")
    client.get("/no-such-page")
    requests = [r for r in log_records if r.name == "marketplace.request"]
    lines = [json.loads(JsonFormatter().format(r)) for r in requests]
    assert [(e["method"], e["path"], e["status"]) for e in lines] == [
        ("GET", "/healthz", 200),
        ("GET", "/no-such-page", 404),
    ]
    for entry in lines:
        assert entry["level"] == "INFO"
        assert entry["message"] == "request"
        assert isinstance(entry["duration_ms"], float)
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", entry["time"])


def test_a_failing_health_check_is_logged_with_its_reason(client, monkeypatch, log_records):
    def broken(*args, **kwargs):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    client.get("/healthz")
    [record] = [r for r in log_records if r.name == "marketplace.health"]
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "ERROR"
    assert "connection refused" in entry["exception"]


def test_json_lines_carry_any_extra_fields_and_survive_odd_values():
    record = logging.LogRecord(
        "marketplace.x", logging.WARNING, __file__, 1, "hi %s", ("you",), None
    )
    record.centre = "north"
    record.when = object()
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hi you"
    assert entry["centre"] == "north"
    assert entry["when"].startswith("<object")
    assert "args" not in entry and "msg" not in entry


@pytest.fixture
def fresh_extensions(monkeypatch):
    """A second app in the same process gets its own API object, so the suite's stays intact."""
    monkeypatch.setattr(extensions, "api", flask_smorest.Api())


def _production_app(monkeypatch, key: str | None):
    monkeypatch.setenv("MARKETPLACE_ENV", "production")
    if key is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", key)
    # Production also needs the public address its links are built from (issue 11).
    monkeypatch.setenv("PUBLIC_URL", "https://marketplace.example.gov.uk")
    return create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.mark.parametrize("key", [None, "", DEV_SECRET_KEY, "short-key", " " * 40])
def test_production_refuses_to_start_without_a_real_secret_key(monkeypatch, key):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        _production_app(monkeypatch, key)


def test_production_starts_with_a_long_random_key_and_secure_cookies(monkeypatch, fresh_extensions):
    app = _production_app(monkeypatch, LONG_KEY)
    assert app.config["SECRET_KEY"] == LONG_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["PREFERRED_URL_SCHEME"] == "https"


def test_a_mistyped_environment_name_is_refused(monkeypatch):
    monkeypatch.setenv("MARKETPLACE_ENV", "prod")
    with pytest.raises(ConfigurationError, match="'development' or 'production'"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_development_defaults_are_safe_but_not_secure_only(monkeypatch, tmp_path):
    monkeypatch.delenv("MARKETPLACE_ENV", raising=False)
    settings = config_module.from_environment(str(tmp_path))
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["SESSION_COOKIE_SECURE"] is False


@pytest.mark.parametrize(
    "path", ["/", "/login", "/healthz", "/no-such-page", "/api/v1/openapi.json"]
)
def test_security_headers_are_on_every_response(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "same-origin"
    policy = headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "Strict-Transport-Security" not in headers  # only when served over HTTPS


def test_strict_transport_security_is_sent_when_cookies_are_secure(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    assert client.get("/").headers["Strict-Transport-Security"] == "max-age=31536000"


def test_every_inline_script_carries_the_nonce_of_the_policy(client):
    response = client.get("/login")
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    html = response.get_data(as_text=True)
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    inline = [attrs for attrs, body in scripts if body.strip()]
    assert len(inline) == 2  # the GOV.UK body-class script and the module that starts it
    for attrs in inline:
        assert f'nonce="{nonce}"' in attrs
    for attrs, body in scripts:
        if not body.strip():
            assert 'src="/static/' in attrs


def test_each_response_has_its_own_nonce(client):
    first = client.get("/login").headers["Content-Security-Policy"]
    second = client.get("/login").headers["Content-Security-Policy"]
    assert first != second


def test_no_page_relies_on_inline_styles_the_policy_would_block(client):
    for path in ("/", "/login", "/centres", "/metrics", "/no-such-page"):
        html = client.get(path).get_data(as_text=True)
        why = f"{path}: the CSP (style-src 'self') blocks inline styles; use a CSS class"
        assert "<style" not in html, why
        assert not re.search(r"\sstyle=", html), why


def _probed(app):
    """The app with two routes that echo what it believes about the client."""
    from flask import request

    app.add_url_rule("/_probe/address", "probe_address", lambda: request.remote_addr)
    app.add_url_rule("/_probe/url", "probe_url", lambda: request.url_root)
    return app


def _client_address_seen_by(app, headers: dict) -> tuple[str, str]:
    client = app.test_client()
    return (
        client.get("/_probe/address", headers=headers).get_data(as_text=True),
        client.get("/_probe/url", headers=headers).get_data(as_text=True),
    )


FORWARDED = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}


def test_forwarded_headers_are_ignored_unless_the_operator_trusts_a_proxy(fresh_extensions):
    app = _probed(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}))
    assert _client_address_seen_by(app, FORWARDED) == ("127.0.0.1", "http://localhost/")


def test_a_trusted_proxy_supplies_the_client_address_and_scheme(fresh_extensions):
    app = _probed(create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TRUSTED_PROXIES": 1}))
    assert _client_address_seen_by(app, FORWARDED) == ("203.0.113.7", "https://localhost/")
    # Only the last hop is believed: an address the client wrote itself is not.
    forged = {"X-Forwarded-For": "10.9.9.9, 203.0.113.7"}
    assert _client_address_seen_by(app, forged)[0] == "203.0.113.7"
