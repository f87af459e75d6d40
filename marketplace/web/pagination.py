"""Pages of results: reading the page asked for, slicing a query or a list, and the links
of the GOV.UK pagination component."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# Far past any real list, and small enough that OFFSET fits a 64-bit integer: a larger page
# number used to reach the database and fail there (a 500) instead of being refused.
MAX_PAGE = 1_000_000


@dataclass
class Page:
    items: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        """1-based position of the first item shown (0 when there is nothing to show)."""
        return (self.page - 1) * self.per_page + 1 if self.items else 0

    @property
    def last_index(self) -> int:
        return (self.page - 1) * self.per_page + len(self.items) if self.items else 0


def page_number(raw, pages: int | None = None) -> int:
    """The page asked for, as a number from 1 (and at most `pages` when known); anything
    that is not a whole number is page 1."""
    try:
        number = int(raw) if raw not in (None, "") else 1
    except (TypeError, ValueError):
        number = 1
    number = min(max(number, 1), MAX_PAGE)
    return min(number, pages) if pages else number


def of_list(items: Sequence, number: int, per_page: int) -> Page:
    """One page of a list already in memory (the page number is clamped to the last page)."""
    pages = max(1, math.ceil(len(items) / per_page))
    number = min(max(number, 1), pages)
    start = (number - 1) * per_page
    return Page(list(items[start : start + per_page]), len(items), number, per_page)


def of_query(session, statement, number: int, per_page: int) -> Page:
    """One page of a select: a count and a LIMIT/OFFSET query."""
    from sqlalchemy import func, select

    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.limit(per_page).offset((number - 1) * per_page)).all()
    return Page(list(rows), total or 0, number, per_page)


def this_url_at(number: int) -> str:
    """The current page's URL, its other query arguments kept, at page `number`."""
    from marketplace.templating import url_with

    return url_with(page=None if number == 1 else number)


def links(
    page: Page, label: str = "Pages of results", href: Callable[[int], str] = this_url_at
) -> dict | None:
    """Parameters for govukPagination: first, last and the pages around the current one,
    with ellipses between; None when everything fits on one page."""
    if page.pages <= 1:
        return None
    wanted = {1, page.pages, page.page - 1, page.page, page.page + 1}
    items: list[dict] = []
    previous = 0
    for number in sorted(n for n in wanted if 1 <= n <= page.pages):
        if number - previous > 1:
            items.append({"ellipsis": True})
        items.append({"number": number, "href": href(number), "current": number == page.page})
        previous = number
    return {
        "previous": {"href": href(page.page - 1)} if page.page > 1 else None,
        "next": {"href": href(page.page + 1)} if page.page < page.pages else None,
        "items": items,
        "landmarkLabel": label,
    }
