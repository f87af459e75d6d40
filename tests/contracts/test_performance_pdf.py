"""The yearly contract performance PDF (publications renders it, by the report rules)."""

from __future__ import annotations

from marketplace.contracts import services
from marketplace.extensions import db
from tests.publications.helpers import open_pdf, pdf_text


def url(contract, year=2026) -> str:
    return f"/buyer/contracts/{contract.public_id}/{year}.pdf"


def test_the_yearly_pdf_shows_each_quarters_ratings_and_the_buyers_reason(
    contract, as_persona, personas
):
    rating = services.rating_of(contract, "ap_cost_per_invoice", "2026-Q1")
    services.override(personas["alb_buyer"], contract, rating, "good", "<b>Backlog</b> cleared")
    db.session.commit()
    client = as_persona("alb_buyer")
    page = client.get(f"/buyer/contracts/{contract.public_id}").get_data(as_text=True)
    assert url(contract) in page and url(contract, 2028) in page
    response = client.get(url(contract))
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "private" in response.headers["Cache-Control"]
    text = " ".join(pdf_text(response.data).split())
    assert "Contract performance 2026" in text
    assert "AP cost per invoice" in text and "Target £3.80" in text
    assert "Requires improvement Good (set by the buyer) <b>Backlog</b> cleared" in text
    assert "Invoice cycle time" in text and "No figure" in text
    pdf = open_pdf(response.data)
    assert str(pdf.Root.Lang) == "en-GB"
    assert "/StructTreeRoot" in pdf.Root
    etag = response.headers["ETag"]
    assert client.get(url(contract), headers={"If-None-Match": etag}).status_code == 304


def test_a_year_outside_the_term_and_strangers_get_404(contract, as_persona):
    assert as_persona("alb_buyer").get(url(contract, 2030)).status_code == 404
    assert as_persona("other_centre_user").get(url(contract)).status_code == 404
