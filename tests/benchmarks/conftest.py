"""Fixtures for the benchmarks tests."""

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker

from marketplace.extensions import db
from tests.benchmarks.ingest_world import world  # noqa: F401 - the ingest tests' small world


@pytest.fixture
def scratch_database(app, is_postgres, request, tmp_path):
    """A new database with the schema, dropped afterwards; db.session is one session per
    thread, as separate requests would have.

    For tests of concurrent writers with real commits: those cannot live inside the suite's
    rolled-back transaction, and the audit trail is append-only (it cannot be cleaned up).
    On PostgreSQL a new database; on SQLite a new file (WAL, busy timeout, BEGIN IMMEDIATE
    for writers: see marketplace/sqlite.py).
    """
    if is_postgres:
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        name = f"{url.database}_{request.module.__name__.rsplit('.', 1)[-1]}_{os.getpid()}"[:63]
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine = create_engine(url.set(database=name))
    else:
        engine = create_engine(f"sqlite:///{tmp_path / 'scratch.db'}")
    db.metadata.create_all(engine)
    original = db.session
    db.session = scoped_session(sessionmaker(bind=engine))
    try:
        yield engine
    finally:
        db.session.remove()
        db.session = original
        engine.dispose()
        if is_postgres:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
