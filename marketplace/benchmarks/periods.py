"""Reporting periods: calendar quarters written YYYY-Qn, opened, closed (and later published).

A period is created 'open' (accepting data). The current quarter is always open: if nobody
opened it, `ensure_current` does, lazily, when centres open their submissions page or
submit, and in `flask recompute-statistics --current`. Closing stops new data (restatements
only) and is allowed once the quarter's last day is over; closing earlier needs a reason,
kept as a visible "closed early" note. Reopening a closed period needs a reason. Publishing
belongs to the publication service, which moves a closed, finished period to 'published'
(`check_publishable`). Centres may send a quarter's figures until its submission deadline,
SUBMISSION_DEADLINE_DAYS after its last day. Every change leaves an audit event.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy.exc import IntegrityError

from marketplace import clock
from marketplace.audit import services as audit
from marketplace.benchmarks import peers
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.errors import FieldError, IllegalTransition, NotFound, ValidationFailed
from marketplace.extensions import db

PERIOD_CODE = re.compile(r"^(\d{4})-Q([1-4])$")


def parse_code(code: str) -> tuple[int, int]:
    """'2026-Q1' -> (2026, 1), or a ValidationFailed that shows the expected form."""
    match = PERIOD_CODE.match((code or "").strip())
    if match is None:
        raise ValidationFailed(
            f"'{code}' is not a reporting period.",
            errors=[FieldError("Write a period as YYYY-Qn, for example 2026-Q1.", "period")],
        )
    year, quarter = int(match.group(1)), int(match.group(2))
    if not 2000 <= year <= 2200:
        raise ValidationFailed(
            f"'{code}' is not a reporting period.",
            errors=[FieldError("The year must be between 2000 and 2200.", "period")],
        )
    return year, quarter


def code_for(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    """First and last day of a calendar quarter."""
    starts_on = date(year, 3 * quarter - 2, 1)
    next_start = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return starts_on, next_start - timedelta(days=1)


def quarter_of(day: date) -> str:
    return code_for(day.year, (day.month - 1) // 3 + 1)


def next_code(code: str) -> str:
    year, quarter = parse_code(code)
    return code_for(year + 1, 1) if quarter == 4 else code_for(year, quarter + 1)


def codes_between(first: str, last: str) -> list[str]:
    """Every quarter from first to last inclusive, in order."""
    parse_code(first)
    parse_code(last)
    codes: list[str] = []
    code = first
    while parse_code(code) <= parse_code(last):
        codes.append(code)
        code = next_code(code)
    return codes


DEFAULT_SUBMISSION_DEADLINE_DAYS = 30


def submission_deadline_days() -> int:
    """SUBMISSION_DEADLINE_DAYS: how long after a quarter's last day its figures are due."""
    from flask import current_app, has_app_context

    days = DEFAULT_SUBMISSION_DEADLINE_DAYS
    if has_app_context():
        days = int(current_app.config.get("SUBMISSION_DEADLINE_DAYS", days))
    return days


def submission_deadline(period: ReportingPeriod) -> date:
    """The last day centres are expected to send the quarter's figures."""
    return period.ends_on + timedelta(days=submission_deadline_days())


def ensure_current(*, actor=None, actor_label: str | None = None) -> ReportingPeriod:
    """The period of the quarter running today, opened now if nobody opened it (audited)."""
    period, _created = ensure_period(
        quarter_of(clock.today()), actor=actor, actor_label=actor_label or audit.SYSTEM
    )
    return period


def check_publishable(period: ReportingPeriod) -> None:
    """An unfinished quarter is never published, whatever its status says."""
    if not period.has_ended(clock.today()):
        raise IllegalTransition(
            f"{period.code} runs until {period.ends_on:%-d %B %Y}; an unfinished quarter "
            "cannot be published."
        )


def get_period_or_none(code: str) -> ReportingPeriod | None:
    return db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == code)
    ).scalar_one_or_none()


def get_period(code: str) -> ReportingPeriod:
    period = get_period_or_none(code)
    if period is None:
        raise NotFound(f"There is no reporting period '{code}'.")
    return period


def ensure_period(
    code: str, *, actor=None, actor_label: str | None = None
) -> tuple[ReportingPeriod, bool]:
    """The period for a code, created open if it does not exist yet. Returns (period, created).

    A period that has not started yet cannot be created: data cannot describe the future.
    """
    year, quarter = parse_code(code)
    code = code_for(year, quarter)
    existing = get_period_or_none(code)
    if existing is not None:
        return existing, False
    starts_on, ends_on = quarter_bounds(year, quarter)
    if starts_on > clock.today():
        raise ValidationFailed(
            f"{code} has not started yet.",
            errors=[
                FieldError(
                    f"A reporting period can be opened from its first day ({starts_on:%d %B %Y}).",
                    "period",
                )
            ],
        )
    period = ReportingPeriod(
        code=code,
        year=year,
        quarter=quarter,
        starts_on=starts_on,
        ends_on=ends_on,
        status="open",
    )
    try:
        # Two uploads on the first day of a quarter may both open it: the second waits for
        # the first's commit, meets the unique key, and uses the period the first opened.
        with db.session.begin_nested():
            db.session.add(period)
            db.session.flush()
    except IntegrityError:
        existing = get_period_or_none(code)
        if existing is None:
            raise
        return existing, False
    audit.record(
        "period.created",
        actor=actor,
        actor_label=actor_label,
        object_type="period",
        object_id=code,
        detail={"status": "open", "starts_on": starts_on, "ends_on": ends_on},
    )
    return period, True


def close_period(
    period: ReportingPeriod, *, actor=None, actor_label: str | None = None, reason: str = ""
) -> ReportingPeriod:
    """open -> closed: no new data from now on, restatements only.

    Before the quarter's last day is over this is an early close: it needs a reason, which
    the period keeps as its "closed early" note.
    """
    period = _lock(period)
    reason = (reason or "").strip()
    if period.status != "open":
        raise IllegalTransition(
            f"{period.code} is {period.status}; only an open period can be closed."
        )
    early = not period.has_ended(clock.today())
    if early and not reason:
        raise ValidationFailed(
            f"{period.code} could not be closed.",
            errors=[
                FieldError(
                    f"{period.code} runs until {period.ends_on:%-d %B %Y}. Give the reason to "
                    "close it early; it is shown on the periods page.",
                    "reason",
                )
            ],
        )
    period.status = "closed"
    period.closed_at = clock.now()
    period.closed_early_reason = reason if early else None
    db.session.flush()
    # While a quarter runs its groups are drawn as at today; from now on, as at its last day.
    peers.recompute_period(period.id)
    audit.record(
        "period.closed",
        actor=actor,
        actor_label=actor_label,
        object_type="period",
        object_id=period.code,
        detail={"from": "open", "to": "closed", "reason": reason, "early": early},
    )
    return period


def reopen_period(
    period: ReportingPeriod, *, actor=None, actor_label: str | None = None, reason: str = ""
) -> ReportingPeriod:
    """closed -> open, with a reason. A published period stays published (restate instead)."""
    period = _lock(period)
    reason = (reason or "").strip()
    if period.status != "closed":
        raise IllegalTransition(
            f"{period.code} is {period.status}; only a closed period can be reopened."
        )
    if not reason:
        raise ValidationFailed(
            f"{period.code} could not be reopened.",
            errors=[FieldError("Give the reason to reopen this period.", "reason")],
        )
    period.status = "open"
    period.closed_at = None
    period.closed_early_reason = None
    db.session.flush()
    audit.record(
        "period.reopened",
        actor=actor,
        actor_label=actor_label,
        object_type="period",
        object_id=period.code,
        detail={"from": "closed", "to": "open", "reason": reason},
    )
    return period


def set_status(
    period: ReportingPeriod,
    status: str,
    *,
    actor=None,
    actor_label: str | None = None,
    reason: str = "",
) -> bool:
    """Move a period to 'open' or 'closed' if it is not there already. Returns True if changed."""
    if status == period.status:
        return False
    if status == "closed":
        close_period(period, actor=actor, actor_label=actor_label, reason=reason)
    elif status == "open":
        reopen_period(period, actor=actor, actor_label=actor_label, reason=reason)
    else:
        raise ValidationFailed(
            f"{period.code} cannot be set to '{status}' here.",
            errors=[
                FieldError(
                    "A period can be set open or closed; publishing renders the reports "
                    "(flask publish --period YYYY-Qn).",
                    "status",
                )
            ],
        )
    return True


def _lock(period: ReportingPeriod) -> ReportingPeriod:
    """Re-read under a row lock so a close cannot interleave with another change."""
    return db.session.execute(
        db.select(ReportingPeriod)
        .where(ReportingPeriod.id == period.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
