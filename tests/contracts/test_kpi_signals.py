"""Contract KPIs in the early-warning summary (contracts/signals.py) and in alerts.

The contract (tests/contracts/conftest.py): Persona Agency (an ALB of the Department for
Personas) buys from Centre A for 2026 to 2028, with KPIs on AP cost per invoice (target
£3.80, lower is better), payroll accuracy (99.0%) and invoice cycle time. As awarded its
latest ratings are Good (2026-Q2), so there is no KPI signal until a quarter rates worse.

Who sees a KPI signal is who sees the contract: the agency's buyers, its parent
department's buyers, Centre A's people and admins. The public, another organisation's
buyers, another centre and a buyer still waiting to join see no trace of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace import clock
from marketplace.accounts.models import JoinRequest
from marketplace.alerts import recipients
from marketplace.alerts import services as alerts
from marketplace.alerts.models import Alert, AlertRecipient
from marketplace.benchmarks import signals
from marketplace.benchmarks.visibility import audience_for
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.publications import services as publications
from marketplace.selection.models import Evaluation, EvaluationCandidate
from tests.conftest import sign_in
from tests.factories import OrganisationFactory, UserFactory

EVIDENCE = (
    "Finance shared service 2026 (Persona Agency, 1 January 2026 to 31 December 2028): "
    "AP cost per invoice was £4.40 in Q3 2026 against a target of £3.80 (lower is better), "
    "rated Inadequate."
)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def rated_badly(bench, contract):
    """Centre A's Q3 cost per invoice is £4.40 (15.8% over £3.80: Inadequate); Q3 published."""
    bench.observations["ap_cost_per_invoice", "2026-Q3", "centre-a"].value = Decimal("4.40")
    publications.start_publication(bench.q3, actor_label="test")
    db.session.commit()
    return contract


@pytest.fixture
def outsiders(personas):
    """Another department's buyer, and a buyer of the agency whose request to join waits."""
    other = UserFactory(
        email="buyer@elsewhere.example.gov.uk",
        organisation=OrganisationFactory(slug="elsewhere", name="Department Elsewhere"),
    )
    waiting = UserFactory(
        email="waiting@alb.example.gov.uk", organisation=personas["alb_buyer"].organisation
    )
    db.session.add(JoinRequest(user=waiting, organisation=waiting.organisation, status="pending"))
    db.session.commit()
    return {"other_buyer": other, "waiting_buyer": waiting}


def kpi_signals(centre, viewer):
    return [
        s for s in signals.signals_for(centre, audience_for(viewer)) if s.kind == signals.KPI_RATING
    ]


def client_for(app, user):
    client = app.test_client()
    if user is not None:
        sign_in(client, user)
    return client


# --- the summary ------------------------------------------------------------------------------


def test_a_kpi_whose_latest_rating_is_good_is_no_signal(contract, personas):
    # Q1 was Requires improvement, but Q2 (the latest rated quarter) is Good.
    assert kpi_signals(personas["centre"], personas["admin"]) == []


def test_a_kpi_rated_inadequate_is_a_signal_with_its_evidence(rated_badly, personas):
    (signal,) = kpi_signals(personas["centre"], personas["alb_buyer"])
    assert signal.label == "Contract KPI below target"
    assert signal.detail == EVIDENCE
    assert (signal.metric, signal.period) == ("ap_cost_per_invoice", "2026-Q3")
    assert signal.link == f"/buyer/contracts/{rated_badly.public_id}"
    # Each viewer's link is their own page of the contract.
    (for_centre,) = kpi_signals(personas["centre"], personas["centre_user"])
    assert for_centre.link == f"/centre/contracts/{rated_badly.public_id}"
    (for_admin,) = kpi_signals(personas["centre"], personas["admin"])
    assert for_admin.link == f"/admin/contracts/{rated_badly.public_id}"


def test_the_buyers_override_is_the_rating_that_counts(contract, personas):
    buyer = personas["alb_buyer"]
    q2 = contracts.rating_of(contract, "ap_cost_per_invoice", "2026-Q2")
    contracts.override(buyer, contract, q2, "requires_improvement", "Invoices paid late.")
    (signal,) = kpi_signals(personas["centre"], buyer)
    assert signal.detail.endswith(
        "AP cost per invoice was £3.50 in Q2 2026 against a target of £3.80 (lower is better), "
        "rated Requires improvement by the buyer (computed: Good; the buyer's reason: "
        "Invoices paid late.)."
    )
    # An override back to Good ends the signal, though the computed rating was worse once.
    contracts.override(buyer, contract, q2, "good", "Back to the computed rating.")
    assert kpi_signals(personas["centre"], buyer) == []


def test_a_contract_no_longer_live_gives_no_signal(rated_badly, personas):
    with clock.frozen_at(datetime(2029, 1, 5, 9, tzinfo=UTC)):
        assert kpi_signals(personas["centre"], personas["admin"]) == []


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("anonymous", False),
        ("other_buyer", False),
        ("waiting_buyer", False),
        ("other_centre_user", False),
        ("alb_buyer", True),  # the organisation holding the contract
        ("buyer", True),  # its parent department
        ("centre_user", True),
        ("admin", True),
    ],
)
def test_who_sees_a_kpi_signal_follows_the_contract(
    app, rated_badly, personas, outsiders, persona, sees
):
    user = {**personas, **outsiders}[persona]
    client = client_for(app, user)
    page = text_of(client.get("/centres/centre-a").get_data(as_text=True))
    api = client.get("/api/v1/centres/centre-a/signals").get_json()
    api_kinds = [s["kind"] for s in api["signals"]]
    if sees:
        assert "Contract KPI below target" in page
        assert EVIDENCE in page
        assert api_kinds.count("kpi_rating") == 1
        (item,) = [s for s in api["signals"] if s["kind"] == "kpi_rating"]
        assert (item["metric"], item["period"], item["detail"]) == (
            "ap_cost_per_invoice",
            "2026-Q3",
            EVIDENCE,
        )
    else:
        # Not the signal, nor the contract's title, buyer or target.
        assert "Contract KPI below target" not in page
        assert "Finance shared service 2026" not in page
        assert "Persona Agency" not in page
        assert "kpi_rating" not in api_kinds


def test_the_centre_page_links_each_viewer_to_their_contract_page(app, rated_badly, personas):
    html = client_for(app, personas["centre_user"]).get("/centres/centre-a").get_data(True)
    assert f'href="/centre/contracts/{rated_badly.public_id}"' in html
    html = client_for(app, personas["buyer"]).get("/centres/centre-a").get_data(True)
    assert f'href="/buyer/contracts/{rated_badly.public_id}"' in html


def test_one_contract_address_sends_each_reader_to_their_page(app, rated_badly, personas):
    path = f"/contracts/{rated_badly.public_id}"
    for persona, page in (
        ("alb_buyer", "/buyer/contracts/"),
        ("centre_user", "/centre/contracts/"),
        ("admin", "/admin/contracts/"),
    ):
        response = client_for(app, personas[persona]).get(path)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(page + rated_badly.public_id)
    assert client_for(app, personas["other_centre_user"]).get(path).status_code == 404
    assert client_for(app, None).get(path).status_code == 302  # to sign in


# --- alerts -----------------------------------------------------------------------------------


def recipients_of(alert) -> dict[str, datetime]:
    rows = db.session.execute(
        select(AlertRecipient).where(AlertRecipient.alert_id == alert.id)
    ).scalars()
    return {row.user.email: row.due_at for row in rows}


def shortlist(buyer, centre, period) -> None:
    """A live evaluation of the buyer's that shortlists the centre."""
    evaluation = Evaluation(
        title="Finance 2027",
        organisation_id=buyer.organisation_id,
        created_by_id=buyer.id,
        period_id=period.id,
    )
    db.session.add(evaluation)
    db.session.flush()
    db.session.add(EvaluationCandidate(evaluation_id=evaluation.id, centre_id=centre.id))
    db.session.flush()


def test_a_new_kpi_signal_is_alerted_only_to_those_who_may_see_the_contract(
    rated_badly, personas, outsiders, bench
):
    centre = personas["centre"]
    # Another department follows Centre A through a live evaluation: it hears of the
    # centre's public signals, never of another organisation's contract.
    shortlist(outsiders["other_buyer"], centre, bench.q3)
    now = clock.now()
    (alert,) = [a for a in alerts.detect(centre) if a.kind == signals.KPI_RATING]
    assert alert.title == "Centre A Services: Contract KPI below target"
    assert alert.detail == EVIDENCE
    assert alert.link == f"/contracts/{rated_badly.public_id}"
    grace = now + timedelta(hours=24)
    assert recipients_of(alert) == {
        "user@centre-a.example.org": now,
        "buyer@alb.example.gov.uk": grace,  # holds the live contract
        "admin@authority.example.gov.uk": grace,
    }
    # The same rating tomorrow is not a new alert (a changed one is: the next test).
    assert alerts.detect(centre) == []


def test_a_changed_rating_of_the_quarter_is_a_new_alert(rated_badly, personas):
    centre = personas["centre"]
    alerts.detect(centre)
    q3 = contracts.rating_of(rated_badly, "ap_cost_per_invoice", "2026-Q3")
    contracts.override(personas["alb_buyer"], rated_badly, q3, "requires_improvement", "Agreed.")
    (alert,) = alerts.detect(centre)
    assert alert.kind == signals.KPI_RATING
    assert "rated Requires improvement by the buyer" in alert.detail


# --- followers --------------------------------------------------------------------------------


def emails(users) -> list[str]:
    return [u.email for u in users]


def test_buyers_of_an_organisation_with_a_live_contract_follow_the_centre(
    contract, personas, outsiders
):
    colleague = UserFactory(
        email="colleague@alb.example.gov.uk", organisation=personas["alb_buyer"].organisation
    )
    db.session.flush()
    centre = personas["centre"]
    assert emails(recipients.contract_buyers(centre)) == [
        "buyer@alb.example.gov.uk",
        "colleague@alb.example.gov.uk",
        "waiting@alb.example.gov.uk",
    ]
    # Followers: each once, never the buyer still waiting to join; the authority too; not
    # the parent department (it oversees the contract but does not hold it).
    assert emails(recipients.followers(centre)) == [
        "admin@authority.example.gov.uk",
        "buyer@alb.example.gov.uk",
        "colleague@alb.example.gov.uk",
    ]
    assert personas["centre"] in recipients.followed_centres(colleague)
    assert recipients.followed_centres(outsiders["waiting_buyer"]) == []
    assert recipients.followed_centres(personas["buyer"]) == []


def test_a_buyer_on_both_a_live_evaluation_and_a_contract_is_told_once(contract, personas, bench):
    centre = personas["centre"]
    shortlist(personas["alb_buyer"], centre, bench.q3)
    assert emails(recipients.followers(centre)).count("buyer@alb.example.gov.uk") == 1
    centre.accreditation_status = "suspended"
    db.session.flush()
    (alert,) = alerts.detect(centre)
    assert "buyer@alb.example.gov.uk" in recipients_of(alert)


def test_a_contract_outside_its_term_is_followed_no_more(contract, personas):
    contract_row = db.session.get(Contract, contract.id)
    with clock.frozen_at(datetime(2029, 1, 2, 9, tzinfo=UTC)):
        assert recipients.contract_buyers(personas["centre"]) == []
    contract_row.starts_on = contract_row.starts_on.replace(year=2027)
    db.session.flush()
    assert recipients.contract_buyers(personas["centre"]) == []  # not started yet


def test_the_alerts_page_lists_a_contracted_centre(app, contract, personas):
    page = client_for(app, personas["alb_buyer"]).get("/alerts").get_data(as_text=True)
    assert "Centre A Services" in page


def test_a_waiting_buyer_is_never_told(rated_badly, personas, outsiders):
    (alert,) = [a for a in alerts.detect(personas["centre"]) if a.kind == signals.KPI_RATING]
    assert "waiting@alb.example.gov.uk" not in recipients_of(alert)
    stored = db.session.execute(select(Alert).where(Alert.id == alert.id)).scalar_one()
    assert stored.identity == (
        f"kpi_rating|{rated_badly.public_id}|ap_cost_per_invoice|2026-Q3|inadequate"
    )


def test_the_authority_sees_every_contract_kpi_that_falls_short(app, contract, personas):
    """/admin/signals lists the market's KPI concerns beside the process-control ones, by the
    same rule as a centre's summary (latest rated quarter, the rating that stands)."""
    admin = client_for(app, personas["admin"])
    page = text_of(admin.get("/admin/signals").get_data(as_text=True))
    assert "No live contract has a KPI rated Requires improvement or Inadequate." in page
    bench_q2 = contracts.rating_of(contract, "ap_cost_per_invoice", "2026-Q2")
    contracts.override(
        personas["alb_buyer"], contract, bench_q2, "requires_improvement", "Invoices paid late."
    )
    db.session.commit()
    html = admin.get("/admin/signals").get_data(as_text=True)
    page = text_of(html)
    assert f'href="/admin/contracts/{contract.public_id}"' in html
    assert (
        "AP cost per invoice Q2 2026 £3.50 £3.80 Requires improvement (the buyer’s; computed: Good)"
    ) in page
    assert "Centre A Services for Persona Agency" in page
    # Outside its term the contract is no longer live, and leaves the list.
    with clock.frozen_at(datetime(2029, 1, 5, 9, tzinfo=UTC)):
        page = text_of(admin.get("/admin/signals").get_data(as_text=True))
    assert "No live contract has a KPI rated Requires improvement or Inadequate." in page
    assert client_for(app, personas["alb_buyer"]).get("/admin/signals").status_code == 403
