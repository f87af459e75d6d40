"""SQLite as a real embedded default: parallel requests wait their turn, none gets a 500.

Outsiders saw 20 parallel sign-ins give 18 × 500 ("database is locked") and 8 simultaneous
uploads 6–7 × 500, then the error page itself fail. With WAL, a busy timeout and BEGIN
IMMEDIATE for write requests (marketplace/sqlite.py) each waits for the writer before it.
Each test has its own app on its own database file, with real commits from many threads.
"""

from __future__ import annotations

import threading

import pytest

from marketplace import create_app
from marketplace.accounts.tokens import create_token
from marketplace.extensions import db
from tests.benchmarks.ingest_world import build_world, csv_bytes
from tests.factories import PASSWORD, make_personas

pytestmark = pytest.mark.real_commits


@pytest.fixture
def file_app(is_postgres, tmp_path):
    if is_postgres:
        pytest.skip("SQLite's single writer is what this tests")
    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'embedded.db'}",
            "SECRET_KEY": "sqlite-concurrency-0123456789abcdef0123456789",
            "WTF_CSRF_ENABLED": False,
            "REPORTS_DIR": str(tmp_path / "reports"),
            "SERVER_NAME": None,
            # Twenty sign-ins from one address: the per-address throttle is not under test.
            "AUTH_RATE_LIMIT": "100000 per minute",
            "AFTER_RESPONSE_THREADS": False,
            # Uploads score outliers and redraw peers: real work holding the write lock.
        }
    )
    with app.app_context():
        db.create_all()
        yield app
        db.session.remove()
        db.engine.dispose()


def _in_parallel(count: int, work) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        try:
            results[index] = work(index)
        except Exception as error:  # reported by the assertion
            results[index] = repr(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_twenty_parallel_sign_ins_all_succeed(file_app):
    personas = make_personas()
    email = personas["buyer"].email
    db.session.commit()
    db.session.remove()

    def sign_in(_index):
        response = file_app.test_client().post(
            "/login", data={"email": email, "password": PASSWORD}
        )
        return response.status_code

    assert _in_parallel(20, sign_in) == [302] * 20
    assert file_app.test_client().get("/healthz").status_code == 200


def test_eight_simultaneous_uploads_are_each_accepted(file_app):
    personas = make_personas()
    build_world(personas)
    _, secret = create_token(personas["centre_user"], "parallel")
    db.session.commit()
    db.session.remove()
    headers = {"Authorization": f"Bearer {secret}"}

    def upload(index):
        content = csv_bytes("metric,period,value", f"ap_cost_per_invoice,2026-Q3,{4 + index}")
        response = file_app.test_client().post(
            "/api/v1/centres/centre-a/submissions",
            data=content,
            content_type="text/csv",
            headers=headers,
        )
        return response.status_code

    assert _in_parallel(8, upload) == [201] * 8
    assert file_app.test_client().get("/healthz").status_code == 200
