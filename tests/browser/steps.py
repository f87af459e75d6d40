"""Steps the journeys share, written as a person does them: by labels and link text."""

from __future__ import annotations

import csv
import re
from functools import cache

from marketplace.config import PROJECT_ROOT


@cache
def demo_password(email: str) -> str:
    """The documented demo password (fixtures/demo/users.csv, printed by `demo-accounts`)."""
    with (PROJECT_ROOT / "fixtures" / "demo" / "users.csv").open(encoding="utf-8-sig") as handle:
        for row in csv.DictReader(handle):
            if row["email"] == email:
                return row["password"]
    raise KeyError(f"{email} is not a demo account")


def sign_in(visit, email: str) -> None:
    """Sign in through the menu's 'Sign in' link and the login form."""
    page = visit.page
    menu(page).get_by_role("link", name="Sign in").click()
    visit.check("sign-in page")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(demo_password(email))
    page.get_by_role("button", name="Sign in").click()
    visit.check("after signing in")
    assert page.get_by_text(f"You are signed in as {email}").is_visible()


def menu(page):
    return page.get_by_role("navigation", name="Main menu")


def heading(page, level: int = 1) -> str:
    return page.get_by_role("heading", level=level).first.inner_text().strip()


def error_summary(page) -> list[str]:
    """The GOV.UK error summary's items, as text (empty when there is none)."""
    summary = page.locator(".govuk-error-summary")
    if summary.count() == 0:
        return []
    return [text.strip() for text in summary.locator("li").all_inner_texts()]


def words(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
