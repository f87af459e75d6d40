from datetime import date, timedelta

import pytest

from marketplace import clock
from marketplace.audit.models import AuditEvent
from marketplace.catalogue import accreditation
from marketplace.errors import Conflict, IllegalTransition, ValidationFailed
from marketplace.extensions import db
from tests.factories import ServiceCentreFactory, UserFactory


@pytest.fixture
def admin(db_session):
    return UserFactory(admin=True)


def test_full_lifecycle_is_recorded_with_actor_and_reason(admin):
    centre = ServiceCentreFactory(
        accreditation_status="applied", accredited_from=None, accredited_until=None
    )
    until = clock.today() + timedelta(days=700)
    accreditation.change(centre, "accredit", actor=admin, valid_until=until)
    accreditation.change(centre, "suspend", actor=admin, reason="Missed two quarters")
    accreditation.change(centre, "reinstate", actor=admin, reason="Data now complete")
    accreditation.change(centre, "withdraw", actor=admin, reason="Ceased trading")
    assert centre.status == "withdrawn"
    steps = [
        (e.action, e.from_status, e.to_status, e.actor_label) for e in centre.accreditation_events
    ]
    assert steps[-4:] == [
        ("accredit", "applied", "accredited", admin.email),
        ("suspend", "accredited", "suspended", admin.email),
        ("reinstate", "suspended", "accredited", admin.email),
        ("withdraw", "accredited", "withdrawn", admin.email),
    ]
    actions = (
        db.session.execute(
            db.select(AuditEvent.action)
            .where(AuditEvent.object_id == centre.slug)
            .order_by(AuditEvent.id)
        )
        .scalars()
        .all()
    )
    assert [a for a in actions if a.startswith("accreditation.")][-4:] == [
        "accreditation.accredit",
        "accreditation.suspend",
        "accreditation.reinstate",
        "accreditation.withdraw",
    ]
    # The suspension is an early-warning signal: the alerts area raises it in the same
    # transaction, right after the suspension's own event.
    assert actions[actions.index("accreditation.suspend") + 1] == "alert.created"


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("applied", "suspend"),
        ("applied", "reinstate"),
        ("applied", "renew"),
        ("accredited", "accredit"),
        ("accredited", "reinstate"),
        ("withdrawn", "reinstate"),
        ("withdrawn", "accredit"),
        ("suspended", "suspend"),
        ("applied", "withdraw"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(admin, status, action):
    centre = ServiceCentreFactory(accreditation_status=status)
    before = len(centre.accreditation_events)
    with pytest.raises(IllegalTransition) as error:
        accreditation.change(
            centre, action, actor=admin, reason="because", valid_until=date(2030, 1, 1)
        )
    assert f"is {status}; it cannot be" in error.value.detail
    assert len(centre.accreditation_events) == before


def test_suspending_needs_a_reason(admin):
    centre = ServiceCentreFactory()
    with pytest.raises(ValidationFailed) as error:
        accreditation.change(centre, "suspend", actor=admin, reason="  ")
    assert error.value.errors[0].field == "reason"
    assert centre.status == "accredited"


def test_expired_is_derived_from_the_date_and_the_clock(admin):
    centre = ServiceCentreFactory(accredited_until=clock.today() + timedelta(days=1))
    assert centre.status == "accredited"
    with clock.frozen_at(clock.today() + timedelta(days=2)):
        assert centre.status == "expired"
        assert "suspend" not in accreditation.allowed_actions(centre)
        accreditation.change(
            centre, "renew", actor=admin, valid_until=clock.today() + timedelta(days=365)
        )
        assert centre.status == "accredited"


def test_renewal_must_extend_validity_a_conflict_with_the_centres_state(admin):
    centre = ServiceCentreFactory()
    with pytest.raises(Conflict) as raised:
        accreditation.change(centre, "renew", actor=admin, valid_until=centre.accredited_until)
    assert raised.value.status == 409
    assert raised.value.errors[0].field == "valid_until"
    assert "must extend validity beyond" in raised.value.errors[0].message


def test_peer_membership_reads_history_as_at_a_day(admin):
    centre = ServiceCentreFactory()
    day_before = clock.today() - timedelta(days=1)
    accreditation.change(centre, "suspend", actor=admin, reason="Audit finding")
    today_ids = db.session.execute(accreditation.accredited_centre_ids_on(clock.today())).scalars()
    yesterday_ids = db.session.execute(accreditation.accredited_centre_ids_on(day_before)).scalars()
    assert centre.id not in set(today_ids)
    assert centre.id in set(yesterday_ids)
