"""Journey (a): a member of the public finds a centre through the filters, opens it, and
downloads its latest published performance report as a PDF. No sign-in."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.browser.site import PUBLISHED_PERIOD, PUBLISHED_PERIOD_LABEL
from tests.browser.steps import heading, menu


def test_public_finds_a_centre_and_downloads_its_latest_report(visit):
    page = visit.page
    visit.goto("/", "home page")
    menu(page).get_by_role("link", name="Service centres").click()
    visit.check("centre list")
    assert heading(page) == "Service centres"

    # Payroll from an accredited employee-owned mutual.
    filters = page.locator("form#filters")
    filters.get_by_role("checkbox", name="Payroll", exact=True).check()
    filters.get_by_label("Business model").select_option(label="Employee-owned mutual")
    filters.get_by_label("Accreditation status").select_option(label="Accredited")
    filters.get_by_role("button", name="Apply filters").click()
    visit.check("centre list, filtered")

    # The filters survive in the URL and in the form.
    assert "service_line=payroll" in page.url
    assert "business_model=employee_owned_mutual" in page.url
    assert filters.get_by_role("checkbox", name="Payroll", exact=True).is_checked()
    results = page.locator("#results")
    names = results.get_by_role("heading", level=3).all_inner_texts()
    assert "Northmoor Shared Services Mutual" in names
    assert "Fellside Payroll Co-operative" in names
    # Kestrel Vale is a mutual too, but suspended and without payroll; Harbourgate is a JV.
    assert "Kestrel Vale Employee Partnership" not in names
    assert "Harbourgate Business Services" not in names

    results.get_by_role("link", name="Northmoor Shared Services Mutual").click()
    visit.check("centre page")
    assert heading(page) == "Northmoor Shared Services Mutual"
    assert page.get_by_role("heading", name="Accreditation").is_visible()

    # Its latest published report, linked from the centre page (newest period first).
    reports = page.locator("#reports + ul")
    assert PUBLISHED_PERIOD_LABEL in reports.locator("li").first.inner_text()
    pdf_link = reports.locator("li").first.get_by_role("link", name=re.compile(r"^PDF"))
    # Browsers show a PDF or save it, as the person prefers; either way this request is sent
    # (with the browser's cookies) and its answer is what the person gets.
    response = page.request.get(visit.url(pdf_link.get_attribute("href")))
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    disposition = response.headers.get("content-disposition", "")
    expected_name = rf"filename=\"?northmoor-{PUBLISHED_PERIOD}[^\"]*\.pdf"
    assert re.search(expected_name, disposition), disposition
    data = response.body()
    assert data.startswith(b"%PDF-")
    text = " ".join(part.extract_text() for part in PdfReader(io.BytesIO(data)).pages)
    assert "Northmoor Shared Services Mutual" in text
    # The demo publishes the quarters before too, so the report shows a trend over them.
    assert "Q4 2025" in text
    # What the centre page offers is the latest version: the same bytes as the 'latest' address.
    latest = page.request.get(visit.url(f"/reports/northmoor/{PUBLISHED_PERIOD}.pdf"))
    assert latest.status == 200
    assert latest.body() == data


def test_public_filters_by_two_service_lines(visit):
    page = visit.page
    visit.goto("/centres", "centre list")
    filters = page.locator("form#filters")
    filters.get_by_role("checkbox", name="Payroll", exact=True).check()
    filters.get_by_role("checkbox", name="ICT service desk", exact=True).check()
    filters.get_by_role("button", name="Apply filters").click()
    visit.check("centre list, two service lines")
    assert "service_line=payroll" in page.url and "service_line=ict" in page.url
    cards = page.get_by_role("list", name="Service centres")
    names = cards.get_by_role("heading", level=3).all_inner_texts()
    # Only centres offering both payroll and ICT.
    assert sorted(names) == ["Brightfield Outsourcing Ltd", "Harbourgate Business Services"]
    assert filters.get_by_role("checkbox", name="ICT service desk", exact=True).is_checked()
