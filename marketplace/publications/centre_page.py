"""The publications area's section of a centre's public page (catalogue/sections.py)."""

from __future__ import annotations

from flask import Flask

from marketplace.catalogue.sections import CentreSection, add
from marketplace.publications.queries import current_reports_for


def _context(centre, viewer) -> dict:
    return {"reports": current_reports_for(centre.id)}


def register(app: Flask) -> None:
    add(
        app,
        CentreSection(
            key="reports",
            order=20,
            template="reports/_centre_reports.html",
            contents=(("reports", "Published performance reports"),),
            context=_context,
        ),
    )
