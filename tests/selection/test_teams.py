"""An evaluation belongs to its team (DOMAIN.md "Choosing a centre"): the buyer who started it
and the colleagues it invites. Others in the organisation see only locked evaluations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import DBAPIError, IntegrityError

from marketplace.accounts import membership
from marketplace.errors import Conflict, PermissionDenied, ValidationFailed
from marketplace.extensions import db
from marketplace.selection import services, teams
from marketplace.selection.models import EvaluationMember
from tests.conftest import sign_in
from tests.factories import OrganisationFactory, UserFactory
from tests.selection.conftest import ready_to_lock
from tests.selection.test_evaluations import actions, start


@pytest.fixture
def evaluation(bench, personas):
    evaluation = start(personas["buyer"])
    db.session.commit()
    return evaluation


@pytest.fixture
def colleague(personas):
    return UserFactory(
        email="colleague@dept.example.gov.uk",
        name="Cole League",
        organisation=personas["buyer"].organisation,
    )


def _client(app, user):
    client = app.test_client()
    sign_in(client, user)
    return client


def test_the_buyer_who_starts_it_is_its_team(evaluation, personas):
    [member] = teams.members(evaluation)
    assert member.user_id == personas["buyer"].id == member.added_by_id


def test_the_team_invites_an_approved_colleague_of_its_organisation(
    app, evaluation, personas, colleague, db_session
):
    waiting = UserFactory(email="waiting@dept.example.gov.uk", organisation=colleague.organisation)
    membership.ask_to_join(waiting, waiting.organisation)
    stranger = UserFactory(organisation=OrganisationFactory(slug="dept-other"))
    owner = _client(app, personas["buyer"])
    url = f"/buyer/evaluations/{evaluation.public_id}"
    page = owner.get(url).get_data(as_text=True)
    assert "Invite a colleague from Department for Personas" in page
    assert colleague.public_id in page
    assert waiting.public_id not in page and stranger.public_id not in page
    for person in (waiting, stranger, personas["alb_buyer"]):
        with pytest.raises(ValidationFailed):
            teams.invite(personas["buyer"], evaluation, person.public_id)
    response = owner.post(url + "/team", data={"member": colleague.public_id})
    assert response.status_code == 303 and response.headers["Location"].endswith("#team")
    assert "Cole League is on the team now." in owner.get(url).get_data(as_text=True)
    assert actions(db_session, evaluation.public_id)[-1] == "evaluation.member_added"
    # The colleague now changes it; the next one still cannot.
    assert _client(app, colleague).get(url + "/weights").status_code == 200
    services.set_weights(colleague, evaluation, {"social_value": Decimal(3)}, {})


def test_someone_outside_the_team_cannot_invite_or_remove(app, evaluation, personas, colleague):
    client = _client(app, colleague)
    url = f"/buyer/evaluations/{evaluation.public_id}"
    assert client.post(url + "/team", data={"member": colleague.public_id}).status_code == 404
    assert (
        client.post(url + "/team/remove", data={"member": personas["buyer"].public_id}).status_code
        == 404
    )
    with pytest.raises(PermissionDenied):
        teams.invite(colleague, evaluation, colleague.public_id)
    with pytest.raises(PermissionDenied):
        services.set_weights(colleague, evaluation, {"social_value": Decimal(3)}, {})
    assert len(teams.members(evaluation)) == 1


def test_a_member_is_removed_but_never_the_last(app, evaluation, personas, colleague, db_session):
    owner = personas["buyer"]
    teams.invite(owner, evaluation, colleague.public_id)
    db.session.commit()
    client = _client(app, owner)
    url = f"/buyer/evaluations/{evaluation.public_id}"
    assert (
        client.post(url + "/team/remove", data={"member": colleague.public_id}).status_code == 303
    )
    assert actions(db_session, evaluation.public_id)[-1] == "evaluation.member_removed"
    assert _client(app, colleague).get(url).status_code == 404  # off the team, still live
    response = client.post(url + "/team/remove", data={"member": owner.public_id})
    assert response.status_code == 303
    assert "The last member of the team cannot be removed" in client.get(url).get_data(as_text=True)
    with pytest.raises(Conflict):
        teams.remove(owner, evaluation, owner.public_id)
    assert [m.user_id for m in teams.members(evaluation)] == [owner.id]


def test_a_locked_evaluations_team_is_fixed_and_the_organisation_reads_it(
    app, evaluation, personas, colleague
):
    ready_to_lock(personas["buyer"], evaluation)
    services.lock(personas["buyer"], evaluation)
    db.session.commit()
    with pytest.raises(Conflict):
        teams.invite(personas["buyer"], evaluation, colleague.public_id)
    page = _client(app, colleague).get(f"/buyer/evaluations/{evaluation.public_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Everyone in Department for Personas can now read it." in text
    assert "Invite to the team" not in text and "Remove" not in text


def test_postgresql_refuses_an_outsider_on_the_team_and_an_empty_team(
    evaluation, personas, is_postgres, db_session
):
    if not is_postgres:
        pytest.skip("the team trigger exists on PostgreSQL only; the service checks SQLite")
    outsider = UserFactory(organisation=OrganisationFactory(slug="dept-other"))
    with pytest.raises((IntegrityError, DBAPIError)), db_session.begin_nested():
        db_session.add(
            EvaluationMember(
                evaluation_id=evaluation.id, user_id=outsider.id, added_by_id=outsider.id
            )
        )
        db_session.flush()
    with pytest.raises((IntegrityError, DBAPIError)), db_session.begin_nested():
        db_session.execute(
            db.delete(EvaluationMember).where(EvaluationMember.evaluation_id == evaluation.id)
        )


def test_the_whole_team_hears_when_a_shortlisted_centre_is_suspended(
    evaluation, personas, colleague, bench, db_session
):
    from marketplace.catalogue import accreditation
    from marketplace.mail.models import OutboxEmail

    teams.invite(personas["buyer"], evaluation, colleague.public_id)
    accreditation.change(bench.centres[1], "suspend", actor=personas["admin"], reason="Data breach")
    told = sorted(
        m.to_address
        for m in db_session.execute(db.select(OutboxEmail)).scalars()
        if m.template == "standing_changed"
    )
    assert told == sorted([personas["buyer"].email, colleague.email])
