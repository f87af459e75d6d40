"""Keyboard only: a whole journey driven with Tab, typing, Space, arrows and Enter, and the
journeys' forms checked for focus order and visible focus.

No mouse and no clicks: a control is reached by pressing Tab until it has focus (each stop on
the way must show focus and move forward in the page), then used the way a keyboard user uses
it. Every page is still scanned by axe-core.
"""

from __future__ import annotations

import pytest

from tests.browser.keyboard import Keyboard
from tests.browser.steps import demo_password, heading, sign_in, words
from tests.browser.test_buyer_journey import (
    BRIGHTFIELD,
    BUYER,
    BUYER_SCORES,
    GREYWATER,
    HARBOURGATE,
    WEIGHTS,
)


def test_buyer_journey_by_keyboard_alone(js_visit):
    visit, page = js_visit, js_visit.page
    keys = Keyboard(page)
    visit.goto("/", "home page")
    menu = page.get_by_role("navigation", name="Main menu")

    keys.tab_to(menu.get_by_role("link", name="Sign in"), "home: sign in")
    keys.follow()
    visit.check("sign-in page")
    keys.tab_to(page.get_by_label("Email address"), "sign in: email")
    keys.type(BUYER)
    keys.tab_to(page.get_by_label("Password", exact=True), "sign in: password")
    keys.type(demo_password(BUYER))
    keys.follow()  # Enter in a field submits its form
    visit.check("signed in")
    assert page.get_by_text(f"You are signed in as {BUYER}").is_visible()

    keys.tab_to(menu.get_by_role("link", name="Compare"), "menu: compare")
    keys.follow()
    visit.check("compare, empty")
    keys.tab_to(page.get_by_label("Choose a centre"), "compare: first centre")
    keys.type(HARBOURGATE)  # a closed select jumps to the option typed
    keys.tab_to(page.get_by_label("Add a centre"), "compare: second centre")
    keys.type(BRIGHTFIELD)
    keys.tab_to(page.get_by_label("Period"), "compare: period")
    keys.type("Q3 2026")
    assert page.get_by_label("Period").input_value() == "2026-Q3"
    keys.tab_to(page.get_by_role("button", name="Compare"), "compare: submit")
    keys.follow()
    visit.check("compare, two centres")
    keys.tab_to(page.get_by_label("Add a centre"), "compare: third centre")
    keys.type(GREYWATER)
    keys.tab_to(page.get_by_role("button", name="Compare"), "compare: submit again")
    keys.follow()
    visit.check("compare, three centres")
    assert (
        page.get_by_role("table", name="Weighted score, Q3 2026")
        .get_by_role("row", name=GREYWATER)
        .is_visible()
    )

    keys.tab_to(
        page.get_by_role("link", name="start an evaluation with these centres"),
        "compare: start an evaluation",
    )
    keys.follow()
    visit.check("start an evaluation")
    keys.tab_to(page.get_by_label("Title"), "evaluation: title")
    keys.type("Payroll by keyboard")
    keys.tab_to(page.get_by_label("What you need"), "evaluation: needs")
    keys.type("Payslips for 12,000 staff.")
    keys.tab_to(page.get_by_role("checkbox", name="Payroll", exact=True), "evaluation: payroll")
    keys.press("Space")
    assert page.get_by_role("checkbox", name="Payroll", exact=True).is_checked()
    keys.tab_to(page.get_by_role("button", name="Start evaluation"), "evaluation: start")
    keys.follow()
    visit.check("weights")
    assert heading(page) == "Weights"

    for criterion, weight in WEIGHTS.items():
        field = page.get_by_label(criterion, exact=True)
        keys.tab_to(field, f"weights: {criterion}")
        keys.press("Control+A")
        keys.type(weight)
    keys.tab_to(page.get_by_role("button", name="Save the weights"), "weights: save")
    keys.follow()
    visit.check("evaluation before sealing")
    assert page.get_by_text("Weights saved.").is_visible()
    keys.tab_to(page.get_by_role("button", name="Seal weights"), "evaluation: seal")
    keys.follow()
    visit.check("evaluation with sealed weights")
    keys.tab_to(page.get_by_role("button", name="Score the centres"), "evaluation: score")
    keys.follow()
    visit.check("score the centres")
    for centre, score in BUYER_SCORES.items():
        for criterion in ("Social value", "Quoted price"):
            keys.tab_to(
                page.get_by_label(f"Score, 0 to 100 for {centre} on {criterion}"),
                f"score {centre}",
            )
            keys.type(score)
            keys.tab_to(
                page.get_by_label(f"Rationale (evidence) for the score of {centre} on {criterion}"),
                f"rationale {centre}",
            )
            keys.type(f"{criterion} evidence from the written offer.")
    keys.tab_to(page.get_by_role("button", name="Save the scores"), "scores: save")
    keys.follow()
    visit.check("evaluation with results")
    assert page.get_by_text("Scores saved.").is_visible()

    keys.tab_to(page.get_by_role("button", name="Lock the shortlist"), "evaluation: lock")
    keys.follow()
    visit.check("lock the shortlist")
    keys.tab_to(page.get_by_role("button", name="Lock the shortlist"), "lock: confirm")
    keys.follow()
    visit.check("locked evaluation")
    assert page.get_by_text("Shortlist locked.").is_visible()

    keys.tab_to(page.get_by_role("button", name="Record the outcome"), "evaluation: outcome")
    keys.follow()
    visit.check("record the outcome")
    # A radio group is one Tab stop; the arrow keys move through it and choose.
    radios = page.get_by_role("radio")
    keys.tab_to(radios.first, "outcome: the choices")
    award = page.get_by_label(f"Awarded to {GREYWATER}")
    for _ in range(radios.count()):
        if award.is_checked():
            break
        keys.press("ArrowDown")
    assert award.is_checked()
    keys.tab_to(page.get_by_label("Rationale"), "outcome: rationale")
    keys.type("Highest weighted score, chosen without a mouse.")
    keys.tab_to(page.get_by_label("Contract value (£)"), "outcome: contract value")
    keys.type("1250000")
    # The dates are Day, Month and Year boxes, one Tab stop each.
    for legend, typed in (("Starts on", ("1", "4", "2027")), ("Ends on", ("31", "3", "2030"))):
        group = page.get_by_role("group", name=legend)
        for box, text in zip(("Day", "Month", "Year"), typed, strict=True):
            keys.tab_to(group.get_by_label(box), f"outcome: {legend} {box}")
            keys.type(text)
    for index, volume in enumerate(page.locator("input[id^='volume_']").all()):
        keys.tab_to(volume, f"outcome: volume {index + 1}")
        keys.type("150000")
    # An award sets at least three KPIs: a closed select jumps to the metric typed.
    for row, (name, code, target) in enumerate(
        [
            ("Payroll cost per payslip", "payroll_cost_per_payslip", "3.50"),
            ("Payroll accuracy", "payroll_accuracy", "99.5"),
            ("User satisfaction", "user_satisfaction", "90"),
        ],
        start=1,
    ):
        metric = page.get_by_label(f"Metric of KPI {row}")
        keys.tab_to(metric, f"outcome: KPI {row} metric")
        keys.type(name)
        assert metric.input_value() == code
        keys.tab_to(page.get_by_label(f"Target of KPI {row}"), f"outcome: KPI {row} target")
        keys.type(target)
    keys.tab_to(page.get_by_role("button", name="Record the outcome"), "outcome: record")
    keys.follow()
    visit.check("evaluation with outcome")
    assert page.get_by_text("Outcome recorded.").is_visible()
    assert "chosen without a mouse" in words(page.locator("main").inner_text())
    assert len(keys.stops) > 50  # the journey really was walked stop by stop


# Each form the journeys use: who signs in (None: nobody), the page, and what it is.
FORMS = [
    (None, "/login", "sign in"),
    (None, "/centres", "centre filters"),
    (None, "/reports", "report filters"),
    (None, "/compare?centres=harbourgate&centres=brightfield&period=2026-Q3", "compare"),
    (BUYER, "/buyer/evaluations/new", "start an evaluation"),
    ("centre@northmoor.example", "/centre/submissions/new", "upload figures"),
    ("admin@authority.example", "/admin/centres/lindenbridge/suspend", "suspend a centre"),
    # The three forms whose dates are Day, Month and Year boxes (issue 14), with the
    # accreditation form the admin date inputs started on.
    ("centre@northmoor.example", "/centre/profile", "edit the catalogue entry"),
    ("admin@authority.example", "/admin/audit", "audit trail filters"),
    ("admin@authority.example", "/admin/centres/lindenbridge/renew", "renew an accreditation"),
]


@pytest.mark.parametrize(("email", "path", "label"), FORMS, ids=[f[2] for f in FORMS])
def test_form_focus_order_and_visible_focus(js_visit, email, path, label):
    """Tab through the whole page: every form control is reached, in document order, and
    each stop shows that it has focus."""
    visit = js_visit
    if email:
        visit.goto("/", "home page")
        sign_in(visit, email)
    visit.goto(path, label)
    Keyboard(visit.page).tab_through_page(label)
