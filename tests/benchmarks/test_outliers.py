"""Outlier scores: against the stored peer group, the same arithmetic as robust_z."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.benchmarks import outliers
from marketplace.benchmarks.ingest import IngestRequest
from tests.benchmarks.ingest_world import csv_bytes, submit, value_of
from tests.factories import ObservationFactory, ServiceCentreFactory

# Ties, zeros and negatives are where two ways of taking a median part company.
values = st.one_of(
    st.sampled_from([-1.0, 0.0, 1.0, 2.0, 2.5, 3.0, 10.0]),
    st.floats(min_value=-5, max_value=1e9, allow_nan=False, allow_infinity=False),
)


@given(st.lists(values, max_size=60), st.one_of(values, st.none()))
def test_the_sorted_score_is_robust_z_to_the_last_bit(peers, value):
    value = peers[0] if value is None and peers else (value or 1.0)
    assert outliers.robust_z_of_sorted(value, sorted(peers)) == outliers.robust_z(value, peers)


def test_a_value_is_scored_against_its_peer_group_not_every_centre(world):
    """Centres outside the peer group (here: applied, never accredited) send figures too;
    they are not the value's peers, however many they are."""
    for value in ("4.0", "4.2", "4.4", "4.6", "4.8", "5.0"):
        ObservationFactory(
            centre=ServiceCentreFactory(), metric=world.cost, period=world.open, value=value
        )
    for value in ("90", "92", "94", "96", "98", "99", "100"):
        outsider = ServiceCentreFactory(accreditation_status="applied")
        ObservationFactory(centre=outsider, metric=world.cost, period=world.open, value=value)
    outcome = submit(world, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,95"))
    assert [(f.metric, f.value) for f in outcome.flags] == [("ap_cost_per_invoice", "95")]
    stored = value_of(world, world.cost, world.open)
    # Among the six peers' logs (worked by hand): median (ln 4.4 + ln 4.6) / 2 = 1.503830,
    # absolute deviations 0.022225, 0.022226, 0.064785, 0.068746, 0.105607, 0.117537, so the
    # MAD is 0.0667655 and z = (ln 95 − 1.503830) / (1.4826 × 0.0667655) = 30.813. Among all
    # thirteen centres' figures it would have been 0.346: not flagged.
    assert stored.flag_status == "flagged"
    assert stored.flag_score == 30.813
    assert stored.value == Decimal("95")


def test_a_member_is_not_its_own_peer(world):
    """Five peers and the centre itself make a group of six: five others are enough."""
    for value in ("4.0", "4.2", "4.4", "4.6", "4.8"):
        ObservationFactory(
            centre=ServiceCentreFactory(), metric=world.cost, period=world.open, value=value
        )
    outcome = submit(world, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,40"))
    assert [f.value for f in outcome.flags] == ["40"]
    # One peer fewer and there is no score at all, flagged or not.
    for value in ("90", "91", "92", "93"):
        ObservationFactory(
            centre=ServiceCentreFactory(), metric=world.paid, period=world.open, value=value
        )
    submit(world, csv_bytes("metric,period,value", "invoices_paid_30_days,2026-Q3,10"))
    assert value_of(world, world.paid, world.open).flag_score is None


def test_flags_without_a_recompute_are_refused():
    with pytest.raises(ValueError, match="need the peer groups recomputed"):
        IngestRequest(
            centre=None,
            content=b"",
            digest="",
            filename="f.csv",
            content_type="text/csv",
            channel="cli",
            actor=None,
            actor_label="test",
            reason="",
            recompute_peers=False,
            flag_outliers=True,
            max_bytes=1,
            max_rows=1,
        )
