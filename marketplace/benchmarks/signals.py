"""A centre's early-warning summary (DOMAIN.md "Early warning"): its signals, with evidence.

A signal is something a buyer holding the centre to a contract should look at now:
- `suspended`: the centre's accreditation is suspended;
- `accreditation_ending`: its accreditation ends within SIGNAL_HORIZON_DAYS (60);
- `certification_ending`: a certification expires within the same horizon (or has expired);
- `missed_deadline`: no figure of the latest quarter whose submission deadline has passed
  arrived by that deadline;
- `spc_concern`: a metric whose latest point is special cause concern;
- `restatement`: a published figure restated (an approved restatement) in the last four
  quarters;
- and what areas above add through `add_source` (contracts: KPIs rated Requires improvement
  or Inadequate), so this module imports nothing above benchmarks.

signals_for_many builds several centres' summaries (the columns of /compare, a buyer's
watched centres) with each source's reading done once for all of them (Context.per_centre).

Who sees what follows the SPC charts (CONTRACT.md): figures of published periods for
everyone, of closed periods too for the centre itself and admins. Each signal carries plain
words (`detail`) and a link to its evidence on the centre's page or in its reports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from flask import current_app, has_app_context
from sqlalchemy import func, select

from marketplace import clock, formatting
from marketplace.benchmarks import market_signals, periods, spc, spc_latest, spc_series
from marketplace.benchmarks.models import (
    Metric,
    Observation,
    PendingRestatement,
    ReportingPeriod,
    Submission,
)
from marketplace.benchmarks.visibility import PUBLISHED, Audience
from marketplace.catalogue.models import Certification, ServiceCentre
from marketplace.extensions import db

SIGNAL_HORIZON_DAYS = 60
RESTATEMENT_QUARTERS = 4
EXTENSION = "marketplace.signal_sources"

SUSPENDED = "suspended"
ACCREDITATION_ENDING = "accreditation_ending"
CERTIFICATION_ENDING = "certification_ending"
MISSED_DEADLINE = "missed_deadline"
SPC_CONCERN = "spc_concern"
RESTATEMENT = "restatement"
KPI_RATING = "kpi_rating"
KINDS = (
    SUSPENDED,
    ACCREDITATION_ENDING,
    CERTIFICATION_ENDING,
    MISSED_DEADLINE,
    KPI_RATING,
    SPC_CONCERN,
    RESTATEMENT,
)
KIND_LABELS = {
    SUSPENDED: "Accreditation suspended",
    ACCREDITATION_ENDING: "Accreditation ending soon",
    CERTIFICATION_ENDING: "Certification ending",
    MISSED_DEADLINE: "Submission deadline missed",
    KPI_RATING: "Contract KPI below target",
    SPC_CONCERN: "Special cause concern",
    RESTATEMENT: "Published figure restated",
}


@dataclass(frozen=True)
class Signal:
    kind: str  # one of KINDS
    detail: str  # the evidence, in words
    metric: str | None = None  # metric code, where the signal is about one
    period: str | None = None  # YYYY-Qn, where the signal is about one quarter
    link: str | None = None  # a path to the evidence
    # What makes it the same signal tomorrow (alerts are sent once per identity); by default
    # its kind, metric and quarter. Sources set it where the detail's dates count.
    key: str | None = None
    # Who may be told of it, for a signal not everyone who sees the summary may see (a
    # contract's KPI: contracts/signals.py): a test of a person. None: anyone who may see the
    # centre's summary. Alerts tell only the people it accepts.
    visible_to: Callable[[object], bool] | None = field(default=None, compare=False, repr=False)

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def identity(self) -> str:
        return self.key or "|".join((self.kind, self.metric or "", self.period or ""))


@dataclass(frozen=True)
class Context:
    centre: ServiceCentre
    audience: Audience
    today: date
    centre_page: str  # the path of the centre's public page, for links
    # Alerts ask for the signals the audience may not see as well: a source then also
    # returns those, each with `visible_to` saying who may be told of it.
    include_restricted: bool = False
    # The centres whose summaries are built together (signals_for_many: the six columns of
    # /compare), and what the sources read once for all of them (per_centre).
    batch: tuple[int, ...] = ()
    shared: dict = field(default_factory=dict, compare=False, repr=False)

    def per_centre(self, key: str, load: Callable[[list[int]], dict], default=None):
        """This centre's part of load(centre ids) -> {centre id: value}, read once for the
        whole batch: a source asks for its own centre and gets the others' in passing."""
        if key not in self.shared:
            self.shared[key] = load(sorted(set(self.batch) | {self.centre.id}))
        return self.shared[key].get(self.centre.id, default)


Source = Callable[[Context], list[Signal]]


def add_source(app, name: str, source: Source) -> None:
    """Areas above benchmarks add their signals (registering twice replaces)."""
    app.extensions.setdefault(EXTENSION, {})[name] = source


def signals_for(
    centre: ServiceCentre,
    audience: Audience,
    *,
    today: date | None = None,
    include_restricted: bool = False,
):
    """Every signal of the centre this audience may see, in KINDS order.

    With `include_restricted` (alerts), also the signals only some people may see (a
    contract's KPIs), each with its `visible_to`: the caller must tell only those."""
    found = signals_for_many([centre], audience, today=today, include_restricted=include_restricted)
    return found[centre.id]


def signals_for_many(
    centres: list[ServiceCentre],
    audience: Audience,
    *,
    today: date | None = None,
    include_restricted: bool = False,
) -> dict[int, list[Signal]]:
    """{centre id: signals_for(centre)} of several centres, each source's reading done once
    for all of them (Context.per_centre) rather than once per centre."""
    today = today or clock.today()
    batch = tuple(centre.id for centre in centres)
    shared: dict = {}
    sources = [_standing, _certifications, _missed_deadline, _spc_concerns, _restatements]
    if has_app_context():
        sources += list(current_app.extensions.get(EXTENSION, {}).values())
    order = {kind: index for index, kind in enumerate(KINDS)}
    result = {}
    for centre in centres:
        context = Context(
            centre=centre,
            audience=audience,
            today=today,
            centre_page=f"/centres/{centre.slug}",
            include_restricted=include_restricted,
            batch=batch,
            shared=shared,
        )
        found: list[Signal] = []
        for source in sources:
            found.extend(source(context))
        result[centre.id] = sorted(
            found, key=lambda s: (order.get(s.kind, len(KINDS)), s.metric or "", s.period or "")
        )
    return result


def _standing(context: Context) -> list[Signal]:
    centre, today = context.centre, context.today
    link = f"{context.centre_page}#accreditation"
    if centre.status_on(today) == "suspended":
        return [
            Signal(
                SUSPENDED,
                "The accreditation is suspended: no contract can be awarded to the centre "
                "until the authority reinstates it.",
                link=link,
                key=f"{SUSPENDED}|{_suspended_since(centre)}",
            )
        ]
    until = centre.accredited_until
    if centre.status_on(today) == "accredited" and until is not None:
        days = (until - today).days
        if days <= SIGNAL_HORIZON_DAYS:
            return [
                Signal(
                    ACCREDITATION_ENDING,
                    f"Accreditation ends on {formatting.date_text(until)}, "
                    f"{_days(days)} from today, unless it is renewed.",
                    link=link,
                    key=f"{ACCREDITATION_ENDING}|{until.isoformat()}",
                )
            ]
    return []


def _certifications(context: Context) -> list[Signal]:
    result = []
    for certification in context.per_centre("certifications", _certifications_of, ()):
        days = (certification.expires_on - context.today).days
        if days > SIGNAL_HORIZON_DAYS:
            continue
        name = certification.label
        when = formatting.date_text(certification.expires_on)
        detail = (
            f"{name} expired on {when}."
            if days < 0
            else f"{name} expires on {when}, {_days(days)} from today."
        )
        result.append(
            Signal(
                CERTIFICATION_ENDING,
                detail,
                link=f"{context.centre_page}#certifications",
                key=f"{CERTIFICATION_ENDING}|{certification.scheme}|{certification.expires_on}",
            )
        )
    return result


def _missed_deadline(context: Context) -> list[Signal]:
    """The latest quarter whose deadline has passed, if the centre sent nothing by then.

    Only a quarter the centre was accredited in counts: a new centre owes nothing before.
    Figures loaded as fixtures (a history imported when the centre joined) count as sent in
    time: their arrival here says nothing about when the centre produced them.
    """
    centre, today = context.centre, context.today
    if centre.accredited_from is None:
        return []
    latest_due = context.per_centre("latest_due", lambda ids: _latest_due(ids, today))
    if latest_due is None or latest_due.ends_on < centre.accredited_from:
        return []
    deadline = periods.submission_deadline(latest_due)
    first_sent, imported = context.per_centre(
        "first_sent", lambda ids: _first_sent(ids, latest_due.id), (None, 0)
    )
    if imported or (first_sent is not None and formatting.london_date(first_sent) <= deadline):
        return []
    if first_sent is None:
        detail = (
            f"No figures for {latest_due.label} have been sent; they were due by "
            f"{formatting.date_text(deadline)}."
        )
    else:
        detail = (
            f"The figures for {latest_due.label} were due by {formatting.date_text(deadline)}; "
            f"the first arrived on {formatting.date_text(first_sent)}."
        )
    return [
        Signal(
            MISSED_DEADLINE,
            detail,
            period=latest_due.code,
            link=f"{context.centre_page}#benchmarks",
        )
    ]


def _spc_concerns(context: Context) -> list[Signal]:
    """Metrics whose latest point is special cause concern.

    An audience that sees only the centre's published figures (the public, buyers, another
    centre: spc_series.visible_statuses) reads the market's stored judgement
    (market_signals, kept current by every change to published figures: receivers.py);
    the centre itself and admins, who also see closed quarters, get it judged live from
    the series they see: the latest segment alone, by spc_latest (the same answer as the
    full chart's variation). Both give the same signals on published figures
    (tests/benchmarks/test_stored_signals.py holds them equal after each such change).
    """
    if spc_series.visible_statuses(context.audience, context.centre.id) == (PUBLISHED,):
        return [
            _concern_signal(context, c.metric, c.period.code, c.value, c.rules)
            for c in context.per_centre("stored_concerns", market_signals.stored_concerns, [])
        ]
    return _live_concerns(context)


def _live_concerns(context: Context) -> list[Signal]:
    found = []
    series = spc_series.centre_series(context.centre.id, context.audience)
    for one in series.values():
        metric = one.metric
        latest_segment = one.segments[-1]
        judged = spc_latest.latest(
            [spc.as_float(value) for _period, value in latest_segment],
            higher_is_better=metric.higher_is_better,
        )
        if judged is None or judged.kind != spc.CONCERN:
            continue
        period, raw = latest_segment[-1]
        found.append(_concern_signal(context, metric, period, raw, judged.rules))
    return found


def _concern_signal(context: Context, metric: Metric, period: str, raw, rules_broken) -> Signal:
    value = formatting.figure(raw, metric.decimals, metric.unit)
    rules = " and ".join(spc.RULE_LABELS[rule] for rule in rules_broken)
    return Signal(
        SPC_CONCERN,
        f"{metric.name}: the latest figure, {value} in {quarter_label(period)}, "
        f"is special cause concern ({rules}).",
        metric=metric.code,
        period=period,
        link=f"{context.centre_page}#early-warning-{metric.code}",
    )


def _restatements(context: Context) -> list[Signal]:
    since = quarter_start(context.today, back=RESTATEMENT_QUARTERS - 1)
    rows = context.per_centre("restatements", lambda ids: _restated(ids, since), [])
    result = []
    for item, metric, period in rows:
        value = formatting.figure(item.value, metric.decimals, metric.unit)
        result.append(
            Signal(
                RESTATEMENT,
                f"{metric.name} for {period.label} was restated to {value} on "
                f"{formatting.date_text(formatting.london_date(item.decided_at))}: {item.reason}",
                metric=metric.code,
                period=period.code,
                link=f"/reports/{context.centre.slug}/{period.code}",
                key=f"{RESTATEMENT}|{item.public_id}",
            )
        )
    return result


# --- what the sources read, for every centre of a batch at once -----------------------------


def _certifications_of(centre_ids: list[int]) -> dict[int, list[Certification]]:
    found: dict[int, list[Certification]] = {}
    for certification in db.session.execute(
        select(Certification)
        .where(Certification.centre_id.in_(centre_ids))
        .order_by(Certification.centre_id, Certification.expires_on)
    ).scalars():
        found.setdefault(certification.centre_id, []).append(certification)
    return found


def _latest_due(centre_ids: list[int], today: date) -> dict[int, ReportingPeriod | None]:
    """The latest quarter whose submission deadline has passed: the same for every centre."""
    period = db.session.execute(
        select(ReportingPeriod)
        .where(ReportingPeriod.ends_on < today - timedelta(days=periods.submission_deadline_days()))
        .order_by(*ReportingPeriod.newest_first())
        .limit(1)
    ).scalar_one_or_none()
    return dict.fromkeys(centre_ids, period)


def _first_sent(centre_ids: list[int], period_id: int) -> dict[int, tuple]:
    """(when its first figure of the period arrived, how many came as fixtures) per centre."""
    rows = db.session.execute(
        select(
            Observation.centre_id,
            func.min(Observation.created_at),
            func.count(Submission.id).filter(Submission.channel == "fixtures"),
        )
        .select_from(Observation)
        .join(Observation.submission)
        .where(Observation.centre_id.in_(centre_ids), Observation.period_id == period_id)
        .group_by(Observation.centre_id)
    ).all()
    return {centre_id: (first, imported) for centre_id, first, imported in rows}


def _restated(centre_ids: list[int], since: datetime) -> dict[int, list[tuple]]:
    rows = db.session.execute(
        select(Observation.centre_id, PendingRestatement, Metric, ReportingPeriod)
        .select_from(PendingRestatement)
        .join(PendingRestatement.observation)
        .join(Observation.metric)
        .join(Observation.period)
        .where(
            Observation.centre_id.in_(centre_ids),
            PendingRestatement.status == "approved",
            PendingRestatement.decided_at >= since,
        )
        .order_by(PendingRestatement.decided_at.desc())
    ).all()
    found: dict[int, list[tuple]] = {}
    for centre_id, item, metric, period in rows:
        found.setdefault(centre_id, []).append((item, metric, period))
    return found


def _suspended_since(centre: ServiceCentre) -> str:
    """The day of the suspension now in force: a later suspension is a new signal."""
    suspensions = [e for e in centre.accreditation_events if e.to_status == SUSPENDED]
    return suspensions[-1].effective_on.isoformat() if suspensions else ""


def quarter_label(code: str) -> str:
    """'2026-Q3' -> 'Q3 2026', as periods are written for people."""
    year, quarter = code.split("-Q")
    return f"Q{quarter} {year}"


def quarter_start(day: date, *, back: int = 0):
    """The first moment (UTC midnight) of the quarter `back` quarters before day's."""
    index = day.year * 4 + (day.month - 1) // 3 - back
    year, quarter = divmod(index, 4)
    return datetime(year, quarter * 3 + 1, 1, tzinfo=UTC)


def _days(days: int) -> str:
    return "1 day" if days == 1 else f"{days} days"
