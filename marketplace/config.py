"""Configuration: safe development defaults, overridden from the environment."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

DEV_SECRET_KEY = "dev-only-secret-key-change-me"  # noqa: S105 - refused in production
DEV_PUBLIC_URL = "http://127.0.0.1:5000"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def normalise_database_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever scheme the operator wrote."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw not in (None, "") else default


def _hosts(raw: str | None) -> list[str] | None:
    hosts = [host.strip().lower() for host in (raw or "").split(",") if host.strip()]
    return hosts or None


def from_environment(instance_path: str) -> dict:
    env = os.environ.get("MARKETPLACE_ENV", "development")
    database_url = os.environ.get("DATABASE_URL") or (
        "sqlite:///" + os.path.join(instance_path, "marketplace.db")
    )
    max_upload = _int("MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
    return {
        "MARKETPLACE_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY", DEV_SECRET_KEY),
        # Every absolute link (e-mails, the Atom feed, API links, PDFs) starts with this,
        # never with the request's Host header (marketplace/links.py). Required in production.
        "PUBLIC_URL": os.environ.get("PUBLIC_URL")
        or (None if env == "production" else DEV_PUBLIC_URL),
        # Host headers the app answers (Flask refuses others with 400); in production the
        # default is PUBLIC_URL's host. Comma-separated.
        "TRUSTED_HOSTS": _hosts(os.environ.get("TRUSTED_HOSTS")),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REPORTS_DIR": os.environ.get("REPORTS_DIR") or os.path.join(instance_path, "reports"),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        # Publishing (marketplace/publications): each PDF renders in a child process with this
        # address-space cap and timeout; RQ workers listen on REPORTS_QUEUE.
        "REPORT_RENDER_MEMORY_MB": _int("REPORT_RENDER_MEMORY_MB", 1024),
        "REPORT_RENDER_TIMEOUT": _int("REPORT_RENDER_TIMEOUT", 120),
        "REPORTS_QUEUE": os.environ.get("REPORTS_QUEUE") or "reports",
        "REPORT_AUTHOR": os.environ.get("REPORT_AUTHOR") or None,
        # How long a download address is served from memory (publications/lookups.py).
        "REPORT_LOOKUP_CACHE_SECONDS": _int("REPORT_LOOKUP_CACHE_SECONDS", 30),
        "MIN_PEER_GROUP": _int("MIN_PEER_GROUP", 5),
        "MAX_UPLOAD_BYTES": max_upload,
        # Room for the multipart envelope around the largest allowed file.
        "MAX_CONTENT_LENGTH": max_upload + 64 * 1024,
        "MAX_UPLOAD_ROWS": _int("MAX_UPLOAD_ROWS", 100_000),
        # Centres may send a quarter's figures until this many days after its last day.
        "SUBMISSION_DEADLINE_DAYS": _int("SUBMISSION_DEADLINE_DAYS", 30),
        # How many proxies in front set X-Forwarded-For/-Proto/-Host: 0 trusts none of them.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # API tokens expire this many days after they are made (accounts.tokens).
        "TOKEN_LIFETIME_DAYS": _int("TOKEN_LIFETIME_DAYS", 365),
        # How long a centre hears of its own new signal before its buyers and the authority.
        "ALERT_GRACE_HOURS": _int("ALERT_GRACE_HOURS", 24),
        # Sign-in, registration and password-reset requests per client address (Flask-Limiter
        # syntax, e.g. "10 per minute;50 per hour"), on top of the per-account lock.
        "AUTH_RATE_LIMIT": os.environ.get("AUTH_RATE_LIMIT") or "10 per minute",
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "LOGIN_MAX_FAILURES": 5,
        "LOGIN_THROTTLE_SECONDS": _int("LOGIN_THROTTLE_SECONDS", 15 * 60),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies only in production: development and tests run over plain HTTP.
        "SESSION_COOKIE_SECURE": env == "production",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": env == "production",
        "PREFERRED_URL_SCHEME": "https" if env == "production" else "http",
        # The CSRF token lives as long as the session, which ends when the browser closes
        # or the person signs out; an hour's limit would lose long-typed forms.
        "WTF_CSRF_TIME_LIMIT": None,
        "API_TITLE": "Shared-services marketplace API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "PER_PAGE_DEFAULT": 20,
        "PER_PAGE_MAX": 100,
        # Email (marketplace.mail): kept in the outbox table; sent by SMTP only when a host
        # is configured. Without one (development), admins read the outbox at /admin/mail.
        "MAIL_SMTP_HOST": os.environ.get("MAIL_SMTP_HOST") or None,
        "MAIL_SMTP_PORT": _int("MAIL_SMTP_PORT", 587),
        "MAIL_SMTP_USERNAME": os.environ.get("MAIL_SMTP_USERNAME") or None,
        "MAIL_SMTP_PASSWORD": os.environ.get("MAIL_SMTP_PASSWORD") or None,
        "MAIL_SMTP_STARTTLS": os.environ.get("MAIL_SMTP_STARTTLS", "true").lower()
        not in ("0", "false", "no"),
        "MAIL_FROM": os.environ.get("MAIL_FROM") or "marketplace@localhost",
        # With REDIS_URL, mail is sent by RQ workers listening on this queue.
        "MAIL_QUEUE": os.environ.get("MAIL_QUEUE") or "mail",
    }


class ConfigurationError(RuntimeError):
    pass


ENVIRONMENTS = ("development", "production")
MIN_SECRET_KEY_LENGTH = 32


def check_production(config: dict) -> None:
    """Refuse to start in a state that would be unsafe to serve the public."""
    env = config.get("MARKETPLACE_ENV")
    if env not in ENVIRONMENTS:
        # A typo such as "prod" would otherwise run with development defaults (the known
        # SECRET_KEY, cookies sent over plain HTTP).
        raise ConfigurationError(
            f"MARKETPLACE_ENV is '{env}'; set it to 'development' or 'production'."
        )
    if env == "production":
        key = (config.get("SECRET_KEY") or "").strip()
        if key == DEV_SECRET_KEY or len(key) < MIN_SECRET_KEY_LENGTH:
            raise ConfigurationError(
                "MARKETPLACE_ENV=production needs SECRET_KEY set to a random value of at "
                f"least {MIN_SECRET_KEY_LENGTH} characters (for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`); "
                "refusing to start with the development key."
            )
        public = urlsplit((config.get("PUBLIC_URL") or "").strip())
        if public.scheme not in ("http", "https") or not public.hostname:
            raise ConfigurationError(
                "MARKETPLACE_ENV=production needs PUBLIC_URL, the address people reach the "
                "service at (for example https://marketplace.service.gov.uk): every link in "
                "e-mails, the feed and the API is built from it, never from the request."
            )
        if not config.get("TRUSTED_HOSTS"):
            config["TRUSTED_HOSTS"] = [public.hostname]
