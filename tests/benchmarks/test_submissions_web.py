"""The centre's submission pages: upload, error summary, history, download, flags, access."""

from __future__ import annotations

import io
import re
from decimal import Decimal

import pytest

from marketplace.benchmarks.models import Submission
from marketplace.extensions import db
from tests.benchmarks.ingest_world import audit_events, csv_bytes, snapshot, value_of, xlsx_bytes
from tests.factories import ObservationFactory, ServiceCentreFactory

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GOOD = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,4.12")


def upload(client, content: bytes, filename="figures.csv", content_type="text/csv", reason=""):
    return client.post(
        "/centre/submissions/new",
        data={"file": (io.BytesIO(content), filename, content_type), "reason": reason},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 302),
        ("buyer", 403),
        ("alb_buyer", 403),
        ("admin", 403),
        ("centre_user", 200),
        ("other_centre_user", 200),
    ],
)
@pytest.mark.parametrize("path", ["", "/new", "/flags"])
def test_only_centre_users_reach_the_pages(world, as_persona, persona, status, path):
    response = as_persona(persona).get("/centre/submissions" + path)
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"]


def test_a_centre_uploads_a_csv_and_sees_it_accepted(world, as_persona):
    client = as_persona("centre_user")
    response = upload(client, GOOD)
    assert response.status_code == 302
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "Your file was accepted: 1 new figures, 0 changed, 0 unchanged." in html
    assert "ap_cost_per_invoice" in html and "4.12" in html
    assert value_of(world, world.cost, world.open).value == Decimal("4.12")
    (sub,) = db.session.execute(db.select(Submission)).scalars()
    assert (sub.channel, sub.actor_label, sub.filename) == (
        "web",
        "user@centre-a.example.org",
        "figures.csv",
    )


def test_a_centre_uploads_an_excel_workbook(world, as_persona):
    book = xlsx_bytes(
        [["metric", "2026-Q3"], ["ap_cost_per_invoice", 4.12], ["payroll_accuracy", 99]]
    )
    response = upload(as_persona("centre_user"), book, "figures.xlsx", XLSX)
    assert response.status_code == 302
    assert value_of(world, world.payroll, world.open).value == Decimal("99")


def test_a_refused_file_shows_every_error_in_the_summary_and_keeps_nothing(world, as_persona):
    before = snapshot()
    content = csv_bytes(
        "metric,period,value",
        'ap_cost_per_invoice,2026-Q3,"40,000"',
        "invoices_paid_30_days,Q3 2026,95",
        "bogus_metric,2026-Q3,1",
    )
    response = upload(as_persona("centre_user"), content, reason="<b>why</b>")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<title>Error: Upload figures" in html
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</div>\n", 3)[0]
    items = re.findall(r'<a href="#file">(.*?)</a>', summary, re.S)
    assert len(items) == 3
    assert items[0].startswith("Row 2, column ‘value’: The value for ap_cost_per_invoice")
    assert items[1].startswith("Row 3, column ‘period’: Write the period as 2026-Q3")
    assert items[2].startswith("Row 4, column ‘metric’: Unknown metric code")
    assert 'id="file"' in html
    # What the person typed comes back, escaped.
    assert "&lt;b&gt;why&lt;/b&gt;" in html
    assert snapshot() == before
    assert len(audit_events("submission.refused")) == 1


def test_no_file_chosen_is_an_error_on_the_file_field(world, as_persona):
    response = as_persona("centre_user").post(
        "/centre/submissions/new", data={"reason": ""}, content_type="multipart/form-data"
    )
    assert response.status_code == 400
    assert "Select a file to upload." in response.get_data(as_text=True)


def test_refusals_of_unreadable_files_show_their_status(world, as_persona, app, monkeypatch):
    client = as_persona("centre_user")
    assert upload(client, b"\x00\x01binary", "x.csv").status_code == 400
    assert upload(client, b"%PDF", "x.pdf", "application/pdf").status_code == 415
    monkeypatch.setitem(app.config, "MAX_UPLOAD_BYTES", 10)
    response = upload(client, GOOD)
    assert response.status_code == 413
    assert "larger than the limit" in response.get_data(as_text=True)


def test_the_same_file_twice_is_a_no_op(world, as_persona):
    client = as_persona("centre_user")
    first = upload(client, GOOD).headers["Location"]
    again = upload(client, GOOD)
    assert again.headers["Location"] == first
    html = client.get(first).get_data(as_text=True)
    assert "You sent exactly this file before, so nothing was changed." in html
    assert db.session.execute(db.select(db.func.count(Submission.id))).scalar() == 1


def test_history_lists_each_submission_and_its_file_downloads_as_sent(world, as_persona):
    client = as_persona("centre_user")
    content = csv_bytes("metric;period;value", "ap_cost_per_invoice;2026-Q3;4.12", bom=True)
    location = upload(client, content, "Q3 figures £.csv").headers["Location"]
    html = client.get("/centre/submissions").get_data(as_text=True)
    assert "Q3 figures £.csv" in html and "user@centre-a.example.org" in html
    detail = client.get(location).get_data(as_text=True)
    link = re.search(r'href="([^"]+/file)"', detail).group(1)
    download = client.get(link)
    assert download.status_code == 200
    assert download.data == content
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Q3%20figures%20%C2%A3.csv" in download.headers["Content-Disposition"]


def test_the_changes_against_previous_values_are_shown(world, as_persona):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.published, value=5)
    client = as_persona("centre_user")
    change = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q1,4.75")
    response = upload(client, change)
    assert response.status_code == 422
    assert "Give a reason for the restatement" in response.get_data(as_text=True)
    location = upload(client, change, reason="Double-counted invoices").headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "Double-counted invoices" in html
    row = re.search(r"ap_cost_per_invoice</th>(.*?)</tr>", html, re.S).group(1)
    assert "2026-Q1" in row and ">5<" in row and ">4.75<" in row and "Restated" in row


def test_another_centres_submission_is_not_found(world, as_persona):
    location = upload(as_persona("centre_user"), GOOD).headers["Location"]
    other = as_persona("other_centre_user")
    assert other.get(location).status_code == 404
    assert other.get(location + "/file").status_code == 404
    assert "figures.csv" not in other.get("/centre/submissions").get_data(as_text=True)


def test_templates_download_for_the_centre(world, as_persona):
    client = as_persona("centre_user")
    response = client.get("/centre/submissions/template.csv?layout=wide")
    assert response.status_code == 200
    assert response.data.decode().splitlines()[0] == "metric,2026-Q3"
    response = client.get("/centre/submissions/template.xlsx?layout=long")
    assert response.mimetype == XLSX and response.data.startswith(b"PK")
    assert client.get("/centre/submissions/template.pdf").status_code == 404


def test_a_flagged_figure_can_be_confirmed(world, as_persona):
    for value in ("4.0", "4.2", "4.4", "4.6", "4.8"):
        ObservationFactory(
            centre=ServiceCentreFactory(),
            metric=world.cost,
            period=world.open,
            value=Decimal(value),
        )
    client = as_persona("centre_user")
    upload(client, csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q3,90"))
    listing = client.get("/centre/submissions").get_data(as_text=True)
    assert "1 figure to confirm or correct" in listing
    flags = client.get("/centre/submissions/flags").get_data(as_text=True)
    assert "ap_cost_per_invoice" in flags and "2026-Q3" in flags

    response = client.post(
        "/centre/submissions/flags/confirm",
        data={"metric": "ap_cost_per_invoice", "period": "2026-Q3"},
    )
    assert response.status_code == 302
    assert value_of(world, world.cost, world.open).flag_status == "confirmed"
    assert len(audit_events("observation.flag_confirmed")) == 1
    # Another centre cannot confirm it (it has no such flag).
    again = as_persona("other_centre_user").post(
        "/centre/submissions/flags/confirm",
        data={"metric": "ap_cost_per_invoice", "period": "2026-Q3"},
    )
    assert again.status_code == 404


def test_the_upload_form_needs_a_csrf_token(world, as_persona, app, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    client = as_persona("centre_user")
    page = client.get("/centre/submissions/new").get_data(as_text=True)
    assert 'name="csrf_token"' in page
    assert 'enctype="multipart/form-data"' in page
    before = snapshot()
    assert upload(client, GOOD).status_code == 400
    assert snapshot() == before


# Issue 12, point 9: the reason has one bound on every door (one schema).


def test_the_web_form_refuses_a_reason_over_2000_characters_and_keeps_nothing(world, as_persona):
    before = snapshot()
    restating = csv_bytes("metric,period,value", "ap_cost_per_invoice,2026-Q1,5.00")
    response = upload(as_persona("centre_user"), restating, reason="x" * 450_000)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Keep the reason to 2,000 characters or fewer." in html
    assert 'href="#reason"' in html
    assert snapshot() == before


def test_a_reason_of_exactly_2000_characters_is_accepted(world, as_persona):
    response = upload(as_persona("centre_user"), GOOD, reason="y" * 2000)
    assert response.status_code == 302


def test_the_cli_refuses_the_same_long_reason(world, app, tmp_path):
    path = tmp_path / "figures.csv"
    path.write_bytes(GOOD)
    result = app.test_cli_runner().invoke(
        args=["import-benchmarks", world.centre.slug, str(path), "--reason", "z" * 2001]
    )
    assert result.exit_code != 0
    assert "Keep the reason to 2,000 characters or fewer." in result.output


# Issue 12, points 5 and 6: a restatement of a published figure waits; wording is exact.


def test_a_web_restatement_of_a_published_figure_waits_for_the_authority(world, as_persona):
    ObservationFactory(centre=world.centre, metric=world.cost, period=world.published, value=5)
    ObservationFactory(centre=world.centre, metric=world.paid, period=world.open, value=90)
    client = as_persona("centre_user")
    content = csv_bytes(
        "metric,period,value",
        "ap_cost_per_invoice,2026-Q1,4.50",
        "invoices_paid_30_days,2026-Q3,92",
    )
    response = upload(client, content, reason="Credit notes were missed")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "wait for the authority" in page
    assert "Waiting for the authority: the published figure stays until it is approved." in page
    # The open period's change is a correction, never called a restatement.
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "invoices_paid_30_days 2026-Q3 90 92 Corrected" in text
    assert "ap_cost_per_invoice 2026-Q1 5 4.5 Restated" in text
    assert value_of(world, world.cost, world.published).value == Decimal("5")
    assert value_of(world, world.paid, world.open).value == Decimal("92")
    (event,) = audit_events("submission.accepted")
    assert event.detail["pending"] == 1
