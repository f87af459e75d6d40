"""Assertions shared by the API tests."""

from __future__ import annotations


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["type"] == "about:blank"
    assert body["title"]
    assert body["detail"]
    assert isinstance(body["errors"], list)
    return body


HEALTHZ_BUDGET_S = 0.1


def assert_answers_at_once(client) -> float:
    """/healthz answers ok within 100 ms: nothing a refused request did is left holding the
    database or the worker. Returns the seconds it took."""
    import time

    started = time.perf_counter()
    response = client.get("/healthz")
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert elapsed < HEALTHZ_BUDGET_S, f"/healthz took {elapsed * 1000:.0f} ms"
    return elapsed
