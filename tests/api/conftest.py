"""Fixtures for the API tests: Bearer clients made with real tokens."""

from __future__ import annotations

import pytest

from marketplace.accounts.tokens import create_token


@pytest.fixture
def bearer(personas):
    """bearer('centre_user') -> headers carrying a real API token of that persona."""

    def make(name: str) -> dict:
        _, secret = create_token(personas[name], f"{name} test token")
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def csrf_enabled(app, monkeypatch):
    """Turn CSRF protection back on (the suite runs with it off) for one test."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
