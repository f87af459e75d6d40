"""The public catalogue pages as people see them."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape

import pytest

from marketplace import clock
from marketplace.extensions import db
from tests.factories import (
    CentreSiteFactory,
    CertificationFactory,
    MetricFactory,
    ObservationFactory,
    OrganisationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    ServiceLineFactory,
)


def centre(name: str, **kwargs):
    slug = name.lower().replace(" ", "-")
    return ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug=slug, name=name), **kwargs
    )


def text(response) -> str:
    """The page's visible text, whitespace collapsed, for assertions about wording."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", body))).strip()


def result_names(response) -> list[str]:
    body = response.get_data(as_text=True)
    return [
        unescape(name)
        for name in re.findall(r'<h3 class="govuk-heading-m[^"]*">\s*<a [^>]*>([^<]+)</a>', body)
    ]


@pytest.fixture
def listed(db_session):
    today = clock.today()
    return {
        "accredited": centre("Alpha Shared Services", lines=["finance"]),
        "expired": centre(
            "Bravo Business Services",
            lines=["payroll"],
            accredited_from=today - timedelta(days=700),
            accredited_until=today - timedelta(days=3),
        ),
        "suspended": centre("Charlie Centre", accreditation_status="suspended"),
        "applied": centre(
            "Delta Applicant",
            accreditation_status="applied",
            accredited_from=None,
            accredited_until=None,
        ),
        "withdrawn": centre("Echo Withdrawn", accreditation_status="withdrawn"),
    }


# --- /centres ------------------------------------------------------------------------------


def test_list_shows_listed_centres_with_status_and_count(client, listed):
    response = client.get("/centres")
    assert response.status_code == 200
    assert result_names(response) == [
        "Alpha Shared Services",
        "Bravo Business Services",
        "Charlie Centre",
    ]
    page = text(response)
    assert "3 centres" in page
    assert "Delta Applicant" not in page and "Echo Withdrawn" not in page
    assert "Accreditation suspended. This centre cannot be chosen until it is reinstated." in page
    assert "Accreditation expired. This centre cannot be chosen until it is renewed." in page
    body = response.get_data(as_text=True)
    assert 'govuk-tag--orange">\n  Suspended' in body or re.search(
        r"govuk-tag--orange\">\s*Suspended", body
    )
    assert re.search(r"govuk-tag--grey\">\s*Expired", body)


def test_filters_come_from_the_url_and_stay_in_the_form(client, listed):
    response = client.get("/centres?service_line=payroll&status=expired")
    assert result_names(response) == ["Bravo Business Services"]
    body = response.get_data(as_text=True)
    assert re.search(r'name="service_line" type="checkbox" value="payroll" checked', body)
    assert re.search(r'<option value="expired" selected>', body)
    assert "1 centre match your filters" in text(response)


def test_service_lines_repeat_and_a_centre_must_offer_every_one(client, listed):
    centre("Foxtrot Both Lines", lines=["finance", "payroll"])
    finance = result_names(client.get("/centres?service_line=finance"))
    assert "Alpha Shared Services" in finance and "Foxtrot Both Lines" in finance
    response = client.get("/centres?service_line=finance&service_line=payroll")
    both = result_names(response)
    assert "Foxtrot Both Lines" in both
    assert "Alpha Shared Services" not in both and "Bravo Business Services" not in both
    body = response.get_data(as_text=True)
    for code in ("finance", "payroll"):
        assert re.search(rf'name="service_line" type="checkbox" value="{code}" checked', body)
    # The sort links keep both lines.
    assert "service_line=finance&amp;service_line=payroll&amp;sort=-name" in body
    refused = client.get("/centres?service_line=finance&service_line=gardening")
    assert refused.status_code == 400
    assert "'gardening' is not a service line." in text(refused)


def test_free_text_search(client, listed):
    CentreSiteFactory(centre=listed["suspended"], name="Main", town="Darlington")
    response = client.get("/centres?q=darlington")
    assert result_names(response) == ["Charlie Centre"]


def test_sort_links_keep_the_filters(client, listed):
    response = client.get("/centres?service_line=finance")
    body = response.get_data(as_text=True)
    assert 'href="/centres?service_line=finance&amp;sort=-name"' in body
    reverse = client.get("/centres?sort=-name")
    assert result_names(reverse) == [
        "Charlie Centre",
        "Bravo Business Services",
        "Alpha Shared Services",
    ]
    # The filter form carries the chosen order when filters change.
    assert '<input type="hidden" name="sort" value="-name">' in reverse.get_data(as_text=True)


def test_pagination_links_keep_the_filters(client, db_session):
    for n in range(5):
        centre(f"Payroll Centre {n}", lines=["payroll"])
    response = client.get("/centres?service_line=payroll&per_page=2&page=2")
    assert result_names(response) == ["Payroll Centre 2", "Payroll Centre 3"]
    body = response.get_data(as_text=True)
    assert 'aria-label="Pages of results"' in body
    assert 'href="/centres?service_line=payroll&amp;per_page=2&amp;page=3"' in body  # next, 3
    assert 'href="/centres?service_line=payroll&amp;per_page=2"' in body  # previous: page 1
    assert re.search(r'aria-current="page"[^>]*>\s*2', body)
    assert "Showing 3 to 4 of 5." in text(response)


def test_invalid_filters_show_an_error_summary_not_a_crash(client, listed):
    response = client.get("/centres?service_line=gardening&sort=cheapest&page=zero")
    assert response.status_code == 400
    page = text(response)
    assert page.startswith("Error: Service centres")
    assert "There is a problem" in page
    assert "'gardening' is not a service line." in page
    assert "'cheapest' is not a sort order." in page
    assert "The page number must be a whole number." in page
    body = response.get_data(as_text=True)
    assert 'href="#service_line"' in body
    assert 'id="service_line-error"' in body


@pytest.mark.parametrize(
    ("persona", "status_code"),
    [("anonymous", 400), ("buyer", 400), ("centre_user", 400), ("admin", 200)],
)
def test_only_admins_list_applied_centres(as_persona, listed, persona, status_code):
    response = as_persona(persona).get("/centres?status=applied")
    assert response.status_code == status_code
    if status_code == 200:
        assert result_names(response) == ["Delta Applicant"]
    else:
        assert "Applied and withdrawn centres are not listed publicly." in text(response)
        assert "Delta Applicant" not in text(response)


def test_status_filter_offers_hidden_statuses_to_admins_only(as_persona, listed):
    anonymous = as_persona("anonymous").get("/centres").get_data(as_text=True)
    admin = as_persona("admin").get("/centres").get_data(as_text=True)
    assert '<option value="applied"' not in anonymous
    assert '<option value="applied"' in admin


def test_no_results_says_so(client, listed):
    response = client.get("/centres?q=zebra")
    assert response.status_code == 200
    assert "0 centres match your filters" in text(response)
    assert "No centres match your filters." in text(response)


# --- /centres/<slug> -----------------------------------------------------------------------


@pytest.fixture
def full_centre(db_session):
    today = clock.today()
    subject = centre(
        "Mutual Payroll Services",
        business_model="employee_owned_mutual",
        ownership_employee=Decimal("25"),
        ownership_government=Decimal("35"),
        ownership_private=Decimal("40"),
        board_workforce=3,
        board_customers=3,
        board_government=3,
        board_private_partner=0,
        board_independent=1,
        platform="SAP SuccessFactors",
        employees_served=42_000,
        transactions_per_year=1_500_000,
        pricing_model="A fixed price per transaction, reviewed yearly",
        pricing_drivers="per payslip, per invoice",
        contact_name="Pat Contact",
        contact_email="pat@mutual.example.org",
        contact_phone="029 0000 0000",
        website="https://mutual.example.org",
        lines=["payroll", "hr"],
    )
    CentreSiteFactory(centre=subject, name="Head office", town="Newport", region="Wales")
    CertificationFactory(centre=subject, scheme="iso27001", expires_on=today + timedelta(days=30))
    CertificationFactory(centre=subject, scheme="iso9001", expires_on=today - timedelta(days=2))
    CertificationFactory(
        centre=subject, scheme="cyber_essentials_plus", expires_on=today + timedelta(days=200)
    )
    db.session.expire(subject)
    return subject


def test_centre_page_shows_every_catalogue_field(client, full_centre):
    response = client.get("/centres/mutual-payroll-services")
    assert response.status_code == 200
    page = text(response)
    for expected in (
        "Mutual Payroll Services",
        "Employee-owned mutual",
        "Accredited: valid from 27 November 2024 to 27 November 2027",
        "Integrated delivery centres",
        "SAP SuccessFactors",
        "42,000",
        "1,500,000",
        "Payroll, Hr",
        "Head office Newport Wales",
        "A fixed price per transaction, reviewed yearly",
        "per payslip, per invoice",
        "Pat Contact",
        "pat@mutual.example.org",
        "029 0000 0000",
        "Workforce 3",
        "Customers or service users 3",
        "Independent 1",
        "Total 10",
    ):
        assert expected in page, expected
    assert 'href="https://mutual.example.org"' in response.get_data(as_text=True)


def test_ownership_is_a_labelled_chart_with_the_numbers_in_text(client, full_centre):
    response = client.get("/centres/mutual-payroll-services")
    body = response.get_data(as_text=True)
    assert re.search(
        r'<svg [^>]*role="img" aria-label="Ownership shares: Employees 25%, Government 35%, '
        r'Private partner 40%"',
        body,
    )
    page = text(response)
    assert "Employees: 25%" in page
    assert "Government: 35%" in page
    assert "Private partner: 40%" in page
    assert "Private partner 40%" in page  # the table


def test_certifications_warn_when_expired_or_expiring_within_60_days(client, full_centre):
    page = text(client.get("/centres/mutual-payroll-services"))
    assert "2 certifications have expired or will expire within 60 days." in page
    assert "ISO/IEC 27001" in page and "Expires in 30 days" in page
    assert "ISO 9001" in page and "Expired 2 days ago" in page
    assert "Cyber Essentials Plus" in page


def test_accreditation_history_is_shown_most_recent_first(client, listed):
    page = text(client.get("/centres/charlie-centre"))
    history = page[page.index("Accreditation history") :]
    suspended = history.index("17 November 2026 Suspended")
    accredited = history.index("27 November 2024 Accredited 27 November 2024 to 27 November 2027")
    applied = history.index("28 October 2024 Applied")
    assert suspended < accredited < applied
    assert "Test suspension" in history


def test_history_names_each_change(client, listed, personas):
    from marketplace.catalogue import accreditation

    accreditation.change(
        listed["suspended"], "reinstate", actor=personas["admin"], reason="Audit passed"
    )
    page = text(client.get("/centres/charlie-centre"))
    assert "27 November 2026 Reinstated 27 November 2024 to 27 November 2027 Audit passed" in page
    assert "admin@authority" not in page  # who did it stays in the audit log


def test_suspended_centre_carries_a_warning(client, listed):
    page = text(client.get("/centres/charlie-centre"))
    assert "Warning Accreditation suspended. This centre cannot be chosen" in page


def test_expired_centre_says_when_it_expired(client, listed):
    page = text(client.get("/centres/bravo-business-services"))
    assert "Expired" in page
    assert "Accreditation expired on 24 November 2026." in page


@pytest.mark.parametrize("slug", ["no-such-centre", "delta-applicant", "echo-withdrawn"])
def test_unknown_and_hidden_centres_are_not_found(client, listed, slug):
    response = client.get(f"/centres/{slug}")
    assert response.status_code == 404
    assert "browse all service centres" in text(response)


@pytest.mark.parametrize(
    ("persona", "status_code"),
    [
        ("anonymous", 404),
        ("buyer", 404),
        ("other_centre_user", 404),
        ("centre_user", 200),
        ("admin", 200),
    ],
)
def test_hidden_centre_visible_to_its_own_users_and_admins(
    as_persona, personas, persona, status_code
):
    personas["centre"].accreditation_status = "applied"
    db.session.flush()
    response = as_persona(persona).get("/centres/centre-a")
    assert response.status_code == status_code
    if status_code == 200:
        assert "This entry is not listed publicly" in text(response)


def test_user_text_is_shown_literally(client, db_session):
    hostile = centre(
        "Xss Centre",
        summary='<script>alert("summary")</script>',
        platform="<img src=x onerror=alert(1)>",
        website="javascript:alert(1)",
    )
    CentreSiteFactory(centre=hostile, name="<b>Site</b>", town="<i>Town</i>")
    for url in ("/centres", "/centres/xss-centre", "/centres?q=%3Cscript"):
        body = client.get(url).get_data(as_text=True)
        assert '<script>alert("summary")' not in body
        assert "&lt;script&gt;alert(" in body, url
        assert "<i>Town</i>" not in body
    detail = client.get("/centres/xss-centre").get_data(as_text=True)
    assert "<img src=x" not in detail
    assert 'href="javascript:' not in detail
    assert "javascript:alert(1)" in text(client.get("/centres/xss-centre"))


@pytest.fixture
def values(personas):
    own = personas["centre"]
    metric = MetricFactory(code="ap_cost_per_invoice", name="AP cost per invoice", decimals=2)
    share = MetricFactory(
        percentage=True, code="invoices_paid_5_days", name="Paid in 5 days", decimals=1
    )
    published = ReportingPeriodFactory(
        year=2026, quarter=2, status="published", published_at=clock.now()
    )
    closed = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    ObservationFactory(centre=own, metric=metric, period=published, value=Decimal("4.12"))
    ObservationFactory(centre=own, metric=metric, period=closed, value=Decimal("3.95"))
    ObservationFactory(centre=own, metric=share, period=published, value=Decimal("81.25"))
    return own


def test_public_sees_latest_published_values_with_their_period(client, values):
    page = text(client.get("/centres/centre-a"))
    section = page[page.index("Latest benchmark values") :]
    assert "AP cost per invoice Finance £4.12 Q2 2026" in section
    assert "Paid in 5 days Finance 81.2% Q2 2026" in section or "81.3%" in section
    assert "3.95" not in section
    assert "Not yet published" not in section


@pytest.mark.parametrize("persona", ["buyer", "centre_user", "admin"])
def test_signed_in_buyers_and_the_centre_see_unpublished_values_marked(as_persona, values, persona):
    page = text(as_persona(persona).get("/centres/centre-a"))
    section = page[page.index("Latest benchmark values") :]
    assert "AP cost per invoice Finance £3.95 Q3 2026 Not yet published" in section


def test_centre_without_values_says_so(client, listed):
    page = text(client.get("/centres/alpha-shared-services"))
    assert "No benchmark values have been published for this centre yet." in page


# --- /metrics and / ------------------------------------------------------------------------


def test_metric_library_grouped_by_service_line(client, db_session):
    payroll = ServiceLineFactory(code="payroll", name="Payroll", position=2)
    finance = ServiceLineFactory(code="finance", name="Finance", position=1)
    MetricFactory(
        code="payroll_accuracy",
        name="Payroll accuracy",
        service_line=payroll,
        percentage=True,
        definition="payslips without error after distribution ÷ all payslips",
    )
    MetricFactory(
        code="ap_cost_per_invoice",
        name="AP cost per invoice",
        service_line=finance,
        definition="total AP process cost ÷ invoices processed",
        version=2,
    )
    response = client.get("/metrics")
    assert response.status_code == 200
    page = text(response)
    assert page.index("Finance metrics") < page.index("AP cost per invoice ap_cost_per_invoice")
    assert page.index("AP cost per invoice ap_") < page.index("Payroll metrics")
    assert page.index("Payroll metrics") < page.index("Payroll accuracy payroll_accuracy")
    assert (
        "AP cost per invoice ap_cost_per_invoice total AP process cost ÷ invoices processed "
        "£ Lower £0 or more 2"
    ) in page
    assert (
        "Payroll accuracy payroll_accuracy payslips without error after distribution ÷ all "
        "payslips % Higher 0% to 100% 1"
    ) in page


def test_home_page_explains_and_counts(client, listed):
    response = client.get("/")
    assert response.status_code == 200
    page = text(response)
    assert "Find an accredited shared-service centre" in page
    assert "3 centres are listed." in page
    assert "1 is accredited today and can be chosen." in page
    body = response.get_data(as_text=True)
    assert 'href="/centres?service_line=finance"' in body
    assert 'href="/centres"' in body and 'href="/metrics"' in body


def test_the_list_says_how_many_centres_are_not_listed_and_why(client, listed):
    page = text(client.get("/centres"))
    assert (
        "2 centres are not listed: 1 has applied and is not yet accredited, and 1 has "
        "withdrawn from the marketplace." in page
    )
