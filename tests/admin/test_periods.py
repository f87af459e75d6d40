"""A reporting period run from the browser: opened here, closed and published on the
publications area's pages, reopened here; every step in the audit trail."""

from __future__ import annotations

from marketplace.audit.models import AuditEvent
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.extensions import db
from tests.admin.conftest import confirm
from tests.factories import ReportingPeriodFactory


def _period(code: str) -> ReportingPeriod:
    db.session.expire_all()
    return db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == code)
    ).scalar_one()


def test_open_close_publish_from_the_browser(admin, personas):
    assert confirm(admin, "/admin/periods/new", {"period": "2026-Q4"}).status_code == 302
    assert _period("2026-Q4").status == "open"
    closed = admin.post("/admin/periods/2026-Q4/close", data={"confirm": "yes"})
    assert closed.status_code == 302
    assert _period("2026-Q4").status == "closed"
    published = admin.post("/admin/periods/2026-Q4/publish", data={"confirm": "yes"})
    assert published.status_code == 302
    assert _period("2026-Q4").status == "published"
    actions = db.session.execute(
        db.select(AuditEvent.action, AuditEvent.actor_label)
        .where(AuditEvent.object_type == "period", AuditEvent.object_id == "2026-Q4")
        .order_by(AuditEvent.id)
    ).all()
    assert [a for a, _ in actions] == ["period.created", "period.closed", "period.published"]
    assert {who for _, who in actions} == {personas["admin"].email}


def test_a_period_cannot_be_opened_twice_or_before_it_starts(admin, personas):
    ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    response = admin.post("/admin/periods/new", data={"period": "2026-Q3"})
    assert response.status_code == 409
    assert "2026-Q3 is already closed." in response.get_data(as_text=True)
    response = admin.post("/admin/periods/new", data={"period": "2027-Q1"})
    assert response.status_code == 422
    assert "can be opened from its first day" in response.get_data(as_text=True)
    response = admin.post("/admin/periods/new", data={"period": "Q1 2026"})
    assert "Write a period as YYYY-Qn" in response.get_data(as_text=True)


def test_reopening_needs_a_reason(admin, personas):
    ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    assert admin.post("/admin/periods/2026-Q3/reopen", data={}).status_code == 422
    response = confirm(admin, "/admin/periods/2026-Q3/reopen", {"reason": "Late data from HMRC"})
    assert response.status_code == 302
    assert _period("2026-Q3").status == "open"


def test_the_periods_list_links_to_open_and_reopen(admin, personas):
    ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    page = admin.get("/admin/periods").get_data(as_text=True)
    assert 'href="/admin/periods/new"' in page
    assert 'href="/admin/periods/2026-Q3/reopen"' in page
