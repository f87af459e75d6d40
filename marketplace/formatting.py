"""How every figure, date and time is written, on the web, in reports, in CSV and in JSON.

One module so that the same published figure reads the same everywhere: a figure is rounded
once, half away from zero (ROUND_HALF_UP), to its metric's decimals, and that rounded number
is what the page, the PDF, the CSV export and the open data show. Python's own format() and
round() round half to even, which made 2.345 "£2.34" on a page but "£2.35" in the PDF.

This is a core module: it imports only the standard library, so every area may use it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal
from zoneinfo import ZoneInfo

DASH = "–"  # shown to people where there is no figure
MINUS = "\u2212"  # a true minus sign: a hyphen is easy to miss and breaks badly in PDFs
LONDON = ZoneInfo("Europe/London")
# Room for the largest figure the columns hold at any scale: the default 28 digits would make
# quantize() fail on a large value asked for many decimals.
_CONTEXT = Context(prec=80, rounding=ROUND_HALF_UP)
# How a unit is written after a number; "gbp" is a £ before it, and counts, ratios and scores
# are bare numbers. The published reports are the reference: £5.83, 95.2%, 8.3 days, 15,000.
UNIT_SUFFIXES = {"percent": "%", "days": " days", "hours": " hours"}
# The same suffix for exactly one: "1 day", not "1 days".
UNIT_SUFFIXES_ONE = {"days": " day", "hours": " hour"}
# A unit named in words: as a heading ("Pounds (£)") and inside a sentence ("in pounds").
UNIT_NAMES = {
    "gbp": "Pounds (£)",
    "count": "Count",
    "days": "Days",
    "percent": "Percentage (%)",
    "hours": "Hours",
    "ratio": "Ratio",
    "score": "Score (−100 to 100)",
}
UNIT_PHRASES = {
    "gbp": "in pounds",
    "count": "a count",
    "days": "in days",
    "percent": "a percentage",
    "hours": "in hours",
    "ratio": "a ratio",
    "score": "a score from −100 to 100",
}


def exact(value) -> Decimal | None:
    """The value as a Decimal, or None when there is none (or it is not a finite number).

    A float goes through its repr, the shortest text that reads back as the same float, so
    2.345 is 2.345 and not the binary 2.34499999999999997 that would round down.
    """
    if value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)  # exact, even beyond what a float can hold
    elif isinstance(value, str):
        number = Decimal(value.strip())
    else:
        number = Decimal(repr(float(value)))
    return number if number.is_finite() else None


def rounded(value, decimals: int) -> Decimal | None:
    """The value rounded half away from zero to `decimals` places; never a negative zero."""
    number = exact(value)
    if number is None:
        return None
    number = number.quantize(Decimal(1).scaleb(-decimals), context=_CONTEXT)
    # -0.0004 rounds to -0.000; printed as "−0.000" it would claim a sign it no longer has.
    return abs(number) if number.is_zero() else number


def plain(value, decimals: int) -> str:
    """A machine-readable figure for CSV and JSON: rounded, no separators, '' when none."""
    number = rounded(value, decimals)
    return "" if number is None else f"{number:.{decimals}f}"


def _digits(number: Decimal, decimals: int) -> str:
    return f"{abs(number):,.{decimals}f}"


def number(value, decimals: int = 0) -> str:
    """A figure for people with thousands separators: '15,000', '−2.5'; '–' when none."""
    shown = rounded(value, decimals)
    if shown is None:
        return DASH
    sign = MINUS if shown < 0 else ""
    return f"{sign}{_digits(shown, decimals)}"


def figure(value, decimals: int, unit: str) -> str:
    """A figure with its unit for people: '£5.83', '−£3', '95.2%', '8.3 days', '15,000'."""
    shown = rounded(value, decimals)
    if shown is None:
        return DASH
    sign = MINUS if shown < 0 else ""
    text = _digits(shown, decimals)
    if unit == "gbp":
        # GOV.UK style puts the sign before the currency: −£3, not £−3.
        return f"{sign}£{text}"
    suffixes = UNIT_SUFFIXES_ONE if text == "1" else UNIT_SUFFIXES
    return f"{sign}{text}{suffixes.get(unit, UNIT_SUFFIXES.get(unit, ''))}"


def unit_name(unit: str) -> str:
    """The unit in words, as a heading or table cell: 'Pounds (£)', 'Percentage (%)'."""
    return UNIT_NAMES.get(unit, unit)


def unit_phrase(unit: str) -> str:
    """The unit in words inside a sentence: 'in pounds', 'a percentage'."""
    return UNIT_PHRASES.get(unit, unit)


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 centre', '5 centres', '0 centres' (with a separator from 1,000)."""
    word = singular if count == 1 else (many or f"{singular}s")
    return f"{number(count)} {word}"


def money(value, decimals: int = 2) -> str:
    return figure(value, decimals, "gbp")


def percent(value, decimals: int = 1) -> str:
    return figure(value, decimals, "percent")


def count(value) -> str:
    """A whole number of things: '15,000'."""
    return number(value, 0)


def _in_london(moment: datetime) -> datetime:
    # Stored timestamps are UTC-aware; a naive one can only have come from UTC too.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LONDON)


def london_date(moment: datetime) -> date:
    """The day it was in London at that moment (stored times are UTC)."""
    return _in_london(moment).date()


def date_text(day: date | None) -> str:
    """'1 December 2026' (GOV.UK style, no leading zero); a moment is dated in London."""
    if day is None:
        return DASH
    if isinstance(day, datetime):
        day = _in_london(day)
    return f"{day.day} {day:%B %Y}"


def datetime_text(moment: datetime | None) -> str:
    """'1 July 2026 at 10:00 BST': the clock people in the UK read, with its zone named."""
    if moment is None:
        return DASH
    local = _in_london(moment)
    return f"{local.day} {local:%B %Y at %H:%M} {local.tzname()}"
