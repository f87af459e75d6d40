"""Issue 12, point 4: weights before scores, every weighted criterion scored, rationale, and
a decision record (page and PDF) that shows the sealed weights and every change, each score
with its rationale, standings at lock and at award, and the contract.

There is no API door to evaluations, so these go through the web pages (and the services
and the database for the rules those enforce)."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from marketplace.extensions import db
from marketplace.selection import record, services
from marketplace.selection.models import (
    Evaluation,
    EvaluationScore,
    EvaluationWeightChange,
)
from tests.publications.helpers import pdf_text
from tests.selection.conftest import CONTRACT, add_kpi_metric, ready_to_lock

D = Decimal


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def start(user, lines=("finance",), centres=("centre-a", "centre-b", "peer-4")):
    return services.create(
        user,
        {
            "title": "Finance shared service 2027",
            "needs": "120,000 invoices a year",
            "period": "2026-Q2",
            "service_lines": list(lines),
            "centres": list(centres),
        },
    )


@pytest.fixture
def evaluation(bench, personas):
    evaluation = start(personas["alb_buyer"])
    db.session.commit()
    return evaluation


@pytest.fixture
def client(as_persona):
    return as_persona("alb_buyer")


def page(client, evaluation, route="") -> str:
    return text_of(client.get(f"/buyer/evaluations/{evaluation.public_id}{route}").get_data(True))


def changes(evaluation) -> list[EvaluationWeightChange]:
    return services.history(evaluation)


# --- weights sealed before any result shows ----------------------------------------------------


def test_results_are_hidden_until_the_weights_are_sealed(evaluation, client, db_session):
    url = f"/buyer/evaluations/{evaluation.public_id}"
    before = page(client, evaluation)
    assert "Results appear once the weights are sealed." in before
    assert "£3.50" not in before and "Weighted score and rank" not in before
    assert "Criteria and weights (not sealed)" in before  # the weights themselves are shown
    rows = list(csv.reader(io.StringIO(client.get(url + "/export.csv").get_data(True)[1:])))
    assert ["Results", "Results appear once the weights are sealed."] in rows
    assert not any("centre-a" in cell for row in rows for cell in row)
    assert "results appear once the weights are sealed" in page(client, evaluation, "/lock")
    assert client.get(url + "/scores").status_code == 409

    sealed = client.post(url + "/seal")
    assert sealed.status_code == 302
    after = page(client, evaluation)
    assert "£3.50" in after and "Weighted score and rank" in after
    assert "Results appear once the weights are sealed." not in after
    assert f"by {evaluation.created_by.email}, before any centre's result was shown" in after
    rows = list(csv.reader(io.StringIO(client.get(url + "/export.csv").get_data(True)[1:])))
    assert any(row and row[0] == "centre-a" for row in rows)
    db_session.expire_all()
    stored = db_session.get(Evaluation, evaluation.id)
    assert stored.sealed_weights == {
        "ap_cost_per_invoice": "1.000",
        "social_value": "1.000",
        "quoted_price": "0.000",
    }
    assert client.post(url + "/seal").status_code == 409  # once


def test_locking_an_unsealed_evaluation_is_refused(evaluation, personas, client):
    response = client.post(f"/buyer/evaluations/{evaluation.public_id}/lock")
    assert response.status_code == 422
    assert "Seal the weights before locking the shortlist." in text_of(response.get_data(True))


def test_a_change_after_sealing_needs_a_reason_and_is_recorded(
    evaluation, client, personas, db_session
):
    url = f"/buyer/evaluations/{evaluation.public_id}"
    # Before sealing a change needs no reason; it is kept all the same.
    assert client.post(url + "/weights", data={"weight:social_value": "2"}).status_code == 302
    client.post(url + "/seal")
    refused = client.post(url + "/weights", data={"weight:social_value": "3"})
    assert refused.status_code == 400
    assert "Give the reason for changing the criteria or weights after they were sealed." in (
        text_of(refused.get_data(True))
    )
    db_session.expire_all()
    assert {c.code: c.weight for c in db_session.get(Evaluation, evaluation.id).criteria}[
        "social_value"
    ] == D(2)
    # Nothing changed, nothing to explain.
    assert client.post(url + "/weights", data={"weight:social_value": "2"}).status_code == 302
    saved = client.post(
        url + "/weights",
        data={"weight:social_value": "3", "reason": "Board asked for more social value"},
    )
    assert saved.status_code == 302
    history = [
        (c.criterion_code, c.old_weight, c.new_weight, c.after_sealing, c.reason)
        for c in changes(evaluation)
    ]
    assert history == [
        ("social_value", D(1), D(2), False, None),
        ("social_value", D(2), D(3), True, "Board asked for more social value"),
    ]
    assert all(c.changed_by_id == personas["alb_buyer"].id for c in changes(evaluation))
    shown = page(client, evaluation)
    assert "Social value 1 → 2 Before sealing –" in shown
    assert "Social value 2 → 3 After sealing Board asked for more social value" in shown


def test_a_criterion_added_after_sealing_needs_a_reason(evaluation, personas):
    buyer = personas["alb_buyer"]
    services.seal(buyer, evaluation)
    with pytest.raises(Exception, match="a change needs a reason"):
        services.set_weights(buyer, evaluation, {}, "Implementation plan")
    services.set_weights(buyer, evaluation, {}, "Implementation plan", reason="Late bidder Q&A")
    last = changes(evaluation)[-1]
    assert (last.criterion_name, last.old_weight, last.new_weight) == (
        "Implementation plan",
        None,
        D(0),
    )


def test_changing_service_lines_after_sealing_needs_a_reason(evaluation, client, db_session):
    url = f"/buyer/evaluations/{evaluation.public_id}"
    client.post(url + "/seal")
    details = {
        "title": "Finance and payroll",
        "period": "2026-Q2",
        "service_lines": ["finance", "payroll"],
        "centres": ["centre-a", "centre-b", "peer-4"],
    }
    form = page(client, evaluation, "/edit")
    assert "Reason for changing the criteria" in form
    refused = client.post(url + "/edit", data=details)
    assert refused.status_code == 400
    assert "after they were sealed" in text_of(refused.get_data(True))
    saved = client.post(url + "/edit", data={**details, "reason": "Payroll joins the scope"})
    assert saved.status_code == 302
    last = changes(evaluation)[-1]
    assert (last.criterion_code, last.old_weight, last.new_weight, last.reason) == (
        "payroll_accuracy",
        None,
        D(1),
        "Payroll joins the scope",
    )


# --- every weighted criterion scored before locking --------------------------------------------


def test_locking_is_refused_until_every_weighted_criterion_is_scored(
    evaluation, client, personas, db_session
):
    url = f"/buyer/evaluations/{evaluation.public_id}"
    client.post(url + "/seal")
    lock_page = page(client, evaluation, "/lock")
    assert "Social value: Centre A Services is not scored yet" in lock_page
    refused = client.post(url + "/lock")
    assert refused.status_code == 422
    shown = text_of(refused.get_data(True))
    for name in ("Centre A Services", "Centre B Services", "Peer 4 Shared Services"):
        assert f"Social value: {name} is not scored yet; score it with your rationale" in shown
    assert "Quoted price" not in shown.split("There is a problem")[1].split("Lock the")[0]
    # Score two, mark the third not scored with a reason: now it locks.
    scored = client.post(
        url + "/scores",
        data={
            "score:social_value:centre-a": "80",
            "rationale:social_value:centre-a": "Apprenticeship scheme, 40 places a year",
            "score:social_value:centre-b": "65",
            "rationale:social_value:centre-b": "Carbon plan, audited 2026",
            "not_scored:social_value:peer-4": "yes",
            "reason:social_value:peer-4": "No social value offer was submitted",
        },
    )
    assert scored.status_code == 302
    assert "must be scored for every centre" not in page(client, evaluation, "/lock")
    assert client.post(url + "/lock").status_code == 302
    db_session.expire_all()
    cells = db_session.get(Evaluation, evaluation.id).snapshot["cells"]["social_value"]
    assert cells["centre-a"]["rationale"] == "Apprenticeship scheme, 40 places a year"
    assert cells["peer-4"]["not_scored_reason"] == "No social value offer was submitted"
    assert cells["peer-4"]["score"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"score:social_value:centre-a": "80"},
            "Give the rationale (the evidence) for the Social value score of Centre A Services.",
        ),
        (
            {"score:social_value:centre-a": "80", "rationale:social_value:centre-a": "   "},
            "Give the rationale (the evidence) for the Social value score of Centre A Services.",
        ),
        (
            {"not_scored:social_value:centre-a": "yes"},
            "Give the reason Centre A Services is not scored on Social value.",
        ),
        (
            {
                "not_scored:social_value:centre-a": "yes",
                "reason:social_value:centre-a": "No offer",
                "score:social_value:centre-a": "50",
            },
            "Either score Centre A Services on Social value or mark it not scored, not both.",
        ),
        (
            {"rationale:social_value:centre-a": "Strong offer"},
            "Enter the score for Centre A Services on Social value that the rationale explains.",
        ),
    ],
)
def test_a_score_needs_its_rationale_and_not_scored_its_reason(
    evaluation, client, db_session, data, message
):
    url = f"/buyer/evaluations/{evaluation.public_id}"
    client.post(url + "/seal")
    response = client.post(url + "/scores", data=data)
    assert response.status_code == 400
    shown = text_of(response.get_data(True))
    assert "There is a problem" in shown and message in shown
    assert db_session.execute(db.select(EvaluationScore)).scalars().all() == []


def test_a_metric_without_a_figure_is_scored_by_the_buyer(bench, personas, client, db_session):
    # Payroll accuracy in 2026-Q2: four centres, a peer group too small to rank anyone.
    evaluation = start(personas["alb_buyer"], lines=("finance", "payroll"))
    services.set_weights(personas["alb_buyer"], evaluation, {"social_value": D(0)})
    services.seal(personas["alb_buyer"], evaluation)
    db_session.commit()
    url = f"/buyer/evaluations/{evaluation.public_id}"
    refused = text_of(client.post(url + "/lock").get_data(True))
    assert (
        "Payroll accuracy: Centre A Services has no figure that can be scored; score it with "
        "your rationale, or mark it not scored with a reason." in refused
    )
    form = page(client, evaluation, "/scores")
    assert "Payroll accuracy" in form and "peer group too small to rank" in form
    assert "none sent" in form  # peer-4 sent no payroll figure
    response = client.post(
        url + "/scores",
        data={
            "score:payroll_accuracy:centre-a": "90",
            "rationale:payroll_accuracy:centre-a": "Audited accuracy 99.1% (internal audit)",
            "score:payroll_accuracy:centre-b": "70",
            "rationale:payroll_accuracy:centre-b": "Audited accuracy 98.2%",
            "not_scored:payroll_accuracy:peer-4": "yes",
            "reason:payroll_accuracy:peer-4": "No payroll evidence offered",
        },
    )
    assert response.status_code == 302
    shown = page(client, evaluation)
    # centre-a: (66.67 + 90) / 2 = 78.3; peer-4: cost only, coverage 50%
    assert "Centre A Services 78.3 100%" in shown
    assert "Peer 4 Shared Services 100.0 50%" in shown
    assert client.post(url + "/lock").status_code == 302


# --- the database holds the rules too ----------------------------------------------------------


def _criterion(evaluation, code):
    return next(c for c in evaluation.criteria if c.code == code)


@pytest.mark.parametrize(
    ("score", "rationale", "reason"),
    [
        (D(50), None, None),  # a score without rationale
        (D(50), "  ", None),  # a blank rationale
        (None, None, None),  # neither
        (None, None, " "),  # not scored with a blank reason
        (D(50), "Evidence", "And not scored"),  # both
    ],
)
def test_the_database_checks_scores(evaluation, bench, db_session, score, rationale, reason):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            EvaluationScore(
                evaluation_id=evaluation.id,
                criterion_id=_criterion(evaluation, "social_value").id,
                centre_id=bench.centres[0].id,
                score=score,
                rationale=rationale,
                not_scored_reason=reason,
            )
        )
        db_session.flush()


def test_the_database_refuses_a_change_after_sealing_without_a_reason(
    evaluation, personas, db_session
):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(
            EvaluationWeightChange(
                evaluation_id=evaluation.id,
                changed_by_id=personas["alb_buyer"].id,
                criterion_code="social_value",
                criterion_name="Social value",
                old_weight=D(1),
                new_weight=D(2),
                after_sealing=True,
                reason="",
            )
        )
        db_session.flush()


def test_the_database_refuses_locking_unsealed(evaluation, personas, db_session):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.execute(
            db.update(Evaluation)
            .where(Evaluation.id == evaluation.id)
            .values(
                status="locked",
                locked_at=evaluation.created_at,
                locked_by_id=personas["alb_buyer"].id,
                snapshot={},
                method_version="x",
            )
        )
        db_session.flush()


def test_postgresql_refuses_locking_an_unscored_buyer_criterion(
    evaluation, personas, db_session, is_postgres
):
    if not is_postgres:
        pytest.skip("the lock trigger exists on PostgreSQL only; the service checks SQLite")
    services.seal(personas["alb_buyer"], evaluation)
    lock = (
        db.update(Evaluation)
        .where(Evaluation.id == evaluation.id)
        .values(
            status="locked",
            locked_at=evaluation.created_at,
            locked_by_id=personas["alb_buyer"].id,
            snapshot={},
            method_version="x",
        )
    )
    refused = pytest.raises(IntegrityError, match="Social value is not scored for Centre A")
    with refused, db_session.begin_nested():
        db_session.execute(lock)
    ready_to_lock(personas["alb_buyer"], evaluation)
    db_session.execute(lock)  # every weighted buyer criterion has its row now


@pytest.fixture
def locked(evaluation, personas, is_postgres):
    if not is_postgres:
        pytest.skip("the freezing triggers exist on PostgreSQL only")
    buyer = personas["alb_buyer"]
    services.set_weights(buyer, evaluation, {"social_value": D(2)})
    ready_to_lock(buyer, evaluation)
    services.lock(buyer, evaluation)
    return evaluation


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE evaluation_weight_changes SET reason = 'Rewritten' WHERE evaluation_id = :id",
        "DELETE FROM evaluation_weight_changes WHERE evaluation_id = :id",
        "INSERT INTO evaluation_weight_changes (evaluation_id, changed_by_id, changed_at, "
        "criterion_code, criterion_name, old_weight, new_weight, after_sealing, reason) "
        "SELECT :id, locked_by_id, now(), 'social_value', 'Social value', 2, 5, true, 'Later' "
        "FROM evaluations WHERE id = :id",
        "UPDATE evaluation_scores SET rationale = 'Rewritten' WHERE evaluation_id = :id",
        "UPDATE evaluations SET weights_sealed_at = NULL WHERE id = :id",
    ],
)
def test_postgresql_freezes_the_history_and_scores_of_a_locked_evaluation(
    locked, db_session, statement
):
    with pytest.raises(IntegrityError, match=r"locked|history|sealed"), db_session.begin_nested():
        db_session.execute(text(statement), {"id": locked.id})


def test_postgresql_keeps_the_history_honest_and_sealed_weights_fixed(
    evaluation, personas, db_session, is_postgres
):
    if not is_postgres:
        pytest.skip("the history triggers exist on PostgreSQL only")
    insert = (
        "INSERT INTO evaluation_weight_changes (evaluation_id, changed_by_id, changed_at, "
        "criterion_code, criterion_name, old_weight, new_weight, after_sealing, reason) "
        "VALUES (:id, :user, now(), 'social_value', 'Social value', 1, 2, :after, :reason)"
    )
    user = personas["alb_buyer"].id
    # Not sealed yet: a row claiming "after sealing" is refused.
    sealed_truthfully = pytest.raises(IntegrityError, match="whether the weights were sealed")
    with sealed_truthfully, db_session.begin_nested():
        db_session.execute(
            text(insert), {"id": evaluation.id, "user": user, "after": True, "reason": "x"}
        )
    services.seal(personas["alb_buyer"], evaluation)
    sealed_truthfully = pytest.raises(IntegrityError, match="whether the weights were sealed")
    with sealed_truthfully, db_session.begin_nested():
        db_session.execute(
            text(insert), {"id": evaluation.id, "user": user, "after": False, "reason": None}
        )
    with pytest.raises(IntegrityError, match="never unsealed"), db_session.begin_nested():
        db_session.execute(
            text("UPDATE evaluations SET sealed_weights = '{}' WHERE id = :id"),
            {"id": evaluation.id},
        )


# --- the decision record: page and PDF -----------------------------------------------------------


def _suspend(centre, admin):
    from marketplace.catalogue import accreditation

    accreditation.change(centre, "suspend", actor=admin, reason="Data breach under review")
    db.session.flush()


@pytest.fixture
def decided(evaluation, personas, bench, db_session):
    """Weighted, sealed, changed with a reason, scored (one not scored), locked, a centre
    suspended after the lock, and awarded to another with its contract."""
    buyer = personas["alb_buyer"]
    add_kpi_metric()  # the contract's third KPI (invoice cycle time)
    services.set_weights(buyer, evaluation, {"ap_cost_per_invoice": D(6)})
    services.seal(buyer, evaluation)
    services.set_weights(
        buyer, evaluation, {"social_value": D(2)}, reason="Policy review: social value to 25%"
    )
    services.set_scores(
        buyer,
        evaluation,
        {
            ("social_value", "centre-a"): services.ScoreEntry(
                score=D(80), rationale="40 apprenticeships a year, letter of 3 March"
            ),
            ("social_value", "centre-b"): services.ScoreEntry(
                score=D(55), rationale="Carbon plan only"
            ),
            ("social_value", "peer-4"): services.ScoreEntry(
                not_scored=True, reason="No social value offer submitted"
            ),
        },
    )
    services.lock(buyer, evaluation)
    _suspend(bench.centres[1], personas["admin"])
    services.record_outcome(
        buyer, evaluation, "awarded", "centre-a", "Best value", contract=CONTRACT
    )
    db_session.commit()
    return evaluation


def _expected(buyer_email: str) -> list[str]:
    return [
        # the sealed weights and every change, who, when, old → new, why
        "AP cost per invoice 1 → 6 Before sealing",
        "Social value 1 → 2 After sealing Policy review: social value to 25%",
        buyer_email,
        "27 November 2026",
        # the buyer's scores with rationale, and not scored with its reason
        "Social value Centre A Services 80 40 apprenticeships a year, letter of 3 March",
        "Social value Peer 4 Shared Services Not scored No social value offer submitted",
        # standings at lock and at award
        "Centre B Services Accredited Suspended",
        "Centre A Services Accredited Accredited",
        # the contract
        "£1,250,000",
        "1 April 2027",
        "31 March 2030",
        "Finance: 120,000 invoices",
    ]


def test_the_record_page_shows_history_rationale_standings_and_contract(decided, client, personas):
    shown = page(client, decided)
    for expected in _expected(personas["alb_buyer"].email):
        assert expected in shown, expected
    assert "Weights as sealed" in shown
    assert "AP cost per invoice 6" in shown  # as sealed, before the later change


def test_the_record_pdf_shows_history_rationale_standings_and_contract(decided, client, personas):
    response = client.get(f"/buyer/evaluations/{decided.public_id}/decision-record.pdf")
    assert response.status_code == 200
    printed = " ".join(pdf_text(response.data).split())
    for expected in _expected(personas["alb_buyer"].email):
        assert expected in printed, expected
    assert "Weights: as sealed, and every change" in printed


def test_a_record_locked_before_format_2_says_what_it_lacks(decided):
    legacy = {k: v for k, v in decided.snapshot.items() if k != "weights"}
    parts = record.parts(decided, legacy)
    assert parts["recorded"] is False and parts["changes"] == [] and parts["sealed"] is None
