"""marketplace/formatting.py, and the same published figure read on every surface.

The defect this guards against: pages rounded half to even while reports rounded half up,
so 2.345 was "£2.34" on a centre's page and "£2.35" in its PDF.
"""

from __future__ import annotations

import ast
import csv
import io
import re
import sys
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace import formatting as fmt
from marketplace.benchmarks import display, peers
from marketplace.extensions import db
from marketplace.publications import formatting as report_fmt
from marketplace.publications import services
from marketplace.selection.csvexport import to_csv
from marketplace.templating import format_date, format_number
from tests.factories import (
    MetricFactory,
    ObservationFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
)
from tests.publications.helpers import pdf_text

MINUS = "\u2212"


@pytest.mark.parametrize(
    ("value", "decimals", "unit", "expected"),
    [
        (2.345, 2, "gbp", "£2.35"),
        (Decimal("2.345"), 2, "gbp", "£2.35"),
        ("2.345", 2, "gbp", "£2.35"),
        (96.25, 1, "percent", "96.3%"),
        (Decimal("96.25"), 1, "percent", "96.3%"),
        (-3, 0, "gbp", f"{MINUS}£3"),
        (Decimal("-2.345"), 2, "gbp", f"{MINUS}£2.35"),
        (-8.25, 1, "days", f"{MINUS}8.3 days"),
        (0, 2, "gbp", "£0.00"),
        (0, 0, "count", "0"),
        (12345678901.5, 0, "gbp", "£12,345,678,902"),
        (Decimal("12345678901.5"), 1, "count", "12,345,678,901.5"),
        (0.0004, 3, "ratio", "0.000"),
        (0.0005, 3, "ratio", "0.001"),
        (-0.0004, 3, "ratio", "0.000"),
        (Decimal("-0.0004"), 3, "gbp", "£0.000"),
        (8.25, 1, "days", "8.3 days"),
        (12.5, 0, "hours", "13 hours"),
        (15000, 0, "count", "15,000"),
        (5.83, 2, "gbp", "£5.83"),
        (95.2, 1, "percent", "95.2%"),
        (7.5, 0, "score", "8"),
        (None, 2, "gbp", "–"),
        (float("nan"), 2, "gbp", "–"),
    ],
)
def test_figure(value, decimals, unit, expected):
    assert fmt.figure(value, decimals, unit) == expected


@pytest.mark.parametrize(
    ("value", "decimals", "expected"),
    [
        (2.345, 2, "2.35"),
        (Decimal("2.345"), 2, "2.35"),
        (96.25, 1, "96.3"),
        (-3, 0, "-3"),
        (-0.0004, 3, "0.000"),
        (0.0004, 3, "0.000"),
        (12345678901.5, 1, "12345678901.5"),
        (10**30, 2, "1000000000000000000000000000000.00"),
        (Decimal("1E-9"), 8, "0.00000000"),
        (None, 2, ""),
    ],
)
def test_plain_is_machine_readable(value, decimals, expected):
    assert fmt.plain(value, decimals) == expected


def test_number_count_money_and_percent():
    assert fmt.number(1234567.125, 2) == "1,234,567.13"
    assert fmt.number(-1234.5) == f"{MINUS}1,235"
    assert fmt.number(-0.4) == "0"
    assert fmt.number(None) == "–"
    assert fmt.count(15000) == "15,000"
    assert fmt.count(2**63 + 1) == f"{2**63 + 1:,}"  # an int is not squeezed through a float
    assert fmt.money(2.345) == "£2.35"
    assert fmt.percent(96.25) == "96.3%"


def test_rounded_is_half_up_and_never_negative_zero():
    assert fmt.rounded(2.675, 2) == Decimal("2.68")  # 2.675 as a float is 2.67499999…
    assert fmt.rounded(Decimal("0.125"), 2) == Decimal("0.13")
    assert fmt.rounded(-2.5, 0) == Decimal("-3")
    assert str(fmt.rounded(-0.0004, 3)) == "0.000"
    assert fmt.rounded(None, 2) is None


def test_dates_are_written_in_gov_uk_style():
    assert fmt.date_text(date(2026, 12, 1)) == "1 December 2026"
    assert fmt.date_text(None) == "–"
    # Late on 30 June UTC is already 1 July in London.
    assert fmt.date_text(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)) == "1 July 2026"


def test_times_are_shown_in_london():
    summer = datetime(2026, 7, 1, 9, 0, tzinfo=UTC)
    winter = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert fmt.datetime_text(summer) == "1 July 2026 at 10:00 BST"
    assert fmt.datetime_text(winter) == "1 December 2026 at 09:00 GMT"
    assert fmt.datetime_text(datetime(2026, 7, 1, 9, 0)) == "1 July 2026 at 10:00 BST"  # naive=UTC
    assert fmt.datetime_text(None) == "–"


def test_every_caller_uses_the_one_rule():
    assert format_number(2.345, 2) == "2.35"
    assert format_number(None) == "–"
    assert format_date(datetime(2026, 7, 1, 9, tzinfo=UTC)) == "1 July 2026 at 10:00 BST"
    assert format_date(None) == ""  # templates write `x | govdate or 'Never'`
    assert display.value_text(2.345, "gbp", 2) == report_fmt.figure(2.345, 2, "gbp") == "£2.35"
    assert display.value_text(96.25, "percent", 1) == "96.3%"
    assert display.percentile_text(62.5) == report_fmt.percentile_text(62.5) == "63"
    assert report_fmt.plain is fmt.plain and report_fmt.figure is fmt.figure


def test_the_jinja_macro_and_filter_agree(app):
    template = app.jinja_env.from_string(
        '{% from "catalogue/_macros.html" import metric_value %}'
        "{{ metric_value(v, 'gbp', 2) }}|{{ v | number(2) }}|{{ metric_value(None, 'gbp', 2) }}"
    )
    assert template.render(v=2.345) == "£2.35|2.35|–"
    assert template.render(v=Decimal("-3")) == f"{MINUS}£3.00|{MINUS}3.00|–"


# End to end: one figure, 2.345 in a £ metric with 2 decimals, read from every surface.

COSTS = ["2.345", "4.12", "5.83", "6.00", "10.50"]


@pytest.fixture
def published(db_session):
    OrganisationFactory(authority=True, slug="authority", name="Test Accreditation Authority")
    cost = MetricFactory(
        code="ap_cost_per_invoice",
        name="Accounts payable cost per invoice",
        direction="lower",
        unit="gbp",
        decimals=2,
    )
    period = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    for index, value in enumerate(COSTS):
        letter = chr(97 + index)
        centre = ServiceCentreFactory(
            organisation=OrganisationFactory(
                centre=True, slug=f"ssc-{letter}", name=f"Centre {letter.upper()}"
            )
        )
        ObservationFactory(centre=centre, metric=cost, period=period, value=Decimal(value))
    peers.recompute_all()
    db.session.flush()
    services.publish_inline(period, actor_label="test")
    return period


def _fetch(client, url) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    data = response.get_data()
    response.close()
    return data


def _figures(text: str) -> set[str]:
    return set(re.findall(r"£2\.3\d", text))


def test_the_same_figure_reads_the_same_everywhere(client, published):
    centre_page = _fetch(client, "/centres/ssc-a").decode()
    compare_page = _fetch(client, "/compare?centres=ssc-a,ssc-b&period=2026-Q3").decode()
    report_page = _fetch(client, "/reports/ssc-a/2026-Q3").decode()
    pdf = pdf_text(_fetch(client, "/reports/ssc-a/2026-Q3.pdf"))

    # People's surfaces: "£2.35" and never the half-even "£2.34".
    for name, text in [
        ("centre page", centre_page),
        ("compare page", compare_page),
        ("report page", report_page),
        ("PDF", pdf),
    ]:
        assert _figures(text) == {"£2.35"}, name

    # Machine surfaces carry the same rounding as a plain figure.
    compare_csv = list(
        csv.reader(io.StringIO(_fetch(client, "/compare.csv?centres=ssc-a,ssc-b").decode()[1:]))
    )
    header = next(row for row in compare_csv if row and row[0] == "metric")
    cost = next(row for row in compare_csv if row and row[0] == "ap_cost_per_invoice")
    assert cost[header.index("ssc-a value")] == "2.35"

    open_data = list(csv.DictReader(io.StringIO(_fetch(client, "/reports/2026-Q3.csv").decode())))
    (record,) = [r for r in open_data if r["centre"] == "ssc-a"]
    assert record["value"] == "2.35"
    assert "£" + record["value"] == "£2.35"


def test_the_core_module_imports_only_the_standard_library():
    """Every area imports marketplace/formatting.py, so it must import none of them back."""
    tree = ast.parse(Path(fmt.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


def test_csv_downloads_write_rounded_figures_as_plain_numbers():
    # Fixed point, not 0E-7, and a negative figure stays a number rather than being defused.
    assert to_csv([[fmt.rounded(-2.345, 2), fmt.rounded(0.00000001, 7)]]) == "-2.35,0.0000000\r\n"
