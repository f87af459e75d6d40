"""The data-quality rules: every mistake found at once, named by row and column, nothing kept."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.benchmarks import outliers, restatements, submissions, validation
from marketplace.benchmarks.models import ObservationRevision
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from tests.benchmarks.ingest_world import (
    audit_events,
    csv_bytes,
    snapshot,
    submit,
    value_of,
)
from tests.factories import ObservationFactory, ServiceCentreFactory

SERVICES_CSV = Path(__file__).resolve().parents[1] / "data" / "services.csv"


def refused(world, content: bytes, **kwargs) -> list:
    before = snapshot()
    with pytest.raises(ValidationFailed) as caught:
        submit(world, content, **kwargs)
    assert snapshot() == before, "a refused file must write nothing"
    return caught.value.errors


def test_a_file_with_ten_mistakes_gets_ten_precise_messages_and_nothing_is_written(world):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.closed, value=5)
    content = csv_bytes(
        "metric,period,value,numerator,denominator",
        'ap_cost_per_invoice,2026-Q3,"40,000",,',  # 2 thousands separator
        "invoices_paid_30_days,Q3 2026,95,,",  # 3 period written the other way round
        "payroll_accuracy,2026-Q3,#REF!,,",  # 4 spreadsheet error
        "ap_cost_per_invoce,2026-Q3,4.1,,",  # 5 misspelt metric code
        "cost_per_ticket,2026-Q3,12,,",  # 6 a service line the centre does not offer
        "invoices_paid_30_days,2027-Q1,90,,",  # 7 a period in the future
        "payroll_accuracy,2026-Q2,99,,",  # 8 a new figure for a closed period
        "ap_cost_per_invoice,2026-Q2,5.5,,",  # 9 a restatement without a reason
        "invoices_paid_30_days,2026-Q3,120,240,200",  # 10 numerator > denominator
        "ap_cost_per_invoice,2026-Q3,,,",  # 11 blank (and a duplicate of row 2)
    )
    errors = refused(world, content)

    where = [(e.row, e.field) for e in errors]
    assert where == [
        (2, "value"),
        (3, "period"),
        (4, "value"),
        (5, "metric"),
        (6, "metric"),
        (7, "period"),
        (8, "period"),
        (9, "value"),
        (10, "value"),
        (10, "numerator"),
        (11, "value"),
        (11, "period"),
    ]
    messages = [e.message for e in errors]
    assert "Write the number without commas: 40000" in messages[0]
    assert "Write the period as 2026-Q3, not 'Q3 2026'" in messages[1]
    assert "spreadsheet error '#REF!'" in messages[2]
    assert "Did you mean 'ap_cost_per_invoice'?" in messages[3]
    assert "ict service line, which your centre does not offer" in messages[4]
    assert "2027-Q1 is in the future" in messages[5]
    assert "2026-Q2 is closed: it takes no new figures" in messages[6]
    assert "from 5 to 5.5. Give a reason" in messages[7]
    assert "above the highest allowed (100%)" in messages[8]
    assert "numerator (240) is larger than the denominator (200)" in messages[9]
    assert "is empty" in messages[10] and "never read as zero" in messages[10]
    assert "already given on row 2" in messages[11]
    assert len(set(messages)) == len(messages)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("40,000", "without commas: 40000"),
        ("1,500,000", "without commas: 1500000"),
        ("2,228.00", "without commas: 2228.00"),
        ("4,12", "Use a full stop: 4.12"),
        ("-", "'-' is a placeholder"),
        ("[not provided]", "'[not provided]' is a placeholder"),
        ("n/a", "'n/a' is a placeholder"),
        ("#REF!", "spreadsheet error '#REF!'"),
        ("#DIV/0!", "spreadsheet error '#DIV/0!'"),
        ("", "is empty"),
        ("   ", "is empty"),
        ("£4.12", "Write only the number: 4.12"),
        ("85%", "Write only the number: 85"),
        ("about four", "'about four' is not a number"),
        ("(12)", "written in brackets"),
    ],
)
def test_real_world_dirt_gets_a_message_saying_how_to_fix_it(cell, expected):
    number, problem = validation.number_problem(cell, "The value")
    assert number is None
    assert expected in problem


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Q1 2026", "2026-Q1"),
        ("2026 Q1", "2026-Q1"),
        ("q4-2025", "2025-Q4"),
        ("2026Q2", "2026-Q2"),
        ("2026-03-31", "2026-Q1"),
        ("March", "not a period"),
    ],
)
def test_periods_in_other_forms_are_pointed_at_the_right_one(cell, expected):
    period, problem = validation.period_problem(cell)
    assert period is None and expected in problem


def test_every_dirty_cell_of_the_real_spreadsheet_is_refused_with_a_message_not_a_crash(world):
    with SERVICES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    # The figure columns: quarterly volumes, costs per transaction and the 'latest' totals.
    figures = [
        i for i, name in enumerate(header) if any(k in name for k in ("Vol.", "CPT", "Latest"))
    ]
    dirty = {
        row[i]
        for row in rows[1:]
        for i in figures
        if row[i] and not row[i].replace(".", "", 1).isdigit()
    }
    # '[not provided]' fills its text columns; people paste it into figures too.
    dirty |= {cell for row in rows[1:] for cell in row if cell == "[not provided]"}
    dirty = sorted(dirty)
    assert {"-", "#REF!", "[not provided]"} <= set(dirty)
    assert any("," in cell for cell in dirty)
    # Each row repeats the same metric and period, so each also has a duplicate error:
    # 90 rows give 90 + 89 messages, inside the cap of 200.
    sample = ["-", "#REF!", "[not provided]", *[c for c in dirty if "," in c][:87]]
    lines = ["metric,period,value"] + [f'ap_cost_per_invoice,2026-Q3,"{c}"' for c in sample]
    errors = refused(world, csv_bytes(*lines))
    value_errors = [e for e in errors if e.field == "value"]
    assert [e.row for e in value_errors] == list(range(2, 92))
    assert all(
        "not a number" in e.message or "placeholder" in e.message or "without commas" in e.message
        for e in value_errors
    )


def test_errors_stop_at_the_cap_and_say_how_many_there_were(world):
    lines = ["metric,period,value"] + ["ap_cost_per_invoice,2026-Q3,-"] * 450
    with pytest.raises(ValidationFailed) as caught:
        submit(world, csv_bytes(*lines))
    assert len(caught.value.errors) == validation.MAX_ERRORS
    assert "Only the first 200 are listed" in caught.value.detail


def test_value_must_match_numerator_over_denominator_within_rounding(world):
    ok = csv_bytes(
        "metric,period,value,numerator,denominator",
        "invoices_paid_30_days,2026-Q3,33.3,1,3",  # 33.33… rounded to the metric's 1 decimal
    )
    submit(world, ok)
    errors = refused(
        world,
        csv_bytes(
            "metric,period,value,numerator,denominator",
            "invoices_paid_30_days,2026-Q3,35,1,3",
        ),
    )
    assert [(e.row, e.field) for e in errors] == [(2, "value")]
    assert "does not match numerator ÷ denominator × 100 = 33.3" in errors[0].message


def test_negative_costs_and_zero_denominators_are_refused(world):
    errors = refused(
        world,
        csv_bytes(
            "metric,period,value,numerator,denominator",
            "ap_cost_per_invoice,2026-Q3,-4,,",
            "invoices_paid_30_days,2026-Q3,50,1,0",
        ),
    )
    assert [(e.row, e.field) for e in errors] == [(2, "value"), (3, "denominator")]
    assert "below the lowest allowed (0)" in errors[0].message
    assert "must be greater than zero" in errors[1].message


def test_headers_are_checked_before_anything_else(world):
    errors = refused(world, csv_bytes("metric,when,value", "ap_cost_per_invoice,2026-Q3,4"))
    assert [(e.row, e.field) for e in errors] == [(1, "when"), (1, "period")]
    errors = refused(world, csv_bytes("metric,Q3 2026", "ap_cost_per_invoice,4"))
    assert errors[0].message == "Write the period heading as 2026-Q3, not 'Q3 2026'."
    errors = refused(world, csv_bytes("code,period,value", "ap_cost_per_invoice,2026-Q3,4"))
    assert errors[0].row == 1 and "must be headed 'metric'" in errors[0].message


def test_restating_a_published_figure_needs_a_reason_and_keeps_history(world):
    first = ObservationFactory(
        centre=world.centre, metric=world.cost, period=world.published, value=Decimal("5.00")
    )
    change = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q1,4.75")

    errors = refused(world, change)
    assert "changes the published figure" in errors[0].message

    outcome = submit(world, change, reason="Invoices of a closed site were counted twice")
    # A published figure changes only once the authority approves the restatement.
    assert value_of(world, world.cost, world.published).value == Decimal("5.00")
    restatements.approve(
        [r.public_id for r in restatements.pending(centre_id=world.centre.id)], actor=None
    )
    assert [c.as_dict() for c in outcome.changes] == [
        {
            "metric": "ap_cost_per_invoice",
            "period": "2026-Q1",
            "old": "5",
            "new": "4.75",
            "restated": True,
        }
    ]
    observation = value_of(world, world.cost, world.published)
    assert observation.id == first.id
    assert observation.value == Decimal("4.75")
    assert observation.revision == 2 and observation.restated
    assert observation.submission_id == outcome.submission.id
    (old,) = db.session.execute(db.select(ObservationRevision)).scalars()
    assert (old.observation_id, old.revision, old.value) == (first.id, 1, Decimal("5.00"))
    assert old.reason == "Invoices of a closed site were counted twice"
    assert old.actor_id == world.centre_user.id
    assert old.actor_label == world.centre_user.email
    assert old.superseded_by_submission_id == outcome.submission.id
    assert old.superseded_at is not None
    (event,) = audit_events("submission.accepted")
    assert event.detail["restated"] == 1


def test_correcting_an_open_period_needs_no_reason_but_keeps_the_old_value(world):
    submit(world, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.00"))
    outcome = submit(world, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.10"))
    assert [(c.old, c.new, c.restated) for c in outcome.changes] == [("4", "4.1", False)]
    assert value_of(world, world.cost, world.open).revision == 2
    assert db.session.execute(db.select(db.func.count(ObservationRevision.id))).scalar() == 1


def test_identical_bytes_are_a_no_op_that_returns_the_first_submission(world):
    content = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.12")
    first = submit(world, content)
    before = snapshot()
    events_before = len(audit_events("submission.accepted"))

    again = submit(world, content, channel="api")

    assert again.created is False
    assert again.submission.id == first.submission.id
    assert [c.as_dict() for c in again.changes] == [c.as_dict() for c in first.changes]
    assert snapshot() == before
    assert len(audit_events("submission.accepted")) == events_before


def test_the_same_bytes_from_another_centre_are_a_separate_submission(world):
    content = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.12")
    submit(world, content)
    from marketplace.benchmarks import submissions

    other = submissions.submit(
        world.other, content, filename="f.csv", content_type="text/csv", channel="cli"
    )
    assert other.created


def test_an_outlier_is_accepted_but_flagged_for_the_centre(world):
    for value in ("4.0", "4.2", "4.4", "4.6", "4.8", "5.0"):
        peer = ServiceCentreFactory()
        ObservationFactory(centre=peer, metric=world.cost, period=world.open, value=Decimal(value))
    outcome = submit(
        world,
        csv_bytes(
            "metric,period,value",
            "ap_cost_per_invoice,2026-Q3,95",
            "invoices_paid_30_days,2026-Q3,90",
        ),
    )
    assert [(f.metric, f.period, f.value) for f in outcome.flags] == [
        ("ap_cost_per_invoice", "2026-Q3", "95")
    ]
    assert outcome.flags[0].score > outliers.FLAG_THRESHOLD
    flagged = value_of(world, world.cost, world.open)
    assert flagged.flag_status == "flagged" and flagged.flag_score > 3.5
    # Too few peers for the other metric: no score, no flag.
    quiet = value_of(world, world.paid, world.open)
    assert (quiet.flag_status, quiet.flag_score) == ("none", None)

    corrected = submit(world, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.5"))
    assert corrected.flags == []
    assert value_of(world, world.cost, world.open).flag_status == "none"


def test_robust_z_is_the_modified_z_score_of_the_logs():
    peers = [4.0, 4.2, 4.4, 4.6, 4.8]
    assert outliers.robust_z(4.4, peers) == pytest.approx(0.0)
    assert outliers.robust_z(100, peers) > 3.5
    assert outliers.robust_z(0.1, peers) < -3.5
    assert outliers.robust_z(4.4, peers[:4]) is None  # too few peers
    assert outliers.robust_z(4.4, [4.0] * 6) is None  # no spread
    assert outliers.robust_z(0, peers) is None  # no logarithm of zero


def test_an_unquoted_thousands_separator_that_splits_the_row_is_caught(world):
    # 40,000 without quotes is two cells, '40' and '000': never read as 40.
    errors = refused(world, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,40,000"))
    assert [(e.row, e.field) for e in errors] == [(2, "value")]
    assert "more cells than the header" in errors[0].message
    assert "write 40000, not 40,000" in errors[0].message


METRICS_CSV = Path(__file__).resolve().parents[2] / "fixtures" / "demo" / "metrics.csv"


def test_every_real_gov_uk_cost_per_transaction_loads_under_the_library_range(world):
    """The reference library refuses only the impossible: GOV.UK's published costs per
    transaction reach thousands of pounds, and every one of them must load whole."""
    from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
    from tests.factories import MetricFactory, ServiceLineFactory, quarter_bounds

    with METRICS_CSV.open(encoding="utf-8", newline="") as handle:
        library = {row["code"]: row for row in csv.DictReader(handle)}
    definition = library["cost_per_transaction"]
    customer = ServiceLineFactory(code="customer")
    metric = MetricFactory(
        code="cost_per_transaction",
        service_line=customer,
        decimals=int(definition["decimals"]),
        valid_min=Decimal(definition["valid_min"]) if definition["valid_min"] else None,
        valid_max=Decimal(definition["valid_max"]) if definition["valid_max"] else None,
    )
    with SERVICES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    costs = [i for i, name in enumerate(rows[0]) if "CPT" in name]
    # Every cost figure, as a person fixes it for upload: thousands separators removed;
    # the placeholders ('-') are not figures.
    figures = [
        row[i].replace(",", "")
        for row in rows[1:]
        for i in costs
        if i < len(row) and row[i] and row[i] != "-"
    ]
    assert len(figures) > 2800 and max(Decimal(f) for f in figures) > 5000
    # A centre has one figure per metric and quarter: spread them over the past quarters
    # of as many centres as it takes, each centre one upload.
    quarters = [(year, q) for year in range(2000, 2026) for q in (1, 2, 3, 4)]
    db.session.add_all(
        ReportingPeriod(
            code=f"{year}-Q{q}",
            year=year,
            quarter=q,
            starts_on=quarter_bounds(year, q)[0],
            ends_on=quarter_bounds(year, q)[1],
            status="open",
        )
        for year, q in quarters
    )
    db.session.flush()
    for start in range(0, len(figures), len(quarters)):
        centre = ServiceCentreFactory(lines=["customer"])
        lines = ["metric,period,value"] + [
            f"cost_per_transaction,{year}-Q{q},{figure}"
            for (year, q), figure in zip(quarters, figures[start:], strict=False)
        ]
        outcome = submissions.submit(
            centre, csv_bytes(*lines), filename="cpt.csv", content_type="text/csv", channel="cli"
        )
        assert outcome.created
    stored = db.session.execute(
        db.select(db.func.count(), db.func.max(Observation.value)).where(
            Observation.metric_id == metric.id
        )
    ).one()
    assert stored[0] == len(figures)
    assert stored[1] == max(Decimal(f) for f in figures)
    assert db.session.get(Metric, metric.id).valid_max is None
