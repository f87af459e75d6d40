"""Test harness: one app and one migrated schema per run; every test rolled back.

Set TEST_DATABASE_URL to run against PostgreSQL; otherwise a temporary SQLite file is used.
"""

from __future__ import annotations

import os
import tempfile
from datetime import UTC, datetime

import pytest
from flask import has_app_context
from flask.globals import app_ctx
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.orm import scoped_session, sessionmaker

from marketplace import clock, create_app
from marketplace.extensions import db

# The day tests live on unless they say otherwise: fixed so expiry arithmetic is repeatable.
TEST_TODAY = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _database_url(tmp_dir: str) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + os.path.join(tmp_dir, "test.db")


UNCOMMITTED_WRITES = "uncommitted_writes"


def _track_uncommitted_writes(factory) -> None:
    """Mark the test's session when it has flushed writes that are not committed yet."""

    def flushed(session, _context):
        session.info[UNCOMMITTED_WRITES] = True

    def ended(session, *_args):
        session.info.pop(UNCOMMITTED_WRITES, None)

    event.listen(factory, "after_flush", flushed)
    event.listen(factory, "after_commit", ended)
    event.listen(factory, "after_soft_rollback", ended)


class FreshGlobalsClient(FlaskClient):
    """Each request starts with an empty `g`, as in production.

    Tests keep one application context open (db_session), and Flask reuses it for every
    request; without this, what one request cached in `g` (Flask-Login's user, the API
    token, the CSRF token) would leak into the next request, even from another client.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            app_ctx.g = self.application.app_ctx_globals_class()
            if db.session.info.get(UNCOMMITTED_WRITES):
                # As in production, a request starts with nothing uncommitted: what the test
                # set up is committed (to a savepoint of the test's transaction), so a
                # request that rolls its own work back (a refusal) cannot undo the setup.
                db.session.commit()
        # Buffered, the response is read and closed before the test sees it, as a server
        # closes it once sent: work queued for after the response has run. A test that
        # wants the moment between passes buffered=False and closes the response itself.
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app():
    tmp_dir = tempfile.mkdtemp(prefix="marketplace-test-")
    url = _database_url(tmp_dir)
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
            "WTF_CSRF_ENABLED": False,
            "REPORTS_DIR": os.path.join(tmp_dir, "reports"),
            # Every download reads the database, unless a test installs a cache of its own.
            "REPORT_LOOKUP_CACHE_SECONDS": 0,
            "SERVER_NAME": None,
            # Links in e-mails, the feed and the API are built from this, never from Host.
            "PUBLIC_URL": "http://localhost",
            # Work after the response (mail, password resets) runs as in production, but on
            # the test's own thread as the response closes: the test's one database
            # connection is not shared with a thread.
            "AFTER_RESPONSE_THREADS": False,
            # The per-address throttle is on but out of reach; its own tests lower it.
            "AUTH_RATE_LIMIT": "100000 per minute",
        }
    )
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="session")
def is_postgres(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "postgresql"


@pytest.fixture(autouse=True)
def _frozen_clock():
    clock.freeze(TEST_TODAY)
    yield
    clock.freeze(None)


@pytest.fixture(autouse=True)
def db_session(app, request):
    """Run the test inside a transaction that is rolled back afterwards.

    Code under test commits as usual; with join_transaction_mode='create_savepoint'
    those commits only release savepoints inside the outer transaction.
    """
    if request.node.get_closest_marker("real_commits"):
        with app.app_context():
            yield db.session
        return
    with app.app_context():
        connection = db.engine.connect()
        transaction = connection.begin()
        original = db.session
        factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
        _track_uncommitted_writes(factory)
        db.session = scoped_session(factory)
        try:
            yield db.session
        finally:
            db.session.remove()
            db.session = original
            if transaction.is_active:
                transaction.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


def sign_in(client, user) -> None:
    """Start a signed-in session the way Flask-Login does, without the password round trip."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


@pytest.fixture
def personas(db_session):
    from tests.factories import make_personas

    return make_personas()


@pytest.fixture
def as_persona(app, personas):
    """as_persona('buyer') -> a test client signed in as that persona (None: anonymous)."""

    def make(name: str | None):
        client = app.test_client()
        if name not in (None, "anonymous"):
            sign_in(client, personas[name])
        return client

    return make
