"""Projected cost and narrowed groups on /compare, its CSV and GET /api/v1/compare.

Hand-worked from the selection bench (tests/selection/conftest.py): the latest published
cost per invoice (2026-Q2) is centre-a £3.50, centre-b £6.50, peer-0 £5.00, and the Q2
group is 2.50, 3.00, 3.50, 5.00, 6.50, 7.00, 8.00 (n = 7). For 40,000 invoices a year:

- centre-a 40,000 × 3.50 = £140,000.00; centre-b £260,000.00; peer-0 £200,000.00;
- peer p25 (position 1.5: 3.00 + 0.5 × 0.50 = 3.25) £130,000.00, median £200,000.00,
  p75 (position 4.5: 6.50 + 0.5 × 0.50 = 6.75) £270,000.00;
- against centre-b as the current provider: savings £120,000.00, £0.00, £60,000.00;
- price scores: 100, 100 × 140,000 ÷ 260,000 = 53.85, 100 × 140,000 ÷ 200,000 = 70.
"""

from __future__ import annotations

import csv
import html
import io
import re
from decimal import Decimal

import numpy as np
import pytest

from marketplace.benchmarks.visibility import audience_for
from marketplace.errors import ValidationFailed
from marketplace.selection import compare as comparing
from marketplace.selection import projection as projecting

D = Decimal
THREE = "centres=centre-a,centre-b,peer-0"


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def read_csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))


def test_projection_service_hand_worked(bench, personas):
    audience = audience_for(personas["buyer"])
    # A buyer comparing the closed Q3 still prices at the latest *published* unit cost.
    comparison = comparing.compare(audience, ["centre-a", "centre-b", "peer-0"], "2026-Q3")
    projection = projecting.project(
        audience, comparison.centres, {"invoices": 40_000}, current_provider="centre-b"
    )
    a, b, _p0 = projection.centres
    assert [c.total for c in projection.centres] == [D("140000.00"), D("260000.00"), D("200000.00")]
    assert a.lines[0].unit_cost == D("3.50") and a.lines[0].period.code == "2026-Q2"
    assert [c.saving for c in projection.centres] == [D("120000.00"), D("0.00"), D("60000.00")]
    assert [c.price_score for c in projection.centres] == [D("100.00"), D("53.85"), D("70.00")]
    assert b.is_current and not a.is_current
    (peer,) = projection.peer_ranges
    assert (peer.p25, peer.median, peer.p75) == (D("130000.00"), D("200000.00"), D("270000.00"))
    assert peer.n == 7 and peer.period.code == "2026-Q2"
    assert peer.label == "Peer group: all accredited centres offering the service line; n = 7"


def test_a_current_cost_in_pounds_and_a_driver_without_figures(bench, personas):
    audience = audience_for(None)
    comparison = comparing.compare(audience, ["centre-a", "centre-b"], "2026-Q2")
    projection = projecting.project(
        audience,
        comparison.centres,
        {"invoices": 40_000, "payslips": 1_000},
        current_cost=D("250000.50"),
    )
    a, _b = projection.centres
    # no payroll cost metric has figures here: no total (a partial total would look cheap)
    assert a.lines[0].cost == D("140000.00") and a.lines[1].cost is None
    assert a.total is None and a.saving is None and a.price_score is None
    assert [d.code for d in a.missing] == ["payslips"]
    assert projection.peer_ranges[1].withheld == "No peer group"
    only = projecting.project(
        audience, comparison.centres, {"invoices": 40_000}, current_cost=D("250000.50")
    )
    assert [c.saving for c in only.centres] == [D("110000.50"), D("-9999.50")]


@pytest.mark.parametrize(
    "text",
    [
        "invoices:0",
        "invoices:1000000001",
        "bogus:5",
        "invoices:abc",
        "invoices",
        "invoices:1,invoices:2",
        "invoices:-3",
        "invoices:١٢",
    ],
)
def test_volumes_are_bounded_whole_numbers_of_known_drivers(text):
    with pytest.raises(ValidationFailed):
        projecting.parse_volumes(text)


def test_volumes_parse():
    assert projecting.parse_volumes("invoices:40000, spend:1000000000") == {
        "invoices": 40_000,
        "spend": 10**9,
    }
    assert projecting.parse_volumes(None) == {} == projecting.parse_volumes(" ")


def test_the_current_provider_must_be_compared(bench, personas):
    audience = audience_for(None)
    comparison = comparing.compare(audience, ["centre-a", "centre-b"], "2026-Q2")
    with pytest.raises(ValidationFailed):
        projecting.project(audience, comparison.centres, {"invoices": 1}, current_provider="peer-3")


# --- the page and its CSV ----------------------------------------------------------------------


def test_compare_page_shows_projected_cost(bench, as_persona):
    url = f"/compare?{THREE}&period=2026-Q2&volume:invoices=40,000&current_provider=centre-b"
    response = as_persona("buyer").get(url)
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    section = text[text.index("Projected annual cost for your volumes") :]
    assert (
        "Centre A Services £140,000.00 at £3.50, Q2 2026 £140,000.00 £120,000.00 100.00" in section
    )
    assert "Centre B Services (current provider) £260,000.00" in section
    assert "53.85" in section and "70.00" in section
    assert (
        "40,000 invoices Peer group: all accredited centres offering the service line; n = 7, "
        "Q2 2026 £130,000.00 £200,000.00 £270,000.00"
    ) in section


def test_the_volumes_form_explains_a_bad_volume(bench, as_persona):
    response = as_persona("buyer").get(f"/compare?{THREE}&volume:invoices=lots")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#volume:invoices"' in page
    assert "Give the invoices a year as a whole number" in text_of(page)
    too_many = as_persona("buyer").get(f"/compare?{THREE}&volume:invoices=1000000001")
    assert too_many.status_code == 400
    assert "from 1 to 1,000,000,000" in text_of(too_many.get_data(as_text=True))


def test_compare_csv_includes_the_projected_cost(bench, as_persona):
    rows = read_csv(
        as_persona("anonymous").get(
            f"/compare.csv?{THREE}&period=2026-Q2&volume:invoices=40000&current_provider=centre-b"
        )
    )
    assert ["Peer group", "all accredited centres offering the service line"] in rows
    start = rows.index(["Projected annual cost"])
    assert rows[start + 1] == ["volumes", "invoices:40000"]
    header = rows[start + 4]
    assert header[:4] == [
        "centre",
        "invoices unit cost (£)",
        "invoices period",
        "invoices cost (£)",
    ]
    assert rows[start + 5] == [
        "centre-a",
        "3.50",
        "2026-Q2",
        "140000.00",
        "140000.00",
        "120000.00",
        "100.00",
    ]
    assert rows[-1][:3] == ["invoices", "40000", "2026-Q2"]
    assert rows[-1][5:] == ["130000.00", "200000.00", "270000.00"]


def test_compare_page_with_a_narrowed_group(bench, as_persona):
    # Every bench centre serves 25,000 employees: the band 20,001–50,000 holds all seven.
    url = f"/compare?{THREE}&period=2026-Q2&size_band=20000_50000"
    text = text_of(as_persona("buyer").get(url).get_data(as_text=True))
    assert "Percentiles, bands and medians are for the narrowed peer group" in text
    assert "£5.00 Peer group: centres, 20,001–50,000 employees served; n = 7" in text
    small = text_of(
        as_persona("buyer").get(f"/compare?{THREE}&business_model=private").get_data(True)
    )
    assert "Too few centres for a narrowed comparison (n = 0; at least 5 needed)." in small
    assert "percentile" not in small[small.index("Benchmarks side by side") :]


def test_the_public_is_not_offered_the_filter_on_compare(bench, as_persona):
    page = as_persona("anonymous").get(f"/compare?{THREE}&business_model=private").get_data(True)
    text = text_of(page)
    assert 'name="business_model"' not in page
    assert "Sign in as a buyer or a centre to narrow the peer group" in text
    assert "£5.00 7 centres" in text  # the standard group


# --- the API -------------------------------------------------------------------------------------

API = f"/api/v1/compare?{THREE}&period=2026-Q2&volumes=invoices:40000&current_provider=centre-b"


def test_api_compare_adds_projected_cost(bench, as_persona):
    body = as_persona("anonymous").get(API).get_json()
    costs = {c["centre"]: c["projected_cost"] for c in body["centres"]}
    assert costs["centre-a"]["total"] == "140000.00"
    assert costs["centre-a"]["saving"] == "120000.00"
    assert costs["centre-b"]["price_score"] == 53.85 and costs["centre-b"]["current_provider"]
    assert costs["centre-a"]["lines"] == [
        {
            "driver": "invoices",
            "volume": 40000,
            "unit_cost": 3.5,
            "period": "2026-Q2",
            "cost": "140000.00",
        }
    ]
    (peer,) = body["projection"]["peer_ranges"]
    assert (peer["p25"], peer["median"], peer["p75"]) == ("130000.00", "200000.00", "270000.00")
    assert body["projection"]["current_cost"] == "260000.00"
    assert body["peer_group"]["narrowed"] is False
    plain = as_persona("anonymous").get(f"/api/v1/compare?{THREE}").get_json()
    assert plain["projection"] is None
    assert all(c["projected_cost"] is None for c in plain["centres"])


@pytest.mark.parametrize(
    "query",
    [
        "volumes=invoices:0",
        "volumes=nope:3",
        "volumes=invoices:99999999999",
        "current_cost=abc&volumes=invoices:1",
        "current_provider=peer-4&volumes=invoices:1",
    ],
)
def test_api_compare_refuses_bad_volumes(bench, as_persona, query):
    response = as_persona("anonymous").get(f"/api/v1/compare?{THREE}&{query}")
    assert response.status_code == 422, response.get_json()


def test_api_compare_refuses_narrowing_from_the_public(bench, as_persona):
    response = as_persona("anonymous").get(f"/api/v1/compare?{THREE}&size_band=under_5000")
    assert response.status_code == 401
    assert (
        as_persona("buyer").get(f"/api/v1/compare?{THREE}&size_band=under_5000").status_code == 200
    )


def test_api_compare_body_is_exactly_what_its_schema_describes(bench, as_persona):
    from marketplace.selection.schemas import ComparisonSchema

    for url in (
        API,
        API + "&size_band=20000_50000",
        f"/api/v1/compare?{THREE}&business_model=private",
    ):
        body = as_persona("buyer").get(url).get_json()
        schema = ComparisonSchema()
        assert schema.dump(schema.load(body)) == body


def test_api_compare_narrowed_statistics_match_numpy(personas, as_persona):
    from tests.benchmarks.like_world import build_like_world

    world = build_like_world(personas)
    url = (
        "/api/v1/compare?centres=mutual-1,mutual-2,private-1&period=2026-Q2"
        "&business_model=employee_owned_mutual&volumes=invoices:10000"
    )
    body = as_persona("buyer").get(url).get_json()
    row = next(r for r in body["metrics"] if r["metric"]["code"] == "ap_cost_per_invoice")
    slugs = world.members(
        "ap_cost_per_invoice", "2026-Q2", lambda b, *_: b == "employee_owned_mutual"
    )
    values = [float(world.values["ap_cost_per_invoice", "2026-Q2", s]) for s in slugs]
    p25, median, _p75 = (float(x) for x in np.percentile(values, [25, 50, 75]))
    assert row["statistics"]["n"] == len(values) == 8
    assert row["statistics"]["median"] == pytest.approx(median, rel=1e-12)
    assert row["statistics"]["p25"] == pytest.approx(p25, rel=1e-12)
    assert row["peer_group"]["description"] == "Peer group: employee-owned mutuals; n = 8"
    private = next(v for v in row["values"] if v["centre"] == "private-1")
    assert private["percentile"] is None  # not a member of the narrowed group
    (peer,) = body["projection"]["peer_ranges"]
    assert peer["n"] == 8
    assert D(peer["median"]) == (D(10_000) * D(repr(median))).quantize(D("0.01"))
