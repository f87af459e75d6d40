"""Journey (c): a centre user uploads a CSV with mistakes, reads the error summary, fixes the
file and uploads it again; the figures are then accepted."""

from __future__ import annotations

from tests.browser.steps import error_summary, heading, sign_in

CENTRE_USER = "centre@northmoor.example"

# Five different mistakes of the kinds real spreadsheets carry.
WITH_MISTAKES = (
    "metric,period,value\n"
    "ap_cost_per_invoice,2026-Q4,4.12\n"  # finance: Northmoor does not offer it
    'payroll_cost_per_payslip,2026-Q4,"4,000"\n'  # thousands separator
    "payroll_accuracy,2026-Q4,104\n"  # a percentage above 100
    "not_a_metric,2026-Q4,3\n"  # unknown code
    "hr_cost_per_employee,Q4 2026,900\n"  # period written the wrong way
)
FIXED = (
    "metric,period,value\n"
    "payroll_cost_per_payslip,2026-Q4,4.05\n"
    "payroll_accuracy,2026-Q4,99.4\n"
    "hr_cost_per_employee,2026-Q4,1090\n"
)


def upload(visit, tmp_path, name: str, content: str, label: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    page = visit.page
    page.get_by_label("File with your figures").set_input_files(str(path))
    page.get_by_role("button", name="Upload", exact=True).click()
    visit.check(label)


def test_centre_user_fixes_a_rejected_file_and_uploads_it(visit, tmp_path):
    page = visit.page
    visit.goto("/", "home page")
    sign_in(visit, CENTRE_USER)
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Submissions").click()
    visit.check("submissions")
    assert heading(page) == "Benchmark submissions"
    page.get_by_role("button", name="Upload figures").click()
    visit.check("upload form")

    upload(visit, tmp_path, "northmoor-q4.csv", WITH_MISTAKES, "upload refused")
    problems = error_summary(page)
    assert len(problems) == 5, problems
    expected = [
        ("Row 2", "finance service line"),
        ("Row 3", "thousands separator"),
        ("Row 4", "above the highest allowed"),
        ("Row 5", "Unknown metric code 'not_a_metric'"),
        ("Row 6", "Write the period as 2026-Q4"),
    ]
    for (row, words_), problem in zip(expected, problems, strict=True):
        assert problem.startswith(row) and words_ in problem, problem
    assert page.get_by_text("None of its figures were saved").is_visible()
    # The summary's links lead to the field to fix.
    summary_link = page.locator(".govuk-error-summary a").first
    assert summary_link.get_attribute("href") == "#file"
    assert page.title().startswith("Error:")

    upload(visit, tmp_path, "northmoor-q4-fixed.csv", FIXED, "upload accepted")
    assert error_summary(page) == []
    main = page.locator("main").inner_text()
    assert "Accepted" in main or "accepted" in main, main[:500]
    # The history lists the new submission, sent by the person, with its three rows.
    page.get_by_role("link", name="Back to benchmark submissions").click()
    visit.check("submissions after upload")
    history = page.get_by_role("table").filter(has_text="northmoor-q4-fixed.csv")
    row = history.get_by_role("row").filter(has_text="northmoor-q4-fixed.csv")
    assert row.count() == 1
    assert CENTRE_USER in row.inner_text() or "Nell Northmoor" in row.inner_text()
