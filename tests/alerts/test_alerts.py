"""Alerts: a new signal told to the centre first, its buyers and the authority after the
grace period, one digest a day, a private feed, muting, deadline reminders."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from xml.etree import ElementTree

import pytest
from sqlalchemy import select

from marketplace import clock
from marketplace.alerts import services
from marketplace.alerts.models import Alert, AlertRecipient
from marketplace.catalogue import accreditation
from marketplace.extensions import db
from marketplace.mail.models import OutboxEmail
from marketplace.selection.models import Evaluation, EvaluationCandidate
from tests.factories import ReportingPeriodFactory, UserFactory

NOW = datetime(2026, 12, 2, 10, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def followed(personas):
    """centre-a on the shortlist of the department buyer's live evaluation."""
    # The running quarter: no deadline has passed, so no missed-deadline signal muddles these.
    period = ReportingPeriodFactory(year=2026, quarter=4, status="open")
    evaluation = Evaluation(
        title="Payroll 2027",
        organisation_id=personas["buyer"].organisation_id,
        created_by_id=personas["buyer"].id,
        period_id=period.id,
    )
    db.session.add(evaluation)
    db.session.flush()
    db.session.add(
        EvaluationCandidate(evaluation_id=evaluation.id, centre_id=personas["centre"].id)
    )
    db.session.flush()
    return personas["centre"]


def suspend(centre):
    centre.accreditation_status = "suspended"
    db.session.flush()


def recipients_of(alert) -> dict[str, datetime]:
    rows = db.session.execute(
        select(AlertRecipient).where(AlertRecipient.alert_id == alert.id)
    ).scalars()
    return {row.user.email: row.due_at for row in rows}


def mails_to(address) -> list[OutboxEmail]:
    return list(
        db.session.execute(
            select(OutboxEmail).where(
                OutboxEmail.to_address == address, OutboxEmail.template == "alerts_digest"
            )
        ).scalars()
    )


def test_a_new_signal_is_told_to_the_centre_now_and_to_the_others_after_the_grace(
    followed, personas
):
    suspend(followed)
    (alert,) = services.detect(followed)
    assert alert.title == "Centre A Services: Accreditation suspended"
    due = recipients_of(alert)
    assert due["user@centre-a.example.org"] == NOW
    assert due["buyer@dept.example.gov.uk"] == NOW + timedelta(hours=24)
    assert due["admin@authority.example.gov.uk"] == NOW + timedelta(hours=24)
    # Not the other centre, not a buyer without an evaluation of it.
    assert "user@centre-b.example.org" not in due
    assert "buyer@alb.example.gov.uk" not in due
    # The same signal tomorrow is not a new alert.
    assert services.detect(followed) == []


def test_the_grace_period_comes_from_configuration(app, followed, monkeypatch):
    monkeypatch.setitem(app.config, "ALERT_GRACE_HOURS", 2)
    suspend(followed)
    (alert,) = services.detect(followed)
    assert alert.released_at == NOW + timedelta(hours=2)


def test_digests_go_to_the_centre_first_and_the_buyer_after_the_grace(followed, personas):
    suspend(followed)
    services.detect(followed)
    assert services.deliver() == 1
    (centre_mail,) = mails_to("user@centre-a.example.org")
    assert centre_mail.subject == "Centre A Services: Accreditation suspended"
    assert "no contract can be awarded to the centre" in centre_mail.body_text
    assert re.search(
        r"Evidence: https?://[^/\s]+/centres/centre-a#accreditation", centre_mail.body_text
    )
    assert mails_to("buyer@dept.example.gov.uk") == []
    later = NOW + timedelta(hours=24)
    with clock.frozen_at(later):
        assert services.deliver() == 2  # the buyer and the admin
    assert len(mails_to("buyer@dept.example.gov.uk")) == 1
    # Nothing is sent twice.
    with clock.frozen_at(later + timedelta(hours=1)):
        assert services.deliver() == 0


def test_at_most_one_digest_a_day_per_person(followed, personas):
    suspend(followed)
    services.detect(followed)
    services.deliver()
    # Another signal an hour later waits until a day after the last digest.
    followed.accredited_until = date(2027, 1, 15)
    followed.accreditation_status = "accredited"
    with clock.frozen_at(NOW + timedelta(hours=1)):
        assert [a.kind for a in services.detect(followed)] == ["accreditation_ending"]
        assert services.deliver() == 0
    with clock.frozen_at(NOW + timedelta(hours=24, minutes=1)):
        services.deliver()
    assert len(mails_to("user@centre-a.example.org")) == 2


def test_a_muted_centre_is_not_told_to_that_person(followed, personas):
    buyer = personas["buyer"]
    assert services.set_muted(buyer, followed, True)
    suspend(followed)
    (alert,) = services.detect(followed)
    assert "buyer@dept.example.gov.uk" not in recipients_of(alert)


def test_muting_stops_alerts_not_yet_sent(followed, personas):
    suspend(followed)
    (alert,) = services.detect(followed)
    services.set_muted(personas["buyer"], followed, True)
    assert "buyer@dept.example.gov.uk" not in recipients_of(alert)


def test_inactive_accounts_are_not_told(followed, personas):
    personas["buyer"].active = False
    suspend(followed)
    (alert,) = services.detect(followed)
    assert "buyer@dept.example.gov.uk" not in recipients_of(alert)


def test_a_suspension_raises_its_alert_at_once(followed, personas):
    accreditation.change(followed, "suspend", actor=personas["admin"], reason="Audit findings")
    kinds = [a.kind for a in db.session.execute(select(Alert)).scalars()]
    assert "suspended" in kinds


def test_centres_are_reminded_before_the_deadline_and_only_they(personas):
    # 2026-Q3's deadline is 30 October 2026; seven days before it, a centre without figures.
    ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    with clock.frozen_at(datetime(2026, 10, 23, 9, tzinfo=UTC)):
        assert services.remind_deadlines() == 2  # centre-a and centre-b
        assert services.remind_deadlines() == 0  # once
    alert = db.session.execute(
        select(Alert).where(Alert.centre_id == personas["centre"].id)
    ).scalar_one()
    assert alert.title == "Centre A Services: Q3 2026 figures due in 7 days"
    assert alert.detail == (
        "No figures for Q3 2026 have arrived yet. They are due by 30 October 2026 (in 7 days)."
    )
    assert set(recipients_of(alert)) == {"user@centre-a.example.org"}


def test_no_reminder_more_than_a_week_before(personas):
    ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    with clock.frozen_at(datetime(2026, 10, 22, 9, tzinfo=UTC)):
        assert services.remind_deadlines() == 0


def test_the_private_feed_lists_the_persons_alerts(client, followed, personas, as_persona):
    suspend(followed)
    services.detect(followed)
    db.session.flush()
    centre_user = as_persona("centre_user")
    response = centre_user.post("/alerts/feed-key", data={"action": "create"})
    assert response.status_code == 302
    page = centre_user.get("/alerts").get_data(as_text=True)
    path = re.search(r"(/alerts/feed/[A-Za-z0-9_-]+\.atom)", page).group(1)
    assert "it will not be shown again" in page
    # Shown once only.
    assert path not in centre_user.get("/alerts").get_data(as_text=True)

    feed = client.get(path)
    assert feed.status_code == 200
    assert feed.mimetype == "application/atom+xml"
    assert "no-store" in feed.headers["Cache-Control"]
    root = ElementTree.fromstring(feed.data)  # noqa: S314 - our own feed
    ns = {"a": "http://www.w3.org/2005/Atom"}
    titles = [e.findtext("a:title", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert titles == ["Centre A Services: Accreditation suspended"]

    assert client.get("/alerts/feed/not-a-key.atom").status_code == 404
    centre_user.post("/alerts/feed-key", data={"action": "revoke"})
    assert client.get(path).status_code == 404


def test_a_buyers_feed_shows_an_alert_only_after_the_grace(client, followed, personas):
    suspend(followed)
    services.detect(followed)
    key = services.new_feed_key(personas["buyer"])
    db.session.flush()
    assert b"<entry>" not in client.get(f"/alerts/feed/{key}.atom").data
    with clock.frozen_at(NOW + timedelta(hours=25)):
        assert b"<entry>" in client.get(f"/alerts/feed/{key}.atom").data


def test_the_alerts_page_lets_a_buyer_mute_a_followed_centre(followed, as_persona):
    buyer = as_persona("buyer")
    page = buyer.get("/alerts").get_data(as_text=True)
    assert "Centre A Services" in page and "Mute" in page
    response = buyer.post("/alerts/subscriptions", data={"centre": "centre-a", "alerts": "off"})
    assert response.status_code == 302
    page = buyer.get("/alerts").get_data(as_text=True)
    assert "You will no longer hear about Centre A Services." in page
    assert "Hear about it again" in page


def test_a_centre_cannot_mute_itself(personas, as_persona):
    response = as_persona("centre_user").post(
        "/alerts/subscriptions", data={"centre": "centre-a", "alerts": "off"}
    )
    assert response.status_code == 422
    assert services.muted_centre_ids(personas["centre_user"]) == set()


def test_the_public_has_no_alerts_page(client):
    assert client.get("/alerts").status_code == 302  # to sign in


def test_flask_alerts_run_finds_reminds_and_sends(app, followed, personas):
    suspend(followed)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["alerts", "run"])
    assert result.exit_code == 0, result.output
    assert "1 new alert, 0 deadline reminders, 1 digest queued." in result.output


def test_a_new_user_of_the_centre_is_told_too(followed):
    UserFactory(
        email="second@centre-a.example.org", role="centre", organisation=followed.organisation
    )
    suspend(followed)
    (alert,) = services.detect(followed)
    assert "second@centre-a.example.org" in recipients_of(alert)


def test_a_colleague_on_the_evaluations_team_hears_of_its_centres(followed, personas):
    """Teams (selection.teams): an invited colleague follows the shortlist like its creator,
    in the alerts as in the standing-change e-mail."""
    from marketplace.alerts import recipients
    from marketplace.selection import teams

    colleague = UserFactory(
        email="colleague@dept.example.gov.uk",
        role="buyer",
        organisation=personas["buyer"].organisation,
    )
    evaluation = db.session.execute(
        select(Evaluation).where(Evaluation.title == "Payroll 2027")
    ).scalar_one()
    teams.add_creator(evaluation, personas["buyer"])
    assert followed not in recipients.followed_centres(colleague)
    teams.invite(personas["buyer"], evaluation, colleague.public_id)
    assert followed in recipients.followed_centres(colleague)
    suspend(followed)
    (alert,) = services.detect(followed)
    assert recipients_of(alert)["colleague@dept.example.gov.uk"] == NOW + timedelta(hours=24)
