"""Organisations, centres, invitations, roles and deactivation from the admin pages."""

from __future__ import annotations

import re

from marketplace.accounts.models import ApiToken, Organisation, User
from marketplace.accounts.tokens import create_token
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail
from tests.admin.conftest import confirm, events
from tests.factories import PASSWORD, OrganisationFactory, UserFactory


def _org(slug: str) -> Organisation | None:
    return db.session.execute(
        db.select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()


def test_departments_and_albs_with_their_parent(admin, personas):
    assert (
        confirm(
            admin, "/admin/organisations/new/department", {"name": "Department for Testing"}
        ).status_code
        == 302
    )
    assert _org("department-for-testing").kind == "department"
    response = confirm(
        admin,
        "/admin/organisations/new/alb",
        {"name": "Testing Agency", "parent": "department-for-testing"},
    )
    assert response.status_code == 302
    alb = _org("testing-agency")
    assert (alb.kind, alb.parent.slug) == ("alb", "department-for-testing")
    assert len(events("organisation.created")) == 2


def test_an_alb_needs_a_department(admin, personas):
    response = admin.post("/admin/organisations/new/alb", data={"name": "Orphan Agency"})
    assert response.status_code == 422
    assert "Choose the department that sponsors this body." in response.get_data(as_text=True)
    response = admin.post(
        "/admin/organisations/new/alb", data={"name": "Orphan Agency", "parent": "centre-a"}
    )
    assert response.status_code == 422


def test_a_centre_is_an_organisation_and_an_application(admin, personas):
    data = {
        "name": "Northfield Shared Services",
        "business_model": "employee_owned_mutual",
        "delivery_model": "virtual",
        "ownership_employee": "33.33",
        "ownership_government": "33.33",
        "ownership_private": "33.34",
        "service_lines": ["finance", "payroll"],
    }
    assert confirm(admin, "/admin/centres/new", data).status_code == 302
    centre = db.session.execute(
        db.select(ServiceCentre).where(ServiceCentre.slug == "northfield-shared-services")
    ).scalar_one()
    assert centre.organisation.kind == "centre"
    assert centre.status == "applied"
    assert sorted(line.code for line in centre.service_lines) == ["finance", "payroll"]
    assert events("centre.created") and events("accreditation.apply")


def test_ownership_must_add_up_for_a_new_centre(admin, personas):
    response = admin.post(
        "/admin/centres/new",
        data={
            "name": "Bad Sums",
            "business_model": "private",
            "delivery_model": "virtual",
            "ownership_private": "90",
            "service_lines": ["finance"],
        },
    )
    assert response.status_code == 422
    assert "These add up to 90%" in response.get_data(as_text=True)


def _latest_email(to: str) -> OutboxEmail:
    return (
        db.session.execute(
            db.select(OutboxEmail)
            .where(OutboxEmail.to_address == to)
            .order_by(OutboxEmail.id.desc())
        )
        .scalars()
        .first()
    )


def test_an_invitation_goes_through_the_outbox_and_makes_the_account(admin, personas, client):
    response = confirm(
        admin,
        "/admin/users/invite",
        {
            "email": "New.Person@Dept.example.gov.uk",
            "name": "New Person",
            "organisation": "dept-persona",
            "role": "buyer",
        },
    )
    assert response.status_code == 302
    email = _latest_email("new.person@dept.example.gov.uk")
    assert email.subject == "You are invited to the shared-services marketplace"
    link = re.search(r"http://localhost(/invitation\?token=[\w-]+)", email.body_text).group(1)
    assert "buyer user for Department for Personas" in client.get(link).get_data(as_text=True)
    token = link.split("=", 1)[1]
    response = client.post(
        "/invitation",
        data={"token": token, "name": "New Person", "password": "three random words here"},
    )
    assert response.status_code == 302
    user = db.session.execute(
        db.select(User).where(User.email == "new.person@dept.example.gov.uk")
    ).scalar_one()
    assert (user.role, user.organisation.slug) == ("buyer", "dept-persona")
    again = client.post(
        "/invitation", data={"token": token, "name": "x", "password": "three random words here"}
    )
    assert "already been used" in again.get_data(as_text=True)
    assert events("user.invited") and events("user.invitation_accepted")


def test_a_role_must_fit_the_organisation(admin, personas):
    response = admin.post(
        "/admin/users/invite",
        data={"email": "x@example.org", "organisation": "centre-a", "role": "buyer"},
    )
    assert response.status_code == 422
    assert "A buyer account must belong to a department or alb organisation" in response.get_data(
        as_text=True
    )


def test_changing_a_role_ends_sessions_and_stops_tokens(admin, personas, as_persona, app):
    buyer = personas["buyer"]
    authority = personas["admin"].organisation
    _, secret = create_token(buyer, "script")
    session_client = as_persona("buyer")
    assert session_client.get("/buyer/evaluations").status_code == 200
    response = confirm(
        admin,
        f"/admin/users/{buyer.public_id}/role",
        {"organisation": authority.slug, "role": "admin", "reason": "Joined the authority"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (buyer.role, buyer.organisation_id) == ("admin", authority.id)
    assert session_client.get("/buyer/evaluations").status_code == 302  # signed out
    api = app.test_client().get(
        "/api/v1/audit-events", headers={"Authorization": f"Bearer {secret}"}
    )
    assert api.status_code == 401  # the token stayed with the old organisation
    [event] = events("user.role_changed")
    assert event.detail["before"] == {"role": "buyer", "organisation": "dept-persona"}
    assert event.detail["reason"] == "Joined the authority"


def test_deactivation_ends_every_session_at_once(admin, personas, as_persona):
    user = personas["centre_user"]
    their_client = as_persona("centre_user")
    assert their_client.get("/centre/tokens").status_code == 200
    assert admin.post(f"/admin/users/{user.public_id}/deactivate", data={}).status_code == 422
    response = confirm(
        admin, f"/admin/users/{user.public_id}/deactivate", {"reason": "Left the centre"}
    )
    assert response.status_code == 302
    assert their_client.get("/centre/tokens").status_code == 302
    assert events("user.deactivated")[0].detail == {"reason": "Left the centre"}
    login = their_client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert login.status_code == 401


def test_an_admin_cannot_remove_the_last_admin_or_themselves(admin, personas):
    me = personas["admin"]
    response = admin.post(f"/admin/users/{me.public_id}/deactivate", data={"reason": "test"})
    assert response.status_code == 403
    other = UserFactory(admin=True)
    assert (
        confirm(admin, f"/admin/users/{other.public_id}/deactivate", {"reason": "test"}).status_code
        == 302
    )


def test_tokens_are_listed_and_revoked_with_a_reason(admin, personas, app):
    token, secret = create_token(personas["centre_user"], "Nightly upload")
    page = admin.get("/admin/tokens").get_data(as_text=True)
    assert "Nightly upload" in page and token.prefix in page
    assert secret not in page
    assert (
        confirm(
            admin, f"/admin/tokens/{token.public_id}/revoke", {"reason": "Leaked in a log"}
        ).status_code
        == 302
    )
    assert db.session.get(ApiToken, token.id).revoked_at is not None
    assert events("token.revoked")[0].detail["reason"] == "Leaked in a log"
    api = app.test_client().get("/api/v1/centres", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 200  # public data is still public, but…
    api = app.test_client().post(
        "/api/v1/centres/centre-a/submissions",
        json={},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert api.status_code == 401


def test_organisation_page_lists_people(admin, personas):
    org = OrganisationFactory(slug="dept-x", name="Department X")
    UserFactory(email="someone@x.gov.uk", organisation=org)
    page = admin.get("/admin/organisations/dept-x").get_data(as_text=True)
    assert "someone@x.gov.uk" in page


def test_people_are_found_by_address_role_and_state(admin, personas):
    UserFactory(email="gone@dept.example.gov.uk", active=False)
    page = admin.get("/admin/users", query_string={"q": "centre-a", "role": "centre"}).get_data(
        as_text=True
    )
    assert "user@centre-a.example.org" in page and "user@centre-b.example.org" not in page
    page = admin.get("/admin/users", query_string={"state": "deactivated"}).get_data(as_text=True)
    assert "gone@dept.example.gov.uk" in page and "buyer@dept.example.gov.uk" not in page
