"""Finding new alerts, reminding centres of deadlines, and sending each person one digest a
day at most (flush only; `flask alerts run` and the receivers commit)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import exists, func, select

from marketplace import clock, formatting
from marketplace.accounts.models import User
from marketplace.alerts import recipients
from marketplace.alerts.models import (
    DEADLINE_REMINDER,
    Alert,
    AlertFeedKey,
    AlertMute,
    AlertRecipient,
)
from marketplace.audit import services as audit
from marketplace.benchmarks import periods, signals
from marketplace.benchmarks.models import Observation, ReportingPeriod
from marketplace.benchmarks.visibility import audience_for
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.mail import services as mail

REMINDER_DAYS = 7  # centres are reminded this many days before a submission deadline
DIGEST_EVERY = timedelta(hours=24)  # at most one alert e-mail per person in this time
FOLLOWED_STATUSES = ("accredited", "suspended", "expired")


def grace() -> timedelta:
    return timedelta(hours=int(current_app.config.get("ALERT_GRACE_HOURS", 24)))


# --- finding ---------------------------------------------------------------------------------


def detect(centre: ServiceCentre, *, today: date | None = None) -> list[Alert]:
    """New alerts for the centre's signals not alerted before (the public's view of them:
    an alert never carries a figure its readers may not see). A signal only some may see (a
    contract's KPI) is alerted too, but told only to the people its `visible_to` accepts."""
    found = signals.signals_for(centre, audience_for(None), today=today, include_restricted=True)
    known = _known_identities(centre.id)
    made = []
    for signal in found:
        if signal.identity in known:
            continue
        made.append(
            _create(
                centre,
                kind=signal.kind,
                identity=signal.identity,
                title=f"{centre.name}: {signal.label}",
                detail=signal.detail,
                link=signal.link or f"/centres/{centre.slug}#signals",
                centre_only=False,
                visible_to=signal.visible_to,
            )
        )
    return made


def detect_all(*, today: date | None = None) -> int:
    centres = db.session.execute(
        select(ServiceCentre)
        .where(ServiceCentre.accreditation_status.in_(FOLLOWED_STATUSES))
        .order_by(ServiceCentre.id)
    ).scalars()
    return sum(len(detect(centre, today=today)) for centre in list(centres))


def remind_deadlines(*, today: date | None = None) -> int:
    """A reminder to each accredited centre with no figures yet for a quarter whose deadline
    is at most REMINDER_DAYS away (the notice after the deadline is the missed-deadline
    signal, which detect() alerts)."""
    today = today or clock.today()
    days = periods.submission_deadline_days()
    due = db.session.execute(
        select(ReportingPeriod).where(
            ReportingPeriod.ends_on < today,
            ReportingPeriod.ends_on >= today - timedelta(days=days),
            ReportingPeriod.status != "published",
        )
    ).scalars()
    made = 0
    for period in list(due):
        deadline = periods.submission_deadline(period)
        if (deadline - today).days > REMINDER_DAYS:
            continue
        sent = exists().where(
            Observation.centre_id == ServiceCentre.id, Observation.period_id == period.id
        )
        silent = db.session.execute(
            select(ServiceCentre).where(ServiceCentre.accreditation_status == "accredited", ~sent)
        ).scalars()
        for centre in list(silent):
            identity = f"{DEADLINE_REMINDER}|{period.code}"
            if identity in _known_identities(centre.id):
                continue
            left = (deadline - today).days
            when = "today" if left == 0 else ("tomorrow" if left == 1 else f"in {left} days")
            _create(
                centre,
                kind=DEADLINE_REMINDER,
                identity=identity,
                title=f"{centre.name}: {period.label} figures due {when}",
                detail=(
                    f"No figures for {period.label} have arrived yet. They are due by "
                    f"{formatting.date_text(deadline)} ({when})."
                ),
                link="/centre/submissions",
                centre_only=True,
            )
            made += 1
    return made


def _known_identities(centre_id: int) -> set[str]:
    return set(
        db.session.execute(select(Alert.identity).where(Alert.centre_id == centre_id)).scalars()
    )


def _create(centre, *, kind, identity, title, detail, link, centre_only, visible_to=None) -> Alert:
    """The alert and who is told when: the centre's people now, the followers after the
    grace period; only those `visible_to` accepts, when the signal says who may see it."""
    now = clock.now()
    alert = Alert(
        centre_id=centre.id,
        kind=kind,
        identity=identity[:200],
        title=title[:200],
        detail=detail,
        link=link,
        centre_only=centre_only,
        created_at=now,
        released_at=now if centre_only else now + grace(),
    )
    db.session.add(alert)
    db.session.flush()
    muted = recipients.muted_by(centre)
    told: set[int] = set()
    for user in recipients.centre_people(centre):
        if visible_to is not None and not visible_to(user):
            continue
        told.add(user.id)
        db.session.add(AlertRecipient(alert_id=alert.id, user_id=user.id, due_at=now))
    if not centre_only:
        for user in recipients.followers(centre):
            if user.id in told or user.id in muted:
                continue
            if visible_to is not None and not visible_to(user):
                continue
            told.add(user.id)
            db.session.add(
                AlertRecipient(alert_id=alert.id, user_id=user.id, due_at=alert.released_at)
            )
    audit.record(
        "alert.created",
        actor_label=audit.SYSTEM,
        organisation_id=centre.organisation_id,
        object_type="centre",
        object_id=centre.slug,
        detail={"kind": kind, "identity": identity, "recipients": len(told)},
    )
    db.session.flush()
    return alert


# --- sending ---------------------------------------------------------------------------------


def deliver(*, now=None) -> int:
    """One digest to each person with alerts due and not yet e-mailed, unless they had one
    in the last 24 hours (their alerts wait for the next). Returns the e-mails queued."""
    now = now or clock.now()
    waiting = db.session.execute(
        select(AlertRecipient)
        .join(User, User.id == AlertRecipient.user_id)
        .where(
            AlertRecipient.emailed_at.is_(None),
            AlertRecipient.due_at <= now,
            User.active.is_(True),
        )
        .order_by(AlertRecipient.user_id, AlertRecipient.due_at, AlertRecipient.id)
    ).scalars()
    by_user: dict[int, list[AlertRecipient]] = {}
    for row in waiting:
        by_user.setdefault(row.user_id, []).append(row)
    if not by_user:
        return 0
    recent = dict(
        db.session.execute(
            select(AlertRecipient.user_id, func.max(AlertRecipient.emailed_at))
            .where(AlertRecipient.user_id.in_(by_user))
            .group_by(AlertRecipient.user_id)
        ).all()
    )
    sent = 0
    for user_id, rows in by_user.items():
        last = recent.get(user_id)
        if last is not None and now - last < DIGEST_EVERY:
            continue
        user = rows[0].user
        alerts = [row.alert for row in rows]
        subject = (
            alerts[0].title
            if len(alerts) == 1
            else f"{len(alerts)} early-warning alerts about centres you follow"
        )
        mail.queue(user.email, subject, "alerts_digest", user=user, alerts=alerts)
        for row in rows:
            row.emailed_at = now
        sent += 1
    db.session.flush()
    return sent


# --- what a person sees and chooses -----------------------------------------------------------


def alerts_for(user: User, *, limit: int = 50) -> list[Alert]:
    return list(
        db.session.execute(
            select(Alert)
            .join(AlertRecipient, AlertRecipient.alert_id == Alert.id)
            .where(AlertRecipient.user_id == user.id, AlertRecipient.due_at <= clock.now())
            .order_by(Alert.created_at.desc(), Alert.id.desc())
            .limit(limit)
        ).scalars()
    )


def muted_centre_ids(user: User) -> set[int]:
    return set(
        db.session.execute(select(AlertMute.centre_id).where(AlertMute.user_id == user.id))
        .scalars()
        .all()
    )


def set_muted(user: User, centre: ServiceCentre, muted: bool) -> bool:
    """Mute or unmute a centre's alerts for this person; True if that changed anything.

    A centre's own people cannot mute it: they are told of their own signals first."""
    existing = db.session.execute(
        select(AlertMute).where(AlertMute.user_id == user.id, AlertMute.centre_id == centre.id)
    ).scalar_one_or_none()
    if muted == (existing is not None):
        return False
    if muted:
        db.session.add(AlertMute(user_id=user.id, centre_id=centre.id))
        # Alerts not yet sent to this person stop too.
        for row in db.session.execute(
            select(AlertRecipient)
            .join(Alert, Alert.id == AlertRecipient.alert_id)
            .where(
                AlertRecipient.user_id == user.id,
                AlertRecipient.emailed_at.is_(None),
                Alert.centre_id == centre.id,
            )
        ).scalars():
            db.session.delete(row)
    else:
        db.session.delete(existing)
    audit.record(
        "alert.muted" if muted else "alert.unmuted",
        actor=user,
        organisation_id=user.organisation_id,
        object_type="centre",
        object_id=centre.slug,
        detail={},
    )
    db.session.flush()
    return True


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_feed_key(user: User) -> str:
    """A new secret for the person's feed; any earlier address stops working. Shown once."""
    key = secrets.token_urlsafe(24)
    row = db.session.execute(
        select(AlertFeedKey).where(AlertFeedKey.user_id == user.id)
    ).scalar_one_or_none()
    if row is None:
        db.session.add(AlertFeedKey(user_id=user.id, key_hash=_hash(key)))
    else:
        row.key_hash = _hash(key)
        row.created_at = clock.now()
        row.last_read_at = None
    audit.record(
        "alert.feed_key_created",
        actor=user,
        organisation_id=user.organisation_id,
        object_type="user",
        object_id=user.public_id,
        detail={"replaced": row is not None},
    )
    db.session.flush()
    return key


def revoke_feed_key(user: User) -> bool:
    row = db.session.execute(
        select(AlertFeedKey).where(AlertFeedKey.user_id == user.id)
    ).scalar_one_or_none()
    if row is None:
        return False
    db.session.delete(row)
    audit.record(
        "alert.feed_key_revoked",
        actor=user,
        organisation_id=user.organisation_id,
        object_type="user",
        object_id=user.public_id,
        detail={},
    )
    db.session.flush()
    return True


def feed_key_of(user: User) -> AlertFeedKey | None:
    return db.session.execute(
        select(AlertFeedKey).where(AlertFeedKey.user_id == user.id)
    ).scalar_one_or_none()


def user_for_feed(key: str) -> User:
    """The active person whose feed this is; NotFound for any other key."""
    row = db.session.execute(
        select(AlertFeedKey).where(AlertFeedKey.key_hash == _hash(key or ""))
    ).scalar_one_or_none()
    if row is None or not row.user.active:
        raise NotFound("There is no feed at this address.")
    row.last_read_at = clock.now()
    return row.user


def centres_by_id(ids: set[int]) -> list[ServiceCentre]:
    """The centres with these ids, by name (the muted ones the alerts page lists)."""
    if not ids:
        return []
    return list(
        db.session.execute(
            select(ServiceCentre).where(ServiceCentre.id.in_(ids)).order_by(ServiceCentre.name)
        ).scalars()
    )
