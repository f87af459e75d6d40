"""Narrowed peer groups (like with like): statistics against NumPy, the threshold, who may
narrow, the /metrics/<code> page and GET /api/v1/benchmarks/<code>."""

from __future__ import annotations

import html
import math
import re

import numpy as np
import pytest

from marketplace.benchmarks import narrowing, peers
from marketplace.benchmarks.distribution import distribution
from marketplace.benchmarks.narrowing import PeerFilter, size_band_of
from marketplace.benchmarks.visibility import audience_for
from marketplace.errors import PermissionDenied
from tests.benchmarks.like_world import build_like_world


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def world(personas):
    return build_like_world(personas)


def close(ours: float, theirs: float, values) -> bool:
    """NumPy computes b − (b − a)(1 − t) when t ≥ 0.5 (see test_statistics.py)."""
    scale = max(abs(float(v)) for v in values)
    return ours == theirs or abs(ours - theirs) <= 4 * math.ulp(scale)


def in_band(band):
    low, high = {
        "under_5000": (0, 4_999),
        "5000_20000": (5_000, 20_000),
        "20000_50000": (20_001, 50_000),
        "over_50000": (50_001, 10**9),
    }[band]
    return lambda _b, _d, _p, employees: employees is not None and low <= employees <= high


# (filter, the same rule written independently over the world's attributes)
FILTERS = [
    (
        PeerFilter(business_model="employee_owned_mutual"),
        lambda b, d, p, e: b == "employee_owned_mutual",
    ),
    (
        PeerFilter(business_model="employee_owned_mutual", size_band="5000_20000"),
        lambda b, d, p, e: b == "employee_owned_mutual" and in_band("5000_20000")(b, d, p, e),
    ),
    (PeerFilter(size_band="20000_50000"), in_band("20000_50000")),
    (PeerFilter(size_band="under_5000"), in_band("under_5000")),
    (PeerFilter(size_band="over_50000"), in_band("over_50000")),
    (PeerFilter(delivery_model="virtual"), lambda b, d, p, e: d == "virtual"),
    (PeerFilter(platform="ORACLE hcm cloud"), lambda b, d, p, e: p.lower() == "oracle hcm cloud"),
    (
        PeerFilter(delivery_model="integrated_centres", platform="Oracle Fusion"),
        lambda b, d, p, e: d == "integrated_centres" and p == "Oracle Fusion",
    ),
    (PeerFilter(business_model="private"), lambda b, d, p, e: b == "private"),  # n = 4
    (
        PeerFilter(business_model="private", size_band="under_5000"),
        lambda b, d, p, e: b == "private" and e is not None and e < 5000,
    ),
]


@pytest.mark.parametrize("index", range(len(FILTERS)))
@pytest.mark.parametrize("metric_code", ["ap_cost_per_invoice", "invoice_exception_rate"])
@pytest.mark.parametrize("period_code", ["2026-Q2", "2026-Q3"])
def test_narrowed_statistics_match_numpy(world, index, metric_code, period_code):
    peer_filter, keep = FILTERS[index]
    metric = world.cost if metric_code == world.cost.code else world.exceptions
    period = world.q2 if period_code == "2026-Q2" else world.q3
    stats = peers.group_stats(metric.id, period.id)
    group = narrowing.narrowed_group(peer_filter, period, metric.id, stats)
    expected_slugs = world.members(metric_code, period_code, keep)
    values = [float(world.values[metric_code, period_code, slug]) for slug in expected_slugs]
    assert group.n == len(expected_slugs)
    assert group.peer_centre_ids == sorted(world.centres[s].id for s in expected_slugs)
    assert group.peer_values == sorted(values)
    if not values:
        assert group.median is None and not group.disclosable
        return
    p25, median, p75 = np.percentile(np.array(values), [25, 50, 75])
    for ours, theirs in ((group.p25, p25), (group.median, median), (group.p75, p75)):
        assert close(ours, float(theirs), values)
    assert group.minimum == min(values) and group.maximum == max(values)
    assert group.disclosable == (len(values) >= 5)


def test_the_standard_group_leaves_out_centres_outside_it(world):
    stats = peers.group_stats(world.cost.id, world.q2.id)
    everyone = len(world.members("ap_cost_per_invoice", "2026-Q2", lambda *a: True))
    assert stats.n == everyone == 17  # 15 + the two personas; not the two outsiders
    mutuals = narrowing.narrowed_group(
        PeerFilter(business_model="employee_owned_mutual"), world.q2, world.cost.id, stats
    )
    assert mutuals.n == 8  # mutual-1 … mutual-8; neither mutual outsider


def test_a_group_of_every_member_reproduces_the_stored_statistics(world):
    stats = peers.group_stats(world.cost.id, world.q2.id)
    # Every world centre is in one of the four business models: their union is the group.
    total = 0
    for model in ("employee_owned_mutual", "private", "public_in_house", "joint_venture"):
        total += narrowing.narrowed_group(
            PeerFilter(business_model=model), world.q2, world.cost.id, stats
        ).n
    assert total == stats.n
    # And a filter every member passes (all have a platform) gives identical figures.
    group = narrowing.narrowed_groups(
        PeerFilter(business_model=None), world.q2, {world.cost.id: stats}
    )[world.cost.id]
    # (an empty filter is not narrowing, but the computation is the same function)
    assert (group.n, group.p25, group.median, group.p75) == (
        stats.n,
        stats.p25,
        stats.median,
        stats.p75,
    )


def test_size_band_boundaries_are_whole_numbers_both_ends_inclusive():
    assert size_band_of(None) is None
    assert size_band_of(0) == size_band_of(4_999) == "under_5000"
    assert size_band_of(5_000) == size_band_of(20_000) == "5000_20000"
    assert size_band_of(20_001) == size_band_of(50_000) == "20000_50000"
    assert size_band_of(50_001) == size_band_of(10**9) == "over_50000"


def test_the_group_is_described_beside_its_figures():
    f = PeerFilter(business_model="employee_owned_mutual", size_band="5000_20000")
    assert f.label(7) == "Peer group: employee-owned mutuals, 5,000–20,000 employees served; n = 7"
    assert PeerFilter().label(17) == (
        "Peer group: all accredited centres offering the service line; n = 17"
    )
    assert PeerFilter(delivery_model="virtual", platform="Unit4").describe() == (
        "centres, virtual delivery, on Unit4"
    )
    record = f.as_record()
    assert record == {
        "size_band": "5000_20000",
        "business_model": "employee_owned_mutual",
        "delivery_model": None,
        "platform": None,
    }
    assert PeerFilter.from_record(record) == f


def test_below_the_threshold_there_are_no_statistics_for_anyone(world, personas):
    for persona in ("buyer", "admin", "centre_user"):
        audience = audience_for(personas[persona])
        page = distribution(
            audience,
            "ap_cost_per_invoice",
            "2026-Q2",
            with_history=False,
            peer_filter=PeerFilter(business_model="private"),
        )
        assert page.narrowed.n == 4
        assert page.narrowed.too_few == (
            "Too few centres for a narrowed comparison (n = 4; at least 5 needed)."
        )
        assert all(row.percentile is None and row.band is None for row in page.centres)


def test_the_public_cannot_narrow_through_the_service(world):
    with pytest.raises(PermissionDenied):
        distribution(
            audience_for(None),
            "ap_cost_per_invoice",
            peer_filter=PeerFilter(size_band="over_50000"),
        )


# --- the API -------------------------------------------------------------------------------

MUTUALS = (
    "/api/v1/benchmarks/ap_cost_per_invoice?period=2026-Q2&business_model=employee_owned_mutual"
)


def test_api_refuses_narrowing_from_the_public_with_401(world, as_persona):
    response = as_persona("anonymous").get(MUTUALS)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert "sign in" in response.get_json()["detail"].lower()
    # the standard group stays public
    assert as_persona("anonymous").get(MUTUALS.split("&")[0]).status_code == 200


@pytest.mark.parametrize("persona", ["buyer", "centre_user", "admin"])
def test_api_answers_the_narrowed_group(world, as_persona, persona):
    body = as_persona(persona).get(MUTUALS).get_json()
    expected = world.members(
        "ap_cost_per_invoice", "2026-Q2", lambda b, *_: b == "employee_owned_mutual"
    )
    values = [float(world.values["ap_cost_per_invoice", "2026-Q2", s]) for s in expected]
    assert body["peer_group"]["narrowed"] is True
    assert body["peer_group"]["business_model"] == "employee_owned_mutual"
    assert body["peer_group"]["n"] == 8 == body["statistics"]["n"]
    assert body["peer_group"]["description"] == "Peer group: employee-owned mutuals; n = 8"
    assert close(body["statistics"]["median"], float(np.median(values)), values)
    members = {row["centre"] for row in body["centres"] if row["in_peer_group"]}
    assert members == set(expected)
    assert all(row["percentile"] is not None for row in body["centres"] if row["in_peer_group"])
    best = min(body["centres"], key=lambda row: row["value"])
    assert best["percentile"] == 100.0 and best["band"] == 1


def test_api_withholds_a_narrowed_group_below_the_threshold(world, as_persona):
    body = (
        as_persona("buyer")
        .get("/api/v1/benchmarks/ap_cost_per_invoice?period=2026-Q2&business_model=private")
        .get_json()
    )
    assert body["statistics"] is None and body["statistics_withheld"] is True
    assert body["peer_group"]["n"] == 4
    assert body["peer_group"]["too_few"].startswith("Too few centres for a narrowed comparison")
    assert all(row["percentile"] is None for row in body["centres"])


def test_api_refuses_unknown_filter_values(world, as_persona):
    client = as_persona("buyer")
    for query in ("size_band=huge", "business_model=charity", "delivery_model=cloud", "platform="):
        response = client.get(f"/api/v1/benchmarks/ap_cost_per_invoice?{query}")
        assert response.status_code == 422, query
    long = "x" * 201
    assert client.get(f"/api/v1/benchmarks/ap_cost_per_invoice?platform={long}").status_code == 422


def test_api_narrowed_body_is_exactly_what_its_schema_describes(world, as_persona):
    from marketplace.selection.schemas import BenchmarkSchema

    client = as_persona("buyer")
    for url in (
        MUTUALS,
        MUTUALS.replace("employee_owned_mutual", "private"),
        MUTUALS.split("&")[0],
    ):
        body = client.get(url).get_json()
        schema = BenchmarkSchema()
        assert schema.dump(schema.load(body)) == body


def test_openapi_documents_the_filter_with_exact_enums(world, as_persona):
    document = as_persona("anonymous").get("/api/v1/openapi.json").get_json()
    parameters = {
        p["name"]: p
        for p in document["paths"]["/api/v1/benchmarks/{metric_code}"]["get"]["parameters"]
    }
    assert parameters["size_band"]["schema"]["enum"] == list(narrowing.SIZE_BANDS)
    assert set(parameters["business_model"]["schema"]["enum"]) == {
        "public_in_house",
        "joint_venture",
        "employee_owned_mutual",
        "private",
    }
    assert set(parameters["delivery_model"]["schema"]["enum"]) == {"virtual", "integrated_centres"}
    assert parameters["platform"]["schema"]["maxLength"] == 200


# --- the page ------------------------------------------------------------------------------

PAGE = "/metrics/ap_cost_per_invoice?period=2026-Q2"


def test_the_page_offers_the_filter_to_signed_in_readers_only(world, as_persona):
    public = as_persona("anonymous").get(PAGE).get_data(as_text=True)
    assert 'name="size_band"' not in public
    buyer = as_persona("buyer").get(PAGE).get_data(as_text=True)
    assert 'name="size_band"' in buyer and 'name="platform"' in buyer
    assert "Oracle HCM Cloud" in buyer  # a known platform to choose


def test_the_public_narrowing_by_address_gets_the_standard_group(world, as_persona):
    response = as_persona("anonymous").get(PAGE + "&business_model=private")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Sign in as a buyer or a centre to narrow the peer group" in text
    assert "Narrowed peer group" not in text
    assert "Peer group: all accredited centres offering the service line; n = 17" in text


def test_the_page_shows_the_narrowed_group_and_its_definition(world, as_persona):
    url = PAGE + "&business_model=employee_owned_mutual&size_band=5000_20000"
    text = text_of(as_persona("buyer").get(url).get_data(as_text=True))
    # mutual-1 (5,000), -2 (12,000), -3 (20,000), -5 (8,000), -8 (15,500)
    assert "Narrowed peer group, Q2 2026" in text
    assert "Peer group: employee-owned mutuals, 5,000–20,000 employees served; n = 5" in text
    assert "Median" in text
    table = text[text.index("by centre, Q2 2026") :]
    for slug in ("Mutual-1", "Mutual-2", "Mutual-3", "Mutual-5", "Mutual-8"):
        assert f"{slug} Services" in table
    assert "Mutual-4 Services" not in table and "Private-1 Services" not in table


def test_the_page_says_when_a_narrowed_group_is_too_small(world, as_persona):
    text = text_of(as_persona("buyer").get(PAGE + "&business_model=private").get_data(True))
    assert "Too few centres for a narrowed comparison (n = 4; at least 5 needed)." in text


def test_the_page_lists_a_bad_filter_in_an_error_summary(world, as_persona):
    response = as_persona("buyer").get(PAGE + "&size_band=huge")
    assert response.status_code == 400
    text = text_of(response.get_data(as_text=True))
    assert "There is a problem" in text and "'huge' is not a size band" in text


# --- the centre page -----------------------------------------------------------------------


def test_the_centre_page_compares_with_a_narrowed_group(world, as_persona):
    url = "/centres/mutual-2?business_model=employee_owned_mutual"
    text = text_of(as_persona("buyer").get(url).get_data(as_text=True))
    assert "against a narrowed peer group: employee-owned mutuals" in text
    assert "Peer group: employee-owned mutuals; n = 8" in text
    page = as_persona("buyer").get("/centres/mutual-2").get_data(as_text=True)
    assert 'name="business_model"' in page
    small = text_of(
        as_persona("buyer").get("/centres/private-1?business_model=private").get_data(True)
    )
    assert "Too few centres for a narrowed comparison (n = 4; at least 5 needed)." in small


def test_the_public_centre_page_keeps_the_standard_group(world, as_persona):
    response = as_persona("anonymous").get("/centres/mutual-2?business_model=private")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'name="business_model"' not in page
    assert "Sign in as a buyer or a centre to narrow the peer group" in text_of(page)
