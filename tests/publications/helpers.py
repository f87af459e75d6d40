"""Rendering one artefact of the test world, and reading PDFs back."""

from __future__ import annotations

import io

import pikepdf
import pypdf

from marketplace.publications import services
from marketplace.publications.models import SECTOR


def plan_item(period, kind="centre_report", slug="ssc-a", subject=SECTOR):
    """One planned artefact: a centre's report, or a period-wide one by its subject (the
    league tables' overview is SECTOR, a service line's table 'line:<code>')."""
    plan = services.plan_period(period, actor_label="test")
    for item in plan.items:
        if item.kind != kind:
            continue
        if (item.centre_slug == slug) if kind == "centre_report" else (item.subject == subject):
            return item
    raise AssertionError(f"no {kind} for {slug if kind == 'centre_report' else subject}")


def render_item(item, config) -> bytes:
    content, _pages, _seconds = services.render_bytes(item, config)
    return content


def pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def open_pdf(content: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(content))


def struct_types(pdf: pikepdf.Pdf) -> list[str]:
    """Every structure element type in the tag tree, depth first."""
    found: list[str] = []

    def walk(node, depth=0):
        if depth > 200:
            return
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, pikepdf.Dictionary):
            if "/S" in node:
                found.append(str(node.S))
            if "/K" in node:
                walk(node.K, depth + 1)

    walk(pdf.Root.StructTreeRoot.K)
    return found
