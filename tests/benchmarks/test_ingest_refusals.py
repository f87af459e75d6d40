"""Files the service will not read are refused cleanly, with a status and a way forward.

Every refusal writes nothing but its own audit event.
"""

from __future__ import annotations

import io
import zipfile

import pytest

from marketplace.errors import DomainError
from tests.benchmarks.ingest_world import audit_events, csv_bytes, snapshot, submit, xlsx_bytes

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.12")


def refusal(world, content: bytes, **kwargs) -> DomainError:
    before = snapshot()
    with pytest.raises(DomainError) as caught:
        submit(world, content, **kwargs)
    assert snapshot() == before, "a refusal must write nothing"
    (event,) = audit_events("submission.refused")
    assert event.detail["status"] == caught.value.status
    assert event.organisation_id == world.centre.organisation_id
    return caught.value


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_a_file_over_the_size_limit_is_413(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 1024)
    error = refusal(world, GOOD + b"x" * 1024)
    assert error.status == 413
    assert "larger than the limit" in error.detail


def test_more_rows_than_the_cap_is_413(world, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_UPLOAD_ROWS", 3)
    lines = ["metric,period,value"] + ["ap_cost_per_invoice,2026-Q3,4"] * 4
    error = refusal(world, csv_bytes(*lines))
    assert error.status == 413
    assert "more than 3 observations" in error.detail


def test_an_unsupported_content_type_is_415(world):
    error = refusal(world, b"%PDF-1.7", filename="figures.pdf", content_type="application/pdf")
    assert error.status == 415
    assert "CSV" in error.detail


def test_bytes_that_are_not_utf8_are_400(world):
    error = refusal(world, "metric,period,value\ncost,2026-Q3,£4\n".encode("latin-1"))
    assert error.status == 400
    assert "not valid UTF-8" in error.detail and "CSV UTF-8" in error.detail


def test_binary_data_named_csv_is_400(world):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    error = refusal(world, png, filename="figures.csv")
    assert error.status == 400
    assert "not a text file" in error.detail


def test_an_html_page_renamed_csv_is_refused(world):
    page = b"<!DOCTYPE html>\n<html><body><table><tr><td>metric</td></tr></table></body></html>"
    error = refusal(world, page, filename="figures.csv")
    assert error.status == 422
    assert "web page (HTML)" in error.errors[0].message


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("figures.xlsm", XLSX),
        ("figures.xlsx", "application/vnd.ms-excel.sheet.macroEnabled.12"),
    ],
)
def test_a_macro_workbook_is_refused_by_name_or_type(world, filename, content_type):
    book = xlsx_bytes([["metric", "period", "value"]])
    error = refusal(world, book, filename=filename, content_type=content_type)
    assert error.status == 422
    assert "macro" in error.detail.lower()


def test_a_macro_workbook_renamed_xlsx_is_refused_by_its_contents(world):
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes([["metric", "2026-Q3"]]))) as source:
        members = {name: source.read(name) for name in source.namelist()}
    members["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0 macros"
    error = refusal(world, zipped(members), filename="figures.xlsx", content_type=XLSX)
    assert "contains macros" in error.detail


def test_a_zip_bomb_disguised_as_xlsx_is_not_unpacked(world):
    bomb = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"\0" * 30_000_000})
    assert len(bomb) < 100_000
    error = refusal(world, bomb, filename="figures.xlsx", content_type=XLSX)
    assert error.status == 422
    assert "unpacks to far more data" in error.detail


def test_an_old_xls_is_refused_with_what_to_do(world):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512
    error = refusal(world, ole, filename="figures.xls", content_type="application/vnd.ms-excel")
    assert "old-style Excel file (.xls)" in error.detail


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 not really a zip", "damaged"),
        (zipped({"word/document.xml": b"<w/>"}), "not an Excel workbook"),
        (b"metric,period,value\n", "named as an Excel workbook but is not one"),
    ],
)
def test_a_damaged_or_fake_workbook_is_refused(world, content, message):
    error = refusal(world, content, filename="figures.xlsx", content_type=XLSX)
    assert message in error.detail


def test_an_empty_file_is_refused(world):
    error = refusal(world, b"")
    assert error.status == 422


def test_a_header_without_rows_is_refused(world):
    error = refusal(world, csv_bytes("metric,period,value"))
    assert "no data rows" in error.errors[0].message


def test_malformed_json_is_refused_with_where(world):
    error = refusal(world, b'{"observations": [', content_type="application/json")
    assert error.status == 422
    assert "line 1" in error.detail
