"""Catalogue search, visibility, certifications, counts and latest benchmark values."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from marshmallow import ValidationError
from sqlalchemy import event

from marketplace import clock
from marketplace.benchmarks import latest
from marketplace.catalogue import services
from marketplace.catalogue.filter_schemas import CentreFilterSchema
from marketplace.catalogue.services import CentreQuery
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from tests.factories import (
    CentreSiteFactory,
    CertificationFactory,
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    ServiceLineFactory,
)


def centre(name: str, **kwargs):
    slug = name.lower().replace(" ", "-")
    from tests.factories import OrganisationFactory

    return ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug=slug, name=name), **kwargs
    )


def expired(name: str, **kwargs):
    today = clock.today()
    return centre(
        name,
        accredited_from=today - timedelta(days=800),
        accredited_until=today - timedelta(days=1),
        **kwargs,
    )


def names(page) -> list[str]:
    return [c.name for c in page.items]


@pytest.fixture
def catalogue(db_session):
    """One centre in every status."""
    return {
        "accredited": centre("Alpha Shared Services"),
        "expired": expired("Bravo Business Services"),
        "suspended": centre("Charlie Centre", accreditation_status="suspended"),
        "applied": centre(
            "Delta Applicant",
            accreditation_status="applied",
            accredited_from=None,
            accredited_until=None,
        ),
        "withdrawn": centre("Echo Withdrawn", accreditation_status="withdrawn"),
    }


# --- visibility ----------------------------------------------------------------------------


def test_public_list_shows_accredited_expired_and_suspended_only(catalogue):
    page = services.search_centres(CentreQuery())
    assert names(page) == ["Alpha Shared Services", "Bravo Business Services", "Charlie Centre"]
    assert page.total == 3


def test_admin_gets_the_public_list_unless_asking_for_a_hidden_status(catalogue, personas):
    admin = personas["admin"]
    default = services.search_centres(CentreQuery(), viewer=admin)
    assert "Delta Applicant" not in names(default)
    assert names(services.search_centres(CentreQuery(status="applied"), viewer=admin)) == [
        "Delta Applicant"
    ]
    assert names(services.search_centres(CentreQuery(status="withdrawn"), viewer=admin)) == [
        "Echo Withdrawn"
    ]


@pytest.mark.parametrize("persona", ["anonymous", "buyer", "centre_user"])
def test_hidden_statuses_cannot_be_listed_by_others(catalogue, personas, persona):
    with pytest.raises(ValidationFailed) as raised:
        services.search_centres(CentreQuery(status="applied"), viewer=personas[persona])
    assert raised.value.errors[0].field == "status"
    assert "not listed publicly" in raised.value.errors[0].message


def test_status_filter_derives_expired_from_the_clock(catalogue):
    assert names(services.search_centres(CentreQuery(status="expired"))) == [
        "Bravo Business Services"
    ]
    assert names(services.search_centres(CentreQuery(status="accredited"))) == [
        "Alpha Shared Services"
    ]
    assert names(services.search_centres(CentreQuery(status="suspended"))) == ["Charlie Centre"]


def test_accreditation_is_valid_on_its_last_day(db_session):
    last_day = centre("Last Day", accredited_until=clock.today())
    assert last_day.status == "accredited"
    assert names(services.search_centres(CentreQuery(status="accredited"))) == ["Last Day"]
    with clock.frozen_at(clock.today() + timedelta(days=1)):
        assert last_day.status == "expired"
        assert names(services.search_centres(CentreQuery(status="expired"))) == ["Last Day"]


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("anonymous", False),
        ("buyer", False),
        ("alb_buyer", False),
        ("other_centre_user", False),
        ("centre_user", True),
        ("admin", True),
    ],
)
def test_hidden_centre_page_only_for_its_own_users_and_admins(personas, persona, sees):
    own = personas["centre"]
    own.accreditation_status = "applied"
    db.session.flush()
    if sees:
        assert services.get_public_centre(own.slug, viewer=personas[persona]) is own
    else:
        with pytest.raises(NotFound):
            services.get_public_centre(own.slug, viewer=personas[persona])


def test_unknown_slug_is_not_found(db_session):
    with pytest.raises(NotFound):
        services.get_public_centre("no-such-centre")


# --- filters, text search, sorting, paging -------------------------------------------------


def test_filters_by_service_line_and_business_model(db_session):
    centre("Finance Only", lines=["finance"], business_model="public_in_house")
    centre("Payroll Mutual", lines=["payroll", "hr"], business_model="employee_owned_mutual")
    centre("Payroll Private", lines=["payroll"], business_model="private")
    assert names(services.search_centres(CentreQuery(service_line="payroll"))) == [
        "Payroll Mutual",
        "Payroll Private",
    ]
    both = CentreQuery(service_line="payroll", business_model="employee_owned_mutual")
    assert names(services.search_centres(both)) == ["Payroll Mutual"]


def test_free_text_searches_name_summary_platform_and_towns(db_session):
    by_name = centre("Northern Ledger", summary="", platform="SAP")
    by_summary = centre("Bolt", summary="Award-winning PAYROLL bureau", platform="SAP")
    by_platform = centre("Cog", summary="", platform="Oracle Fusion")
    by_town = centre("Dock", summary="", platform="SAP")
    CentreSiteFactory(centre=by_town, name="Main office", town="Sheffield")
    db.session.expire_all()

    def find(q):
        return names(services.search_centres(CentreQuery(q=q)))

    assert find("ledger") == [by_name.name]
    assert find("payroll") == [by_summary.name]
    assert find("fusion") == [by_platform.name]
    assert find("sheff") == [by_town.name]
    # Every word must match somewhere; "%" and "_" are literal, not wildcards.
    assert find("award bureau") == [by_summary.name]
    assert find("award oracle") == []
    assert find("%") == []
    assert find("_") == []


def test_sorts_with_name_as_tie_break_and_unknown_sizes_last(db_session):
    centre("Big", employees_served=90_000)
    centre("Small", employees_served=1_000)
    centre("Unknown", employees_served=None)
    centre("Also Big", employees_served=90_000)

    def order(sort):
        return names(services.search_centres(CentreQuery(sort=sort)))

    assert order("name") == ["Also Big", "Big", "Small", "Unknown"]
    assert order("-name") == ["Unknown", "Small", "Big", "Also Big"]
    assert order("-employees_served") == ["Also Big", "Big", "Small", "Unknown"]
    assert order("employees_served") == ["Small", "Also Big", "Big", "Unknown"]


def test_status_sort_puts_centres_that_can_be_chosen_first(catalogue):
    assert names(services.search_centres(CentreQuery(sort="status"))) == [
        "Alpha Shared Services",
        "Charlie Centre",
        "Bravo Business Services",
    ]


def test_pages_of_results(db_session):
    for n in range(7):
        centre(f"Centre {n:02d}")
    page = services.search_centres(CentreQuery(page=2, per_page=3))
    assert names(page) == ["Centre 03", "Centre 04", "Centre 05"]
    assert (page.total, page.pages, page.first_index, page.last_index) == (7, 3, 4, 6)
    last = services.search_centres(CentreQuery(page=3, per_page=3))
    assert names(last) == ["Centre 06"]
    beyond = services.search_centres(CentreQuery(page=9, per_page=3))
    assert beyond.items == [] and beyond.total == 7


def test_a_page_costs_three_queries_however_many_centres(db_session):
    for n in range(25):
        site_centre = centre(f"Centre {n:02d}", lines=["finance", "payroll", "hr"])
        CentreSiteFactory(centre=site_centre, name="Head office", town=f"Town {n}")
    db.session.flush()
    db.session.expire_all()
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = services.search_centres(CentreQuery(q="centre", per_page=20))
        for item in page.items:
            _ = [line.code for line in item.service_lines], [site.town for site in item.sites]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert len(page.items) == 20
    assert len(statements) == 4  # count, centres, their service lines, their sites


# --- the filter schema ---------------------------------------------------------------------


def test_filter_schema_loads_query_arguments(db_session):
    ServiceLineFactory(code="payroll")
    query = CentreFilterSchema().load(
        {"service_line": "payroll", "q": "  north  ", "sort": "-name", "page": "2", "utm": "x"}
    )
    assert query == CentreQuery(service_line="payroll", q="north", sort="-name", page=2)


def test_filter_schema_treats_blank_form_values_as_no_filter(db_session):
    assert CentreFilterSchema().load({"service_line": "", "status": " ", "q": ""}) == CentreQuery()


def test_filter_schema_explains_each_bad_value(db_session):
    ServiceLineFactory(code="finance")
    with pytest.raises(ValidationError) as raised:
        CentreFilterSchema().load(
            {
                "service_line": "gardening",
                "business_model": "cooperative",
                "status": "lapsed",
                "sort": "price",
                "page": "0",
                "per_page": "500",
            }
        )
    messages = raised.value.messages
    assert "'gardening' is not a service line" in messages["service_line"][0]
    assert "finance" in messages["service_line"][0]
    assert "'cooperative' is not a business model" in messages["business_model"][0]
    assert "'lapsed' is not an accreditation status" in messages["status"][0]
    assert "'price' is not a sort order" in messages["sort"][0]
    assert messages["page"] == ["The page number must be 1 or more."]
    assert messages["per_page"] == ["Results per page must be from 1 to 100."]


# --- certifications ------------------------------------------------------------------------


def test_certification_states_around_the_sixty_day_warning(db_session):
    today = clock.today()
    holder = centre("Certified")
    cases = {
        "iso27001": (today - timedelta(days=1), "expired", "Expired 1 day ago"),
        "iso9001": (today, "expiring", "Expires today"),
        "iso22301": (today + timedelta(days=60), "expiring", "Expires in 60 days"),
        "isae3402": (today + timedelta(days=61), "valid", "Valid"),
    }
    for scheme, (expires_on, _code, _message) in cases.items():
        CertificationFactory(centre=holder, scheme=scheme, expires_on=expires_on)
    for cert in holder.certifications:
        state = services.certification_state(cert)
        _expires, code, message = cases[cert.scheme]
        assert (state.code, state.message) == (code, message)
    expiring = services.expiring_certifications(holder)
    assert [c.scheme for c in expiring] == ["iso27001", "iso9001", "iso22301"]


def test_expiring_certifications_across_listed_centres_only(db_session):
    soon = clock.today() + timedelta(days=10)
    listed = centre("Listed")
    hidden = centre("Hidden", accreditation_status="withdrawn")
    CertificationFactory(centre=listed, expires_on=soon)
    CertificationFactory(centre=hidden, expires_on=soon)
    assert [c.centre.name for c in services.expiring_certifications()] == ["Listed"]


# --- counts and latest values --------------------------------------------------------------


def test_public_counts(catalogue):
    counts = services.public_counts()
    assert counts["centres"] == 3
    assert counts["accredited"] == 1
    by_line = {line["code"]: line["centres"] for line in counts["service_lines"]}
    assert by_line["finance"] == 3


@pytest.fixture
def benchmarked(personas):
    """centre-a with two metrics: one published in Q2, newer closed data in Q3."""
    own = personas["centre"]
    cost = MetricFactory(code="ap_cost_per_invoice", name="AP cost per invoice")
    speed = MetricFactory(code="invoice_cycle_days", name="Invoice cycle", unit="days")
    published = ReportingPeriodFactory(
        year=2026, quarter=2, status="published", published_at=clock.now()
    )
    closed = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    older = ReportingPeriodFactory(
        year=2026, quarter=1, status="published", published_at=clock.now()
    )
    ObservationFactory(centre=own, metric=cost, period=older, value=Decimal("6.00"))
    ObservationFactory(centre=own, metric=cost, period=published, value=Decimal("5.50"))
    ObservationFactory(centre=own, metric=cost, period=closed, value=Decimal("4.25"))
    ObservationFactory(centre=own, metric=speed, period=published, value=Decimal("8.3"))
    return own


def _latest(centre, viewer):
    return {
        v.metric_code: (v.value, v.period_code, v.published)
        for v in latest.latest_values(centre, viewer=viewer)
    }


@pytest.mark.parametrize("persona", ["anonymous", "other_centre_user"])
def test_public_sees_latest_published_values(benchmarked, personas, persona):
    assert _latest(benchmarked, personas[persona]) == {
        "ap_cost_per_invoice": (Decimal("5.5"), "2026-Q2", True),
        "invoice_cycle_days": (Decimal("8.3"), "2026-Q2", True),
    }


@pytest.mark.parametrize("persona", ["buyer", "alb_buyer", "centre_user", "admin"])
def test_buyers_admins_and_the_centre_see_validated_unpublished_values(
    benchmarked, personas, persona
):
    assert _latest(benchmarked, personas[persona]) == {
        "ap_cost_per_invoice": (Decimal("4.25"), "2026-Q3", False),
        "invoice_cycle_days": (Decimal("8.3"), "2026-Q2", True),
    }
