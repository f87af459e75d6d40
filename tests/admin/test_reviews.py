"""Centre users edit their own entry; a live entry's change enters the review queue, where an
admin sees the before/after comparison (ownership and business model highlighted)."""

from __future__ import annotations

from marketplace.catalogue.models import CentreEditReview, ServiceCentre
from marketplace.extensions import db
from tests.admin.conftest import events
from tests.factories import ServiceCentreFactory


def _form(centre: ServiceCentre, **changes) -> dict:
    data = {
        "summary": centre.summary,
        "business_model": centre.business_model,
        "delivery_model": centre.delivery_model,
        "platform": centre.platform,
        "commentary": centre.commentary,
        "ownership-employee": "25",
        "ownership-government": "35",
        "ownership-private_partner": "40",
        "board_seats-workforce": "2",
        "board_seats-customers": "2",
        "board_seats-government": "2",
        "board_seats-private_partner": "2",
        "board_seats-independent": "1",
        "capacity-employees_served": "25000",
        "capacity-transactions_per_year": "1200000",
        "pricing-model": centre.pricing_model,
        "pricing-drivers": centre.pricing_drivers,
        "contact-name": centre.contact_name,
        "contact-email": centre.contact_email,
        "contact-phone": "",
        "contact-website": "",
        "service_lines": ["finance", "payroll"],
    }
    data.update(changes)
    return data


def _reviews() -> list[CentreEditReview]:
    return list(db.session.execute(db.select(CentreEditReview)).scalars())


def test_an_edit_to_a_live_entry_is_public_at_once_and_queued(as_persona, personas, admin):
    centre = personas["centre"]
    client = as_persona("centre_user")
    assert "Edit your catalogue entry" in client.get("/centre/profile").get_data(as_text=True)
    response = client.post(
        "/centre/profile",
        data=_form(
            centre,
            summary="Payroll for 40 bodies",
            business_model="employee_owned_mutual",
            **{
                "ownership-employee": "33.33",
                "ownership-government": "33.33",
                "ownership-private_partner": "33.34",
            },
        ),
    )
    assert response.status_code == 302
    assert "Payroll for 40 bodies" in as_persona("anonymous").get("/centres/centre-a").get_data(
        as_text=True
    )
    [review] = _reviews()
    assert review.status == "pending"
    assert set(review.highlighted) == {
        "business_model",
        "ownership_employee",
        "ownership_government",
        "ownership_private",
    }
    assert review.audit_event_id == events("centre.update", "centre-a")[0].id

    queue = admin.get("/admin/reviews").get_data(as_text=True)
    assert "Centre A Services" in queue and "Ownership or business model" in queue
    page = admin.get(f"/admin/reviews/{review.public_id}").get_data(as_text=True)
    assert "Joint venture" in page and "Employee-owned mutual" in page
    assert page.index("Business model") < page.index("Summary")  # highlighted first
    assert "Finance and payroll for central government." in page and "Payroll for 40 bodies" in page

    response = admin.post(f"/admin/reviews/{review.public_id}", data={"note": "Checked"})
    assert response.status_code == 302
    db.session.refresh(review)
    assert review.status == "acknowledged"
    assert events("centre.update_acknowledged")[0].detail["note"] == "Checked"
    again = admin.post(f"/admin/reviews/{review.public_id}", data={})
    assert again.status_code == 409


def test_an_edit_to_an_entry_not_yet_public_needs_no_review(as_persona, personas):
    applicant = ServiceCentreFactory(
        accreditation_status="applied", accredited_from=None, accredited_until=None
    )
    personas["centre_user"].organisation = applicant.organisation
    db.session.flush()
    client = as_persona("centre_user")
    assert client.post("/centre/profile", data=_form(applicant, summary="New")).status_code == 302
    assert _reviews() == []


def test_api_edits_by_the_centre_are_queued_too_but_not_admins(as_persona, personas):
    as_persona("centre_user").patch("/api/v1/centres/centre-a", json={"platform": "SAP"})
    as_persona("admin").patch("/api/v1/centres/centre-a", json={"platform": "Workday"})
    [review] = _reviews()
    assert review.changes == {"platform": {"before": "Oracle Fusion", "after": "SAP"}}


def test_the_profile_form_refuses_bad_values_with_the_shared_messages(as_persona, personas):
    response = as_persona("centre_user").post(
        "/centre/profile", data=_form(personas["centre"], **{"ownership-employee": "50"})
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Ownership shares must add up to 100%. These add up to 125%." in page
    assert 'href="#ownership-employee"' in page
    assert _reviews() == []


def test_nothing_changed_is_not_queued(as_persona, personas):
    response = as_persona("centre_user").post(
        "/centre/profile", data=_form(personas["centre"]), follow_redirects=True
    )
    assert "Nothing changed." in response.get_data(as_text=True)
    assert _reviews() == []


# Issue 12, point 7: revert or ask for a change, with figures written as people read them.


def _ownership_change(as_persona, centre):
    response = as_persona("centre_user").post(
        "/centre/profile",
        data=_form(
            centre,
            **{
                "ownership-employee": "48",
                "ownership-government": "27",
                "ownership-private_partner": "25",
                "capacity-employees_served": "48000",
            },
        ),
    )
    assert response.status_code == 302
    [review] = _reviews()
    return review


def test_a_live_ownership_change_is_reverted_in_one_audited_step(as_persona, personas, admin):
    from marketplace.mail.models import OutboxEmail

    centre = personas["centre"]
    before = (centre.ownership_employee, centre.ownership_private, centre.employees_served)
    review = _ownership_change(as_persona, centre)
    page = admin.get(f"/admin/reviews/{review.public_id}").get_data(as_text=True)
    assert "48,000" in page and "48%" in page and "25%" in page
    assert "48000" not in page and "25.00" not in page
    response = admin.post(
        f"/admin/reviews/{review.public_id}",
        data={"decision": "revert", "note": "Ownership must match the accreditation"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    centre = db.session.get(ServiceCentre, centre.id)
    assert (centre.ownership_employee, centre.ownership_private, centre.employees_served) == before
    assert db.session.get(CentreEditReview, review.id).status == "reverted"
    assert events("centre.update_reverted")[0].detail["note"] == (
        "Ownership must match the accreditation"
    )
    assert len(_reviews()) == 1  # the admin's restoring edit needs no review of its own
    (mail,) = db.session.scalars(
        db.select(OutboxEmail).where(OutboxEmail.template == "entry_change_decided")
    )
    assert mail.to_address == personas["centre_user"].email
    assert "reverted" in mail.subject and "48%" in mail.body_text


def test_the_centre_can_be_asked_to_change_it(as_persona, personas, admin):
    review = _ownership_change(as_persona, personas["centre"])
    refused = admin.post(f"/admin/reviews/{review.public_id}", data={"decision": "request_change"})
    assert refused.status_code == 422
    response = admin.post(
        f"/admin/reviews/{review.public_id}",
        data={"decision": "request_change", "note": "Send the new shareholder agreement"},
    )
    assert response.status_code == 302
    assert db.session.get(CentreEditReview, review.id).status == "change_requested"
    assert events("centre.update_change_requested")[0].detail["note"] == (
        "Send the new shareholder agreement"
    )
