"""Formula injection: every spreadsheet-bound output is defused in one place
(marketplace.spreadsheets), per field after splitting on `,` and `;`; .xlsx text is text."""

from __future__ import annotations

import csv
import io

import pytest

from marketplace.benchmarks import periods, templates_export
from marketplace.publications import opendata
from marketplace.spreadsheets import neutralise, neutralise_text
from tests.benchmarks.ingest_world import submit

HYPERLINK = '=HYPERLINK("http://evil.example","click")'


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ("=1+2", "'=1+2"),
        ("Q3 review;=1+2", "Q3 review;'=1+2"),
        ("Q3 review, +cmd", "Q3 review,' +cmd"),
        ("a;b,@SUM(A1)", "a;b,'@SUM(A1)"),
        ("-2+3", "'-2+3"),
        ("plain text, with commas; and semicolons", "plain text, with commas; and semicolons"),
        ("", ""),
    ],
)
def test_each_field_is_defused(text, safe):
    assert neutralise_text(text) == safe


def test_numbers_stay_numbers():
    assert neutralise(-3) == -3 and neutralise(None) == ""


def test_an_uploaded_formula_comment_comes_back_as_text_in_both_templates(world):
    # The templates carry the period open for figures: the running quarter is always open.
    periods.ensure_current(actor_label="test")
    code = templates_export.rows_for(world.centre, "long")[2]
    upload = io.StringIO()
    csv.writer(upload).writerows(
        [["metric", "period", "value", "comment"], ["ap_cost_per_invoice", code, 4, HYPERLINK]]
    )
    submit(world, upload.getvalue().encode())
    text = templates_export.build(world.centre, "long", "csv").content.decode()
    comments = [row[5] for row in csv.reader(io.StringIO(text)) if row[0] == "ap_cost_per_invoice"]
    assert comments and all(not c.lstrip().startswith("=") for c in comments), comments

    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(templates_export.build(world.centre, "long", "xlsx").content))
    sheet = book["Figures"]
    cells = [row[5] for row in sheet.iter_rows(min_row=2) if row[0].value == "ap_cost_per_invoice"]
    assert cells and all(cell.data_type == "s" for cell in cells if cell.value)
    assert any(cell.value and "HYPERLINK" in cell.value for cell in cells)


def test_open_data_defuses_text_after_a_semicolon():
    assert opendata.safe_cell("Centre;=1+2") == "Centre;'=1+2"
