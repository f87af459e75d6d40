"""Contracts made by awards: KPIs, baselines, ratings per published quarter, overrides,
who sees what, the API and the open data."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from marketplace.audit.models import AuditEvent
from marketplace.contracts import ratings
from marketplace.contracts.models import Contract, ContractKpi, KpiRating
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.publications import services as publications
from tests.contracts.conftest import TERMS, award

D = Decimal


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def grid(contract) -> dict:
    """{(metric code, period code): (figure, computed, override)} of the stored ratings."""
    rows = db.session.execute(
        db.select(KpiRating).join(ContractKpi).where(ContractKpi.contract_id == contract.id)
    ).scalars()
    return {(r.kpi.metric.code, r.period.code): (r.figure, r.computed, r.override) for r in rows}


def audit_actions(contract) -> list[str]:
    return list(
        db.session.execute(
            db.select(AuditEvent.action)
            .where(AuditEvent.object_type == "contract", AuditEvent.object_id == contract.public_id)
            .order_by(AuditEvent.id)
        ).scalars()
    )


# --- the award makes the contract ------------------------------------------------------------


def test_an_award_makes_the_contract_with_kpis_baselines_and_ratings_so_far(contract):
    assert (contract.value, contract.starts_on.isoformat(), contract.ends_on.isoformat()) == (
        D("1250000.00"),
        "2026-01-01",
        "2028-12-31",
    )
    assert contract.organisation.slug == "alb-persona" and contract.centre.slug == "centre-a"
    assert contract.annual_volumes == {"finance": 120000}
    kpis = {k.metric.code: k for k in contract.kpis}
    assert [k.metric.code for k in contract.kpis] == [
        "ap_cost_per_invoice",
        "payroll_accuracy",
        "invoice_cycle_days",
    ]
    # Baselines: the latest published figure at award (2026-Q2; Q3 is only closed).
    assert (kpis["ap_cost_per_invoice"].baseline, kpis["ap_cost_per_invoice"].direction) == (
        D("3.500000"),
        "lower",
    )
    assert kpis["payroll_accuracy"].baseline_period.code == "2026-Q2"
    assert kpis["invoice_cycle_days"].baseline is None
    assert "no published figure" in kpis["invoice_cycle_days"].baseline_note
    # The published quarters of the term are rated at once. Q1: £4.00 against £3.80 misses by
    # 0.20 ÷ 3.80 = 5.26%: Requires improvement. Q2: £3.50 meets it. 99.1% ≥ 99.0%: Good.
    assert grid(contract) == {
        ("ap_cost_per_invoice", "2026-Q1"): (D("4.000000"), "requires_improvement", None),
        ("ap_cost_per_invoice", "2026-Q2"): (D("3.500000"), "good", None),
        ("payroll_accuracy", "2026-Q2"): (D("99.100000"), "good", None),
    }
    assert audit_actions(contract)[0] == "contract.created"


def test_an_award_with_fewer_than_three_kpis_is_refused(bench, personas):
    terms = {**TERMS, "kpis": TERMS["kpis"][:2]}
    with pytest.raises(ValidationFailed) as caught:
        award(personas, terms)
    assert [e.field for e in caught.value.errors] == ["kpis"]
    assert "at least 3 KPIs" in caught.value.errors[0].message
    assert db.session.execute(db.select(Contract)).first() is None


def test_kpis_must_be_library_metrics_once_with_targets_in_range(bench, personas):
    terms = {
        **TERMS,
        "kpis": [
            {"row": 1, "metric": "ap_cost_per_invoice", "target": D("-1")},
            {"row": 2, "metric": "ap_cost_per_invoice", "target": D("3")},
            {"row": 3, "metric": "no_such_metric", "target": D("3")},
            {"row": 4, "metric": "payroll_accuracy"},
        ],
    }
    with pytest.raises(ValidationFailed) as caught:
        award(personas, terms)
    assert [(e.field, e.message) for e in caught.value.errors] == [
        (
            "kpi_target_1",
            "KPI 1: the target must be within AP cost per invoice's valid range (at least 0).",
        ),
        ("kpi_metric_2", "KPI 2: AP cost per invoice is a KPI already."),
        ("kpi_metric_3", "KPI 3: choose a metric of the library."),
        ("kpi_target_4", "Give the target of KPI 4."),
    ]


def test_the_database_refuses_a_contract_with_fewer_than_three_kpis(
    contract, db_session, is_postgres
):
    if not is_postgres:
        pytest.skip("deferred constraint triggers exist on PostgreSQL only; SQLite: the service")
    with pytest.raises(IntegrityError, match="fewer than 3 KPIs"), db_session.begin_nested():
        db_session.delete(contract.kpis[2])
        db_session.flush()
        db_session.execute(text("SET CONSTRAINTS contract_kpis_keep_minimum IMMEDIATE"))


def test_the_database_checks_contract_values_and_overrides(contract, db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        contract.ends_on = contract.starts_on
        db_session.flush()
    db_session.refresh(contract)
    rating = db_session.execute(db.select(KpiRating).limit(1)).scalar_one()
    with pytest.raises(IntegrityError), db_session.begin_nested():
        rating.override = "good"  # no reason, nobody, no time
        db_session.flush()
    db_session.refresh(rating)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        rating.computed = "excellent"
        db_session.flush()


# --- rating when a period is published, again after a restatement -----------------------------


def test_publishing_a_period_rates_live_contracts_once(contract, bench):
    publications.start_publication(bench.q3, actor_label="test")
    # Q3: £3.20 meets £3.80; no payroll accuracy figure in Q3, so no rating row.
    assert grid(contract)[("ap_cost_per_invoice", "2026-Q3")] == (D("3.200000"), "good", None)
    assert ("payroll_accuracy", "2026-Q3") not in grid(contract)
    # One audit event per contract and quarter rated: Q1 and Q2 at award, Q3 now.
    assert audit_actions(contract).count("contract.kpis_rated") == 3
    before = grid(contract)
    events = len(audit_actions(contract))
    assert ratings.rate_period(bench.q3) == []  # idempotent
    assert grid(contract) == before and len(audit_actions(contract)) == events


def test_a_contract_is_not_rated_outside_its_term(bench, personas):
    later = award(
        personas,
        {**TERMS, "contract_starts_on": TERMS["contract_starts_on"].replace(year=2027)},
    )
    publications.start_publication(bench.q3, actor_label="test")
    assert grid(later) == {}


def test_an_approved_restatement_rates_the_quarter_again_and_keeps_the_override(
    contract, bench, personas
):
    from marketplace.benchmarks import restatements, submissions
    from marketplace.contracts import services

    rating = services.rating_of(contract, "ap_cost_per_invoice", "2026-Q2")
    services.override(personas["alb_buyer"], contract, rating, "approaching_target", "Backlog")
    body = b"metric,period,value\nap_cost_per_invoice,2026-Q2,4.20\n"
    submissions.submit(
        bench.centres[0],
        body,
        filename="restatement.csv",
        content_type="text/csv",
        channel="cli",
        actor_label="test",
        reason="Corrected after audit",
    )
    # Pending: the rating stands on the published figure.
    assert grid(contract)[("ap_cost_per_invoice", "2026-Q2")][0] == D("3.5")
    waiting = [r.public_id for r in restatements.pending(centre_id=bench.centres[0].id)]
    restatements.approve(waiting, actor=personas["admin"])
    # £4.20 against £3.80: m = 0.40 ÷ 3.80 = 10.5%, Requires improvement; the buyer's own
    # rating stays beside it.
    assert grid(contract)[("ap_cost_per_invoice", "2026-Q2")] == (
        D("4.200000"),
        "requires_improvement",
        "approaching_target",
    )


# --- the buyer's override ----------------------------------------------------------------------


def test_the_buyer_overrides_a_rating_with_a_reason_shown_beside_the_computed(
    contract, as_persona, personas
):
    client = as_persona("alb_buyer")
    url = f"/buyer/contracts/{contract.public_id}/ratings/ap_cost_per_invoice/2026-Q1"
    form = client.get(url)
    assert form.status_code == 200
    assert "the computed rating is Requires improvement" in text_of(form.get_data(as_text=True))
    refused = client.post(url, data={"rating": "good", "reason": "  "})
    assert refused.status_code == 400
    page = text_of(refused.get_data(as_text=True))
    assert "There is a problem" in page and "Give the reason for the rating." in page
    saved = client.post(url, data={"rating": "approaching_target", "reason": "Invoice backlog"})
    assert saved.status_code == 302
    page = text_of(client.get(f"/buyer/contracts/{contract.public_id}").get_data(as_text=True))
    assert (
        "Q1 2026 £4.00 Requires improvement Approaching target (set by the buyer, "
        f"{personas['alb_buyer'].name}, 27 November 2026 at 09:00 GMT) "
        "Invoice backlog"
    ) in page
    assert "contract.rating_overridden" in audit_actions(contract)
    # Choosing the computed rating again withdraws the override (audited too).
    client.post(url, data={"rating": "requires_improvement", "reason": "Backlog cleared"})
    assert grid(contract)[("ap_cost_per_invoice", "2026-Q1")][2] is None
    assert audit_actions(contract)[-1] == "contract.override_withdrawn"


def test_only_the_contracts_own_buyers_override(contract, as_persona):
    url = f"/buyer/contracts/{contract.public_id}/ratings/ap_cost_per_invoice/2026-Q1"
    data = {"rating": "good", "reason": "Fine"}
    assert as_persona("buyer").post(url, data=data).status_code == 403  # parent department
    assert as_persona("centre_user").post(url, data=data).status_code == 403  # not a buyer
    assert grid(contract)[("ap_cost_per_invoice", "2026-Q1")][2] is None


# --- pages and who sees them -------------------------------------------------------------------


def test_the_evaluation_links_to_the_contract_it_made(contract, as_persona):
    from marketplace.selection.models import EvaluationOutcome

    outcome = db.session.get(EvaluationOutcome, contract.outcome_id)
    page = as_persona("alb_buyer").get(f"/buyer/evaluations/{outcome.evaluation.public_id}")
    assert f'href="/buyer/contracts/{contract.public_id}"' in page.get_data(as_text=True)


def test_the_contract_page_shows_terms_kpis_and_each_quarter(contract, as_persona):
    page = text_of(
        as_persona("alb_buyer").get(f"/buyer/contracts/{contract.public_id}").get_data(True)
    )
    assert "£1,250,000.00" in page and "1 January 2026" in page and "31 December 2028" in page
    assert "Finance: 120,000 invoices" in page  # the line's cost driver, as the award form asks
    assert "Target £3.80 (lower is better). Baseline at award: £3.50 (Q2 2026)" in page
    assert "Requires improvement" in page and "Good" in page
    assert "No figure" in page  # invoice cycle time, and payroll accuracy in Q1
    assert "Baseline at award: none." in page


@pytest.mark.parametrize(
    ("persona", "index", "show"),
    [
        ("alb_buyer", "/buyer/contracts", 200),
        ("buyer", "/buyer/contracts", 200),  # the ALB's parent department
        ("centre_user", "/centre/contracts", 200),
        ("other_centre_user", "/centre/contracts", 404),
        ("admin", "/admin/contracts", 200),
    ],
)
def test_who_sees_a_contract(contract, as_persona, persona, index, show):
    client = as_persona(persona)
    listing = client.get(index)
    assert listing.status_code == 200
    assert (contract.public_id in listing.get_data(as_text=True)) is (show == 200)
    assert client.get(f"{index}/{contract.public_id}").status_code == show


def test_a_buyer_of_another_organisation_is_told_nothing(contract, as_persona, personas):
    from tests.factories import OrganisationFactory, UserFactory

    stranger = UserFactory(email="buyer@elsewhere.gov.uk", organisation=OrganisationFactory())
    db.session.commit()
    from tests.conftest import sign_in

    client = as_persona(None)
    sign_in(client, stranger)
    assert client.get(f"/buyer/contracts/{contract.public_id}").status_code == 404
    assert client.get(f"/api/v1/contracts/{contract.public_id}").status_code == 404
    assert client.get("/api/v1/contracts").get_json()["data"] == []


# --- the API -----------------------------------------------------------------------------------


def test_the_api_lists_and_reads_contracts_in_the_contract_shape(contract, as_persona):
    client = as_persona("centre_user")
    listing = client.get("/api/v1/contracts").get_json()
    assert listing["meta"]["total"] == 1
    assert listing["data"][0]["id"] == contract.public_id
    body = client.get(f"/api/v1/contracts/{contract.public_id}").get_json()
    assert (body["value"], body["starts_on"], body["ends_on"]) == (
        "1250000.00",
        "2026-01-01",
        "2028-12-31",
    )
    assert body["annual_volumes"] == {"finance": 120000}
    cost = body["kpis"][0]
    assert (cost["metric"], cost["target"], cost["baseline"]) == (
        "ap_cost_per_invoice",
        "3.800000",
        "3.500000",
    )
    assert cost["ratings"][0] == {
        "period": "2026-Q1",
        "figure": "4.000000",
        "computed": "requires_improvement",
        "rating": "requires_improvement",
        "reason": None,
    }
    assert body["kpis"][2]["ratings"][0]["figure"] is None


def test_without_credentials_no_contract_is_visible_and_the_document_says_so(contract, client):
    assert client.get("/api/v1/contracts").get_json()["data"] == []
    response = client.get(f"/api/v1/contracts/{contract.public_id}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    spec = client.get("/api/v1/openapi.json").get_json()
    detail = spec["paths"]["/api/v1/contracts/{contract_id}"]["get"]["responses"]
    assert set(detail) >= {"200", "404"}
    assert "application/problem+json" in detail["404"]["content"]
    assert "ContractPage" in json.dumps(spec["paths"]["/api/v1/contracts"]["get"]["responses"])


# --- open data ---------------------------------------------------------------------------------


def test_open_data_lists_each_kpi_of_live_contracts_for_a_published_period(
    contract, client, personas
):
    from marketplace.contracts import services

    rating = services.rating_of(contract, "ap_cost_per_invoice", "2026-Q1")
    services.override(personas["alb_buyer"], contract, rating, "good", "=HYPERLINK(1)")
    db.session.commit()
    response = client.get("/reports/2026-Q1/contracts.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == (
        "period,contract,buyer,buyer_name,centre,centre_name,value,starts_on,ends_on,metric,"
        "metric_name,direction,target,figure,computed_rating,rating,reason"
    )
    assert lines[1] == (
        f"2026-Q1,{contract.public_id},alb-persona,Persona Agency,centre-a,Centre A Services,"
        "1250000,2026-01-01,2028-12-31,ap_cost_per_invoice,AP cost per invoice,lower,3.8,4,"
        "requires_improvement,good,'=HYPERLINK(1)"
    )
    assert lines[2].endswith("invoice_cycle_days,Invoice cycle time,lower,5,,,,")
    document = client.get("/reports/2026-Q1/contracts.json").get_json()
    assert document["records"][0]["rating"] == "good"
    assert document["records"][0]["reason"] == "=HYPERLINK(1)"  # JSON is data, not a sheet
    etag = response.headers["ETag"]
    again = client.get("/reports/2026-Q1/contracts.csv", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert json.loads(client.get("/reports/2026-Q2/contracts.json").data)["period"] == "2026-Q2"


def test_open_data_of_an_unpublished_period_is_not_found(contract, client):
    assert client.get("/reports/2026-Q3/contracts.csv").status_code == 404
    assert client.get("/reports/2031-Q1/contracts.json").status_code == 404
    assert client.get("/reports/nonsense/contracts.json").status_code == 404
