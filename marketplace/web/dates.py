"""GOV.UK date inputs: a date typed as day, month and year boxes, read back or refused.

https://design-system.service.gov.uk/components/date-input/ — a date input named `start`
posts `start-day`, `start-month` and `start-year`. Reading them gives a `DateReading`: the
parts as typed (to show them again), the date, or one error that says what to fix, in the
pattern's words ("The start date must include a month", "... must be a real date"), on the
first wrong box (the error summary links there) with the wrong boxes to highlight.

Forms, the API and the CLI share marshmallow schemas that take a date as YYYY-MM-DD, so a
page reads its boxes here and gives the schema `schema_value()`: the ISO date, '' for
nothing typed, or NOT_A_DATE for a date that could not be read. The schema then reports
that field in its place among all the others, and `with_date_errors` puts the date input's
own message there instead: every problem of the form is shown at once, in page order.
"""

from __future__ import annotations

import re
from calendar import monthrange
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from marketplace.errors import FieldError

PARTS = ("day", "month", "year")
# Fixed English names rather than calendar.month_name, which follows the process's locale.
MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
MONTHS = {name: number for number, name in enumerate(MONTH_NAMES, start=1)}
MONTHS.update({name[:3]: number for name, number in list(MONTHS.items())})
MONTHS["sept"] = 9
# A part longer than this is no day, month or year ("september" is the longest); what is
# shown again is cut too, so a hostile post of megabytes is neither parsed nor echoed.
MAX_PART = 9
SHOWN_PART = 20
# What a page gives a schema for a date it could not read: refused by any date field, so
# the schema reports the field in its place (the page then shows the date input's message).
NOT_A_DATE = "not-a-date"
_DIGITS = re.compile(r"[0-9]{1,2}")
_YEAR = re.compile(r"[0-9]{4}")


@dataclass(frozen=True)
class DateReading:
    name: str
    parts: dict[str, str]  # as typed (trimmed), for the boxes when the page is shown again
    value: date | None = None
    error: FieldError | None = None  # on '<name>-<first wrong part>'
    wrong: tuple[str, ...] = ()  # the boxes to highlight

    @property
    def blank(self) -> bool:
        return not any(self.parts.values())

    def schema_value(self) -> str:
        if self.error is not None:
            return NOT_A_DATE
        return self.value.isoformat() if self.value is not None else ""


def input_names(name: str) -> tuple[str, ...]:
    return tuple(f"{name}-{part}" for part in PARTS)


def anchor(name: str) -> str:
    """The box a problem of the date as a whole links to (its day)."""
    return f"{name}-day"


def owner(field: str | None) -> str | None:
    """The date input a box belongs to ('start-month' -> 'start'), else None."""
    if field:
        for part in PARTS:
            if field.endswith(f"-{part}"):
                return field[: -len(part) - 1]
    return None


def form_values(name: str, value: date | None) -> dict[str, str]:
    """A saved date as the values of its boxes, for the first view of a page."""
    if value is None:
        return dict.fromkeys(input_names(name), "")
    numbers = (value.day, value.month, value.year)
    return {key: str(number) for key, number in zip(input_names(name), numbers, strict=True)}


def _sentence(label: str) -> str:
    return label[:1].upper() + label[1:]


def _month(text: str) -> int | None:
    if _DIGITS.fullmatch(text):
        return int(text)
    return MONTHS.get(text.casefold().rstrip("."))


def read(values: Mapping, name: str, label: str, *, required: bool) -> DateReading:
    """The date typed in the boxes of `name` (in `values`: a form or query arguments).

    `label` names the date inside a sentence ("the expiry date"). Nothing typed is no date,
    or "Enter <label>" when `required`.
    """
    parts = {
        part: str(values.get(key) or "").strip()[:SHOWN_PART]
        for part, key in zip(PARTS, input_names(name), strict=True)
    }
    reading = DateReading(name, parts)

    def refuse(message: str, wrong: Iterable[str]) -> DateReading:
        wrong = tuple(part for part in PARTS if part in set(wrong))
        return DateReading(name, parts, None, FieldError(message, f"{name}-{wrong[0]}"), wrong)

    if reading.blank:
        return refuse(f"Enter {label}.", PARTS) if required else reading
    missing = [part for part in PARTS if not parts[part]]
    if missing:
        what = " and ".join(missing)
        return refuse(f"{_sentence(label)} must include a {what}.", missing)
    day = int(parts["day"]) if _DIGITS.fullmatch(parts["day"]) else None
    month = _month(parts["month"]) if len(parts["month"]) <= MAX_PART else None
    year = int(parts["year"]) if _YEAR.fullmatch(parts["year"]) else None
    wrong = [
        part
        for part, ok in (
            ("day", day is not None and 1 <= day <= 31),
            ("month", month is not None and 1 <= month <= 12),
            ("year", year is not None and year >= 1),
        )
        if not ok
    ]
    if wrong == ["year"]:
        return refuse(f"{_sentence(label)} must include a year of 4 numbers, like 2027.", wrong)
    if wrong:
        return refuse(f"{_sentence(label)} must be a real date.", wrong)
    assert day is not None and month is not None and year is not None
    last = monthrange(year, month)[1]
    if day > last:
        month_name = MONTH_NAMES[month - 1].capitalize()
        return refuse(
            f"{_sentence(label)} must be a real date: {month_name} {year} has {last} days.",
            ["day"],
        )
    return DateReading(name, parts, date(year, month, day))


def with_date_errors(
    errors: Iterable[FieldError],
    readings: Mapping[str, DateReading],
    key: Callable[[FieldError], str | None] = lambda error: error.field,
) -> list[FieldError]:
    """A schema's errors with each date it was given as NOT_A_DATE explained by its date
    input instead (`readings` by the schema's field; `key` gives an error's field).

    An error on a date that was read well (a range check, "must end after it starts") is
    kept, moved to the date's first box.
    """
    out: list[FieldError] = []
    used: set[str] = set()
    for error in errors:
        field = key(error)
        reading = readings.get(field) if field is not None else None
        if reading is None:
            out.append(error)
        elif reading.error is not None:
            if field not in used:
                out.append(reading.error)
                used.add(field)
        else:
            out.append(FieldError(error.message, anchor(reading.name), error.row))
    out += [r.error for f, r in readings.items() if r.error is not None and f not in used]
    return out


def component(
    name: str,
    values: Mapping,
    errors: Mapping,
    *,
    legend: str,
    hint: str,
    legend_classes: str = "govuk-fieldset__legend--s",
) -> dict:
    """The parameters of govukDateInput for the date input `name`: its boxes with the
    values typed (`values`, flat), and the error (`errors`, by box id or by `name`)."""
    message = next((errors.get(key) for key in (*input_names(name), name) if errors.get(key)), None)
    reading = read(values, name, "it", required=True)
    # A date that reads well but was refused (end before start) is wrong as a whole.
    wrong = (reading.wrong or PARTS) if message else ()
    widths = {"day": "2", "month": "2", "year": "4"}
    return {
        "id": name,
        "namePrefix": name,
        "fieldset": {"legend": {"text": legend, "classes": legend_classes}},
        "hint": {"text": hint},
        "errorMessage": {"text": message} if message else None,
        "items": [
            {
                "name": part,
                "classes": f"govuk-input--width-{widths[part]}"
                + (" govuk-input--error" if part in wrong else ""),
                "value": reading.parts[part],
            }
            for part in PARTS
        ],
    }
