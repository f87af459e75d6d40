"""Issue 14: dates are typed in Day, Month and Year boxes, and a wrong one is explained at the
box to fix, which the error summary links to (and, with JavaScript, moves focus to)."""

from __future__ import annotations

from tests.browser.steps import sign_in, words


def _fill(group, day: str, month: str, year: str) -> None:
    group.get_by_label("Day").fill(day)
    group.get_by_label("Month").fill(month)
    group.get_by_label("Year").fill(year)


def _follow_summary_link(visit, text: str, box_id: str) -> None:
    page = visit.page
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    link = summary.get_by_role("link", name=text)
    assert link.get_attribute("href") == f"#{box_id}"
    link.click()
    if visit.javascript:  # GOV.UK's error summary script puts focus in the box
        assert page.evaluate("() => document.activeElement.id") == box_id


def test_an_admin_filters_the_audit_trail_by_dates_typed_in_boxes(visit):
    page = visit.page
    visit.goto("/", "home page")
    sign_in(visit, "admin@authority.example")
    visit.goto("/admin/audit", "audit trail")
    from_date = page.get_by_role("group", name="From")
    _fill(from_date, "1", "", "2026")
    page.get_by_role("button", name="Filter").click()
    visit.check("audit trail, a date without its month")
    message = "The date to search from must include a month."
    _follow_summary_link(visit, message, "from-month")
    assert message in words(from_date.inner_text())
    assert "from-day=1" in page.url  # a GET form: the filter is in the address
    assert from_date.get_by_label("Day").input_value() == "1"

    from_date.get_by_label("Month").fill("January")
    _fill(page.get_by_role("group", name="To"), "31", "12", "2026")
    page.get_by_role("button", name="Filter").click()
    visit.check("audit trail, filtered by dates")
    assert page.locator(".govuk-error-summary").count() == 0
    assert from_date.get_by_label("Month").input_value() == "January"
    assert "events" in page.locator("#results caption").inner_text()


def test_a_centre_gives_a_certification_expiry_in_boxes(visit):
    page = visit.page
    visit.goto("/", "home page")
    sign_in(visit, "centre@northmoor.example")
    visit.goto("/centre/profile", "edit the catalogue entry")
    row = page.get_by_role("group", name="New certification 1", exact=True)
    row.get_by_label("Certification", exact=True).select_option(label="ISO 22301")
    expiry = row.get_by_role("group", name="Expiry date")
    _fill(expiry, "31", "Feb", "2028")
    page.get_by_role("button", name="Save changes").click()
    visit.check("catalogue entry, 31 February")
    message = (
        "The expiry date of new certification 1 must be a real date: February 2028 has 29 days."
    )
    _follow_summary_link(visit, message, expiry.get_by_label("Day").get_attribute("id"))
    assert expiry.get_by_label("Month").input_value() == "Feb"

    expiry.get_by_label("Day").fill("29")
    page.get_by_role("button", name="Save changes").click()
    visit.check("catalogue entry, saved")
    assert page.locator(".govuk-error-summary").count() == 0
    assert "Your entry is updated" in words(page.locator("main").inner_text())
