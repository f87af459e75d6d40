"""An admin runs a centre through the whole accreditation cycle from the browser."""

from __future__ import annotations

from datetime import date, timedelta

from marketplace import clock
from marketplace.catalogue.models import AccreditationEvent, ServiceCentre
from marketplace.extensions import db
from tests.admin.conftest import confirm, date_fields, events
from tests.date_inputs import box_values, date_error, highlighted, summary_links
from tests.factories import CertificationFactory, ServiceCentreFactory


def _centre(slug: str) -> ServiceCentre:
    db.session.expire_all()
    return db.session.execute(
        db.select(ServiceCentre).where(ServiceCentre.slug == slug)
    ).scalar_one()


def test_a_full_cycle_from_the_browser_leaves_every_step_in_the_trail(admin, personas):
    centre = ServiceCentreFactory(
        accreditation_status="applied", accredited_from=None, accredited_until=None
    )
    slug = centre.slug
    base = f"/admin/centres/{slug}"
    until = clock.today() + timedelta(days=3 * 365)

    response = confirm(
        admin,
        f"{base}/accredit",
        {"reason": "Assessment AR-1", **date_fields("valid_until", until)},
    )
    assert response.status_code == 302
    assert _centre(slug).status == "accredited"
    assert _centre(slug).accredited_until == until

    assert confirm(admin, f"{base}/suspend", {"reason": "Missed two SLAs"}).status_code == 302
    assert _centre(slug).status == "suspended"
    assert confirm(admin, f"{base}/reinstate", {"reason": "Recovered"}).status_code == 302
    later = until + timedelta(days=365)
    assert confirm(admin, f"{base}/renew", date_fields("valid_until", later)).status_code == 302
    assert _centre(slug).accredited_until == later
    assert confirm(admin, f"{base}/withdraw", {"reason": "Left the market"}).status_code == 302
    assert _centre(slug).status == "withdrawn"

    actions = [
        e.action
        for e in events("accreditation.accredit", slug)
        + events("accreditation.suspend", slug)
        + events("accreditation.reinstate", slug)
        + events("accreditation.renew", slug)
        + events("accreditation.withdraw", slug)
    ]
    assert len(actions) == 5
    assert all(
        e.actor_label == personas["admin"].email for e in events("accreditation.suspend", slug)
    )
    page = admin.get(base).get_data(as_text=True)
    for reason in ("Assessment AR-1", "Missed two SLAs", "Recovered", "Left the market"):
        assert reason in page


def test_the_confirmation_page_changes_nothing(admin, personas):
    slug = personas["centre"].slug
    response = admin.post(f"/admin/centres/{slug}/suspend", data={"reason": "Late data"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Suspend Centre A Services?" in page
    assert "Late data" in page
    assert _centre(slug).status == "accredited"
    assert events("accreditation.suspend", slug) == []


def test_a_reason_is_required_to_suspend(admin, personas):
    slug = personas["centre"].slug
    response = admin.post(f"/admin/centres/{slug}/suspend", data={"reason": " "})
    assert response.status_code == 422
    assert "Give the reason to suspend this centre." in response.get_data(as_text=True)


def test_a_transition_not_in_the_graph_is_refused(admin, personas):
    slug = personas["centre"].slug
    response = admin.post(f"/admin/centres/{slug}/reinstate", data={"reason": "why not"})
    assert response.status_code == 409
    assert "cannot be reinstated" in response.get_data(as_text=True)
    assert (
        db.session.execute(
            db.select(AccreditationEvent).where(AccreditationEvent.action == "reinstate")
        ).first()
        is None
    )


def test_the_dashboard_lists_what_ends_within_60_days(admin, personas):
    soon = ServiceCentreFactory(accredited_until=clock.today() + timedelta(days=30))
    later = ServiceCentreFactory(accredited_until=clock.today() + timedelta(days=200))
    CertificationFactory(
        centre=later, scheme="iso9001", expires_on=clock.today() + timedelta(days=10)
    )
    CertificationFactory(
        centre=later, scheme="iso27001", expires_on=clock.today() + timedelta(days=300)
    )
    page = admin.get("/admin").get_data(as_text=True)
    assert soon.name in page
    assert "ISO 9001" in page
    assert "ISO/IEC 27001" not in page
    assert page.index("ISO 9001") < page.index(soon.name)  # soonest first


def test_the_history_page_shows_every_step(admin, personas):
    page = admin.get(f"/admin/centres/{personas['centre'].slug}").get_data(as_text=True)
    assert "Accreditation history" in page
    assert "Apply: new → applied" in page
    assert "Accredit: applied → accredited" in page


def test_a_date_that_is_not_a_date_is_explained(admin, personas):
    centre = ServiceCentreFactory(
        accreditation_status="applied", accredited_from=None, accredited_until=None
    )
    response = admin.post(
        f"/admin/centres/{centre.slug}/accredit",
        data={"valid_until-day": "31", "valid_until-month": "2", "valid_until-year": "2028"},
    )
    assert response.status_code == 422
    assert "must be a real date" in response.get_data(as_text=True)
    assert date(2028, 2, 28)  # the page keeps what was typed
    assert 'value="31"' in response.get_data(as_text=True)


def test_the_reason_has_one_bound_on_every_door(admin, client, app, personas):
    """The admin page, the API and the CLI accept the same reason: up to 5,000 characters."""
    from marketplace.accounts.tokens import create_token
    from marketplace.catalogue.accreditation import REASON_MAX_LENGTH

    slug = personas["centre"].slug
    too_long = "x" * (REASON_MAX_LENGTH + 1)
    message = "Keep the reason to 5,000 characters or fewer."

    page = admin.post(f"/admin/centres/{slug}/suspend", data={"reason": too_long})
    assert page.status_code == 422
    assert message in page.get_data(as_text=True)

    token = create_token(personas["admin"], "script")[1]
    api = client.post(
        f"/api/v1/centres/{slug}/accreditation",
        json={"action": "suspend", "reason": too_long},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert api.status_code == 422
    assert api.get_json()["errors"][0] == {"field": "reason", "message": message} | {
        k: v for k, v in api.get_json()["errors"][0].items() if k not in ("field", "message")
    }

    cli = app.test_cli_runner().invoke(
        args=["accreditation", slug, "suspend", "--reason", too_long]
    )
    assert cli.exit_code != 0 and message in cli.output
    assert _centre(slug).status == "accredited"
    assert events("accreditation.suspend", slug) == []

    # At the bound, every door takes it.
    at_bound = "y" * REASON_MAX_LENGTH
    result = app.test_cli_runner().invoke(
        args=["accreditation", slug, "suspend", "--reason", at_bound]
    )
    assert result.exit_code == 0, result.output
    assert _centre(slug).status == "suspended"


def test_a_date_missing_its_month_links_to_the_month_box(admin):
    centre = ServiceCentreFactory(
        accreditation_status="applied", accredited_from=None, accredited_until=None
    )
    response = admin.post(
        f"/admin/centres/{centre.slug}/accredit",
        data={"valid_until-day": "31", "valid_until-month": "", "valid_until-year": "2029"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    message = "The date the accreditation is valid until must include a month."
    assert summary_links(page) == [("#valid_until-month", message)]
    assert date_error(page, "valid_until") == message
    assert highlighted(page, "valid_until") == ["month"]
    assert box_values(page, "valid_until") == ("31", "", "2029")


def test_a_date_in_the_past_links_to_its_day_box(admin):
    centre = ServiceCentreFactory(
        accreditation_status="applied", accredited_from=None, accredited_until=None
    )
    past = clock.today() - timedelta(days=1)
    response = admin.post(
        f"/admin/centres/{centre.slug}/accredit",
        data=date_fields("valid_until", past),
    )
    page = response.get_data(as_text=True)
    assert ("#valid_until-day", "'Valid until' must not be in the past.") in summary_links(page)
    assert highlighted(page, "valid_until") == ["day", "month", "year"]
