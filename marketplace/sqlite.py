"""SQLite as a real embedded database: what makes it behave like the production one.

- WAL journal: readers never wait for the writer, and the writer never waits for readers.
- A busy timeout: a writer waits for the one before it instead of failing "database is
  locked".
- `BEGIN IMMEDIATE` for write transactions: SQLite cannot turn a read transaction into a
  write one if another writer committed in between (SQLITE_BUSY_SNAPSHOT, which no busy
  timeout waits out), so a transaction that may write takes the write lock when it begins,
  and waits for it. A request with an unsafe method (POST, PUT, PATCH, DELETE) may write;
  GET, HEAD and OPTIONS begin a plain deferred (read) transaction. Outside a request (CLI
  commands, jobs, fixtures loading, tests) transactions are write transactions. The suite's
  rolled-back outer transaction and its SAVEPOINTs work as before: SAVEPOINTs do not begin.
- Foreign keys on, and real transactions (so tests can roll back through SAVEPOINTs).
"""

from __future__ import annotations

import contextlib
import contextvars
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 30_000
SAFE_METHODS = frozenset(("GET", "HEAD", "OPTIONS"))
_installed = False
_write_intent: contextvars.ContextVar[bool | None] = contextvars.ContextVar(
    "sqlite_write_intent", default=None
)


@contextlib.contextmanager
def write_intent(writes: bool = True):
    """Say, for the transactions begun inside, whether they write (overrides the method)."""
    token = _write_intent.set(writes)
    try:
        yield
    finally:
        _write_intent.reset(token)


def begins_writing() -> bool:
    override = _write_intent.get()
    if override is not None:
        return override
    from flask import has_request_context, request

    if has_request_context():
        return request.method not in SAFE_METHODS
    return True


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True

    @event.listens_for(Engine, "connect")
    def _on_connect(dbapi_connection, _record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            # In-memory databases answer 'memory' and keep their journal; files use WAL.
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
            cursor.close()

    @event.listens_for(Engine, "begin")
    def _on_begin(connection):
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("BEGIN IMMEDIATE" if begins_writing() else "BEGIN")
