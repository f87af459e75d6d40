"""marketplace.web.dates: what the Day, Month and Year boxes of a GOV.UK date input give."""

from __future__ import annotations

from datetime import date

import pytest

from marketplace.errors import FieldError
from marketplace.web import dates

LABEL = "the start date"


def typed(day: str, month: str, year: str) -> dict[str, str]:
    return {"start-day": day, "start-month": month, "start-year": year}


def read(day: str, month: str, year: str, required: bool = True) -> dates.DateReading:
    return dates.read(typed(day, month, year), "start", LABEL, required=required)


@pytest.mark.parametrize(
    ("month", "number"),
    [("3", 3), ("03", 3), ("March", 3), ("mar", 3), ("MAR", 3), ("Mar.", 3), ("Sept", 9)],
)
def test_a_month_is_a_number_or_its_name(month, number):
    assert read("1", month, "2028").value == date(2028, number, 1)


def test_spaces_around_a_part_are_ignored():
    assert read(" 1 ", " 4 ", " 2027 ").value == date(2027, 4, 1)


@pytest.mark.parametrize(
    ("parts", "message", "wrong"),
    [
        (("", "", ""), "Enter the start date.", ("day", "month", "year")),
        (("1", "", "2027"), "The start date must include a month.", ("month",)),
        (("", "4", "2027"), "The start date must include a day.", ("day",)),
        (("1", "4", ""), "The start date must include a year.", ("year",)),
        (("", "", "2027"), "The start date must include a day and month.", ("day", "month")),
        (("1", "", ""), "The start date must include a month and year.", ("month", "year")),
        (
            ("29", "2", "2027"),
            "The start date must be a real date: February 2027 has 28 days.",
            ("day",),
        ),
        (
            ("31", "6", "2027"),
            "The start date must be a real date: June 2027 has 30 days.",
            ("day",),
        ),
        (("0", "4", "2027"), "The start date must be a real date.", ("day",)),
        (("1", "13", "2027"), "The start date must be a real date.", ("month",)),
        (("1", "Marchember", "2027"), "The start date must be a real date.", ("month",)),
        (("1st", "4", "2027"), "The start date must be a real date.", ("day",)),
        (("١", "4", "2027"), "The start date must be a real date.", ("day",)),  # not 0-9
        (
            ("1", "4", "27"),
            "The start date must include a year of 4 numbers, like 2027.",
            ("year",),
        ),
        (
            ("1", "4", "0000"),
            "The start date must include a year of 4 numbers, like 2027.",
            ("year",),
        ),
        (
            ("1", "4", "9" * 5000),
            "The start date must include a year of 4 numbers, like 2027.",
            ("year",),
        ),
        (("9" * 5000, "4", "2027"), "The start date must be a real date.", ("day",)),
    ],
)
def test_each_problem_has_its_message_on_the_first_wrong_box(parts, message, wrong):
    reading = read(*parts)
    assert reading.value is None
    assert reading.error == FieldError(message, f"start-{wrong[0]}")
    assert reading.wrong == wrong
    assert reading.schema_value() == dates.NOT_A_DATE


def test_a_leap_day_is_a_real_date():
    assert read("29", "February", "2028").value == date(2028, 2, 29)


def test_an_optional_date_left_blank_is_no_date_and_no_error():
    reading = read("", "", "", required=False)
    assert (reading.value, reading.error, reading.schema_value()) == (None, None, "")


def test_what_was_typed_is_kept_but_cut_short():
    reading = read("9" * 5000, "Feb", "2027")
    assert reading.parts == {"day": "9" * dates.SHOWN_PART, "month": "Feb", "year": "2027"}


def test_a_good_date_goes_to_the_schema_as_yyyy_mm_dd():
    assert read("1", "apr", "2027").schema_value() == "2027-04-01"


def test_the_date_inputs_message_takes_the_schemas_place_for_that_date():
    start, end = (
        read("31", "2", "2027"),
        dates.read(
            {"end-day": "1", "end-month": "1", "end-year": "2030"}, "end", "x", required=True
        ),
    )
    schema_errors = [
        FieldError("Give the value in pounds.", "value"),
        FieldError("Give the start date as YYYY-MM-DD.", "start"),
        FieldError("The contract must end after it starts.", "end"),
    ]
    assert dates.with_date_errors(schema_errors, {"start": start, "end": end}) == [
        FieldError("Give the value in pounds.", "value"),
        start.error,
        FieldError("The contract must end after it starts.", "end-day"),
    ]


def test_the_component_marks_only_the_wrong_boxes():
    values = typed("1", "", "2027")
    params = dates.component(
        "start",
        values,
        {"start-month": "The start date must include a month."},
        legend="Starts on",
        hint="For example, 1 4 2027",
    )
    assert params["errorMessage"] == {"text": "The start date must include a month."}
    assert [item["value"] for item in params["items"]] == ["1", "", "2027"]
    assert ["govuk-input--error" in item["classes"] for item in params["items"]] == [
        False,
        True,
        False,
    ]
    # A date that reads well but was refused (after another date, say) is wrong as a whole.
    whole = dates.component(
        "start", typed("1", "4", "2027"), {"start-day": "Too early."}, legend="L", hint="H"
    )
    assert all("govuk-input--error" in item["classes"] for item in whole["items"])
    clean = dates.component("start", typed("1", "4", "2027"), {}, legend="L", hint="H")
    assert clean["errorMessage"] is None
    assert not any("govuk-input--error" in item["classes"] for item in clean["items"])
