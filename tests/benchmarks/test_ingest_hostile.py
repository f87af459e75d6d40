"""Hostile uploads: each gets a clear 4xx (and a `submission.refused` event), nothing is
written, and the server answers straight after. Found by outsiders (issue 13)."""

from __future__ import annotations

import io
import json
import time
import zipfile

import pytest

from marketplace.accounts.tokens import create_token
from marketplace.benchmarks import workbooks
from marketplace.errors import DomainError, ValidationFailed
from tests.api.helpers import assert_answers_at_once
from tests.benchmarks.ingest_world import audit_events, csv_bytes, snapshot, submit, xlsx_bytes

URL = "/api/v1/centres/centre-a/submissions"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="xml" ContentType="application/xml"/></Types>'
)
WORKBOOK = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    b"<sheets/></workbook>"
)


def hostile_workbook(strings: int, *, level: int = 6) -> bytes:
    """A workbook whose sharedStrings.xml holds `strings` short strings, a thousand distinct
    ones repeated: the outsiders' shape, eleven million of them (190 MB) in a 2 MB file at a
    ratio of about 100, under the zip-bomb rule's 150. Built in memory."""
    block = b"".join(b"<si><t>%d</t></si>" % i for i in range(1000))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            for _ in range(strings // 1000):
                member.write(block)
            member.write(b"</sst>")
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return hostile_workbook(11_000_000)


@pytest.fixture(autouse=True)
def answers_at_once_after(app):
    """After each hostile input below, the server answers /healthz within 100 ms."""
    yield
    assert_answers_at_once(app.test_client())


@pytest.fixture
def token(personas):
    _, secret = create_token(personas["centre_user"], "hostile")
    return {"Authorization": f"Bearer {secret}"}


def refused(world, content: bytes, cls=DomainError, **kwargs) -> DomainError:
    before = snapshot()
    refusals = len(audit_events("submission.refused"))
    with pytest.raises(cls) as caught:
        submit(world, content, **kwargs)
    assert 400 <= caught.value.status < 500
    assert snapshot() == before, "a refused file must write nothing"
    assert len(audit_events("submission.refused")) == refusals + 1
    return caught.value


def test_a_2_mb_workbook_of_eleven_million_strings_is_refused_in_under_2_s(world, bomb):
    assert len(bomb) < 3 * 1024 * 1024
    sizes = {m.filename: m for m in zipfile.ZipFile(io.BytesIO(bomb)).infolist()}
    shared = sizes["xl/sharedStrings.xml"]
    assert shared.file_size > 180 * 1024 * 1024
    assert shared.file_size / shared.compress_size < workbooks.MAX_COMPRESSION_RATIO
    started = time.perf_counter()
    error = refused(world, bomb, filename="bomb.xlsx", content_type=XLSX)
    assert time.perf_counter() - started < 2
    assert "far more data than a benchmark return holds" in error.detail


def test_shared_strings_are_counted_while_streaming_not_trusted_from_the_directory(world):
    # 600,000 strings in under 32 MB: every declared size passes, the count does not.
    content = hostile_workbook(600_000, level=9)
    started = time.perf_counter()
    error = refused(world, content, filename="many.xlsx", content_type=XLSX)
    assert time.perf_counter() - started < 2
    assert "more than 500,000 shared strings" in error.detail


def test_cells_are_counted_too(world, monkeypatch):
    monkeypatch.setattr(workbooks, "MAX_CELLS", 10)
    rows = [["metric", "period", "value"]] + [["ap_cost_per_invoice", "2026-Q3", 4]] * 5
    error = refused(world, xlsx_bytes(rows), filename="f.xlsx", content_type=XLSX)
    assert "more than 10 cells" in error.detail


def test_a_workbook_with_no_sheets_is_refused(world):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", WORKBOOK)
    error = refused(world, out.getvalue(), filename="empty.xlsx", content_type=XLSX)
    assert error.status in (400, 422)


def test_json_nested_100000_deep_is_refused(world):
    content = b'{"observations": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    error = refused(world, content, filename="deep.json", content_type="application/json")
    assert "nested too deeply" in error.detail


@pytest.mark.parametrize(
    "value", ["1e1000000", "-1e1000000", "1e-1000000", "9" * 5000, "0." + "1" * 5000]
)
def test_huge_numbers_in_csv_are_row_errors(world, value):
    error = refused(world, csv_bytes("metric,period,value", f"ap_cost_per_invoice,2026-Q3,{value}"))
    assert isinstance(error, ValidationFailed)
    assert error.errors[0].row == 2 and error.errors[0].field == "value"


@pytest.mark.parametrize("value", ["1e1000000", "9" * 5000])
def test_huge_numbers_in_json_are_row_errors(world, value):
    body = '{"observations": [{"metric": "ap_cost_per_invoice", "period": "2026-Q3", "value": %s}]}'
    error = refused(
        world, (body % value).encode(), filename="f.json", content_type="application/json"
    )
    assert error.errors[0].field == "value"


def test_a_lone_surrogate_in_a_json_comment_is_a_row_error(world):
    body = {
        "observations": [
            {"metric": "ap_cost_per_invoice", "period": "2026-Q3", "value": 4, "comment": "\ud800"}
        ]
    }
    content = json.dumps(body).encode()  # ensure_ascii: the surrogate travels as \ud800
    error = refused(world, content, filename="f.json", content_type="application/json")
    assert error.errors[0].field == "comment"
    assert "U+D800" in error.errors[0].message


@pytest.mark.parametrize("char", ["\x0c", "\x1b"])
def test_a_reason_xml_cannot_carry_is_refused(world, char):
    content = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4")
    error = refused(world, content, reason=f"Q3{char}review")
    assert error.errors[0].field == "reason"


def test_a_comment_xml_cannot_carry_is_refused(world):
    content = csv_bytes("metric,period,value,comment", "ap_cost_per_invoice,2026-Q3,4,bad\x1bone")
    error = refused(world, content)
    assert error.errors[0].field == "comment"


def test_through_the_api_each_is_a_problem_and_the_server_answers_after(world, client, token, bomb):
    cases = [
        (bomb, XLSX, 422),
        (b"[" * 100_000, "application/json", 400),
        (
            csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,1e1000000"),
            "text/csv",
            422,
        ),
        (
            b'{"observations": [{"metric": "ap_cost_per_invoice", "period": "2026-Q3", '
            b'"value": 4, "comment": "\\ud800"}]}',
            "application/json",
            422,
        ),
    ]
    before = snapshot()
    for content, ctype, status in cases:
        response = client.post(URL, data=content, content_type=ctype, headers=token)
        assert response.status_code == status, response.get_data(as_text=True)[:300]
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"]
        assert snapshot() == before, "a refused upload must write nothing"
        # Right after: the health check answers at once (nothing left running or locked).
        assert_answers_at_once(client)
