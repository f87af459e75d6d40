"""The cell checks of DOMAIN.md's data-quality rules, each with a plain-English way to fix it.

Is this a number, a period, a metric code? These run in Python as the file streams past,
because their messages depend on the exact text; a fast path lets the common case through
in a few microseconds. Checks that need the database (known metric and period, service line
offered, ranges, shares, duplicates, restatements) run set-wise in SQL (set_checks.py) and are
worded in problems.py; statistical flags are in outliers.py.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

from marketplace.benchmarks.parsing import RawRow
from marketplace.errors import FieldError
from marketplace.input_guard import bounded_decimal, text_problem

MAX_ERRORS = 200  # listed on the refusal page and in the API's 422 body
# Kept with a refused file for its errors download (CSV): every error up to this bound.
MAX_KEPT_ERRORS = 50_000
MAX_COMMENT = 2000
# Numeric(18, 6) holds values below 10^12; Numeric(20, 6) numerators below 10^14.
VALUE_LIMIT = Decimal(10) ** 12
PART_LIMIT = Decimal(10) ** 14
QUANTUM = Decimal("0.000001")

PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
THOUSANDS = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
SPREADSHEET_ERROR = re.compile(
    r"^#(?:REF!|DIV/0!|VALUE!|N/A|NAME\?|NUM!|NULL!|SPILL!|CALC!)$", re.I
)
PLACEHOLDERS = {
    "-",
    "–",
    "—",
    "--",
    "..",
    ".",
    "?",
    "x",
    "n/a",
    "na",
    "n.a.",
    "nil",
    "null",
    "none",
    "tbc",
    "tbd",
    "unknown",
    "not available",
    "not provided",
    "[not provided]",
    "[x]",
    "[c]",
    "[z]",
}
PERIOD = re.compile(r"^(\d{4})-Q([1-4])$")
LOOSE_PERIODS = (
    re.compile(r"^Q([1-4])[\s/_-]*(\d{4})$", re.I),  # Q1 2026, Q1-2026, Q1/2026
    re.compile(r"^(\d{4})[\s/_-]*Q([1-4])$", re.I),  # 2026 Q1, 2026/Q1, 2026Q1, 2026-q1
)
DATE_LIKE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")


def _text(cell: object) -> str:
    if cell is None:
        return ""
    return str(cell).replace("\u00a0", " ").strip()


def describe(cell: object) -> str:
    text = _text(cell)
    return text if len(text) <= 40 else text[:37] + "…"


def number_problem(cell: object, what: str) -> tuple[Decimal | None, str | None]:
    """(the number, None) or (None, how to fix it). `what` names the cell for the message."""
    if isinstance(cell, bool):
        return None, f"{what} must be a number, not true or false."
    if isinstance(cell, int | Decimal):
        number = Decimal(cell)
    elif isinstance(cell, float):
        if math.isnan(cell) or math.isinf(cell):
            return None, f"{what} must be a finite number."
        number = Decimal(repr(cell))
    else:
        text = _text(cell)
        if text_problem(text):
            return None, f"{what}: {text_problem(text)}"
        if text == "":
            return None, (
                f"{what} is empty. Enter the figure; a blank is never read as zero. If you have "
                "no figure, delete the row."
            )
        if PLAIN_NUMBER.match(text):
            if len(text) > 100:  # Decimal() of a megabyte of digits is slow; refused below
                return None, f"{what} has too many digits to be a figure. Check it."
            number = Decimal(text)
        elif THOUSANDS.match(text):
            return None, (
                f"{what} '{text}' has a thousands separator. Write the number without commas: "
                f"{text.replace(',', '')}."
            )
        elif DECIMAL_COMMA.match(text):
            return None, (
                f"{what} '{text}' uses a comma for decimals. Use a full stop: "
                f"{text.replace(',', '.')}."
            )
        elif SPREADSHEET_ERROR.match(text):
            return None, (
                f"{what} is the spreadsheet error '{text}', not a number. Fix the formula in "
                "your spreadsheet and export the file again."
            )
        elif text.lower() in PLACEHOLDERS:
            return None, (
                f"{what} '{text}' is a placeholder, not a number. Enter the figure, or delete "
                "the row if you have none; placeholders are never read as zero."
            )
        elif text[:1] in "£$€" or text[-1:] == "%":
            bare = text.strip("£$€%").replace(",", "").strip()
            return None, (
                f"{what} '{text}' has a unit sign. Write only the number: {bare}. Units come "
                "from the metric's definition."
            )
        elif text.startswith("(") and text.endswith(")"):
            return None, (
                f"{what} '{text}' is written in brackets. Write a negative number with a minus "
                "sign, or check the figure: most metrics cannot be negative."
            )
        else:
            return None, (
                f"{what} '{describe(cell)}' is not a number. Enter a number such as 4.12, "
                "with no words, commas or symbols."
            )
    problem = bounded_decimal(number)
    if problem:
        return None, f"{what} {problem}."
    return number, None


def period_problem(cell: object) -> tuple[str | None, str | None]:
    text = _text(cell)
    if text == "":
        return None, "The period is empty. Write the quarter like 2026-Q1."
    if text_problem(text):
        return None, "The period: " + text_problem(text)
    match = PERIOD.match(text.upper())
    if match:
        return text.upper(), None
    for index, pattern in enumerate(LOOSE_PERIODS):
        loose = pattern.match(text)
        if loose:
            quarter, year = loose.groups() if index == 0 else loose.groups()[::-1]
            return None, f"Write the period as {year}-Q{quarter}, not '{text}'."
    dated = DATE_LIKE.match(text)
    if dated and 1 <= int(dated.group(2)) <= 12:
        quarter = (int(dated.group(2)) - 1) // 3 + 1
        return None, (
            f"The period '{text}' is a date. Write the quarter it falls in: "
            f"{dated.group(1)}-Q{quarter}."
        )
    return None, f"'{describe(text)}' is not a period. Write the quarter like 2026-Q1."


def metric_problem(cell: object) -> tuple[str | None, str | None]:
    text = _text(cell)
    if text == "":
        return None, "The metric code is empty. Enter a code such as ap_cost_per_invoice."
    if text_problem(text):
        return None, "The metric code: " + text_problem(text)
    return text.lower(), None


# The shape almost every cell of a good file has: no sign, at most 12 digits before the
# point (under Numeric(18, 6)'s limit) and at most six after. Such rows skip the slow checks.
SIMPLE_VALUE = re.compile(r"\d{1,12}(?:\.\d{1,6})?")
SIMPLE_PART = re.compile(r"\d{1,14}(?:\.\d{1,6})?")
_SLOW = object()


def _simple_part(cell: object, *, positive: bool):
    """A plain number's text, None for an empty cell, or _SLOW when it needs the full check."""
    if cell is None:
        return None
    if type(cell) is not str:
        return _SLOW
    text = cell.strip()
    if not text:
        return None
    if not SIMPLE_PART.fullmatch(text) or (positive and not text.strip("0.")):
        return _SLOW
    return text


def clean_row(
    raw: RawRow, seq: int, metric_ids: dict[str, int], period_ids: dict[str, int]
) -> tuple[tuple, list[FieldError] | tuple]:
    """Check each cell of one row: (the staging-table row, every problem found).

    Numbers go to the staging table as text, exactly as written once checked; the database
    stores them to six decimal places.
    """
    metric, period, value = raw.metric, raw.period, raw.value
    if type(metric) is str and type(period) is str and type(value) is str and raw.extra is None:
        code = metric.strip().lower()
        period_code = period.strip()
        figure = value.strip()
        comment = raw.comment.strip() if type(raw.comment) is str else raw.comment
        if (
            code
            and PERIOD.fullmatch(period_code)
            and SIMPLE_VALUE.fullmatch(figure)
            and (comment is None or len(comment) <= MAX_COMMENT)
            and code.isprintable()
            and (type(comment) is not str or text_problem(comment) is None)
        ):
            numerator = _simple_part(raw.numerator, positive=False)
            denominator = _simple_part(raw.denominator, positive=True)
            if numerator is not _SLOW and denominator is not _SLOW:
                staged = (
                    seq,
                    raw.row,
                    raw.value_column,
                    raw.period_column,
                    code,
                    period_code,
                    metric_ids.get(code),
                    period_ids.get(period_code),
                    figure,
                    numerator,
                    denominator,
                    comment or "",
                    False,
                )
                return staged, ()
    return _clean_row_slowly(raw, seq, metric_ids, period_ids)


def _clean_row_slowly(raw, seq, metric_ids, period_ids) -> tuple[tuple, list[FieldError]]:
    errors: list[FieldError] = []

    def fail(message: str, column: str) -> None:
        errors.append(FieldError(message, field=column, row=raw.row))

    metric, problem = metric_problem(raw.metric)
    if problem:
        fail(problem, "metric")
    period, problem = period_problem(raw.period)
    if problem:
        fail(problem, raw.period_column)
    where = f"The value for {metric or 'this metric'}"
    if raw.value_column != "value":
        where += f" in {raw.value_column}"
    value, problem = number_problem(raw.value, where)
    if problem:
        fail(problem, raw.value_column)
    elif abs(value) >= VALUE_LIMIT:
        fail(
            f"{where} ({value}) is too large to be a benchmark figure. Check it.", raw.value_column
        )
        value = None
    parts: dict[str, str | None] = {}
    for name, cell in (("numerator", raw.numerator), ("denominator", raw.denominator)):
        parts[name] = None
        if cell is None or (isinstance(cell, str) and not cell.strip()):
            continue
        number, problem = number_problem(cell, f"The {name}")
        if problem:
            fail(problem, name)
        elif abs(number) >= PART_LIMIT:
            fail(f"The {name} ({number}) is too large. Check it.", name)
        elif name == "numerator" and number < 0:
            fail(f"The numerator ({number}) cannot be negative.", name)
        elif name == "denominator" and number <= 0:
            fail(f"The denominator ({number}) must be greater than zero.", name)
        else:
            parts[name] = _staged_number(number)
    if raw.extra is not None:
        fail(
            f"This row has more cells than the header has columns (extra: "
            f"'{describe(raw.extra)}'). If a number has a thousands separator, the comma "
            "splits it: write 40000, not 40,000; put quotes around text with commas in it.",
            raw.value_column,
        )
    comment = _text(raw.comment)
    problem = text_problem(comment)
    if problem:
        fail(f"The comment: {problem[0].lower()}{problem[1:]}", "comment")
        comment = ""
    if len(comment) > MAX_COMMENT:
        fail(f"The comment is {len(comment)} characters; keep it under {MAX_COMMENT}.", "comment")
        comment = comment[:MAX_COMMENT]
    staged = (
        seq,
        raw.row,
        raw.value_column,
        raw.period_column,
        metric,
        period,
        metric_ids.get(metric) if metric else None,
        period_ids.get(period) if period else None,
        _staged_number(value) if value is not None else None,
        parts["numerator"],
        parts["denominator"],
        comment,
        value is None,
    )
    return staged, errors


def _staged_number(number: Decimal) -> str:
    # Six decimal places, the precision of the observations table; never exponent notation.
    return format(number.quantize(QUANTUM), "f")


def fmt(number) -> str:
    if number is None:
        return ""
    text = format(Decimal(str(number)).normalize(), "f")
    return text
