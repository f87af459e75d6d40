"""Journey: a buyer puts centres aside from the catalogue and a centre page, compares them,
adds and removes centres on the comparison, and starts an evaluation with them."""

from __future__ import annotations

import re

from tests.browser.steps import heading, menu, sign_in

BUYER = "buyer@demo.example"
HARBOURGATE = "Harbourgate Business Services"
BRIGHTFIELD = "Brightfield Outsourcing Ltd"
GREYWATER = "Greywater Public Services Centre"
NORTHMOOR = "Northmoor Shared Services Mutual"


def test_buyer_builds_a_comparison_basket_and_starts_an_evaluation(visit):
    page = visit.page
    visit.goto("/", "home page")
    sign_in(visit, BUYER)
    menu(page).get_by_role("link", name="Service centres").click()
    visit.check("centre list")
    # From a card in the catalogue: the button says which centre it adds.
    page.get_by_role("button", name=re.compile(f"^Add to comparison\\W+{HARBOURGATE}$")).click()
    visit.check("centre list, one centre in the comparison")
    assert page.get_by_text(f"{HARBOURGATE} added to your comparison").is_visible()
    assert menu(page).get_by_role("link", name="Compare (1)").is_visible()
    assert page.get_by_role(
        "button", name=re.compile(f"^Remove from comparison\\W+{HARBOURGATE}$")
    ).is_visible()

    # From a centre's own page.
    page.locator("#results").get_by_role("link", name=BRIGHTFIELD).click()
    visit.check("centre page")
    page.get_by_role("button", name=re.compile(f"^Add to comparison\\W+{BRIGHTFIELD}$")).click()
    visit.check("centre page, two centres in the comparison")
    assert heading(page) == BRIGHTFIELD

    menu(page).get_by_role("link", name="Compare (2)").click()
    visit.check("comparison of the basket")
    assert "centres=" in page.url and "harbourgate" in page.url
    assert page.get_by_role("heading", name="Your comparison (2 of 6 centres)").is_visible()

    # Several at once, with checkboxes.
    basket = page.locator("#basket")
    basket.get_by_text("Add several centres at once").click()
    basket.get_by_role("checkbox", name=GREYWATER).check()
    basket.get_by_role("checkbox", name=NORTHMOOR).check()
    basket.get_by_role("button", name="Add to comparison").click()
    visit.check("comparison of four centres")
    assert page.get_by_role("heading", name="Your comparison (4 of 6 centres)").is_visible()
    table = page.get_by_role("table", name=re.compile("^Weighted score, "))
    for name in (HARBOURGATE, BRIGHTFIELD, GREYWATER, NORTHMOOR):
        assert table.get_by_role("row", name=name).count() == 1, name

    page.get_by_role("button", name=f"Remove {NORTHMOOR} from the comparison").click()
    visit.check("comparison of three centres")
    assert page.get_by_role("heading", name="Your comparison (3 of 6 centres)").is_visible()
    assert "northmoor" not in page.url

    page.get_by_role("link", name="Start an evaluation with these centres").click()
    visit.check("start an evaluation")
    assert heading(page) == "Start an evaluation"
    for name in (HARBOURGATE, BRIGHTFIELD, GREYWATER):
        assert page.get_by_role("checkbox", name=name).is_checked(), name
    assert not page.get_by_role("checkbox", name=NORTHMOOR).is_checked()
