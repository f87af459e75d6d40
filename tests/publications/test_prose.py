"""Published outputs read as prose: no 'None', targets in their own column ('No target' where
unset), the library's labels written out, units singular or plural, and trends that say
'Improved' when a lower-is-better figure fell, with an arrow whose alternative says so."""

from __future__ import annotations

from decimal import Decimal

import pikepdf
import pytest

from marketplace import formatting
from marketplace.benchmarks import peers
from marketplace.extensions import db
from marketplace.publications import formatting as fmt
from tests.factories import MetricFactory, ObservationFactory, ServiceLineFactory
from tests.publications.helpers import open_pdf, pdf_text, plan_item, render_item


def figure_alts(content: bytes) -> list[str]:
    alts: list[str] = []

    def walk(node, depth=0):
        if depth > 200:
            return
        if isinstance(node, pikepdf.Array):
            for child in node:
                walk(child, depth + 1)
        elif isinstance(node, pikepdf.Dictionary):
            if node.get("/S") == "/Figure":
                alts.append(str(node.get("/Alt", "")))
            if "/K" in node:
                walk(node.K, depth + 1)

    pdf = open_pdf(content)
    walk(pdf.Root.StructTreeRoot.K)
    return alts


@pytest.fixture
def payslips(world):
    """A quotient of two different things (payslips ÷ FTEs), as the demo library has it."""
    metric = MetricFactory(
        code="payslips_per_payroll_fte",
        name="Payslips per payroll FTE",
        service_line=ServiceLineFactory(code="payroll"),
        unit="count",
        direction="higher",
        decimals=0,
        numerator_label="Payslips issued (last 12 months)",
        denominator_label="Payroll FTEs",
    )
    ObservationFactory(
        centre=world.centres[0],
        metric=metric,
        period=world.q3,
        value=Decimal("11680"),
        numerator=Decimal("548990"),
        denominator=Decimal("47"),
    )
    peers.recompute_all()
    db.session.flush()
    return metric


def test_the_centre_report_reads_as_prose(app, world, payslips):
    content = render_item(plan_item(world.q3), app.config)
    text = pdf_text(content)
    flat = " ".join(text.split())
    assert "None" not in text
    assert "No target" in text  # the cost metric has none
    assert "80.0%" in text and "Met" in text  # the 5-day share has one, met
    assert "Against target" in text
    # A fall in a lower-is-better cost is an improvement, drawn as a fall.
    assert "Improved: down from £4.50" in flat
    assert "Improved" in figure_alts(content)
    assert "▲" not in text
    # A quotient names both of its parts, abbreviations written out; never "x of y".
    assert "Payslips issued (last 12 months): 548,990; payroll full-time equivalents: 47" in flat
    assert "548,990 of 47" not in flat and "ftes" not in flat.lower()
    assert "Payroll full-time equivalents" in flat  # the volumes table
    assert "Pounds (£)" in flat and "Percentage (%)" in flat  # units named in the method


@pytest.mark.parametrize("subject", ["sector", "line:finance"])
def test_the_league_tables_have_no_none(app, world, subject):
    content = render_item(plan_item(world.q3, "league_table", subject=subject), app.config)
    assert "None" not in pdf_text(content)


def test_units_are_singular_for_one_and_plural_otherwise():
    assert formatting.figure(1, 0, "days") == "1 day"
    assert formatting.figure(2, 0, "days") == "2 days"
    assert formatting.figure(1, 1, "days") == "1.0 days"
    assert formatting.figure(1, 0, "hours") == "1 hour"
    assert formatting.figure(1, 0, "percent") == "1%"
    assert formatting.plural(1, "centre") == "1 centre"
    assert formatting.plural(1200, "centre") == "1,200 centres"


@pytest.mark.parametrize(
    ("now", "before", "direction", "arrow", "words"),
    [
        ("4.12", "4.50", "lower", "down", "Improved: down from £4.50"),
        ("4.90", "4.50", "lower", "up", "Worsened: up from £4.50"),
        ("90", "80", "higher", "up", "Improved: up from £4.50"),
        ("70", "80", "higher", "down", "Worsened: down from £4.50"),
        ("4.50", "4.50", "lower", "level", "No change: the same as £4.50"),
    ],
)
def test_trend_words_follow_the_direction_and_the_arrow_the_movement(
    now, before, direction, arrow, words
):
    marks = fmt.trend_marks(Decimal(now), Decimal(before), 2, direction, "£4.50")
    assert marks["trend_arrow"] == arrow
    assert marks["trend_text"] == words
    assert marks["trend_alt"] == words.split(":")[0]
