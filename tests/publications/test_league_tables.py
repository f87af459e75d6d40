"""The league table as one document per service line plus an overview (issue 15): each a
published artefact with versions, on the reports list and in the feed, as PDF, web page and
CSV; a service line's table is republished only when its own figures change."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from marketplace.benchmarks import peers
from marketplace.extensions import db
from marketplace.publications import services
from marketplace.publications.models import SECTOR, Publication
from tests.factories import MetricFactory, ObservationFactory, ServiceLineFactory
from tests.publications.helpers import pdf_text, plan_item, render_item
from tests.publications.test_downloads import fetch
from tests.publications.test_publish import restate

HEADCOUNTS = ["1200", "800", "400", "1600", "950"]


@pytest.fixture
def two_lines(world):
    """The world's finance metrics plus a payroll metric every centre reported."""
    payroll = ServiceLineFactory(code="payroll", name="Payroll", position=2)
    cost = MetricFactory(
        code="payroll_cost_per_payslip",
        name="Cost per payslip",
        direction="lower",
        unit="gbp",
        service_line=payroll,
        numerator_label="Payroll process cost (£)",
        denominator_label="Payslips issued",
    )
    for centre, value in zip(world.centres, ["3.10", "2.40", "5.75", "4.00", "2.95"], strict=True):
        ObservationFactory(centre=centre, metric=cost, period=world.q3, value=Decimal(value))
    peers.recompute_all()
    db.session.flush()
    world.payslip = cost
    return world


def _league(period) -> dict[str, Publication]:
    rows = db.session.scalars(
        select(Publication).where(
            Publication.period_id == period.id,
            Publication.kind == "league_table",
            Publication.status == "current",
        )
    )
    return {row.subject: row for row in rows}


def test_publishing_makes_an_overview_and_one_table_per_service_line(two_lines):
    services.publish_inline(two_lines.q3, actor_label="test")
    league = _league(two_lines.q3)
    assert set(league) == {SECTOR, "line:finance", "line:payroll"}
    assert league["line:payroll"].filename == "league-table-2026-Q3-payroll-v1.pdf"
    assert league[SECTOR].filename == "league-table-2026-Q3-v1.pdf"
    assert league["line:finance"].title == "League table: Finance, Q3 2026"
    payroll = league["line:payroll"].data
    assert [t["code"] for t in payroll["tables"]] == ["payroll_cost_per_payslip"]
    assert [d["code"] for d in payroll["method"]["library"]["definitions"]] == [
        "payroll_cost_per_payslip"
    ]
    # The open data still ranks every metric, exactly as before the split.
    open_data = db.session.scalars(
        select(Publication).where(Publication.kind == "open_data_json")
    ).one()
    ranks = {(r["metric"], r["centre"]): r["rank"] for r in open_data.data["records"]}
    assert ranks[("payroll_cost_per_payslip", "ssc-b")] == 1
    assert ranks[("ap_cost_per_invoice", "ssc-c")] == 1


def test_a_restatement_republishes_only_the_service_line_it_moves(two_lines):
    services.publish_inline(two_lines.q3, actor_label="test")
    restate(two_lines.centres[0], "payroll_cost_per_payslip", "2026-Q3", "2.00")

    league = _league(two_lines.q3)
    assert league["line:payroll"].version == 2
    assert league["line:finance"].version == 1
    assert league[SECTOR].version == 1  # no figures in the overview, nothing to republish
    note = league["line:payroll"].change_note
    assert "Cost per payslip: figures or ranks changed for" in note and "Centre A" in note


def test_the_overview_pdf_links_to_each_service_line(app, two_lines):
    text = " ".join(
        pdf_text(render_item(plan_item(two_lines.q3, "league_table"), app.config)).split()
    )
    assert "League tables of accredited shared-service centres: overview" in text
    assert "http://localhost/reports/league-table/2026-Q3/payroll.pdf" in text
    assert "http://localhost/reports/league-table/2026-Q3/finance.pdf" in text
    assert "Cost per payslip" in text
    assert "£3.10" not in text  # figures live in the service lines' tables


def test_a_service_line_pdf_ranks_its_own_metrics_only(app, two_lines):
    item = plan_item(two_lines.q3, "league_table", subject="line:payroll")
    text = " ".join(pdf_text(render_item(item, app.config)).split())
    assert "Payroll: accredited shared-service centres ranked on each metric" in text
    assert text.index("Centre B") < text.index("Centre C")  # £2.40 before £5.75
    assert "Accounts payable cost per invoice" not in text


def test_the_pages_pdfs_and_csv_of_the_league_tables(client, two_lines):
    services.publish_inline(two_lines.q3, actor_label="test")
    db.session.commit()

    overview = fetch(client, "/reports/league-table/2026-Q3").get_data(as_text=True)
    assert 'href="/reports/league-table/2026-Q3/payroll"' in overview
    assert 'href="/reports/league-table/2026-Q3/payroll.pdf"' in overview
    assert 'href="/reports/league-table/2026-Q3.csv"' in overview

    page = fetch(client, "/reports/league-table/2026-Q3/payroll").get_data(as_text=True)
    assert "Payroll: accredited shared-service centres ranked on each metric" in page
    assert "£2.40" in page and "Accounts payable cost per invoice" not in page
    assert 'href="/reports/league-table/2026-Q3/payroll.csv"' in page
    assert fetch(client, "/reports/league-table/2026-Q3/payroll/v1").status_code == 200

    for url in (
        "/reports/league-table/2026-Q3/payroll.pdf",
        "/reports/league-table/2026-Q3/payroll/v1.pdf",
        "/reports/league-table/2026-Q3.pdf",
        "/reports/league-table/2026-Q3/v1.pdf",
    ):
        response = fetch(client, url)
        assert response.status_code == 200 and response.data.startswith(b"%PDF-"), url
    assert fetch(client, "/reports/league-table/2026-Q3/payroll.pdf").headers[
        "Content-Disposition"
    ] == ("inline; filename=league-table-2026-Q3-payroll-v1.pdf")

    response = fetch(client, "/reports/league-table/2026-Q3.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert {r["metric"] for r in rows} == {
        "ap_cost_per_invoice",
        "invoices_paid_5_days",
        "monthly_close_days",
        "payroll_cost_per_payslip",
    }
    first = next(r for r in rows if r["metric"] == "payroll_cost_per_payslip")
    assert (first["rank"], first["centre"], first["value"]) == ("1", "ssc-b", "2.40")
    unranked = [r for r in rows if r["metric"] == "monthly_close_days"]
    assert {r["rank"] for r in unranked} == {""} and {r["ranked"] for r in unranked} == {"false"}
    again = fetch(
        client,
        "/reports/league-table/2026-Q3.csv",
        headers={"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304

    line = fetch(client, "/reports/league-table/2026-Q3/payroll.csv").get_data(as_text=True)
    assert {r["metric"] for r in csv.DictReader(io.StringIO(line))} == {"payroll_cost_per_payslip"}
    for missing in (
        "/reports/league-table/2026-Q3/hr",
        "/reports/league-table/2026-Q3/hr.pdf",
        "/reports/league-table/2026-Q3/hr.csv",
        "/reports/league-table/2026-Q3/Payroll%20!",
        "/reports/league-table/2026-Q2.csv",
    ):
        assert fetch(client, missing).status_code == 404, missing


def test_the_list_and_the_feed_show_every_league_table(client, two_lines):
    services.publish_inline(two_lines.q3, actor_label="test")
    db.session.commit()
    listing = fetch(client, "/reports?kind=league_table").get_data(as_text=True)
    assert "League table: Payroll, Q3 2026" in listing
    assert "league-table-2026-Q3-payroll-v1.pdf" in listing
    assert "league-table-2026-Q3-v1.pdf" in listing

    root = ElementTree.fromstring(fetch(client, "/reports/feed.atom").data)  # noqa: S314
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids = {e.find("a:id", ns).text for e in root.findall("a:entry", ns)}
    assert "http://localhost/reports/league-table/2026-Q3/payroll/v1.pdf" in ids
    assert "http://localhost/reports/league-table/2026-Q3/v1.pdf" in ids


def test_a_period_published_before_the_split_gets_an_overview_saying_so(two_lines):
    """A period whose league table was one document: its next version is the overview."""
    services.publish_inline(two_lines.q3, actor_label="test")
    overview = _league(two_lines.q3)[SECTOR]
    whole = dict(overview.data)
    whole.pop("part")  # as the whole table was stored before
    overview.data = whole
    overview.input_hash = "0" * 64
    db.session.flush()

    services.publish_inline(two_lines.q3, actor_label="test")
    league = _league(two_lines.q3)
    assert league[SECTOR].version == 2
    assert "now published as one document per service line" in league[SECTOR].change_note
    assert league["line:payroll"].version == 1
