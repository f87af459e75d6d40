"""Journey (d): an admin suspends a centre, with a reason and a confirmation step, and then
sees it flagged as suspended in the public catalogue."""

from __future__ import annotations

from tests.browser.steps import heading, sign_in, words

ADMIN = "admin@authority.example"
CENTRE = "Lindenbridge Shared Services Partnership"
REASON = "Service levels missed for two quarters; suspended pending a review visit."


def test_admin_suspends_a_centre_and_sees_it_flagged(visit):
    page = visit.page
    visit.goto("/", "home page")
    sign_in(visit, ADMIN)
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Admin", exact=True).click()
    visit.check("admin dashboard")
    page.get_by_role("navigation", name="Administration").get_by_role(
        "link", name="Centres", exact=True
    ).click()
    visit.check("admin centres")
    page.get_by_role("link", name=CENTRE).click()
    visit.check("admin centre")
    assert heading(page) == CENTRE

    page.get_by_role("button", name=f"Suspend {CENTRE}").click()
    visit.check("suspend form")
    # The reason is required: continuing without one is refused with an error summary.
    page.get_by_role("button", name="Continue").click()
    visit.check("suspend form, no reason")
    assert page.locator(".govuk-error-summary").is_visible()
    page.get_by_label("Reason").fill(REASON)
    page.get_by_role("button", name="Continue").click()
    visit.check("confirm suspension")
    confirm = words(page.locator("main").inner_text())
    assert "Suspended" in confirm and REASON in confirm
    page.get_by_role("button", name="Confirm: suspend").click()
    visit.check("admin centre, suspended")
    assert page.get_by_text(f"{CENTRE} is suspended").is_visible()
    history = page.get_by_role("table", name="Accreditation history, newest first")
    assert REASON in history.locator("tbody tr").first.inner_text()

    # The public catalogue flags it.
    menu = page.get_by_role("navigation", name="Main menu")
    menu.get_by_role("link", name="Service centres").click()
    visit.check("centre list")
    page.locator("form#filters").get_by_label("Accreditation status").select_option(
        label="Suspended"
    )
    page.get_by_role("button", name="Apply filters").click()
    visit.check("centre list, suspended")
    results = page.locator("#results")
    entry = results.get_by_role("listitem").filter(has=page.get_by_role("heading", name=CENTRE))
    assert entry.count() == 1
    assert "Suspended" in entry.inner_text()
    results.get_by_role("link", name=CENTRE).click()
    visit.check("centre page, suspended")
    assert heading(page) == CENTRE
    warning = words(page.locator(".govuk-warning-text").first.inner_text())
    assert "Accreditation suspended" in warning and "cannot be chosen" in warning
    history = page.get_by_role("table", name="Accreditation history, most recent first")
    assert REASON in history.locator("tbody tr").first.inner_text()
