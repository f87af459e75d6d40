"""Sections of a centre's public page that higher areas contribute: an extension point.

The catalogue owns the page of a centre (/centres/<slug>), but its figures and its reports
belong to areas above it. Rather than import upwards, the catalogue keeps, per app, a list
of sections that those areas add when they register (as Indico's modules fill page hooks):
each names its template, its place on the page, its entries in the page's contents list and
a function that builds its template context from the centre and the viewer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app

EXTENSION = "marketplace.centre_page_sections"


@dataclass(frozen=True)
class CentreSection:
    key: str
    order: int  # sections are shown in ascending order, after the catalogue's own
    template: str
    contents: tuple[tuple[str, str], ...]  # (anchor, label) entries of the contents list
    context: Callable[..., dict]  # context(centre, viewer) -> template variables


def add(app: Flask, section: CentreSection) -> None:
    sections = app.extensions.setdefault(EXTENSION, {})
    sections[section.key] = section  # registering twice (a second create_app) replaces


def for_page(centre, viewer) -> tuple[list[CentreSection], dict]:
    """The sections in order, and the template variables they need together."""
    sections = sorted(current_app.extensions.get(EXTENSION, {}).values(), key=lambda s: s.order)
    context: dict = {}
    for section in sections:
        context.update(section.context(centre, viewer))
    return sections, context
