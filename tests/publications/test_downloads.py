"""Downloads, pages, the list and the feed, as CONTRACT.md promises them."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from marketplace import clock
from marketplace.extensions import db
from marketplace.publications import services
from marketplace.publications.models import Publication
from tests.publications.test_publish import restate


@pytest.fixture
def published(world):
    services.publish_inline(world.q3, actor_label="test")
    return world


def fetch(client, url, method="get", **kwargs):
    """A response read in full and closed (send_file keeps the file open until then)."""
    response = getattr(client, method)(url, **kwargs)
    response.get_data()
    response.close()
    return response


def current(kind, centre=None):
    statement = select(Publication).where(Publication.kind == kind, Publication.status == "current")
    if centre is not None:
        statement = statement.where(Publication.centre_id == centre.id)
    return db.session.scalars(statement).one()


def test_the_latest_and_fixed_pdf_of_a_centre(client, published):
    report = current("centre_report", published.centres[0])

    latest = fetch(client, "/reports/ssc-a/2026-Q3.pdf")
    fixed = fetch(client, "/reports/ssc-a/2026-Q3/v1.pdf")

    for response in (latest, fixed):
        assert response.status_code == 200
        assert response.mimetype == "application/pdf"
        assert response.data.startswith(b"%PDF-")
        assert response.headers["ETag"] == f'"{report.sha256}"'
        assert response.headers["Content-Length"] == str(report.size_bytes)
        assert response.headers["Accept-Ranges"] == "bytes"
        assert response.headers["Content-Disposition"] == (
            "inline; filename=ssc-a-2026-Q3-performance-report-v1.pdf"
        )
    assert "immutable" in fixed.headers["Cache-Control"]
    assert "max-age=31536000" in fixed.headers["Cache-Control"]
    assert "immutable" not in latest.headers["Cache-Control"]
    assert "max-age=300" in latest.headers["Cache-Control"]


def test_conditional_get_range_and_head(client, published):
    report = current("centre_report", published.centres[0])
    url = "/reports/ssc-a/2026-Q3/v1.pdf"

    not_modified = fetch(client, url, headers={"If-None-Match": f'"{report.sha256}"'})
    assert not_modified.status_code == 304
    assert not_modified.data == b""

    whole = fetch(client, url).data
    part = fetch(client, url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.data == whole[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{report.size_bytes}"

    head = fetch(client, url, "head")
    assert head.status_code == 200
    assert head.data == b""
    assert head.headers["Content-Length"] == str(report.size_bytes)
    assert head.headers["ETag"] == f'"{report.sha256}"'


def test_league_table_and_open_data_downloads(client, published):
    league = fetch(client, "/reports/league-table/2026-Q3.pdf")
    assert league.status_code == 200 and league.data.startswith(b"%PDF-")
    assert fetch(client, "/reports/league-table/2026-Q3/v1.pdf").status_code == 200

    data = fetch(client, "/reports/2026-Q3.csv")
    assert data.status_code == 200
    assert data.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(data.get_data(as_text=True))))
    assert {r["centre"] for r in rows} == {c.slug for c in published.centres}
    assert "benchmarks-2026-Q3-v1.csv" in data.headers["Content-Disposition"]

    document = fetch(client, "/reports/2026-Q3/v1.json")
    assert document.mimetype == "application/json"
    assert json.loads(document.data)["period"] == "2026-Q3"
    assert "immutable" in document.headers["Cache-Control"]


def test_unknown_reports_are_not_found(client, published):
    for url in (
        "/reports/ssc-a/2026-Q4.pdf",
        "/reports/ssc-a/2026-Q3/v2.pdf",
        "/reports/nobody/2026-Q3.pdf",
        "/reports/ssc-a/not-a-period.pdf",
        "/reports/2025-Q1.csv",
        "/reports/league-table/2026-Q2.pdf",
    ):
        assert fetch(client, url).status_code == 404, url


def test_version_1_stays_downloadable_and_marked_superseded(client, published):
    centre = published.centres[0]
    restate(centre, "ap_cost_per_invoice", "2026-Q3", "4.40", reason="Invoices double counted")
    services.republish_for_restatement(centre.id, published.q3.id, actor_label="test")
    old, new = (
        db.session.scalars(
            select(Publication)
            .where(Publication.kind == "centre_report", Publication.centre_id == centre.id)
            .order_by(Publication.version)
        )
    ).all()

    latest = fetch(client, "/reports/ssc-a/2026-Q3.pdf")
    assert latest.headers["ETag"] == f'"{new.sha256}"'
    first = fetch(client, "/reports/ssc-a/2026-Q3/v1.pdf")
    assert first.status_code == 200
    assert first.headers["ETag"] == f'"{old.sha256}"'
    assert first.headers["Link"] == '</reports/ssc-a/2026-Q3/v2.pdf>; rel="latest-version"'

    page = fetch(client, "/reports/ssc-a/2026-Q3/v1").get_data(as_text=True)
    assert "superseded" in page
    assert "/reports/ssc-a/2026-Q3/v2" in page
    page = fetch(client, "/reports/ssc-a/2026-Q3").get_data(as_text=True)
    assert "What changed in version 2" in page
    assert "Invoices double counted" in page

    listing = fetch(client, "/reports?centre=ssc-a&versions=all").get_data(as_text=True)
    assert "ssc-a-2026-Q3-performance-report-v1.pdf" in listing
    assert "ssc-a-2026-Q3-performance-report-v2.pdf" in listing
    listing = fetch(client, "/reports?centre=ssc-a").get_data(as_text=True)
    assert "performance-report-v1.pdf" not in listing


def test_report_pages_show_the_published_figures(client, published):
    page = fetch(client, "/reports/ssc-a/2026-Q3")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1" in html and "Centre A" in html
    assert "£4.12" in html and "£5.83" in html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html and 'role="img"' in html
    assert "/reports/ssc-a/2026-Q3/v1.pdf" in html
    league = fetch(client, "/reports/league-table/2026-Q3/finance").get_data(as_text=True)
    assert "Centre C" in league and "£2.07" in league


def test_the_centre_page_links_to_its_current_reports(client, world):
    before = fetch(client, "/centres/ssc-a").get_data(as_text=True)
    assert "No performance report has been published for this centre yet." in before

    services.publish_inline(world.q3, actor_label="test")
    restate(world.centres[0], "ap_cost_per_invoice", "2026-Q3", "4.40", reason="Double counted")
    services.republish_for_restatement(world.centres[0].id, world.q3.id, actor_label="test")

    html = fetch(client, "/centres/ssc-a").get_data(as_text=True)
    assert 'href="/reports/ssc-a/2026-Q3"' in html
    assert 'href="/reports/ssc-a/2026-Q3.pdf"' in html
    assert "version 2" in html
    assert "v1.pdf" not in html  # superseded versions are one click further, on the list
    assert 'href="/reports?centre=ssc-a&amp;versions=all"' in html
    other = fetch(client, "/centres/ssc-b").get_data(as_text=True)
    assert "/reports/ssc-b/2026-Q3" in other and "/reports/ssc-a/" not in other


def test_the_list_filters_by_centre_period_and_kind(client, published):
    everything = fetch(client, "/reports").get_data(as_text=True)
    assert "ssc-a-2026-Q3-performance-report-v1.pdf" in everything
    assert "league-table-2026-Q3-v1.pdf" in everything
    assert "benchmarks-2026-Q3-v1.csv" in everything

    one = fetch(client, "/reports?centre=ssc-b").get_data(as_text=True)
    assert "ssc-b-2026-Q3" in one and "ssc-a-2026-Q3" not in one
    league = fetch(client, "/reports?kind=league_table").get_data(as_text=True)
    assert "league-table-2026-Q3-v1.pdf" in league and "ssc-a-2026-Q3" not in league
    other = fetch(client, "/reports?period=2026-Q2").get_data(as_text=True)
    assert "Nothing has been published" in other


def test_the_atom_feed_lists_each_published_version(client, published):
    response = fetch(client, "/reports/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    ns = {"a": "http://www.w3.org/2005/Atom"}
    root = ElementTree.fromstring(response.data)  # noqa: S314 - our own feed
    entries = root.findall("a:entry", ns)
    assert len(entries) == len(published.centres) + 4  # the league overview and finance
    ids = {e.find("a:id", ns).text for e in entries}
    assert "http://localhost/reports/ssc-a/2026-Q3/v1.pdf" in ids
    enclosure = entries[0].find("a:link[@rel='enclosure']", ns)
    assert int(enclosure.get("length")) > 0
    assert root.find("a:updated", ns).text == "2026-11-27T09:00:00Z"


def test_the_lookup_cache_serves_files_without_the_database_for_a_short_while(
    app, client, published, monkeypatch
):
    from sqlalchemy import event

    from marketplace.publications import lookups

    monkeypatch.setitem(app.extensions, lookups.EXTENSION, lookups.LookupCache(30))
    start = clock.now()
    first = fetch(client, "/reports/ssc-a/2026-Q3.pdf")
    statements = []

    def count(*args):
        statements.append(args)

    engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        again = fetch(client, "/reports/ssc-a/2026-Q3.pdf")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert statements == []
    assert again.headers["ETag"] == first.headers["ETag"]

    # A republication shows at the 'latest' address once the entry expires.
    centre = published.centres[0]
    restate(centre, "ap_cost_per_invoice", "2026-Q3", "4.40", reason="Corrected")  # republishes
    assert fetch(client, "/reports/ssc-a/2026-Q3.pdf").headers["ETag"] == first.headers["ETag"]
    with clock.frozen_at(start + timedelta(seconds=31)):
        assert fetch(client, "/reports/ssc-a/2026-Q3.pdf").headers["ETag"] != first.headers["ETag"]


def test_open_data_csv_has_one_charset_and_a_multi_range_request_gets_the_whole_file(
    client, published
):
    data = fetch(client, "/reports/2026-Q3.csv")
    assert data.headers["Content-Type"] == "text/csv; charset=utf-8"

    url = "/reports/ssc-a/2026-Q3/v1.pdf"
    whole = fetch(client, url).data
    several = fetch(client, url, headers={"Range": "bytes=0-9,20-29"})
    # A server may ignore a Range header; several ranges are ignored rather than a 416.
    assert several.status_code == 200
    assert several.data == whole


def test_report_pages_link_to_how_to_read_the_figures(client, published):
    help_link = '<a class="govuk-link" href="/help/reading-figures">How to read these figures</a>'
    for path in ("/reports/ssc-a/2026-Q3", "/reports/league-table/2026-Q3/finance"):
        assert help_link in fetch(client, path).get_data(as_text=True)
