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
