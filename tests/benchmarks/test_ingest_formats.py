"""Every accepted format gives the same figures: CSV long and wide, Excel, JSON, templates."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from marketplace.benchmarks import templates_export
from marketplace.benchmarks.parsing import XLSX_TYPE
from tests.benchmarks.ingest_world import (
    csv_bytes,
    snapshot,
    submit,
    value_of,
    xlsx_bytes,
)
from tests.factories import ObservationFactory

LONG = (
    "metric,period,value,numerator,denominator,comment",
    "ap_cost_per_invoice,2026-Q3,4.12,,,",
    "invoices_paid_30_days,2026-Q3,95.5,191,200,Two late batches",
    "payroll_accuracy,2026-Q3,99.2,,,",
)


def assert_loaded(world):
    assert value_of(world, world.cost, world.open).value == Decimal("4.12")
    paid = value_of(world, world.paid, world.open)
    assert paid.value == Decimal("95.5")
    assert (paid.numerator, paid.denominator) == (Decimal(191), Decimal(200))
    assert paid.comment == "Two late batches"
    assert value_of(world, world.payroll, world.open).value == Decimal("99.2")


@pytest.mark.parametrize(
    "content",
    [
        csv_bytes(*LONG),
        csv_bytes(*LONG, newline="\r\n"),
        csv_bytes(*LONG, bom=True),
        csv_bytes(*(line.replace(",", ";") for line in LONG), newline="\r\n", bom=True),
    ],
    ids=["comma", "crlf", "bom", "semicolon-bom-crlf"],
)
def test_long_csv_in_every_dialect_is_accepted(world, content):
    outcome = submit(world, content)

    assert outcome.created
    assert outcome.submission.file_format == "csv_long"
    assert outcome.submission.row_count == 3
    assert outcome.submission.content == content
    assert_loaded(world)


def test_wide_csv_gives_one_figure_per_metric_and_period(world):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.closed, value=5)
    content = csv_bytes(
        "metric;2026-Q2;2026-Q3",
        "ap_cost_per_invoice;5;4.12",
        "invoices_paid_30_days;96;95.5",
        newline="\r\n",
    )
    from marketplace.errors import ValidationFailed

    # 2026-Q2 is closed: the unchanged figure is fine, a new one is not.
    with pytest.raises(ValidationFailed) as caught:
        submit(world, content)
    assert [(e.row, e.field) for e in caught.value.errors] == [(3, "2026-Q2")]

    content = csv_bytes("metric;2026-Q2;2026-Q3", "ap_cost_per_invoice;5;4.12", newline="\r\n")
    outcome = submit(world, content)
    assert outcome.submission.file_format == "csv_wide"
    assert outcome.submission.row_count == 2
    assert [(c.metric, c.period, c.old, c.new) for c in outcome.changes] == [
        ("ap_cost_per_invoice", "2026-Q3", None, "4.12")
    ]
    assert value_of(world, world.cost, world.closed).revision == 1


def test_excel_long_and_wide_are_accepted(world):
    long_book = xlsx_bytes(
        [
            ["metric", "period", "value", "numerator", "denominator", "comment"],
            ["ap_cost_per_invoice", "2026-Q3", 4.12, None, None, None],
            ["invoices_paid_30_days", "2026-Q3", 95.5, 191, 200, "Two late batches"],
            ["payroll_accuracy", "2026-Q3", 99.2],
        ]
    )
    outcome = submit(world, long_book, filename="figures.xlsx", content_type=XLSX_TYPE)
    assert outcome.created and outcome.submission.file_format == "xlsx_long"
    assert_loaded(world)

    wide_book = xlsx_bytes([["metric", "2026-Q3"], ["ap_cost_per_invoice", 4.2]])
    outcome = submit(world, wide_book, filename="wide.xlsx", content_type=XLSX_TYPE)
    assert outcome.submission.file_format == "xlsx_wide"
    assert value_of(world, world.cost, world.open).value == Decimal("4.2")


def test_json_body_with_a_reason(world):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.closed, value=5)
    body = {
        "observations": [
            {"metric": "ap_cost_per_invoice", "period": "2026-Q3", "value": 4.12},
            {
                "metric": "invoices_paid_30_days",
                "period": "2026-Q3",
                "value": 95.5,
                "numerator": 191,
                "denominator": 200,
                "comment": "Two late batches",
            },
            {"metric": "payroll_accuracy", "period": "2026-Q3", "value": "99.2"},
            {"metric": "ap_cost_per_invoice", "period": "2026-Q2", "value": 5.5},
        ],
        "reason": "Q2 invoices were double counted",
    }
    outcome = submit(
        world, json.dumps(body).encode(), filename="body.json", content_type="application/json"
    )

    assert outcome.submission.file_format == "json"
    assert outcome.submission.reason == "Q2 invoices were double counted"
    assert_loaded(world)
    restated = [c for c in outcome.changes if c.restated]
    assert [(c.metric, c.period, c.old, c.new) for c in restated] == [
        ("ap_cost_per_invoice", "2026-Q2", "5", "5.5")
    ]


def test_json_in_the_wrong_shape_names_each_problem(world):
    from marketplace.errors import ValidationFailed

    body = {"observations": [{"metric": "ap_cost_per_invoice", "value": 4, "colour": "red"}]}
    with pytest.raises(ValidationFailed) as caught:
        submit(world, json.dumps(body).encode(), content_type="application/json")
    found = {(e.row, e.field) for e in caught.value.errors}
    assert found == {(1, "period"), (1, "colour")}


@pytest.mark.parametrize("layout", ["long", "wide"])
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_template_lists_the_centres_metrics_and_the_open_period(world, layout, file_format):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.open, value=4.5)
    template = templates_export.build(world.centre, layout, file_format)

    assert template.filename == f"centre-a-2026-Q3-{layout}.{file_format}"
    if file_format == "csv":
        text = template.content.decode()
        # Finance and payroll metrics only: the centre does not offer ict.
        assert "ap_cost_per_invoice" in text and "payroll_accuracy" in text
        assert "cost_per_ticket" not in text
        assert "2026-Q3" in text and "4.5" in text
    # Sent back untouched, the template changes nothing but asks for the missing figures.
    from marketplace.errors import ValidationFailed

    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        submit(world, template.content, filename=template.filename, content_type=template.mimetype)
    assert snapshot() == before
    empty = {e.message.split(" is empty")[0] for e in caught.value.errors}
    assert len(caught.value.errors) == 2, caught.value.errors
    assert all("is empty" in e.message for e in caught.value.errors), empty


def test_a_filled_in_template_is_accepted(world):
    template = templates_export.build(world.centre, "long", "csv")
    lines = template.content.decode().splitlines()
    filled = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        cells[2] = {"ap_cost_per_invoice": "4.12"}.get(cells[0], "90")
        filled.append(",".join(cells))
    outcome = submit(world, csv_bytes(*filled))
    assert outcome.submission.row_count == 3
    assert value_of(world, world.cost, world.open).value == Decimal("4.12")


def test_an_excel_percentage_is_read_as_the_person_sees_it(world):
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["metric", "period", "value"])
    sheet.append(["invoices_paid_30_days", "2026-Q3", 0.955])
    sheet["C2"].number_format = "0.0%"  # shown as 95.5%
    out = io.BytesIO()
    book.save(out)
    submit(world, out.getvalue(), filename="pct.xlsx", content_type=XLSX_TYPE)
    assert value_of(world, world.paid, world.open).value == Decimal("95.5")
