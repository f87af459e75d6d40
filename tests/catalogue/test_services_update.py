"""Changing a catalogue entry: who may, what is checked, and what the audit log keeps."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from marshmallow import ValidationError

from marketplace.audit.models import AuditEvent
from marketplace.catalogue import services
from marketplace.catalogue.centre_schemas import CentreSchema
from marketplace.catalogue.update_schemas import CentreUpdateSchema
from marketplace.errors import PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.web import forms
from tests.factories import CentreSiteFactory, CertificationFactory, ServiceLineFactory


def audit_events(centre) -> list[AuditEvent]:
    return list(
        db.session.execute(
            db.select(AuditEvent)
            .where(AuditEvent.action == "centre.update", AuditEvent.object_id == centre.slug)
            .order_by(AuditEvent.id)
        ).scalars()
    )


def patch(centre, body: dict, actor):
    return services.update_centre(centre, forms.load(CentreUpdateSchema(), body), actor=actor)


def test_centre_user_changes_own_entry_and_the_audit_keeps_before_and_after(personas):
    own = personas["centre"]
    patch(
        own,
        {
            "summary": "Payroll for the whole of Wales.",
            "platform": own.platform,  # unchanged: not in the audit detail
            "capacity": {"employees_served": 30_000},
            "contact": {"email": "hello@centre-a.example.org"},
        },
        personas["centre_user"],
    )
    assert own.summary == "Payroll for the whole of Wales."
    assert own.employees_served == 30_000
    [event] = audit_events(own)
    assert event.actor_id == personas["centre_user"].id
    assert event.organisation_id == own.organisation_id
    assert event.detail["changed"] == {
        "summary": {
            "before": "Finance and payroll for central government.",
            "after": "Payroll for the whole of Wales.",
        },
        "employees_served": {"before": 25000, "after": 30000},
        "contact_email": {"before": "contact@example.org", "after": "hello@centre-a.example.org"},
    }


def test_nothing_changed_writes_no_audit_event(personas):
    own = personas["centre"]
    patch(own, {"summary": own.summary}, personas["centre_user"])
    assert audit_events(own) == []


@pytest.mark.parametrize("persona", ["anonymous", "buyer", "alb_buyer", "other_centre_user"])
def test_only_the_centre_and_admins_may_change_it(personas, persona):
    with pytest.raises(PermissionDenied):
        patch(personas["centre"], {"summary": "Hijacked"}, personas[persona])
    assert personas["centre"].summary != "Hijacked"


def test_admin_may_change_any_entry_and_rename_it(personas):
    patch(personas["centre"], {"name": "Renamed Services"}, personas["admin"])
    assert personas["centre"].name == "Renamed Services"


def test_a_centre_cannot_rename_itself(personas):
    with pytest.raises(PermissionDenied) as raised:
        patch(personas["centre"], {"name": "Best Centre Ever"}, personas["centre_user"])
    assert raised.value.errors[0].field == "name"


def test_ownership_must_add_up_to_100_in_plain_english(db_session):
    with pytest.raises(ValidationFailed) as raised:
        forms.load(
            CentreUpdateSchema(),
            {"ownership": {"employee": 25, "government": 35, "private_partner": 30}},
        )
    [error] = raised.value.errors
    assert error.field == "ownership"
    assert error.message == "Ownership shares must add up to 100%. These add up to 90%."


def test_ownership_needs_all_three_shares(db_session):
    with pytest.raises(ValidationError) as raised:
        CentreUpdateSchema().load({"ownership": {"employee": 100}})
    assert raised.value.messages["ownership"]["government"] == [
        "Give all three shares: employee, government and private_partner."
    ]


def test_ownership_in_hundredths_is_exact(personas):
    own = personas["centre"]
    patch(
        own,
        {"ownership": {"employee": "33.33", "government": 33.33, "private_partner": 33.34}},
        personas["centre_user"],
    )
    assert own.ownership_private == Decimal("33.34")
    assert CentreSchema().dump(own)["ownership"] == {
        "employee": 33.33,
        "government": 33.33,
        "private_partner": 33.34,
    }


def test_service_refuses_shares_that_do_not_add_up_when_called_directly(personas):
    with pytest.raises(ValidationFailed) as raised:
        services.update_centre(
            personas["centre"], {"ownership_employee": Decimal("50")}, actor=personas["admin"]
        )
    assert "These add up to 125%." in raised.value.errors[0].message


def test_unknown_fields_are_refused(db_session):
    with pytest.raises(ValidationFailed) as raised:
        forms.load(CentreUpdateSchema(), {"accreditation_status": "accredited", "slug": "x"})
    assert {e.field for e in raised.value.errors} == {"accreditation_status", "slug"}
    assert all("cannot be changed" in e.message for e in raised.value.errors)


def test_unsafe_or_malformed_contact_details_are_refused(db_session):
    with pytest.raises(ValidationFailed) as raised:
        forms.load(
            CentreUpdateSchema(),
            {"contact": {"website": "javascript:alert(1)", "email": "not-an-email"}},
        )
    assert {e.field for e in raised.value.errors} == {"contact.website", "contact.email"}


def test_clearing_contact_details_is_allowed(personas):
    own = personas["centre"]
    patch(own, {"contact": {"email": "", "website": ""}}, personas["centre_user"])
    assert own.contact_email == ""


def test_lists_are_replaced_whole(personas):
    own = personas["centre"]
    ServiceLineFactory(code="hr")
    CentreSiteFactory(centre=own, name="Head office", town="Newport")
    CentreSiteFactory(centre=own, name="Annex", town="Cardiff")
    CertificationFactory(centre=own, scheme="iso27001", expires_on=date(2027, 1, 1))
    db.session.expire(own)
    patch(
        own,
        {
            "service_lines": ["hr", "finance"],
            # "Head office" kept with a new town; "Annex" dropped; "North" added.
            "sites": [
                {"name": "Head office", "town": "Swansea"},
                {"name": "North", "town": "Wrexham", "region": "Wales"},
            ],
            "certifications": [
                {"scheme": "iso27001", "reference": "C-2", "expires_on": "2028-01-01"},
                {"scheme": "cyber_essentials_plus", "expires_on": "2027-06-30"},
            ],
        },
        personas["centre_user"],
    )
    db.session.flush()
    db.session.expire(own)
    assert sorted(line.code for line in own.service_lines) == ["finance", "hr"]
    assert [(s.name, s.town) for s in own.sites] == [
        ("Head office", "Swansea"),
        ("North", "Wrexham"),
    ]
    assert [(c.scheme, c.expires_on) for c in own.certifications] == [
        ("cyber_essentials_plus", date(2027, 6, 30)),
        ("iso27001", date(2028, 1, 1)),
    ]
    [event] = audit_events(own)
    assert set(event.detail["changed"]) == {"service_lines", "sites", "certifications"}


def test_list_values_are_checked(db_session):
    ServiceLineFactory(code="finance")
    with pytest.raises(ValidationFailed) as raised:
        forms.load(
            CentreUpdateSchema(),
            {
                "service_lines": ["finance", "gardening"],
                "sites": [{"name": "A"}, {"name": "a"}],
                "certifications": [{"scheme": "iso27001", "expires_on": "soon"}],
            },
        )
    by_field = {e.field: e.message for e in raised.value.errors}
    assert "Not a service line: gardening" in by_field["service_lines"]
    assert by_field["sites"] == "Give each site a different name."
    assert by_field["certifications.0.expires_on"] == "Enter the expiry date as YYYY-MM-DD."
