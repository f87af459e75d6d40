"""A reporting period run from the browser: opened here, closed and published on the
publications area's pages, reopened here; every step in the audit trail."""

from __future__ import annotations

from marketplace.audit.models import AuditEvent
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.extensions import db
from tests.admin.conftest import confirm, events
from tests.factories import ReportingPeriodFactory


def _period(code: str) -> ReportingPeriod:
    db.session.expire_all()
    return db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == code)
    ).scalar_one()


def test_open_close_publish_from_the_browser(admin, personas):
    # Today is 27 November 2026: 2026-Q3 has ended, so it closes and publishes as usual.
    assert confirm(admin, "/admin/periods/new", {"period": "2026-Q3"}).status_code == 302
    assert _period("2026-Q3").status == "open"
    closed = admin.post("/admin/periods/2026-Q3/close", data={"confirm": "yes"})
    assert closed.status_code == 302
    assert _period("2026-Q3").status == "closed"
    assert _period("2026-Q3").closed_early_reason is None
    published = admin.post("/admin/periods/2026-Q3/publish", data={"confirm": "yes"})
    assert published.status_code == 302
    assert _period("2026-Q3").status == "published"
    actions = db.session.execute(
        db.select(AuditEvent.action, AuditEvent.actor_label)
        .where(AuditEvent.object_type == "period", AuditEvent.object_id == "2026-Q3")
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


# Issue 12, point 2: the running quarter is closed only early, with a reason, and never
# published; with no period open, the current one opens itself.


def test_closing_the_running_quarter_needs_a_reason_and_leaves_a_note(admin, personas):
    ReportingPeriodFactory(year=2026, quarter=4, status="open")
    page = admin.get("/admin/periods/2026-Q4/close").get_data(as_text=True)
    assert "Closing it now is an early close" in page
    refused = admin.post("/admin/periods/2026-Q4/close", data={"confirm": "yes"})
    assert refused.status_code == 422
    assert "Give the reason to close it early" in refused.get_data(as_text=True)
    assert _period("2026-Q4").status == "open"
    closed = admin.post(
        "/admin/periods/2026-Q4/close",
        data={"confirm": "yes", "reason": "Machinery of government change"},
    )
    assert closed.status_code == 302
    period = _period("2026-Q4")
    assert (period.status, period.closed_early_reason) == (
        "closed",
        "Machinery of government change",
    )
    listing = admin.get("/admin/periods").get_data(as_text=True)
    assert "Closed early" in listing and "Machinery of government change" in listing
    (event,) = [e for e in events("period.closed") if e.object_id == "2026-Q4"]
    assert event.detail["early"] is True


def test_an_unfinished_quarter_is_never_published(admin, personas):
    ReportingPeriodFactory(year=2026, quarter=4, status="closed")
    page = admin.get("/admin/periods/2026-Q4/publish").get_data(as_text=True)
    assert "An unfinished quarter cannot be published" in page
    assert "Yes, publish" not in page
    refused = admin.post("/admin/periods/2026-Q4/publish", data={"confirm": "yes"})
    assert refused.status_code == 409
    assert _period("2026-Q4").status == "closed"
    assert "Can be published after 31 December 2026" in admin.get("/admin/periods").get_data(
        as_text=True
    )


def test_the_publish_cli_refuses_an_unfinished_quarter(app, personas):
    ReportingPeriodFactory(year=2026, quarter=4, status="closed")
    result = app.test_cli_runner().invoke(args=["publish", "--period", "2026-Q4"])
    assert result.exit_code != 0
    assert "an unfinished quarter cannot be published" in result.output
    assert _period("2026-Q4").status == "closed"


def test_the_current_quarter_opens_itself_when_centres_look_or_submit(as_persona, personas):
    client = as_persona("centre_user")
    page = client.get("/centre/submissions").get_data(as_text=True)
    assert _period("2026-Q4").status == "open"
    # SUBMISSION_DEADLINE_DAYS (30) after 31 December 2026.
    assert "by <strong>30 January 2027</strong>" in page
    assert [e.actor_label for e in events("period.created", "2026-Q4")] == ["system"]


def test_recompute_current_opens_the_running_quarter(app, personas):
    result = app.test_cli_runner().invoke(args=["recompute-statistics", "--current"])
    assert result.exit_code == 0, result.output
    assert _period("2026-Q4").status == "open"
