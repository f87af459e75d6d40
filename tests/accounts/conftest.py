"""Fixtures for the accounts tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def csrf_enabled(app, monkeypatch):
    """Turn CSRF protection back on (the suite runs with it off) for one test."""
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
