"""Roll-up of a department with its ALBs (issue 17): hand-worked volume-weighted averages,
who may see it, what the page shows, the CSV and the API.

The bench (tests/selection/conftest.py), 2026-Q2 (the newest published quarter; Q3 is
closed): AP cost per invoice is £3.50 at centre A, £6.50 at centre B, £3.00 at peer-1;
2026-Q1: £4.00 at A, £6.00 at B. Payroll accuracy in Q2: A 99.1%, B 98.2%. KPIs: AP cost
per invoice (target £3.80, lower is better), payroll accuracy (99.0%, higher), invoice cycle
time (nobody reports it, so never rated).

Department for Personas (dept-persona) and its ALB (alb-persona):
- the ALB's contract with centre A, finance 120,000 (its cost KPI, computed Good in Q2, is
  overridden to Requires improvement);
- the department's contract with centre B, finance 30,000 and payroll 5,000;
- the department's contract with peer-3 starting in 2027 (not live in Q2: left out).
  Q2 cost: (120,000 × 3.50 + 30,000 × 6.50) ÷ 150,000 = 615,000 ÷ 150,000 = £4.10.
  Q1 cost: (120,000 × 4.00 + 30,000 × 6.00) ÷ 150,000 = 660,000 ÷ 150,000 = £4.40.
  Cost KPI in Q2: ALB Requires improvement (override; computed Good) 120,000; department
  Inadequate (6.50 vs 3.80: 71% off) 30,000 → 80.0% and 20.0% by volume, 1 and 1 by count.
  Payroll accuracy in Q2: ALB Good (99.1), no payroll volume → counted, not weighted;
  department Approaching target (98.2: 0.8% off), 5,000 → 100.0% of the weighted volume.
Department Two (dept-two): centre A finance 10,000 and peer-1 finance 30,000:
  (10,000 × 3.50 + 30,000 × 3.00) ÷ 40,000 = 125,000 ÷ 40,000 = 3.125 → £3.13 (half up;
  half-even would say £3.12).
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal

import pytest

from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.selection import rollup
from marketplace.selection import services as selection
from tests.api.helpers import assert_problem
from tests.factories import OrganisationFactory, UserFactory
from tests.selection.conftest import KPIS, add_kpi_metric, build_bench, ready_to_lock

D = Decimal
IN_2026 = (date(2026, 1, 1), date(2028, 12, 31))


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def award(buyer, centre: str, volumes: dict, term=IN_2026, lines=("finance",)) -> Contract:
    evaluation = selection.create(
        buyer,
        {
            "title": f"Shared service from {centre}",
            "needs": "Finance",
            "period": "2026-Q2",
            "service_lines": list(lines),
            "centres": sorted({centre, "centre-a", "centre-b", "peer-4"}),
        },
    )
    ready_to_lock(buyer, evaluation)
    selection.lock(buyer, evaluation)
    outcome = selection.record_outcome(
        buyer,
        evaluation,
        "awarded",
        centre,
        "Best value",
        contract={
            "contract_value": D("1000000"),
            "contract_starts_on": term[0],
            "contract_ends_on": term[1],
            "annual_volumes": volumes,
            "kpis": KPIS,
        },
    )
    return contracts.for_outcome(outcome.id)


@pytest.fixture
def world(personas):
    bench = build_bench(personas)
    add_kpi_metric()
    alb_contract = award(personas["alb_buyer"], "centre-a", {"finance": 120000})
    dept_contract = award(
        personas["buyer"],
        "centre-b",
        {"finance": 30000, "payroll": 5000},
        lines=("finance", "payroll"),
    )
    later = award(
        personas["buyer"], "peer-3", {"finance": 999999}, term=(date(2027, 4, 1), date(2030, 3, 31))
    )
    rating = contracts.rating_of(alb_contract, "ap_cost_per_invoice", "2026-Q2")
    contracts.override(
        personas["alb_buyer"], alb_contract, rating, "requires_improvement", "Late invoices"
    )
    dept_two = OrganisationFactory(slug="dept-two", name="Department Two")
    two_buyer = UserFactory(email="buyer@two.example.gov.uk", organisation=dept_two)
    award(two_buyer, "centre-a", {"finance": 10000})
    award(two_buyer, "peer-1", {"finance": 30000})
    db.session.commit()
    return {
        "bench": bench,
        "alb_contract": alb_contract,
        "dept_contract": dept_contract,
        "later": later,
        "two_buyer": two_buyer,
    }


def of(slug: str, period: str | None = None) -> dict:
    return rollup.rollup(rollup.organisation_for_rollup(slug), rollup.choose_period(period))


def line(result: dict, code: str) -> dict:
    return next(x for x in result["unit_costs"] if x["service_line"] == code)


def kpi(result: dict, code: str) -> dict:
    return next(x for x in result["kpis"] if x["metric"] == code)


def shares(entry: dict) -> dict:
    return {r["rating"]: (r["count"], r["volume"], r["share"]) for r in entry["ratings"]}


# --- the figures, worked by hand -------------------------------------------------------------


def test_a_department_rolls_up_its_own_and_its_albs_live_contracts(world):
    result = of("dept-persona")
    assert result["period"]["code"] == "2026-Q2"
    assert [o["slug"] for o in result["covers"]] == ["dept-persona", "alb-persona"]
    ids = {c["id"] for c in result["contracts"]}
    assert ids == {world["alb_contract"].public_id, world["dept_contract"].public_id}
    finance = line(result, "finance")
    assert finance["metric"] == "ap_cost_per_invoice"
    assert finance["average"] == D("4.10")
    assert (finance["volume"], finance["weighted_volume"], finance["contracts"]) == (
        150000,
        150000,
        2,
    )
    behind = {(r["centre"]["slug"], r["organisation"]["slug"]): r for r in finance["behind"]}
    assert behind["centre-a", "alb-persona"]["volume"] == 120000
    assert behind["centre-a", "alb-persona"]["unit_cost"] == D("3.50")
    assert behind["centre-a", "alb-persona"]["annual_cost"] == D("420000.00")
    assert behind["centre-b", "dept-persona"]["unit_cost"] == D("6.50")
    assert finance["note"] is None


def test_an_earlier_published_quarter_uses_that_quarters_figures(world):
    assert line(of("dept-persona", "2026-Q1"), "finance")["average"] == D("4.40")


def test_a_line_nothing_prices_has_no_figure_and_says_so(world):
    payroll = line(of("dept-persona"), "payroll")
    assert payroll["average"] is None
    assert payroll["metric"] is None
    assert payroll["note"] == "No unit-cost metric prices this service line."


def test_ratings_that_stand_are_counted_and_weighted_by_volume(world):
    result = of("dept-persona")
    cost = kpi(result, "ap_cost_per_invoice")
    assert shares(cost) == {
        "good": (0, 0, D("0.0")),
        "approaching_target": (0, 0, D("0.0")),
        "requires_improvement": (1, 120000, D("80.0")),
        "inadequate": (1, 30000, D("20.0")),
    }
    overridden = [r for r in cost["behind"] if r["overridden"]]
    assert [(r["organisation"]["slug"], r["computed"], r["rating"]) for r in overridden] == [
        ("alb-persona", "good", "requires_improvement")
    ]
    accuracy = kpi(result, "payroll_accuracy")
    assert shares(accuracy)["good"] == (1, 0, D("0.0"))
    assert shares(accuracy)["approaching_target"] == (1, 5000, D("100.0"))
    cycle = kpi(result, "invoice_cycle_days")
    assert (cycle["rated"], cycle["unrated"]) == (0, 2)
    assert all(r["share"] is None for r in cycle["ratings"])


def test_another_department_rounds_half_up_to_the_penny(world):
    result = of("dept-two")
    assert [o["slug"] for o in result["covers"]] == ["dept-two"]
    assert line(result, "finance")["average"] == D("3.13")
    # None of Department for Personas' contracts is in it.
    assert {c["organisation"]["slug"] for c in result["contracts"]} == {"dept-two"}


def test_an_albs_roll_up_is_its_own_contracts_only(world):
    result = of("alb-persona")
    assert [o["slug"] for o in result["covers"]] == ["alb-persona"]
    assert line(result, "finance")["average"] == D("3.50")


def test_a_centre_without_a_published_figure_is_listed_and_left_out(world, personas):
    db.session.delete(world["bench"].observations["ap_cost_per_invoice", "2026-Q2", "centre-b"])
    db.session.flush()
    finance = line(of("dept-persona"), "finance")
    assert finance["average"] == D("3.50")
    assert finance["weighted_volume"] == 120000 and finance["volume"] == 150000
    missing = [r for r in finance["behind"] if r["unit_cost"] is None]
    assert [r["centre"]["slug"] for r in missing] == ["centre-b"]
    assert missing[0]["annual_cost"] is None
    assert finance["note"] == "1 contract without a published unit cost for the quarter left out."


def test_no_figure_at_all_is_none_not_zero(world):
    for key in (("centre-a",), ("centre-b",)):
        db.session.delete(world["bench"].observations[("ap_cost_per_invoice", "2026-Q2", *key)])
    db.session.flush()
    finance = line(of("dept-persona"), "finance")
    assert finance["average"] is None
    assert "published AP cost per invoice" in finance["note"]


def test_an_unpublished_quarter_is_not_rolled_up(world):
    from marketplace.errors import NotFound

    with pytest.raises(NotFound):
        rollup.choose_period("2026-Q3")
    with pytest.raises(NotFound):
        rollup.organisation_for_rollup("centre-a")


# --- who may see it --------------------------------------------------------------------------

API = "/api/v1/organisations/{}/rollup"


@pytest.mark.parametrize(
    ("persona", "slug", "status"),
    [
        ("anonymous", "dept-persona", 401),
        ("centre_user", "dept-persona", 403),
        ("alb_buyer", "dept-persona", 403),
        ("alb_buyer", "alb-persona", 200),
        ("buyer", "dept-persona", 200),
        ("buyer", "alb-persona", 200),
        ("buyer", "dept-two", 403),
        ("admin", "dept-persona", 200),
        ("admin", "dept-two", 200),
        ("admin", "centre-a", 404),
        ("admin", "no-such-body", 404),
    ],
)
def test_the_api_is_authorised_like_the_page(world, as_persona, persona, slug, status):
    response = as_persona(persona).get(API.format(slug))
    if status == 200:
        assert response.status_code == 200, response.get_data(as_text=True)
    else:
        assert_problem(response, status)


def test_a_buyer_of_another_department_is_refused(world, app):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, world["two_buyer"])
    assert_problem(client.get(API.format("dept-persona")), 403)
    assert client.get("/buyer/rollup?organisation=dept-persona").status_code == 403
    page = text_of(client.get("/buyer/rollup").get_data(as_text=True))
    assert "£3.13" in page


def test_an_alb_buyer_asking_for_the_department_is_told_why(world, as_persona):
    body = assert_problem(as_persona("alb_buyer").get(API.format("dept-persona")), 403)
    assert "own body" in body["detail"]
    response = as_persona("alb_buyer").get("/buyer/rollup?organisation=dept-persona")
    assert response.status_code == 403
    assert "only the department" in text_of(response.get_data(as_text=True))


def test_the_api_answers_the_figures_and_checks_the_period(world, as_persona):
    client = as_persona("buyer")
    body = client.get(API.format("dept-persona") + "?period=2026-Q1").get_json()
    assert body["period"] == {"code": "2026-Q1", "label": body["period"]["label"]}
    finance = next(x for x in body["unit_costs"] if x["service_line"] == "finance")
    assert finance["average"] == "4.40"
    payroll = next(x for x in body["unit_costs"] if x["service_line"] == "payroll")
    assert payroll["average"] is None
    assert_problem(client.get(API.format("dept-persona") + "?period=2026-Q5"), 422)
    assert_problem(client.get(API.format("dept-persona") + "?period=2026-Q3"), 404)


# --- the page and the CSV --------------------------------------------------------------------


def test_the_department_buyers_page_shows_the_figures_and_the_centres_behind(world, as_persona):
    response = as_persona("buyer").get("/buyer/rollup")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = text_of(html)
    assert "Volume-weighted average unit cost: £4.10" in page
    assert "Centre A Services" in page and "Centre B Services" in page
    assert "Persona Agency" in page
    assert "Requires improvement (the buyer's override)" in page
    assert "80.0%" in page and "20.0%" in page
    assert "No unit-cost metric prices this service line." in page
    assert 'role="region"' in html and "<caption" in html
    assert 'href="/buyer/rollup.csv?organisation=dept-persona&amp;period=2026-Q2"' in html
    assert "999,999" not in page  # the contract starting in 2027 is not live in Q2


def test_the_contracts_page_links_the_roll_up(world, as_persona):
    html = as_persona("buyer").get("/buyer/contracts").get_data(as_text=True)
    assert 'href="/buyer/rollup"' in html


def test_an_admin_chooses_any_department(world, as_persona):
    client = as_persona("admin")
    assert "Choose a department or ALB" in client.get("/admin/rollup").get_data(as_text=True)
    page = text_of(client.get("/admin/rollup?organisation=dept-two").get_data(as_text=True))
    assert "£3.13" in page
    assert client.get("/admin/rollup?organisation=dept-two&period=2026-Q3").status_code == 404


def test_the_csv_holds_every_figure_and_defuses_formulas(world, as_persona):
    world["dept_contract"].organisation.name = '=HYPERLINK("http://x")'
    db.session.commit()
    response = as_persona("buyer").get("/buyer/rollup.csv?period=2026-Q2")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    average = next(
        r
        for r in rows
        if r["section"] == "average_unit_cost" and r["service_line_or_metric"] == "finance"
    )
    assert (average["figure"], average["count"], average["volume"]) == ("4.10", "2", "150000")
    payroll = next(
        r
        for r in rows
        if r["section"] == "average_unit_cost" and r["service_line_or_metric"] == "payroll"
    )
    assert payroll["figure"] == ""
    costs = sorted(
        (r["centre"], r["volume"], r["unit_cost"], r["annual_cost"])
        for r in rows
        if r["section"] == "unit_cost" and r["service_line_or_metric"] == "finance"
    )
    assert costs == [
        ("Centre A Services", "120000", "3.50", "420000.00"),
        ("Centre B Services", "30000", "6.50", "195000.00"),
    ]
    share = next(
        r
        for r in rows
        if r["section"] == "rating_share"
        and r["service_line_or_metric"] == "ap_cost_per_invoice"
        and r["rating"] == "requires_improvement"
    )
    assert (share["figure"], share["count"], share["volume"]) == ("80.0", "1", "120000")
    overridden = [r for r in rows if r["section"] == "kpi_rating" and r["overridden"] == "yes"]
    assert [r["organisation"] for r in overridden] == ["Persona Agency"]
    names = {r["organisation"] for r in rows if r["organisation"]}
    assert '\'=HYPERLINK("http://x")' in names
