"""Joining an organisation needs approval (issue 11): the allow-listed domain names what its
people may join, a self-registered buyer's request waits for that organisation's approvers or
an admin, and until it is approved the account can do nothing buyer-specific."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from sqlalchemy.exc import IntegrityError

from marketplace import clock
from marketplace.accounts import membership, registration, tokens
from marketplace.accounts.cli import create_token_command, create_user_command
from marketplace.accounts.models import JoinRequest, User
from marketplace.benchmarks.visibility import audience_for
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail
from tests.admin.conftest import confirm, events
from tests.conftest import sign_in
from tests.factories import OrganisationFactory, UserFactory
from tests.selection.conftest import ready_to_lock

NEW_PASSWORD = "a brand new passphrase"
WAITING = "is waiting for approval by Department for Personas"


def _mail_to(address: str) -> OutboxEmail | None:
    return (
        db.session.execute(
            db.select(OutboxEmail)
            .where(OutboxEmail.to_address == address)
            .order_by(OutboxEmail.id.desc())
        )
        .scalars()
        .first()
    )


def _register(client, email: str, organisation: str):
    client.post("/register", data={"email": email})
    match = re.search(r"http://localhost(/[\w/-]+)\?token=([\w-]+)", _mail_to(email).body_text)
    path, token = match.group(1), match.group(2)
    page = client.get(f"{path}?token={token}")
    response = client.post(
        path,
        data={
            "token": token,
            "name": "Sam Newby",
            "password": NEW_PASSWORD,
            "organisation": organisation,
        },
    )
    return page, response


@pytest.fixture
def allowed(personas):
    """newbies.gov.uk may ask to join the persona department only."""
    return registration.add_domain(
        "newbies.gov.uk", organisations=["dept-persona"], actor=personas["admin"]
    )


@pytest.fixture
def newcomer(app, personas, allowed):
    """A self-registered buyer of the persona department, signed in, its request pending."""
    client = app.test_client()
    _register(client, "sam@newbies.gov.uk", "dept-persona")
    user = db.session.execute(
        db.select(User).where(User.email == "sam@newbies.gov.uk")
    ).scalar_one()
    assert (
        client.post("/login", data={"email": user.email, "password": NEW_PASSWORD}).status_code
        == 302
    )
    return user, client


@pytest.fixture
def bench_evaluation_locked(personas):
    """The persona department's evaluation (the authorisation world's), locked."""
    from marketplace.selection import services as selection
    from tests import authz_world

    world = authz_world.build(personas)
    evaluation = selection.get_for_viewer(world["evaluation"], personas["buyer"])
    ready_to_lock(personas["buyer"], evaluation)
    selection.lock(personas["buyer"], evaluation)
    db.session.commit()
    return evaluation


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


# --- registering: only the domain's organisations, and a pending request ---------------------


def test_registration_offers_only_the_organisations_the_domain_names(app, personas, allowed):
    client = app.test_client()
    page, response = _register(client, "sam@newbies.gov.uk", "alb-persona")
    text = page.get_data(as_text=True)
    assert "Department for Personas" in text and "Persona Agency" not in text
    assert response.status_code == 400
    assert "Choose your department or arm&#39;s-length body from the list." in response.get_data(
        as_text=True
    )
    assert (
        db.session.execute(db.select(User).where(User.email == "sam@newbies.gov.uk")).first()
        is None
    )


def test_a_domain_naming_no_organisation_lets_its_people_ask_to_join_any(app, personas):
    registration.add_domain("old.example.gov.uk", actor=personas["admin"])  # an older file's row
    client = app.test_client()
    page, response = _register(client, "kim@old.example.gov.uk", "alb-persona")
    assert "Persona Agency" in page.get_data(as_text=True)
    assert response.status_code == 302
    user = db.session.execute(
        db.select(User).where(User.email == "kim@old.example.gov.uk")
    ).scalar_one()
    assert user.join_request_waiting.status == "pending"


def test_the_organisations_approvers_are_told_someone_is_waiting(app, personas, allowed):
    personas["buyer"].is_approver = True
    _register(app.test_client(), "ann@newbies.gov.uk", "dept-persona")
    mail = _mail_to(personas["buyer"].email)
    assert mail.subject == "Sam Newby asks to join Department for Personas"
    request = db.session.execute(db.select(JoinRequest)).scalar_one()
    assert f"http://localhost/buyer/join-requests/{request.public_id}" in mail.body_text
    assert _mail_to(personas["alb_buyer"].email) is None


def test_a_registered_buyer_waits_for_approval(newcomer):
    user, client = newcomer
    [request] = db.session.execute(db.select(JoinRequest)).scalars()
    assert (request.user_id, request.organisation.slug, request.status) == (
        user.id,
        "dept-persona",
        "pending",
    )
    assert events("join_request.created")[0].object_id == request.public_id
    assert not user.acts_as_buyer
    page = client.get("/buyer/evaluations")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "Your request to join is waiting for approval" in text
    assert WAITING + "&#39;s approvers or the accreditation authority" in text
    assert client.get("/buyer/evaluations/new").status_code == 403
    assert client.get("/centres").status_code == 200  # the public pages stay open


def test_signing_in_says_the_request_is_waiting(app, newcomer):
    user = newcomer[0]
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert WAITING in client.get("/centres").get_data(as_text=True)


# --- until approved: nothing buyer-specific through any door ---------------------------------


def test_a_waiting_buyer_cannot_read_a_locked_evaluation_or_its_decision_record(
    app, personas, newcomer, bench_evaluation_locked
):
    _user, client = newcomer
    url = f"/buyer/evaluations/{bench_evaluation_locked.public_id}"
    for path in (url, url + "/export.csv", url + "/decision-record.pdf", url + "/weights"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert WAITING in response.get_data(as_text=True)
    # A member of the same department reads it.
    assert _client(app, personas["buyer"]).get(url).status_code == 200


def test_a_waiting_buyer_cannot_start_an_evaluation_in_the_service_either(newcomer):
    user = newcomer[0]
    from marketplace.selection import services as selection

    with pytest.raises(membership.MembershipPending):
        selection.create(user, {"title": "x"})
    assert selection.visible_evaluations(user) == []


def test_a_waiting_buyer_gets_no_token_and_a_token_made_anyway_does_not_work(app, newcomer):
    user = newcomer[0]
    with pytest.raises(membership.MembershipPending):
        tokens.create_token(user, "script")
    result = CliRunner().invoke(create_token_command, [user.email, "--name", "script"], obj=None)
    assert result.exit_code != 0
    assert "waiting for approval" in result.output
    _row, secret = _token_bypassing_the_rule(user)
    response = app.test_client().patch(
        "/api/v1/centres/centre-a",
        json={"summary": "x"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 401  # the token is nobody's


def _token_bypassing_the_rule(user):
    """A token row written straight to the table, as if made before the rule existed."""
    from marketplace.accounts.auth import hash_token
    from marketplace.accounts.models import ApiToken

    secret = "ssm_" + "x" * 43
    row = ApiToken(
        user=user,
        organisation_id=user.organisation_id,
        name="old",
        token_hash=hash_token(secret),
        prefix=secret[:10],
        created_at=clock.now(),
    )
    db.session.add(row)
    db.session.flush()
    return row, secret


def test_a_waiting_buyer_does_not_see_a_centres_unpublished_figures(newcomer, personas):
    from marketplace.catalogue.access import sees_unpublished

    user = newcomer[0]
    centre = personas["centre"]
    assert not sees_unpublished(user, centre)
    assert sees_unpublished(personas["buyer"], centre)


def test_a_waiting_buyer_sees_only_what_the_public_sees(newcomer, personas):
    user = newcomer[0]
    assert audience_for(user).role is None and not audience_for(user).sees_unpublished
    assert audience_for(personas["buyer"]).sees_unpublished


# --- deciding --------------------------------------------------------------------------------


def test_the_organisations_approver_sees_who_asked_and_approves(app, personas, newcomer):
    user, waiting_client = newcomer
    approver = personas["buyer"]
    approver.is_approver = True
    client = _client(app, approver)
    listing = client.get("/buyer/join-requests").get_data(as_text=True)
    assert "Sam Newby" in listing and "sam@newbies.gov.uk" in listing
    assert "27 November 2026" in listing  # when they asked
    request = user.join_request_waiting
    url = f"/buyer/join-requests/{request.public_id}"
    assert "Request to join Department for Personas" in client.get(url).get_data(as_text=True)
    response = client.post(url, data={"decision": "approve"})
    assert response.status_code == 303
    assert db.session.get(JoinRequest, request.id).status == "approved"
    [event] = events("join_request.approved")
    assert event.actor_id == approver.id and event.object_id == request.public_id
    mail = _mail_to(user.email)
    assert mail.subject == "Your request to join Department for Personas was approved"
    assert user.acts_as_buyer
    assert waiting_client.get("/buyer/evaluations").status_code == 200


def test_a_refusal_needs_a_reason_and_leaves_the_account_with_nothing(app, personas, newcomer):
    user, waiting_client = newcomer
    request = user.join_request_waiting
    admin = _client(app, personas["admin"])
    url = f"/admin/join-requests/{request.public_id}"
    assert "sam@newbies.gov.uk" in admin.get("/admin/join-requests").get_data(as_text=True)
    missing = admin.post(url, data={"decision": "refuse", "reason": "  "})
    assert missing.status_code == 400
    assert "Give the reason for refusing" in missing.get_data(as_text=True)
    assert db.session.get(JoinRequest, request.id).status == "pending"
    assert (
        admin.post(url, data={"decision": "refuse", "reason": "Not one of ours."}).status_code
        == 303
    )
    assert db.session.get(JoinRequest, request.id).status == "refused"
    assert events("join_request.refused")[0].detail["reason"] == "Not one of ours."
    assert "Not one of ours." in _mail_to(user.email).body_text
    page = waiting_client.get("/buyer/evaluations")
    assert page.status_code == 403
    assert "was refused: Not one of ours." in page.get_data(as_text=True)
    with pytest.raises(membership.MembershipPending):
        tokens.create_token(user, "script")
    # Decided once: a second answer is refused.
    again = admin.post(url, data={"decision": "approve"})
    assert again.status_code == 303
    assert db.session.get(JoinRequest, request.id).status == "refused"


def test_an_approver_of_one_department_cannot_decide_for_another(app, personas, newcomer):
    user = newcomer[0]
    other = OrganisationFactory(slug="dept-other", name="Department for Others")
    elsewhere = UserFactory(
        email="approver@other.example.gov.uk", organisation=other, is_approver=True
    )
    client = _client(app, elsewhere)
    assert "sam@newbies.gov.uk" not in client.get("/buyer/join-requests").get_data(as_text=True)
    url = f"/buyer/join-requests/{user.join_request_waiting.public_id}"
    assert client.get(url).status_code == 404
    assert client.post(url, data={"decision": "approve"}).status_code == 404
    assert user.join_request_waiting.status == "pending"
    with pytest.raises(Exception):  # noqa: B017 - the service refuses too (PermissionDenied)
        membership.decide(user.join_request_waiting, approver=elsewhere, approve=True)


def test_a_buyer_who_is_not_an_approver_sees_no_requests(app, personas, newcomer):
    client = _client(app, personas["buyer"])
    assert client.get("/buyer/join-requests").status_code == 403
    assert (
        client.get(f"/buyer/join-requests/{newcomer[0].join_request_waiting.public_id}").status_code
        == 403
    )


def test_an_approver_waiting_to_join_cannot_approve_anyone(app, personas, newcomer):
    user = newcomer[0]
    impostor = UserFactory(
        email="imp@dept.example.gov.uk", organisation=user.organisation, is_approver=True
    )
    membership.ask_to_join(impostor, impostor.organisation)
    assert not membership.may_decide(impostor, user.join_request_waiting)
    assert _client(app, impostor).get("/buyer/join-requests").status_code == 403


def test_an_invitation_is_approved_already(app, personas):
    from datetime import timedelta

    from marketplace.accounts import email_links

    _, secret = email_links.issue(
        "invitation",
        "invited@dept.example.gov.uk",
        lifetime=timedelta(days=7),
        organisation=personas["buyer"].organisation,
        role="buyer",
    )
    user = registration.accept_invitation(secret, name="Ivy", password=NEW_PASSWORD)
    assert user.acts_as_buyer and user.join_request_waiting is None


def test_admins_make_approvers_on_the_users_page_and_the_cli_can_too(app, personas):
    admin = _client(app, personas["admin"])
    buyer = personas["buyer"]
    url = f"/admin/users/{buyer.public_id}/approver/grant"
    assert confirm(admin, url, {}).status_code == 302
    assert buyer.is_approver
    assert events("user.approver_granted")[0].object_id == buyer.email
    assert "Requests to join" in _client(app, buyer).get("/centres").get_data(as_text=True)
    refused = admin.post(f"/admin/users/{personas['centre_user'].public_id}/approver/grant")
    assert refused.status_code == 422
    result = CliRunner().invoke(
        create_user_command,
        [
            "cli@dept.example.gov.uk",
            "--org",
            "dept-persona",
            "--role",
            "buyer",
            "--approver",
            "--password-stdin",
        ],
        input=NEW_PASSWORD + "\n",
    )
    assert result.exit_code == 0, result.output
    made = db.session.execute(
        db.select(User).where(User.email == "cli@dept.example.gov.uk")
    ).scalar_one()
    assert made.is_approver and made.acts_as_buyer


# --- what the database holds -------------------------------------------------------------------


def test_the_database_allows_one_pending_request_per_person(db_session, personas):
    user = UserFactory(organisation=personas["buyer"].organisation)
    membership.ask_to_join(user, user.organisation)
    with pytest.raises(IntegrityError), db_session.begin_nested():
        db_session.add(JoinRequest(user=user, organisation=user.organisation, status="pending"))
        db_session.flush()


def test_the_database_refuses_a_refusal_without_reason_or_decider(db_session, personas):
    user = UserFactory(organisation=personas["buyer"].organisation)
    for values in (
        {"status": "refused", "reason": " ", "decided_by_id": personas["admin"].id},
        {"status": "approved", "reason": ""},  # no decider, no time
    ):
        with pytest.raises(IntegrityError), db_session.begin_nested():
            db_session.add(
                JoinRequest(
                    user=user,
                    organisation=user.organisation,
                    decided_at=clock.now() if "decided_by_id" in values else None,
                    **values,
                )
            )
            db_session.flush()


def test_only_buyers_can_be_approvers_in_the_database(db_session, personas):
    with pytest.raises(IntegrityError), db_session.begin_nested():
        personas["centre_user"].is_approver = True
        db_session.flush()
