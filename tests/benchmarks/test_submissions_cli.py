"""`flask import-benchmarks CENTRE_SLUG FILE [--reason TEXT]`: the same service as the web."""

from __future__ import annotations

from decimal import Decimal

from marketplace.benchmarks.models import Submission
from marketplace.extensions import db
from tests.benchmarks.ingest_world import audit_events, csv_bytes, snapshot, value_of, xlsx_bytes
from tests.factories import ObservationFactory


def run(app, *args):
    return app.test_cli_runner().invoke(args=["import-benchmarks", *map(str, args)])


def test_a_csv_file_is_imported_and_reimporting_changes_nothing(world, app, tmp_path):
    path = tmp_path / "q3.csv"
    path.write_bytes(csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.12"))
    result = run(app, "centre-a", path)
    assert result.exit_code == 0, result.output
    assert "1 rows, 1 new, 0 changed, 0 unchanged" in result.output
    assert value_of(world, world.cost, world.open).value == Decimal("4.12")
    (sub,) = db.session.execute(db.select(Submission)).scalars()
    assert sub.channel == "cli" and sub.actor_label.startswith("cli:")

    before = snapshot()
    again = run(app, "centre-a", path)
    assert again.exit_code == 0
    assert "already accepted" in again.output and "Nothing changed" in again.output
    assert snapshot() == before


def test_an_excel_file_with_a_restatement_needs_the_reason_option(world, app, tmp_path):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.closed, value=5)
    path = tmp_path / "fix.xlsx"
    path.write_bytes(xlsx_bytes([["metric", "2026-Q2"], ["ap_cost_per_invoice", 4.5]]))
    refused = run(app, "centre-a", path)
    assert refused.exit_code == 1
    assert "row 2, 2026-Q2: This changes the closed figure" in refused.output
    assert len(audit_events("submission.refused")) == 1

    result = run(app, "centre-a", path, "--reason", "Credit notes were missed")
    assert result.exit_code == 0, result.output
    assert "1 changed" in result.output and "wait for the authority" not in result.output
    assert value_of(world, world.cost, world.closed).value == Decimal("4.5")


def test_every_error_is_listed_and_nothing_is_written(world, app, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes("metric,period,value", "ap_cost_per_invoice,Q3 2026,#REF!"))
    before = snapshot()
    result = run(app, "centre-a", path)
    assert result.exit_code == 1
    assert "2 problems found. None of its figures were saved." in result.output
    assert "row 2, period: Write the period as 2026-Q3" in result.output
    assert (
        "row 2, value: The value for ap_cost_per_invoice is the spreadsheet error" in result.output
    )
    assert snapshot() == before


def test_an_unknown_centre_is_an_error(world, app, tmp_path):
    path = tmp_path / "q3.csv"
    path.write_bytes(b"metric,period,value\n")
    result = run(app, "nowhere", path)
    assert result.exit_code == 1
    assert "There is no service centre 'nowhere'" in result.output


def test_a_file_over_the_limit_is_not_read_whole(world, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 100)
    path = tmp_path / "big.csv"
    path.write_bytes(b"metric,period,value\n" + b"ap_cost_per_invoice,2026-Q3,4\n" * 1000)
    result = run(app, "centre-a", path)
    assert result.exit_code == 1
    assert "larger than the limit" in result.output
