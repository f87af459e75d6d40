"""The benchmarks area's sections of a centre's public page (catalogue/sections.py)."""

from __future__ import annotations

from flask import Flask

from marketplace.benchmarks import latest
from marketplace.benchmarks.centre_profile import centre_benchmarks
from marketplace.catalogue.access import sees_unpublished
from marketplace.catalogue.sections import CentreSection, add


def _context(centre, viewer) -> dict:
    return {
        "latest": latest.latest_values(centre, viewer=viewer),
        "sees_unpublished": sees_unpublished(viewer, centre),
        "centre_benchmarks": centre_benchmarks(centre, viewer),
    }


def register(app: Flask) -> None:
    add(
        app,
        CentreSection(
            key="benchmarks",
            order=10,
            template="benchmarks/_centre_sections.html",
            contents=(
                ("benchmarks", "Latest benchmark values"),
                ("peer-benchmarks", "Benchmarks against peers"),
            ),
            context=_context,
        ),
    )
