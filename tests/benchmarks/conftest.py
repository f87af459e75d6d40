"""Fixtures for the benchmarks tests."""

from tests.benchmarks.ingest_world import world  # noqa: F401 - the ingest tests' small world
