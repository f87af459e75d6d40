"""/admin/periods: only the authority closes and publishes, after confirming."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditEvent
from marketplace.extensions import db
from marketplace.publications.models import Publication
from tests.factories import ReportingPeriodFactory


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("anonymous", 302),
        ("buyer", 403),
        ("alb_buyer", 403),
        ("centre_user", 403),
        ("other_centre_user", 403),
        ("admin", 200),
    ],
)
def test_only_admins_see_the_periods(as_persona, world, persona, status):
    response = as_persona(persona).get("/admin/periods")
    assert response.status_code == status
    if persona == "anonymous":
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("persona", ["buyer", "centre_user"])
def test_others_cannot_close_or_publish(as_persona, world, persona):
    client = as_persona(persona)
    assert client.post("/admin/periods/2026-Q3/publish", data={"confirm": "yes"}).status_code == 403
    assert world.q3.status == "closed"
    assert db.session.scalars(select(Publication)).all() == []


def test_an_admin_closes_a_period_after_confirming(as_persona, world):
    open_period = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    client = as_persona("admin")

    page = client.get("/admin/periods/2026-Q4/close").get_data(as_text=True)
    assert "Close 2026-Q4?" in page
    unconfirmed = client.post("/admin/periods/2026-Q4/close", data={})
    assert unconfirmed.status_code == 400
    assert "There is a problem" in unconfirmed.get_data(as_text=True)
    assert open_period.status == "open"

    # 2026-Q4 is still running (today is 27 November 2026): closing it is early, with a reason.
    done = client.post(
        "/admin/periods/2026-Q4/close", data={"confirm": "yes", "reason": "Data is complete"}
    )
    assert done.status_code == 302
    db.session.refresh(open_period)
    assert open_period.status == "closed"
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "period.closed")).one()
    assert event.actor_label == "admin@authority.example.gov.uk"


def test_an_admin_publishes_a_period_after_confirming(as_persona, world):
    client = as_persona("admin")

    page = client.get("/admin/periods/2026-Q3/publish").get_data(as_text=True)
    assert f"{len(world.centres)} centre performance reports" in page
    assert client.post("/admin/periods/2026-Q3/publish", data={"confirm": "no"}).status_code == 302
    assert db.session.scalars(select(Publication)).all() == []

    done = client.post("/admin/periods/2026-Q3/publish", data={"confirm": "yes"})
    assert done.status_code == 302
    db.session.refresh(world.q3)
    assert world.q3.status == "published"
    published = db.session.scalars(select(Publication)).all()
    assert len(published) == len(world.centres) + 4  # league overview + finance, open data ×2
    assert {p.published_by for p in published} == {"admin@authority.example.gov.uk"}
    listing = client.get("/admin/periods").get_data(as_text=True)
    assert "Publish changes" in listing
    again = client.get("/admin/periods/2026-Q3/publish").get_data(as_text=True)
    assert "already published and up to date" in again
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "period.published" in actions
    assert actions.count("publication.published") == len(published)
