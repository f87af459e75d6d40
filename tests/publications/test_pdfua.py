"""Each kind of published PDF passes the PDF/UA-1 checker pdfua with no error and no warning:
a centre report, the league tables (the overview and a service line's table) and a decision
record."""

from __future__ import annotations

import pikepdf
import pytest
from pdfua import Severity, validate

from marketplace.extensions import db
from marketplace.publications import decision_records
from marketplace.publications.models import SECTOR
from marketplace.publications.storage import storage_for
from marketplace.selection import services as selection
from tests.publications.helpers import open_pdf, pdf_text, plan_item, render_item
from tests.publications.test_decision_records import evaluation  # noqa: F401 (a fixture)
from tests.selection.conftest import CONTRACT


def findings(content: bytes, tmp_path) -> list[str]:
    path = tmp_path / "document.pdf"
    path.write_bytes(content)
    report = validate(str(path))
    counts = report.count_by_severity()
    listed = [
        f"{f.rule_id} {f.severity.name}: {f.message}"
        for f in report.findings
        if f.severity >= Severity.WARNING
    ]
    assert counts[Severity.ERROR] + counts[Severity.WARNING] == len(listed)
    return listed


def header_scopes(content: bytes) -> list[str]:
    pdf = open_pdf(content)
    scopes: list[str] = []

    def walk(node, depth=0):
        if depth > 200:
            return
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/TH":
                scopes.append(str(node.A.get("/Scope", "")))
            if "/K" in node:
                walk(node.K, depth + 1)

    walk(pdf.Root.StructTreeRoot.K)
    return scopes


LEAGUE_DOCUMENTS = [
    ("centre_report", SECTOR),
    ("league_table", SECTOR),  # the league tables' overview
    ("league_table", "line:finance"),  # one service line's table
]


@pytest.mark.parametrize(("kind", "subject"), LEAGUE_DOCUMENTS)
def test_published_reports_pass_pdfua(app, world, tmp_path, kind, subject):
    content = render_item(plan_item(world.q3, kind, subject=subject), app.config)
    assert findings(content, tmp_path) == []
    scopes = header_scopes(content)
    assert scopes and set(scopes) <= {"/Column", "/Row"}
    assert "/Column" in scopes and "/Row" in scopes  # column headings and row headings


def test_a_decision_record_passes_pdfua(app, personas, evaluation, tmp_path):  # noqa: F811
    buyer = personas["alb_buyer"]
    selection.lock(buyer, evaluation)
    selection.record_outcome(
        buyer, evaluation, "awarded", "centre-a", "Best value.", contract=CONTRACT
    )
    db.session.flush()
    stored, _name = decision_records.decision_record(evaluation)
    content = storage_for(app.config).path(stored.key).read_bytes()
    assert findings(content, tmp_path) == []
    assert "/Row" in header_scopes(content)
    text = " ".join(pdf_text(content).split())
    assert "None" not in text
    assert "in pounds, lower is better" in text  # the unit in words, not a bare '£'


@pytest.mark.parametrize(("kind", "subject"), LEAGUE_DOCUMENTS)
def test_published_reports_say_no_none(app, world, kind, subject):
    item = plan_item(world.q3, kind, subject=subject)
    assert "None" not in pdf_text(render_item(item, app.config))
