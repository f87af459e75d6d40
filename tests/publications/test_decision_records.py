"""Decision records: a locked evaluation and its outcome as a PDF, from the snapshot alone."""

from __future__ import annotations

from decimal import Decimal

import pytest

from marketplace.benchmarks import peers
from marketplace.extensions import db
from marketplace.selection import services as selection
from tests.publications.helpers import open_pdf, pdf_text
from tests.selection.conftest import CONTRACT, add_kpi_metric, build_bench, ready_to_lock

RATIONALE = 'Best value. <img src="file:///etc/passwd"> <b>bold</b>'


@pytest.fixture
def evaluation(personas):
    build_bench(personas)
    add_kpi_metric()
    buyer = personas["alb_buyer"]
    evaluation = selection.create(
        buyer,
        {
            "title": "Finance shared service 2027",
            "needs": "120,000 invoices a year",
            "period": "2026-Q2",
            "service_lines": ["finance"],
            "centres": ["centre-a", "centre-b", "peer-4"],
        },
    )
    selection.set_weights(buyer, evaluation, {"ap_cost_per_invoice": Decimal(9)})
    ready_to_lock(buyer, evaluation)
    db.session.commit()
    return evaluation


def url(evaluation) -> str:
    return f"/buyer/evaluations/{evaluation.public_id}/decision-record.pdf"


def download(client, address, **kwargs):
    response = client.get(address, **kwargs)
    response.get_data()
    response.close()
    return response


def test_the_record_shows_what_was_locked_and_decided(as_persona, personas, evaluation):
    buyer = personas["alb_buyer"]
    selection.lock(buyer, evaluation)
    selection.record_outcome(buyer, evaluation, "awarded", "centre-a", RATIONALE, contract=CONTRACT)
    db.session.commit()
    client = as_persona("alb_buyer")

    page = client.get(f"/buyer/evaluations/{evaluation.public_id}").get_data(as_text=True)
    assert url(evaluation) in page
    response = download(client, url(evaluation))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert "decision-record.pdf" in response.headers["Content-Disposition"]
    assert "private" in response.headers["Cache-Control"]
    text = pdf_text(response.data)
    assert "Finance shared service 2027" in text
    assert "Awarded: Centre A Services" in text
    assert RATIONALE.replace(" ", "") in "".join(text.split())  # printed, not interpreted
    assert "Weighted score and rank" in text
    assert "AP cost per invoice" in text
    pdf = open_pdf(response.data)
    assert str(pdf.Root.Lang) == "en-GB"
    assert "/StructTreeRoot" in pdf.Root
    assert "/Names" not in pdf.Root or "/EmbeddedFiles" not in pdf.Root.Names

    again = download(client, url(evaluation))
    assert again.data == response.data
    etag = response.headers["ETag"]
    assert download(client, url(evaluation), headers={"If-None-Match": etag}).status_code == 304


def test_later_changes_to_the_figures_do_not_alter_the_record(as_persona, personas, evaluation):
    selection.lock(personas["alb_buyer"], evaluation)
    db.session.commit()
    client = as_persona("alb_buyer")
    before = download(client, url(evaluation)).data
    assert "No outcome had been recorded" in pdf_text(before)

    from marketplace.benchmarks.models import Observation

    for observation in db.session.scalars(db.select(Observation)):
        observation.value = observation.value * 2
    peers.recompute_all()
    db.session.commit()

    assert download(client, url(evaluation)).data == before


@pytest.mark.parametrize(
    ("persona", "status"),
    [("anonymous", 302), ("centre_user", 404), ("other_centre_user", 404), ("buyer", 200)],
)
def test_only_those_who_may_see_the_evaluation_get_its_record(
    as_persona, personas, evaluation, persona, status
):
    selection.lock(personas["alb_buyer"], evaluation)
    db.session.commit()
    # 'buyer' is in the department that sponsors the ALB, so it may see the evaluation.
    assert download(as_persona(persona), url(evaluation)).status_code == status


def test_a_draft_has_no_decision_record(as_persona, evaluation):
    assert download(as_persona("alb_buyer"), url(evaluation)).status_code == 409
