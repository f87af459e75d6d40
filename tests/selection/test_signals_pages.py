"""Early-warning signals where buyers choose and watch: each compared centre's summary on
/compare, and on /buyer "Your contracts" with the signals of the centres a buyer follows.

The contract is tests/contracts/conftest.py's: Persona Agency (an ALB of the Department for
Personas) buys from Centre A, 2026 to 2028, KPIs on AP cost per invoice (£3.80), payroll
accuracy (99.0%) and invoice cycle time (5.0 days, no figures).
"""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from marketplace.extensions import db
from marketplace.publications import services as publications
from tests.contracts.conftest import award
from tests.factories import OrganisationFactory, UserFactory
from tests.selection.conftest import add_kpi_metric


def text_of(html: str) -> str:
    """The page's words as read: tags gone, spaces collapsed, none before punctuation."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    return re.sub(r"\(\s+", "(", re.sub(r"\s+([,.;:)])", r"\1", text))


def between(html: str, start: str, end: str) -> str:
    return html.split(start, 1)[1].split(end, 1)[0]


@pytest.fixture
def contract(bench, personas):
    add_kpi_metric()
    contract = award(personas)
    db.session.commit()
    return contract


@pytest.fixture
def rated_badly(bench, contract):
    """Q3 published with Centre A's cost per invoice at £4.40: Inadequate against £3.80."""
    bench.observations["ap_cost_per_invoice", "2026-Q3", "centre-a"].value = Decimal("4.40")
    publications.start_publication(bench.q3, actor_label="test")
    db.session.commit()
    return contract


# --- /buyer ----------------------------------------------------------------------------------


def test_your_contracts_shows_each_live_contract_with_its_latest_ratings(contract, as_persona):
    html = as_persona("alb_buyer").get("/buyer").get_data(as_text=True)
    section = between(html, 'id="contracts"', 'id="changes"')
    assert f'href="/buyer/contracts/{contract.public_id}"' in section
    text = text_of(section)
    assert "Finance shared service 2026" in text
    assert "With Centre A Services, from 1 January 2026 to 31 December 2028." in text
    assert "KPI ratings, Q2 2026 (the latest quarter rated)" in text
    assert "AP cost per invoice £3.80 £3.50 Good" in text
    assert "Payroll accuracy 99.0% 99.1% Good" in text
    assert "Invoice cycle time 5.0 days No figure No figure" in text


def test_a_department_sees_its_albs_contracts_and_others_see_none(contract, as_persona):
    department = text_of(as_persona("buyer").get("/buyer").get_data(as_text=True))
    assert "Finance shared service 2026" in department
    assert "With Centre A Services, held by Persona Agency, from 1 January 2026" in department
    other = UserFactory(organisation=OrganisationFactory(slug="elsewhere"))
    db.session.commit()
    from tests.conftest import sign_in

    client = as_persona(None)
    sign_in(client, other)
    page = text_of(client.get("/buyer").get_data(as_text=True))
    assert "Your organisation has no live contract." in page
    assert "Finance shared service 2026" not in page


def test_the_latest_quarter_rated_shows_the_buyers_override(rated_badly, personas, as_persona):
    from marketplace.contracts import services as contracts

    rating = contracts.rating_of(rated_badly, "ap_cost_per_invoice", "2026-Q3")
    contracts.override(personas["alb_buyer"], rated_badly, rating, "requires_improvement", "Agreed")
    db.session.commit()
    html = as_persona("alb_buyer").get("/buyer").get_data(as_text=True)
    text = text_of(between(html, 'id="contracts"', 'id="changes"'))
    assert "KPI ratings, Q3 2026 (the latest quarter rated)" in text
    assert "AP cost per invoice £3.80 £4.40 Requires improvement (set by the buyer)" in text
    # Payroll accuracy has no Q3 figure.
    assert "Payroll accuracy 99.0% No figure No figure" in text


def test_the_signals_of_a_contracted_centre_are_on_the_buyers_page(rated_badly, as_persona):
    html = as_persona("alb_buyer").get("/buyer").get_data(as_text=True)
    changes = between(html, 'id="changes"', 'id="live"')
    text = text_of(changes)
    assert "What changed at the centres you follow" in text
    assert "Centre A Services (under contract: Finance shared service 2026)" in text
    assert "Contract KPI below target" in text
    assert "AP cost per invoice was £4.40 in Q3 2026 against a target of £3.80" in text
    assert f'href="/buyer/contracts/{rated_badly.public_id}"' in changes


def test_a_contract_not_yet_rated_says_so(bench, personas, as_persona):
    add_kpi_metric()
    from tests.contracts.conftest import TERMS

    later = {**TERMS, "contract_starts_on": TERMS["contract_starts_on"].replace(month=10)}
    award(personas, later)
    db.session.commit()
    text = text_of(as_persona("alb_buyer").get("/buyer").get_data(as_text=True))
    assert "No quarter of its term has been published yet, so its KPIs are not rated yet." in text


# --- /compare --------------------------------------------------------------------------------


def signals_section(html: str) -> str:
    return between(html, '<h2 class="govuk-heading-m" id="signals">', "Weighted score,")


def test_compare_shows_each_centres_summary_with_its_count_and_evidence(bench, as_persona):
    bench.centres[1].accreditation_status = "suspended"
    db.session.commit()
    html = as_persona(None).get("/compare?centres=centre-a,centre-b").get_data(as_text=True)
    section = signals_section(html)
    text = text_of(section)
    assert "Early-warning summaries" in text
    assert re.search(r"Centre B Services: \d+ signals?", text)
    assert "Accreditation suspended" in text
    assert 'href="/centres/centre-b#accreditation"' in section
    # Each centre's list is named by its heading, for screen readers.
    assert 'aria-labelledby="signals-centre-b"' in section
    assert 'id="signals-centre-a"' in section


def test_compare_shows_a_kpi_signal_only_to_those_who_may_see_the_contract(rated_badly, as_persona):
    url = "/compare?centres=centre-a,centre-b"
    buyer = signals_section(as_persona("alb_buyer").get(url).get_data(as_text=True))
    assert "Contract KPI below target" in text_of(buyer)
    assert f'href="/buyer/contracts/{rated_badly.public_id}"' in buyer
    for persona in (None, "other_centre_user"):
        page = as_persona(persona).get(url).get_data(as_text=True)
        assert "Contract KPI below target" not in page
        assert "Finance shared service 2026" not in page
