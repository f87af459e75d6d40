"""Buyers' evaluations: weights, buyer scores, locking, the outcome, visibility and export."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy.exc import IntegrityError

from marketplace.audit.models import AuditEvent
from marketplace.benchmarks import peers
from marketplace.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.selection import services, snapshot_schema
from marketplace.selection.models import Evaluation, EvaluationOutcome
from tests.date_inputs import (
    box_labels,
    box_values,
    date_error,
    highlighted,
    legend_and_hint,
    summary_links,
)
from tests.factories import OrganisationFactory, UserFactory
from tests.selection.conftest import CONTRACT, add_kpi_metric, ready_to_lock

# What a buyer types in the Day, Month and Year boxes of the contract's dates.
CONTRACT_DATES = {
    "contract_starts_on-day": "1",
    "contract_starts_on-month": "April",
    "contract_starts_on-year": "2027",
    "contract_ends_on-day": "31",
    "contract_ends_on-month": "3",
    "contract_ends_on-year": "2030",
}

D = Decimal


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def start(user, centres=("centre-a", "centre-b", "peer-4"), period="2026-Q2", lines=("finance",)):
    return services.create(
        user,
        {
            "title": "Finance shared service 2027",
            "needs": "120,000 invoices a year",
            "period": period,
            "service_lines": list(lines),
            "centres": list(centres),
        },
    )


@pytest.fixture
def evaluation(bench, personas):
    evaluation = start(personas["alb_buyer"])
    db.session.commit()
    return evaluation


def actions(db_session, public_id):
    return [
        e.action
        for e in db_session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.object_type == "evaluation", AuditEvent.object_id == public_id)
            .order_by(AuditEvent.id)
        ).scalars()
    ]


# --- starting and weighting ------------------------------------------------------------------


def test_a_buyer_starts_an_evaluation_through_the_form(bench, as_persona, db_session):
    client = as_persona("buyer")
    form = client.get("/buyer/evaluations/new?centres=centre-a,centre-b&period=2026-Q2")
    assert form.status_code == 200
    assert 'value="centre-a" checked' in form.get_data(as_text=True)
    response = client.post(
        "/buyer/evaluations/new",
        data={
            "title": "Finance 2027",
            "needs": "Invoices",
            "period": "2026-Q2",
            "service_lines": ["finance"],
            "centres": ["centre-a", "centre-b"],
        },
    )
    assert response.status_code == 302
    evaluation = db_session.execute(db.select(Evaluation)).scalar_one()
    assert response.headers["Location"].endswith(
        f"/buyer/evaluations/{evaluation.public_id}/weights"
    )
    assert [c.code for c in evaluation.criteria] == [
        "ap_cost_per_invoice",
        "social_value",
        "quoted_price",
    ]
    assert actions(db_session, evaluation.public_id) == ["evaluation.created"]


def test_the_form_explains_each_problem(bench, as_persona):
    response = as_persona("buyer").post(
        "/buyer/evaluations/new",
        data={"title": "", "period": "2026-Q2", "service_lines": [], "centres": ["centre-a"]},
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert 'href="#title"' in page
    assert "Choose the service lines you need." in page
    assert "Shortlist 2 to 6 centres; 1 were chosen." in page


def test_only_centres_accredited_today_can_be_shortlisted(bench, personas, db_session):
    bench.centres[1].accreditation_status = "suspended"
    db_session.flush()
    with pytest.raises(ValidationFailed) as caught:
        start(personas["buyer"])
    assert "centre-b cannot" in caught.value.errors[0].message


def test_weights_and_buyer_scores_give_score_coverage_and_rank(evaluation, as_persona):
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    response = client.post(
        url + "/weights",
        data={
            "weight:ap_cost_per_invoice": "6",
            "weight:social_value": "2",
            "weight:quoted_price": "2",
        },
    )
    assert response.status_code == 302
    assert client.post(url + "/seal").status_code == 302
    response = client.post(
        url + "/scores",
        data={
            "score:social_value:centre-a": "80",
            "rationale:social_value:centre-a": "Apprenticeships in Leeds",
            "score:social_value:centre-b": "100",
            "rationale:social_value:centre-b": "Employee-owned; local hiring",
            "score:social_value:peer-4": "",
            "score:quoted_price:centre-a": "50",
            "rationale:quoted_price:centre-a": "Quote of 14 March",
            "score:quoted_price:centre-b": "90",
            "rationale:quoted_price:centre-b": "Quote of 12 March",
            "score:quoted_price:peer-4": "",
        },
    )
    assert response.status_code == 302
    text = text_of(client.get(url).get_data(as_text=True))
    # centre-a: (6×66.67 + 2×80 + 2×50) / 10 = 66.0; centre-b: (6×33.33 + 200 + 180) / 10 = 58.0
    # peer-4: only the cost (percentile 100) has data: score 100, coverage 60%
    assert "1 Peer 4 Shared Services 100.0 60%" in text
    assert "2 Centre A Services 66.0 100%" in text
    assert "3 Centre B Services 58.0 100%" in text
    assert "PPN 06/20" not in text  # social value carries 20%
    assert "Social value Centre B Services 100 Employee-owned; local hiring" in text


def test_social_value_under_ten_percent_is_warned(evaluation, as_persona):
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    client.post(
        url + "/weights",
        data={"weight:ap_cost_per_invoice": "10", "weight:social_value": "1"},
    )
    text = text_of(client.get(url).get_data(as_text=True))
    assert "Social value carries 9% of the total weight" in text
    assert "PPN 06/20 asks for at least 10%" in text
    weights_page = text_of(client.get(url + "/weights").get_data(as_text=True))
    assert "PPN 06/20" in weights_page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("weight:social_value", "lots", "as a number, like 2 or 0.5"),
        ("weight:social_value", "-1", "Enter a weight from 0 to 1000"),
    ],
)
def test_bad_weights_are_refused(evaluation, as_persona, field, value, message):
    response = as_persona("alb_buyer").post(
        f"/buyer/evaluations/{evaluation.public_id}/weights", data={field: value}
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"score:social_value:centre-a": "101", "rationale:social_value:centre-a": "x"},
            "Enter a score from 0 to 100",
        ),
        ({"score:social_value:centre-a": "lots"}, "Enter the score as a number"),
        (
            {"score:social_value:nowhere": "50", "rationale:social_value:nowhere": "x"},
            "is not in this evaluation",
        ),
        (
            {
                "score:ap_cost_per_invoice:centre-a": "50",
                "rationale:ap_cost_per_invoice:centre-a": "x",
            },
            "is scored from Centre A Services&#39;s figure",
        ),
    ],
)
def test_bad_scores_are_refused(evaluation, as_persona, personas, data, message):
    services.seal(personas["alb_buyer"], evaluation)
    db.session.commit()
    response = as_persona("alb_buyer").post(
        f"/buyer/evaluations/{evaluation.public_id}/scores", data=data
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_a_buyer_can_add_a_criterion_they_score(evaluation, personas):
    services.set_weights(personas["alb_buyer"], evaluation, {}, "Implementation plan")
    codes = [c.code for c in evaluation.criteria]
    assert codes[-1] == "buyer_implementation_plan"


def test_changing_the_details_keeps_kept_weights(evaluation, personas):
    services.set_weights(personas["alb_buyer"], evaluation, {"ap_cost_per_invoice": D(5)})
    services.update_details(
        personas["alb_buyer"],
        evaluation,
        {
            "title": "Renamed",
            "period": "2026-Q2",
            "service_lines": ["finance", "payroll"],
            "centres": ["centre-a", "peer-0"],
        },
    )
    weights = {c.code: c.weight for c in evaluation.criteria}
    assert weights["ap_cost_per_invoice"] == D(5)
    assert weights["payroll_accuracy"] == D(1)
    assert [c.centre.slug for c in evaluation.candidates] == ["centre-a", "peer-0"]


# --- locking: what the buyer saw is kept -----------------------------------------------------


def test_locking_keeps_exactly_what_the_buyer_saw(evaluation, as_persona, personas, db_session):
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    ready_to_lock(personas["alb_buyer"], evaluation)
    db_session.commit()
    before = text_of(client.get(url).get_data(as_text=True))
    assert "£3.50" in before
    assert client.post(url + "/lock").status_code == 302
    locked_page = client.get(url).get_data(as_text=True)
    locked = text_of(locked_page)
    assert "Locked 27 November 2026" in locked
    # centre-a restates its Q2 cost after the lock; the peer statistics are recomputed
    observation = bench_observation(evaluation, "centre-a")
    observation.value = D("9.99")
    observation.revision = 2
    peers.recompute([(observation.metric_id, observation.period_id)])
    db_session.commit()
    again = client.get(url).get_data(as_text=True)
    assert without_nonce(again) == without_nonce(locked_page)
    assert "£9.99" not in again
    snapshot = db_session.get(Evaluation, evaluation.id).snapshot
    cell = snapshot["cells"]["ap_cost_per_invoice"]["centre-a"]
    assert cell["value"] == "3.500000" and cell["band"] == 2
    assert snapshot["method_version"] == "peer-percentile-1"
    assert snapshot["period"]["code"] == "2026-Q2"
    # a new draft sees the restated figure
    fresh = start(personas["alb_buyer"])
    assert "£9.99" not in text_of(
        client.get(f"/buyer/evaluations/{fresh.public_id}").get_data(True)
    )  # its weights are not sealed: no results yet
    services.seal(personas["alb_buyer"], fresh)
    assert "£9.99" in text_of(client.get(f"/buyer/evaluations/{fresh.public_id}").get_data(True))


def test_a_stored_snapshot_loads_through_its_schema_unchanged(
    evaluation, as_persona, personas, db_session
):
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    ready_to_lock(personas["alb_buyer"], evaluation)
    db_session.commit()
    assert client.post(url + "/lock").status_code == 302
    db_session.expire_all()
    stored = db_session.get(Evaluation, evaluation.id).snapshot
    loaded = snapshot_schema.load_snapshot(stored)
    assert loaded.locked_by.email == personas["alb_buyer"].email
    assert loaded.cells["social_value"]["centre-a"].score == 70.0
    assert loaded.cells["social_value"]["centre-a"].rationale == (
        "Evidence for social_value of centre-a."
    )
    assert loaded.weights.sealed_by.email == personas["alb_buyer"].email
    assert loaded.criteria[0].metric.code == "ap_cost_per_invoice"
    assert snapshot_schema.dump_snapshot(loaded) == stored
    assert list(snapshot_schema.dump_snapshot(loaded)) == list(stored)
    # a draft's view has no lock keys
    fresh = start(personas["alb_buyer"])
    assert "locked_at" not in services.results_for(fresh)


def without_nonce(page: str) -> str:
    """The page's own content: from the heading to the end of <main>, nonce-free."""
    main = page[page.index('<span class="govuk-caption-l">') : page.index("</main>")]
    return re.sub(r'nonce="[^"]*"', "", main)


def bench_observation(evaluation, slug):
    from marketplace.benchmarks.models import Observation
    from marketplace.catalogue.models import ServiceCentre

    return db.session.execute(
        db.select(Observation)
        .join(ServiceCentre, ServiceCentre.id == Observation.centre_id)
        .where(ServiceCentre.slug == slug, Observation.period_id == evaluation.period_id)
        .where(Observation.metric_id == evaluation.criteria[0].metric_id)
    ).scalar_one()


def test_a_locked_evaluation_cannot_be_changed(evaluation, as_persona, personas, db_session):
    buyer = personas["alb_buyer"]
    ready_to_lock(buyer, evaluation)
    services.lock(buyer, evaluation)
    with pytest.raises(Conflict, match="locked"):
        services.set_weights(buyer, evaluation, {"social_value": D(3)})
    with pytest.raises(Conflict):
        services.lock(buyer, evaluation)
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    assert client.post(url + "/weights", data={"weight:social_value": "3"}).status_code == 409
    assert client.get(url + "/edit").status_code == 409
    assert client.post(url + "/lock").status_code == 409


def test_a_shortlist_with_a_suspended_centre_cannot_be_locked(
    evaluation, personas, bench, db_session
):
    bench.centres[1].accreditation_status = "suspended"
    db_session.flush()
    with pytest.raises(ValidationFailed, match="could not be locked") as caught:
        services.lock(personas["alb_buyer"], evaluation)
    assert "Centre B Services is no longer accredited" in caught.value.errors[0].message


# --- the outcome -----------------------------------------------------------------------------


def test_the_outcome_is_recorded_once_after_locking(evaluation, as_persona, personas, db_session):
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    assert client.get(url + "/outcome").status_code == 409  # not locked yet
    ready_to_lock(personas["alb_buyer"], evaluation)
    db_session.commit()
    assert client.post(url + "/lock").status_code == 302
    add_kpi_metric()
    form = client.get(url + "/outcome").get_data(as_text=True)
    assert 'value="award:centre-a"' in form and 'value="none_suitable"' in form
    response = client.post(
        url + "/outcome",
        data={
            "outcome": "award:centre-a",
            "rationale": "Best value for money.",
            "contract_value": "1250000",
            **CONTRACT_DATES,
            "volume_finance": "120,000",
            "kpi_metric_1": "ap_cost_per_invoice",
            "kpi_target_1": "3.80",
            "kpi_metric_2": "payroll_accuracy",
            "kpi_target_2": "99",
            "kpi_metric_4": "invoice_cycle_days",
            "kpi_target_4": "5",
        },
    )
    assert response.status_code == 302
    text = text_of(client.get(url).get_data(as_text=True))
    assert "Awarded: Centre A Services" in text
    assert "Best value for money." in text
    assert client.get(url + "/outcome").status_code == 409
    with pytest.raises(Conflict, match="already"):
        services.record_outcome(personas["alb_buyer"], evaluation, "cancelled", None, "Changed")
    assert actions(db_session, evaluation.public_id) == [
        "evaluation.created",
        "evaluation.weights_sealed",
        "evaluation.scored",
        "evaluation.locked",
        "evaluation.outcome_recorded",
    ]  # the contract it made has its own audit event (tests/contracts)


def test_the_outcome_form_explains_problems(evaluation, as_persona, personas):
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    response = as_persona("alb_buyer").post(
        f"/buyer/evaluations/{evaluation.public_id}/outcome", data={"outcome": "", "rationale": ""}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose the outcome." in page and "Give the rationale for the outcome." in page


@pytest.fixture
def outcome_url(evaluation, personas):
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    add_kpi_metric()
    return f"/buyer/evaluations/{evaluation.public_id}/outcome"


def test_the_outcome_form_asks_for_the_contract_dates_in_day_month_year_boxes(
    outcome_url, as_persona
):
    page = as_persona("alb_buyer").get(outcome_url).get_data(as_text=True)
    for name, legend, hint in (
        ("contract_starts_on", "Starts on", "For example, 1 4 2027"),
        ("contract_ends_on", "Ends on", "For example, 31 3 2030"),
    ):
        assert box_labels(page, name) == ["Day", "Month", "Year"]
        assert legend_and_hint(page, name) == (legend, hint)
        assert box_values(page, name) == ("", "", "")
    assert "YYYY-MM-DD" not in page
    # Each line's annual volume says what it counts: the line's cost driver.
    assert (
        '<label class="govuk-label" for="volume_finance">Finance: invoices a year</label>' in page
    )


AWARD = {
    "outcome": "award:centre-a",
    "rationale": "Best value for money.",
    "contract_value": "1250000",
    "kpi_metric_1": "ap_cost_per_invoice",
    "kpi_target_1": "3.80",
    "kpi_metric_2": "payroll_accuracy",
    "kpi_target_2": "99",
    "kpi_metric_3": "invoice_cycle_days",
    "kpi_target_3": "5",
}


@pytest.mark.parametrize(
    ("typed", "href", "message", "wrong"),
    [
        (
            {"contract_starts_on-day": "31", "contract_starts_on-month": "2"},
            "#contract_starts_on-day",
            "The date the contract starts must be a real date: February 2027 has 28 days.",
            ["day"],
        ),
        (
            {"contract_ends_on-month": ""},
            "#contract_ends_on-month",
            "The date the contract ends must include a month.",
            ["month"],
        ),
        (
            {"contract_ends_on-day": "", "contract_ends_on-year": ""},
            "#contract_ends_on-day",
            "The date the contract ends must include a day and year.",
            ["day", "year"],
        ),
        (
            {"contract_starts_on-year": "1" * 50_000},
            "#contract_starts_on-year",
            "The date the contract starts must include a year of 4 numbers, like 2027.",
            ["year"],
        ),
    ],
    ids=["31-february", "no-month", "no-day-or-year", "huge-year"],
)
def test_a_wrong_contract_date_is_shown_at_its_first_wrong_box_with_the_other_errors(
    outcome_url, as_persona, evaluation, typed, href, message, wrong
):
    sent = {**AWARD, **CONTRACT_DATES, **typed, "contract_value": "a lot"}
    response = as_persona("alb_buyer").post(outcome_url, data=sent)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    # Every problem at once, in the page's order: the value, then the date.
    assert summary_links(page) == [
        ("#contract_value", "Give the contract value in pounds, like 1250000."),
        (href, message),
    ]
    name = href[1:].rsplit("-", 1)[0]
    assert date_error(page, name) == message
    assert highlighted(page, name) == wrong
    kept = tuple(sent[f"{name}-{part}"][:20] for part in ("day", "month", "year"))
    assert box_values(page, name) == kept  # what was typed is shown again (cut short)
    assert evaluation.outcome is None


def test_a_contract_that_ends_before_it_starts_is_refused_with_the_other_errors(
    outcome_url, as_persona, evaluation
):
    sent = {
        **AWARD,
        **CONTRACT_DATES,
        "contract_ends_on-year": "2026",
        "contract_value": "a lot",
    }
    response = as_persona("alb_buyer").post(outcome_url, data=sent)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert summary_links(page) == [
        ("#contract_value", "Give the contract value in pounds, like 1250000."),
        ("#contract_ends_on-day", "The contract must end after it starts."),
    ]
    assert date_error(page, "contract_ends_on") == "The contract must end after it starts."
    # Each box reads well; the date as a whole is wrong.
    assert highlighted(page, "contract_ends_on") == ["day", "month", "year"]
    assert box_values(page, "contract_ends_on") == ("31", "3", "2026")
    assert box_values(page, "contract_starts_on") == ("1", "April", "2027")
    assert evaluation.outcome is None


def test_the_services_refusals_come_with_the_schemas_at_once(outcome_url, as_persona, evaluation):
    """A wrong value (the schema's) and an award off the shortlist, a missing KPI target and
    a missing rationale (the service's) are all reported on the first submit."""
    sent = {
        **AWARD,
        **CONTRACT_DATES,
        "outcome": "award:peer-9",
        "contract_value": "a lot",
        "kpi_target_3": "",
        "rationale": "",
    }
    response = as_persona("alb_buyer").post(outcome_url, data=sent)
    assert response.status_code == 400
    messages = [message for _href, message in summary_links(response.get_data(as_text=True))]
    assert "Give the contract value in pounds, like 1250000." in messages
    assert (
        "'peer-9' was not on the locked shortlist; an award must go to a shortlisted centre."
    ) in messages
    assert "Give the target of KPI 3." in messages
    assert "Give the rationale for the outcome." in messages
    # No "give the value" beside the schema's own message for the same field.
    assert "Give the contract value in pounds." not in messages
    assert evaluation.outcome is None


def test_a_kpi_the_schema_refuses_does_not_also_count_as_missing(outcome_url, as_persona):
    sent = {**AWARD, **CONTRACT_DATES, "kpi_target_2": "ninety", "contract_value": "a lot"}
    response = as_persona("alb_buyer").post(outcome_url, data=sent)
    messages = [message for _href, message in summary_links(response.get_data(as_text=True))]
    assert not any("at least 3 KPIs" in message for message in messages)
    assert len([m for m in messages if "KPI 2" in m or "target" in m.lower()]) == 1


def test_an_award_without_its_dates_links_to_their_day_boxes(outcome_url, as_persona):
    response = as_persona("alb_buyer").post(outcome_url, data=AWARD)
    assert response.status_code == 400
    links = summary_links(response.get_data(as_text=True))
    assert ("#contract_starts_on-day", "Give the date the contract starts.") in links
    assert ("#contract_ends_on-day", "Give the date the contract ends.") in links


def test_the_service_refuses_an_award_off_the_shortlist(evaluation, personas):
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    with pytest.raises(ValidationFailed) as caught:
        services.record_outcome(personas["alb_buyer"], evaluation, "awarded", "peer-0", "Cheap")
    assert caught.value.errors[0].message == (
        "'peer-0' was not on the locked shortlist; an award must go to a shortlisted centre."
    )


def test_the_database_refuses_an_award_off_the_shortlist(evaluation, personas, bench, db_session):
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    off_list = bench.centres[2]  # peer-0 is not shortlisted
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            EvaluationOutcome(
                evaluation_id=evaluation.id,
                kind="awarded",
                centre_id=off_list.id,
                rationale="Straight to the table",
                decided_by_id=personas["alb_buyer"].id,
            )
        )
        db_session.flush()


def test_the_database_refuses_an_outcome_before_locking(evaluation, personas, bench, db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            EvaluationOutcome(
                evaluation_id=evaluation.id,
                kind="none_suitable",
                rationale="Skipped the lock",
                decided_by_id=personas["alb_buyer"].id,
            )
        )
        db_session.flush()


@pytest.mark.parametrize(
    ("kind", "with_centre", "rationale"),
    [
        ("none_suitable", True, "A centre on a non-award"),
        ("awarded", False, "An award to nobody"),
        ("withdrawn", False, "Not a kind"),
        ("cancelled", False, "   "),
    ],
)
def test_the_database_checks_outcome_kinds(
    evaluation, personas, bench, db_session, kind, with_centre, rationale
):
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            EvaluationOutcome(
                evaluation_id=evaluation.id,
                kind=kind,
                centre_id=bench.centres[0].id if with_centre else None,
                rationale=rationale,
                decided_by_id=personas["alb_buyer"].id,
            )
        )
        db_session.flush()


def test_the_database_keeps_a_decided_evaluation_locked(evaluation, personas, db_session):
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    services.record_outcome(personas["alb_buyer"], evaluation, "none_suitable", None, "None fit")
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(
            db.update(Evaluation).where(Evaluation.id == evaluation.id).values(status="draft")
        )
        db_session.flush()


# --- export ----------------------------------------------------------------------------------


def test_a_locked_evaluation_exports_its_snapshot_safely(
    evaluation, as_persona, personas, db_session
):
    buyer = personas["alb_buyer"]
    evaluation.title = '=HYPERLINK("http://evil")'
    db_session.flush()
    ready_to_lock(buyer, evaluation)
    services.lock(buyer, evaluation)
    add_kpi_metric()
    services.record_outcome(
        buyer, evaluation, "awarded", "centre-a", "@risk: none", contract=CONTRACT
    )
    response = as_persona("buyer").get(f"/buyer/evaluations/{evaluation.public_id}/export.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True)[1:])))
    assert rows[0] == ["Evaluation", '\'=HYPERLINK("http://evil")']
    assert ["Outcome", "Awarded"] in rows and ["Awarded to", "centre-a"] in rows
    assert ["Rationale", "'@risk: none"] in rows
    assert ["Method version", "peer-percentile-1"] in rows
    cost = next(r for r in rows if r and r[0] == "ap_cost_per_invoice")
    # The figure at the metric's 2 decimals, as the page shows it (£3.50).
    assert cost[7:10] == ["3.50", "66.7", "Second quartile"]
    social = next(r for r in rows if r and r[0] == "social_value")
    assert social[7:10] == ["", "70.0", ""]
    assert ["social_value", "centre-a", "70.0", "Evidence for social_value of centre-a."] in rows


# --- who sees what -----------------------------------------------------------------------------


ROUTES = ["", "/edit", "/weights", "/lock", "/outcome", "/export.csv"]


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("persona", ["centre_user", "other_centre_user"])
def test_centres_never_see_evaluations(evaluation, as_persona, persona, route):
    assert (
        as_persona(persona).get(f"/buyer/evaluations/{evaluation.public_id}{route}").status_code
        == 404
    )


@pytest.mark.parametrize("route", ROUTES)
def test_other_buyers_never_see_evaluations(evaluation, app, route):
    from tests.conftest import sign_in

    stranger = UserFactory(organisation=OrganisationFactory(slug="dept-other"))
    client = app.test_client()
    sign_in(client, stranger)
    assert client.get(f"/buyer/evaluations/{evaluation.public_id}{route}").status_code == 404


@pytest.mark.parametrize("route", ROUTES)
def test_anonymous_people_are_sent_to_sign_in(evaluation, as_persona, route):
    response = as_persona("anonymous").get(f"/buyer/evaluations/{evaluation.public_id}{route}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(
    ("persona", "view", "change", "post"),
    [
        ("alb_buyer", 200, 200, 302),  # the ALB buyer who started it: its team
        ("buyer", 404, 404, 404),  # its parent department sees it only once locked
        ("admin", 200, 403, 403),
    ],
)
def test_team_parent_department_and_admins(
    evaluation, as_persona, personas, db_session, persona, view, change, post
):
    ready_to_lock(personas["alb_buyer"], evaluation)
    db_session.commit()
    client = as_persona(persona)
    url = f"/buyer/evaluations/{evaluation.public_id}"
    assert client.get(url).status_code == view
    assert client.get(url + "/export.csv").status_code == view
    assert client.get(url + "/weights").status_code == change
    assert client.get(url + "/edit").status_code == change
    assert client.get(url + "/lock").status_code == change
    assert client.post(url + "/lock").status_code == post


def test_once_locked_the_parent_department_reads_it(evaluation, as_persona, personas):
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    db.session.commit()
    client = as_persona("buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Set weights and scores" not in page.get_data(as_text=True)
    assert client.get(url + "/weights").status_code == 403
    assert client.post(url + "/lock").status_code == 403


def test_an_alb_does_not_see_its_departments_evaluations(bench, personas, as_persona):
    department_evaluation = start(personas["buyer"])
    url = f"/buyer/evaluations/{department_evaluation.public_id}"
    assert as_persona("alb_buyer").get(url).status_code == 404
    assert as_persona("buyer").get(url).status_code == 200


def test_the_list_shows_what_each_buyer_may_see(bench, personas, as_persona):
    own = start(personas["buyer"])
    albs = start(personas["alb_buyer"])
    albs_locked = start(personas["alb_buyer"])
    ready_to_lock(personas["alb_buyer"], albs_locked)
    services.lock(personas["alb_buyer"], albs_locked)
    department = as_persona("buyer").get("/buyer/evaluations").get_data(as_text=True)
    # The department sees its own team's and, once locked, its ALBs' evaluations.
    assert own.public_id in department and albs_locked.public_id in department
    assert albs.public_id not in department
    alb = as_persona("alb_buyer").get("/buyer/evaluations").get_data(as_text=True)
    assert albs.public_id in alb and own.public_id not in alb
    admin = as_persona("admin").get("/buyer/evaluations").get_data(as_text=True)
    assert own.public_id in admin and "Start an evaluation" not in admin


@pytest.mark.parametrize(
    ("persona", "index", "new"),
    [
        ("anonymous", 302, 302),
        ("buyer", 200, 200),
        ("alb_buyer", 200, 200),
        ("centre_user", 403, 403),
        ("other_centre_user", 403, 403),
        ("admin", 200, 403),
    ],
)
def test_list_and_start_pages_by_persona(bench, as_persona, persona, index, new):
    client = as_persona(persona)
    assert client.get("/buyer/evaluations").status_code == index
    assert client.get("/buyer/evaluations/new").status_code == new


def test_services_refuse_people_who_may_not_change_it(evaluation, personas):
    with pytest.raises(PermissionDenied):
        services.set_weights(personas["buyer"], evaluation, {})
    with pytest.raises(PermissionDenied):
        services.lock(personas["admin"], evaluation)
    with pytest.raises(PermissionDenied):
        services.create(personas["admin"], {})


# --- PostgreSQL triggers (migration 0003) ------------------------------------------------------


@pytest.fixture
def decided(evaluation, personas, is_postgres):
    if not is_postgres:
        pytest.skip("the freezing triggers exist on PostgreSQL only")
    buyer = personas["alb_buyer"]
    ready_to_lock(buyer, evaluation)
    services.lock(buyer, evaluation)
    add_kpi_metric()
    services.record_outcome(
        buyer, evaluation, "awarded", "centre-a", "Best value", contract=CONTRACT
    )
    return evaluation


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE evaluations SET snapshot = '{}' WHERE id = :id",
        "UPDATE evaluations SET title = 'Rewritten' WHERE id = :id",
        "DELETE FROM evaluations WHERE id = :id",
        "UPDATE evaluation_outcomes SET rationale = 'Rewritten' WHERE evaluation_id = :id",
        "DELETE FROM evaluation_outcomes WHERE evaluation_id = :id",
        "UPDATE evaluation_criteria SET weight = 99 WHERE evaluation_id = :id",
        "DELETE FROM evaluation_candidates WHERE evaluation_id = :id AND position = 2",
        "DELETE FROM evaluation_service_lines WHERE evaluation_id = :id",
        "INSERT INTO evaluation_scores (evaluation_id, criterion_id, centre_id, score) "
        "SELECT :id, c.id, k.centre_id, 50 FROM evaluation_criteria c "
        "JOIN evaluation_candidates k ON k.evaluation_id = c.evaluation_id "
        "WHERE c.evaluation_id = :id AND c.code = 'quoted_price' LIMIT 1",
    ],
)
def test_postgresql_refuses_any_change_to_a_decided_evaluation(decided, db_session, statement):
    from sqlalchemy import text

    with pytest.raises(IntegrityError, match=r"locked|final"), db_session.begin_nested():
        db_session.execute(text(statement), {"id": decided.id})


def test_postgresql_still_lets_drafts_change(evaluation, db_session, is_postgres):
    from sqlalchemy import text

    if not is_postgres:
        pytest.skip("the freezing triggers exist on PostgreSQL only")
    db_session.execute(
        text("UPDATE evaluation_criteria SET weight = 2 WHERE evaluation_id = :id"),
        {"id": evaluation.id},
    )
    db_session.execute(
        text("UPDATE evaluations SET title = 'Renamed' WHERE id = :id"), {"id": evaluation.id}
    )


def test_locking_refuses_figures_that_changed_since_the_buyer_looked(
    evaluation, as_persona, personas, db_session
):
    ready_to_lock(personas["alb_buyer"], evaluation)
    db_session.commit()
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}/lock"
    page = client.get(url).get_data(as_text=True)
    seen = re.search(r'name="seen" value="([0-9a-f]{64})"', page).group(1)
    # the data changes between looking and confirming
    observation = bench_observation(evaluation, "centre-b")
    observation.value = D("1.00")
    peers.recompute([(observation.metric_id, observation.period_id)])
    db_session.commit()
    response = client.post(url, data={"seen": seen})
    assert response.status_code == 409
    text = text_of(response.get_data(as_text=True))
    assert "The figures changed after you opened this page" in text
    assert "£1.00" in text  # the page now shows the new figures, with a new fingerprint
    fresh = re.search(r'name="seen" value="([0-9a-f]{64})"', response.get_data(True)).group(1)
    assert client.post(url, data={"seen": fresh}).status_code == 302
    snapshot = db_session.get(Evaluation, evaluation.id).snapshot
    assert snapshot["cells"]["ap_cost_per_invoice"]["centre-b"]["value"] == "1.000000"


# --- issue 12, point 1: only a centre accredited on the day can be awarded ---------------------


def _suspend(centre, admin, reason="Data breach under investigation"):
    from marketplace.catalogue import accreditation

    accreditation.change(centre, "suspend", actor=admin, reason=reason)
    db.session.flush()


def test_an_award_to_a_centre_suspended_after_locking_is_refused_and_shown(
    evaluation, as_persona, personas, bench, db_session
):
    buyer = personas["alb_buyer"]
    ready_to_lock(buyer, evaluation)
    services.lock(buyer, evaluation)
    add_kpi_metric()
    assert evaluation.snapshot["candidates"][1]["status"] == "accredited"  # standing at lock
    _suspend(bench.centres[1], personas["admin"])
    db.session.commit()
    client = as_persona("alb_buyer")
    url = f"/buyer/evaluations/{evaluation.public_id}"
    page = text_of(client.get(url).get_data(as_text=True))
    assert (
        "Centre B Services was accredited when the shortlist was locked and is suspended now"
        in (page)
    )
    form = client.get(url + "/outcome").get_data(as_text=True)
    assert "Cannot be awarded: Centre B Services is suspended today" in form
    refused = client.post(
        url + "/outcome",
        data={
            "outcome": "award:centre-b",
            "rationale": "Cheapest",
            "contract_value": "900000",
            **CONTRACT_DATES,
        },
    )
    assert refused.status_code == 400
    assert "only a centre accredited on the day can be awarded" in refused.get_data(as_text=True)
    assert evaluation.outcome is None
    with pytest.raises(ValidationFailed, match="could not be recorded"):
        services.record_outcome(
            buyer, evaluation, "awarded", "centre-b", "Cheap", contract=CONTRACT
        )
    # Another shortlisted centre can still be awarded, and the record keeps both standings.
    outcome = services.record_outcome(
        buyer, evaluation, "awarded", "centre-a", "Best value", contract=CONTRACT
    )
    assert outcome.standings == {
        "centre-a": "accredited",
        "centre-b": "suspended",
        "peer-4": "accredited",
    }
    assert (outcome.contract_value, outcome.annual_volumes) == (
        D("1250000.00"),
        {"finance": 120000},
    )


def test_an_award_needs_its_contract_basics(evaluation, personas):
    buyer = personas["alb_buyer"]
    ready_to_lock(buyer, evaluation)
    services.lock(buyer, evaluation)
    add_kpi_metric()
    with pytest.raises(ValidationFailed) as caught:
        services.record_outcome(
            buyer,
            evaluation,
            "awarded",
            "centre-a",
            "Best",
            contract={
                **CONTRACT,
                "contract_value": None,
                "contract_ends_on": CONTRACT["contract_starts_on"],
            },
        )
    assert [e.field for e in caught.value.errors] == ["contract_value", "contract_ends_on"]


def test_the_database_refuses_an_award_to_a_suspended_centre(
    evaluation, personas, bench, db_session, is_postgres
):
    if not is_postgres:
        pytest.skip("the award trigger exists on PostgreSQL only; the service checks SQLite")
    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    _suspend(bench.centres[1], personas["admin"])
    with pytest.raises(IntegrityError, match="not accredited"), db_session.begin_nested():
        db_session.add(
            EvaluationOutcome(
                evaluation_id=evaluation.id,
                kind="awarded",
                centre_id=bench.centres[1].id,
                rationale="Straight to the table",
                decided_by_id=personas["alb_buyer"].id,
                # The outcome row keeps the contract basics; the KPIs live in contracts.
                **{key: value for key, value in CONTRACT.items() if key != "kpis"},
            )
        )
        db_session.flush()


def test_buyers_of_live_evaluations_are_told_when_a_shortlisted_centre_is_suspended(
    evaluation, personas, bench, db_session
):
    from marketplace.mail.models import OutboxEmail

    ready_to_lock(personas["alb_buyer"], evaluation)
    services.lock(personas["alb_buyer"], evaluation)
    decided = start(personas["alb_buyer"], centres=("centre-b", "peer-4"))
    ready_to_lock(personas["alb_buyer"], decided)
    services.lock(personas["alb_buyer"], decided)
    services.record_outcome(personas["alb_buyer"], decided, "cancelled", None, "Not needed")
    _suspend(bench.centres[1], personas["admin"])
    mails = db_session.execute(db.select(OutboxEmail).order_by(OutboxEmail.id)).scalars().all()
    told = [m for m in mails if m.template == "standing_changed"]
    assert [m.to_address for m in told] == [personas["alb_buyer"].email]  # the live one only
    assert evaluation.title in told[0].subject
    assert "is now Suspended" in told[0].body_text
    assert "an award to Centre B Services will be refused" in told[0].body_text
    # A link the buyer can open from their mail program: PUBLIC_URL's, never a bare path.
    assert f"http://localhost/buyer/evaluations/{evaluation.public_id}" in told[0].body_text
