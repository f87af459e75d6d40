"""The audit trail: the admin page with filters, its CSV export, the API, and append-only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from tests.date_inputs import (
    box_labels,
    box_values,
    date_error,
    highlighted,
    legend_and_hint,
    summary_links,
)
from tests.factories import AuditEventFactory, MetricFactory, ReportingPeriodFactory


@pytest.fixture
def trail(personas):
    centre_org = personas["centre"].organisation
    AuditEventFactory(
        action="accreditation.suspend",
        actor_label="admin@authority.example.gov.uk",
        organisation_id=centre_org.id,
        object_type="centre",
        object_id="centre-a",
        occurred_at=datetime(2026, 10, 1, 12, tzinfo=UTC),
        detail={"reason": "Late"},
    )
    AuditEventFactory(
        action="accreditation.reinstate",
        actor_label="cli:ops",
        organisation_id=centre_org.id,
        object_type="centre",
        object_id="centre-a",
        occurred_at=datetime(2026, 11, 2, 12, tzinfo=UTC),
    )
    AuditEventFactory(
        action="token.created",
        actor_label="user@centre-b.example.org",
        object_type="api_token",
        object_id="abc",
        occurred_at=datetime(2026, 11, 3, 12, tzinfo=UTC),
        detail={"name": '=HYPERLINK("http://evil")'},
    )


def _page(client, **args) -> str:
    response = client.get("/admin/audit", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_data(as_text=True)


def test_filters_by_actor_organisation_action_object_and_dates(admin, trail):
    assert "cli:ops" in _page(admin, actor="cli:")
    assert "<code>accreditation.suspend</code>" not in _page(admin, actor="cli:")
    by_org = _page(admin, organisation="centre-a")
    assert "<code>accreditation.suspend</code>" in by_org
    assert "<code>token.created</code>" not in by_org
    assert "<code>accreditation.reinstate</code>" in _page(admin, action="accreditation.")
    assert "<code>accreditation.reinstate</code>" not in _page(
        admin, action="accreditation.suspend"
    )
    assert "<code>token.created</code>" in _page(admin, object="api_token:abc")
    in_november = _page(admin, **{"from": "2026-11-01", "to": "2026-11-02"})
    assert "<code>accreditation.reinstate</code>" in in_november
    assert "<code>accreditation.suspend</code>" not in in_november
    assert "<code>token.created</code>" not in in_november


def test_bad_filters_are_explained(admin, trail):
    response = admin.get("/admin/audit", query_string={"from": "yesterday", "organisation": "x"})
    assert response.status_code == 400
    assert "Enter the date as YYYY-MM-DD." in response.get_data(as_text=True)
    response = admin.get("/admin/audit", query_string={"organisation": "nowhere"})
    assert "There is no organisation &#39;nowhere&#39;." in response.get_data(as_text=True)


def boxes(name: str, day: str, month: str, year: str) -> dict[str, str]:
    return {f"{name}-day": day, f"{name}-month": month, f"{name}-year": year}


def test_the_dates_are_day_month_year_boxes_kept_in_the_url(admin, trail):
    page = _page(admin)
    for name, legend in (("from", "From"), ("to", "To")):
        assert box_labels(page, name) == ["Day", "Month", "Year"]
        assert legend_and_hint(page, name)[0] == legend
        assert "For example," in legend_and_hint(page, name)[1]
    assert "YYYY-MM-DD" not in page
    # 1 November 2026 to 2 Nov 2026: a month may be a number or a name.
    query = {**boxes("from", "1", "11", "2026"), **boxes("to", "02", "nov", "2026")}
    in_november = _page(admin, **query)
    assert "<code>accreditation.reinstate</code>" in in_november
    assert "<code>accreditation.suspend</code>" not in in_november
    assert "<code>token.created</code>" not in in_november
    assert box_values(in_november, "from") == ("1", "11", "2026")
    assert box_values(in_november, "to") == ("02", "nov", "2026")
    # The download link and the page links carry the same filters.
    assert "from-day=1&amp;from-month=11&amp;from-year=2026" in in_november
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/audit.csv", query_string=query).text)))
    assert [row["action"] for row in rows] == ["accreditation.reinstate"]


def test_a_date_linked_to_as_yyyy_mm_dd_fills_the_boxes(admin, trail):
    page = _page(admin, **{"from": "2026-11-01"})
    assert box_values(page, "from") == ("1", "11", "2026")
    assert box_values(page, "to") == ("", "", "")


@pytest.mark.parametrize(
    ("query", "href", "message", "wrong"),
    [
        (
            boxes("from", "31", "2", "2026"),
            "#from-day",
            "The date to search from must be a real date: February 2026 has 28 days.",
            ["day"],
        ),
        (
            boxes("to", "30", "", "2026"),
            "#to-month",
            "The date to search to must include a month.",
            ["month"],
        ),
        (
            boxes("from", "", "", "2026"),
            "#from-day",
            "The date to search from must include a day and month.",
            ["day", "month"],
        ),
        (
            boxes("to", "1", "Brumaire", "2026"),
            "#to-month",
            "The date to search to must be a real date.",
            ["month"],
        ),
        (
            boxes("from", "1", "1", "9" * 30_000),
            "#from-year",
            "The date to search from must include a year of 4 numbers, like 2027.",
            ["year"],
        ),
    ],
    ids=["31-february", "no-month", "year-only", "bad-month", "huge-year"],
)
def test_a_wrong_date_is_shown_on_the_page_at_its_first_wrong_box(
    admin, trail, query, href, message, wrong
):
    response = admin.get("/admin/audit", query_string={**query, "organisation": "x" * 81})
    assert response.status_code == 400  # never a 500
    page = response.get_data(as_text=True)
    # Every problem at once: the organisation's and the date's.
    assert summary_links(page) == [
        ("#organisation", "An organisation's slug is 80 characters or fewer."),
        (href, message),
    ]
    name = href[1:].split("-")[0]
    assert date_error(page, name) == message
    assert highlighted(page, name) == wrong
    kept = tuple(query[f"{name}-{part}"][:20] for part in ("day", "month", "year"))
    assert box_values(page, name) == kept
    assert "No events match." in page


def test_dates_the_wrong_way_round_are_reported_with_the_other_errors(admin, trail):
    query = {**boxes("from", "2", "11", "2026"), **boxes("to", "1", "11", "2026")}
    response = admin.get("/admin/audit", query_string={**query, "organisation": "x" * 81})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert summary_links(page) == [
        ("#organisation", "An organisation's slug is 80 characters or fewer."),
        ("#to-day", "'To' must be on or after 'from'."),
    ]
    assert highlighted(page, "to") == ["day", "month", "year"]
    assert highlighted(page, "from") == []


def test_csv_export_keeps_the_filters_and_neutralises_formulas(admin, trail):
    response = admin.get("/admin/audit.csv", query_string={"object": "api_token"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["action"] for row in rows] == ["token.created"]
    assert rows[0]["detail"].startswith('{"name": "=HYPERLINK')  # JSON text, not a formula cell
    AuditEventFactory(action="x.y", actor_label="=cmd|' /C calc'!A0")
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/audit.csv").get_data(as_text=True))))
    assert "'=cmd|' /C calc'!A0" in [row["actor"] for row in rows]


def test_the_api_pages_and_filters(admin, trail):
    body = admin.get(
        "/api/v1/audit-events", query_string={"organisation": "centre-a", "per_page": 1}
    ).get_json()
    assert body["meta"] == {"page": 1, "per_page": 1, "total": 2, "pages": 2}
    assert body["data"][0]["action"] == "accreditation.reinstate"
    assert body["data"][0]["organisation"] == "centre-a"
    assert "page=2" in body["links"]["next"] and "organisation=centre-a" in body["links"]["next"]


def test_the_api_gives_csv_by_format_or_accept(admin, trail):
    for url, headers in (
        ("/api/v1/audit-events?format=csv&action=token.created", {}),
        ("/api/v1/audit-events?action=token.created", {"Accept": "text/csv"}),
    ):
        response = admin.get(url, headers=headers)
        assert response.mimetype == "text/csv"
        lines = response.get_data(as_text=True).splitlines()
        assert lines[0].startswith("occurred_at,actor,")
        assert len(lines) == 2
        response.close()


def test_the_api_is_for_admins_only(as_persona, trail):
    assert as_persona("anonymous").get("/api/v1/audit-events").status_code == 401
    response = as_persona("centre_user").get("/api/v1/audit-events")
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"


def test_the_api_refuses_bad_filters_as_problems(admin, trail):
    response = admin.get("/api/v1/audit-events?from=2026-13-01")
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"


def test_postgresql_refuses_to_change_or_remove_an_event(is_postgres, db_session, trail):
    if not is_postgres:
        pytest.skip("the append-only trigger is PostgreSQL's (migration 0002)")
    event_id = db.session.execute(db.select(AuditEvent.id).limit(1)).scalar_one()
    for statement in (
        text("UPDATE audit_events SET action = 'tampered' WHERE id = :id"),
        text("DELETE FROM audit_events WHERE id = :id"),
    ):
        with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
            db.session.execute(statement, {"id": event_id})
    with pytest.raises(DBAPIError, match="append-only"), db.session.begin_nested():
        db.session.execute(text("TRUNCATE audit_events CASCADE"))
    assert db.session.get(AuditEvent, event_id).action != "tampered"


def test_the_page_shows_names_readable_changes_and_formatted_numbers(admin, personas):
    centre = personas["centre"]
    personas["admin"].name = "Ada Admin"
    MetricFactory(code="cost_metric", name="Cost per invoice")
    ReportingPeriodFactory(year=2026, quarter=3)
    AuditEventFactory(
        action="decision.recorded",
        actor_label="admin@authority.example.gov.uk",
        organisation_id=centre.organisation_id,
        object_type="centre",
        object_id=centre.slug,
        occurred_at=datetime(2026, 10, 1, 12, tzinfo=UTC),
        detail={
            "centre": None,
            "status": {"before": "accredited", "after": "suspended"},
            "changed": {"summary": {"before": "old words", "after": "new words"}},
            "period": "2026-Q3",
            "results": [{"slug": centre.slug, "score": 39.34782608695652, "rank": 1}],
            "weights": {"cost_metric": "9"},
            "published": "4.120000",
            "target_organisation_id": centre.organisation_id,
        },
    )
    db.session.flush()
    page = _page(admin)
    cells = " ".join(page.split())
    assert "Ada Admin (admin@authority.example.gov.uk)" in cells
    assert f"Centre: {centre.name}" in cells  # the object by name, not its slug
    assert "Centre: not set" in cells
    assert "Status: accredited → suspended" in cells
    assert "Summary: old words → new words" in cells
    assert "Period: Q3 2026" in cells
    assert f"Results: (Centre: {centre.name}, Score: 39.35, Rank: 1)" in cells
    assert "39.347" not in cells
    assert "Cost per invoice: 9" in cells
    assert "Published: 4.12" in cells
    assert (
        "Target organisation id" not in cells
        and f"Organisation: {centre.organisation.name}" in cells
    )
    assert "None" not in cells and "{&#34;" not in cells and '{"' not in cells


def test_the_csv_and_api_keep_the_data_as_stored(admin, personas):
    centre = personas["centre"]
    AuditEventFactory(
        action="x.changed",
        actor_label="admin@authority.example.gov.uk",
        object_type="centre",
        object_id=centre.slug,
        detail={"score": 39.34782608695652, "centre": None},
    )
    db.session.flush()
    rows = list(csv.DictReader(io.StringIO(admin.get("/admin/audit.csv").get_data(as_text=True))))
    assert rows[0]["object_id"] == centre.slug
    assert "39.34782608695652" in rows[0]["detail"]
    body = admin.get("/api/v1/audit-events", query_string={"action": "x.changed"}).get_json()
    assert body["data"][0]["detail"] == {"score": 39.34782608695652, "centre": None}
