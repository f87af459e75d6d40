"""Oracle test on real public data: the GOV.UK Performance Platform's cost per transaction.

tests/data/transaction-volumes.csv: 734 government services, 21 rolling 12-month
periods. Each period's column of costs (blanks skipped) is treated as one peer group, with
cost per transaction lower-is-better as in the metric library. The statistics are checked
against NumPy, first as pure functions and then as stored by the recompute service on the
database the suite runs against (SQLite and PostgreSQL in CI).
"""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert

from marketplace.benchmarks import peers, statistics
from marketplace.benchmarks.models import Observation
from marketplace.extensions import db
from tests.benchmarks.test_statistics import agrees, mean_rank_percentile, numpy_quartiles
from tests.factories import (
    MetricFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    SubmissionFactory,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "transaction-volumes.csv"
COST_SUFFIX = ": cost per transaction (£)"


def load_cost_groups() -> dict[str, list[Decimal]]:
    """{period heading: the non-blank costs in that column}."""
    with DATA.open(newline="", encoding="utf-8-sig") as handle:
        rows = list(csv.reader(handle))
    header, services = rows[0], rows[1:]
    groups = {}
    for index, heading in enumerate(header):
        if heading.endswith(COST_SUFFIX):
            cells = (service[index].strip() for service in services)
            groups[heading.removesuffix(COST_SUFFIX)] = [Decimal(c) for c in cells if c]
    return groups


@pytest.fixture(scope="module")
def cost_groups():
    if not DATA.exists():
        pytest.skip(f"{DATA} is not present")
    groups = load_cost_groups()
    assert len(groups) == 21
    return groups


def test_the_file_is_what_we_think(cost_groups):
    with DATA.open(newline="", encoding="utf-8-sig") as handle:
        assert sum(1 for _ in csv.DictReader(handle)) == 734
    sizes = sorted(len(values) for values in cost_groups.values())
    assert sizes[0] == 29 and sizes[-1] == 150


def test_quartiles_percentiles_and_bands_match_numpy(cost_groups):
    for heading, costs in cost_groups.items():
        floats = sorted(float(c) for c in costs)
        summary = statistics.summarise(costs)
        expected = numpy_quartiles(floats)
        assert summary.n == len(costs)
        for ours, theirs in zip((summary.p25, summary.median, summary.p75), expected, strict=True):
            assert agrees(ours, theirs, floats), heading
        p25, median, p75 = expected
        for cost in costs:
            position = statistics.position_in_group(floats, cost, higher_is_better=False)
            assert position.percentile == pytest.approx(
                mean_rank_percentile(floats, float(cost), False), abs=1e-9
            )
            c = float(cost)
            numpy_band = 1 if c <= p25 else 2 if c <= median else 3 if c <= p75 else 4
            assert position.band == numpy_band, (heading, cost)


def test_stored_statistics_match_numpy_on_this_database(cost_groups):
    """Load every period as observations, recompute everything, compare what was stored."""
    metric = MetricFactory(
        code="cost_per_transaction",
        direction="lower",
        service_line__code="customer",
    )
    size = max(len(values) for values in cost_groups.values())
    centres = [
        ServiceCentreFactory(
            lines=["customer"], accredited_from=date(2010, 1, 1), accredited_until=date(2030, 1, 1)
        )
        for _ in range(size)
    ]
    submissions = [SubmissionFactory(centre=centre) for centre in centres]
    periods, rows = {}, []
    for index, (heading, costs) in enumerate(cost_groups.items()):
        period = ReportingPeriodFactory(year=2012 + index // 4, quarter=index % 4 + 1)
        periods[heading] = period
        for position, cost in enumerate(costs):
            rows.append(
                {
                    "centre_id": centres[position].id,
                    "metric_id": metric.id,
                    "period_id": period.id,
                    "value": cost,
                    "submission_id": submissions[position].id,
                }
            )
    db.session.execute(insert(Observation), rows)

    assert peers.recompute_all() == 21
    db.session.expire_all()

    found = peers.stats_for([metric.id], [p.id for p in periods.values()])
    for heading, costs in cost_groups.items():
        stats = found[(metric.id, periods[heading].id)]
        floats = sorted(float(c) for c in costs)
        exact = statistics.summarise(costs)
        assert stats.n == len(costs)
        assert list(stats.peer_values) == floats
        # Bit-identical to the pure function on every database ...
        assert (stats.minimum, stats.p25, stats.median, stats.p75, stats.maximum) == (
            exact.minimum,
            exact.p25,
            exact.median,
            exact.p75,
            exact.maximum,
        ), heading
        # ... and NumPy's to the last bits.
        for ours, theirs in zip(
            (stats.p25, stats.median, stats.p75), numpy_quartiles(floats), strict=True
        ):
            assert agrees(ours, theirs, floats), heading
        assert stats.minimum == float(np.min(floats)) and stats.maximum == float(np.max(floats))
        for cost in costs:
            percentile, band = peers.position(metric, stats, cost)
            assert percentile == pytest.approx(
                mean_rank_percentile(floats, float(cost), False), abs=1e-9
            )
            assert band == statistics.quartile_band(
                cost, exact.p25, exact.median, exact.p75, higher_is_better=False
            )
