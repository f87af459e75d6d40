"""Journey (b): a buyer signs in, compares three centres, builds an evaluation with weights,
locks the shortlist and records an award."""

from __future__ import annotations

from tests.browser.steps import heading, sign_in, words

BUYER = "buyer@demo.example"
HARBOURGATE = "Harbourgate Business Services"
BRIGHTFIELD = "Brightfield Outsourcing Ltd"
GREYWATER = "Greywater Public Services Centre"
WEIGHTS = {
    "Payroll cost per payslip": "30",
    "Payroll accuracy": "25",
    "Payslips per payroll FTE": "5",
    "Off-cycle payment rate": "5",
    "Payroll inquiry rate": "5",
    "Social value": "20",
    "Quoted price": "10",
}
BUYER_SCORES = {BRIGHTFIELD: "60", GREYWATER: "80", HARBOURGATE: "70"}


def compare_three_centres(visit) -> None:
    page = visit.page
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Compare").click()
    visit.check("compare, empty")
    page.get_by_label("Choose a centre").select_option(label=HARBOURGATE)
    page.get_by_label("Add a centre").select_option(label=BRIGHTFIELD)
    page.get_by_label("Period").select_option("2026-Q3")
    page.get_by_role("button", name="Compare").click()
    visit.check("compare, two centres")
    # Without JavaScript a third centre is added by submitting the form again.
    page.get_by_label("Add a centre").select_option(label=GREYWATER)
    page.get_by_role("button", name="Compare").click()
    visit.check("compare, three centres")
    table = page.get_by_role("table", name="Weighted score, Q3 2026")
    for name in (HARBOURGATE, BRIGHTFIELD, GREYWATER):
        assert table.get_by_role("row", name=name).count() == 1, name
    assert page.get_by_text("Unit costs are not a pure measure of efficiency").is_visible()


def test_buyer_compares_evaluates_locks_and_awards(visit):
    page = visit.page
    visit.goto("/", "home page")
    sign_in(visit, BUYER)
    compare_three_centres(visit)

    page.get_by_role("link", name="start an evaluation with these centres").click()
    visit.check("start an evaluation")
    assert heading(page) == "Start an evaluation"
    # The comparison's centres and period come along.
    for name in (HARBOURGATE, BRIGHTFIELD, GREYWATER):
        assert page.get_by_role("checkbox", name=name).is_checked(), name
    assert page.get_by_label("Figures for the period").input_value() == "2026-Q3"
    page.get_by_label("Title").fill("Payroll service from April 2027")
    page.get_by_label("What you need").fill("About 80,000 payslips a month across two ALBs.")
    page.get_by_role("checkbox", name="Payroll", exact=True).check()
    page.get_by_role("button", name="Start evaluation").click()
    visit.check("weights")
    assert heading(page) == "Weights"

    for criterion, weight in WEIGHTS.items():
        page.get_by_label(criterion, exact=True).fill(weight)
    page.get_by_role("button", name="Save the weights").click()
    visit.check("evaluation before sealing")
    assert page.get_by_text("Weights saved.").is_visible()
    # Weights before scores: no centre's result is shown until the weights are sealed.
    assert page.get_by_text("Results appear once the weights are sealed.").is_visible()
    assert page.get_by_role("table", name="Weighted score and rank").count() == 0
    page.get_by_role("button", name="Seal weights").click()
    visit.check("evaluation with sealed weights")

    page.get_by_role("button", name="Score the centres").click()
    visit.check("score the centres")
    for centre, score in BUYER_SCORES.items():
        for criterion in ("Social value", "Quoted price"):
            page.get_by_label(f"Score, 0 to 100 for {centre} on {criterion}").fill(score)
            page.get_by_label(
                f"Rationale (evidence) for the score of {centre} on {criterion}"
            ).fill(f"{criterion} evidence from {centre}'s written offer.")
    page.get_by_role("button", name="Save the scores").click()
    visit.check("evaluation with results")
    assert page.get_by_text("Scores saved.").is_visible()
    ranks = page.get_by_role("table", name="Weighted score and rank")
    rows = ranks.locator("tbody tr").all_inner_texts()
    assert len(rows) == 3
    # Every centre has figures for every weighted criterion: full coverage.
    assert all("100%" in row for row in rows)
    leader = words(rows[0])
    assert leader.startswith("1 ")

    page.get_by_role("button", name="Lock the shortlist").click()
    visit.check("lock the shortlist")
    page.get_by_role("button", name="Lock the shortlist").click()
    visit.check("locked evaluation")
    assert page.get_by_text("Shortlist locked.").is_visible()
    assert page.get_by_role("button", name="Score the centres").count() == 0

    page.get_by_role("button", name="Record the outcome").click()
    visit.check("record the outcome")
    page.get_by_label(f"Awarded to {GREYWATER}").check()
    page.get_by_label("Rationale").fill(
        "Highest weighted score, full coverage, and the strongest social value offer."
    )
    # An award records the contract's basics.
    page.get_by_label("Contract value (£)").fill("1250000")
    # Each date is a GOV.UK date input: Day, Month and Year boxes in a group.
    for legend, (day, month, year) in (
        ("Starts on", ("1", "4", "2027")),
        ("Ends on", ("31", "March", "2030")),
    ):
        group = page.get_by_role("group", name=legend)
        group.get_by_label("Day").fill(day)
        group.get_by_label("Month").fill(month)
        group.get_by_label("Year").fill(year)
    for volume in page.locator("input[id^='volume_']").all():
        volume.fill("150000")
    # … and at least three KPIs, each a library metric with a target.
    for row, (metric, target) in enumerate(
        [
            ("payroll_cost_per_payslip", "3.50"),
            ("payroll_accuracy", "99.5"),
            ("user_satisfaction", "90"),
        ],
        start=1,
    ):
        page.get_by_label(f"Metric of KPI {row}").select_option(metric)
        page.get_by_label(f"Target of KPI {row}").fill(target)
    page.get_by_role("button", name="Record the outcome").click()
    visit.check("evaluation with outcome")
    assert page.get_by_text("Outcome recorded.").is_visible()
    outcome = words(page.locator("main").inner_text())
    assert GREYWATER in outcome
    assert "the strongest social value offer" in outcome
    # The record is final: no way back into the forms.
    assert page.get_by_role("button", name="Record the outcome").count() == 0
