"""Narrowed peer groups: like with like (DOMAIN.md "Like with like"), computed on demand.

The standard peer group of a metric in a period is stored (peers.py): the centres accredited
on the period's peer day that offer the metric's service line and have a value. A signed-in
buyer, centre or admin may narrow it by any of

- size band, from the centre's capacity (employees served), with whole-number boundaries:
  `under_5000` (fewer than 5,000), `5000_20000` (5,000 to 20,000 inclusive),
  `20000_50000` (20,001 to 50,000), `over_50000` (more than 50,000). A centre that has not
  given its employees served is in no band, so it drops out of any size-banded group;
- business model and delivery model (the catalogue's closed vocabularies);
- platform (exact, ignoring case, as the centre's catalogue entry spells it).

A narrowed group is the standard group's members that match every filter given, so it is
judged by exactly the same membership rule; its statistics come from the same function
(statistics.summary_of_sorted) applied to the same doubles (the stored numeric values cast
to double precision in the database, as peer_writers does), so a narrowed group that happens
to hold every member reproduces the stored statistics bit for bit. Narrowed groups are not
stored: a filter is a reader's question, and the page or API answers it from the period's
figures. The confidentiality rule applies to every audience alike, admins included: a
narrowed group of fewer than MIN_PEER_GROUP centres shows no statistic, percentile or band,
because a small, described group would point at individual centres.

`PeerFilter.as_record()` / `PeerFilter.from_record()` are the definition to save with a
record that used the group (an evaluation), so that the record shows what it was built on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Float, cast, func, select

from marketplace import formatting
from marketplace.benchmarks import peers, statistics
from marketplace.benchmarks.models import Observation, PeerStatistic, ReportingPeriod
from marketplace.catalogue.models import (
    BUSINESS_MODEL_LABELS,
    BUSINESS_MODELS,
    DELIVERY_MODELS,
    ServiceCentre,
)
from marketplace.catalogue.services import PUBLIC_STATUSES
from marketplace.errors import PermissionDenied
from marketplace.extensions import db

# (code, label, lowest employees served, highest) — both ends inclusive; None = open.
SIZE_BAND_RANGES: dict[str, tuple[str, int | None, int | None]] = {
    "under_5000": ("fewer than 5,000 employees served", None, 4_999),
    "5000_20000": ("5,000–20,000 employees served", 5_000, 20_000),
    "20000_50000": ("20,001–50,000 employees served", 20_001, 50_000),
    "over_50000": ("more than 50,000 employees served", 50_001, None),
}
SIZE_BANDS = tuple(SIZE_BAND_RANGES)
SIZE_BAND_LABELS = {
    "under_5000": "Fewer than 5,000",
    "5000_20000": "5,000 to 20,000",
    "20000_50000": "20,001 to 50,000",
    "over_50000": "More than 50,000",
}
# How a group of centres is named in a sentence ("Peer group: employee-owned mutuals, …").
BUSINESS_MODEL_GROUPS = {
    "public_in_house": "public in-house centres",
    "joint_venture": "joint ventures",
    "employee_owned_mutual": "employee-owned mutuals",
    "private": "private centres",
}
DELIVERY_MODEL_GROUPS = {
    "virtual": "virtual delivery",
    "integrated_centres": "integrated delivery centres",
}
PLATFORM_MAX = 200  # the catalogue's column
FILTER_FIELDS = ("size_band", "business_model", "delivery_model", "platform")
STANDARD_DESCRIPTION = "all accredited centres offering the service line"
assert set(BUSINESS_MODEL_GROUPS) == set(BUSINESS_MODELS) == set(BUSINESS_MODEL_LABELS)
assert set(DELIVERY_MODEL_GROUPS) == set(DELIVERY_MODELS)


def size_band_of(employees_served: int | None) -> str | None:
    """The band of a capacity, or None when the centre has not given it."""
    if employees_served is None:
        return None
    for code, (_label, low, high) in SIZE_BAND_RANGES.items():
        if (low is None or employees_served >= low) and (high is None or employees_served <= high):
            return code
    return None  # unreachable for whole numbers ≥ 0


@dataclass(frozen=True)
class PeerFilter:
    """What a reader narrowed the standard peer group by; every field optional."""

    size_band: str | None = None
    business_model: str | None = None
    delivery_model: str | None = None
    platform: str | None = None

    @classmethod
    def from_args(cls, args: Mapping) -> PeerFilter:
        return cls(**{name: (args.get(name) or None) for name in FILTER_FIELDS})

    @classmethod
    def from_record(cls, record: Mapping | None) -> PeerFilter:
        return cls.from_args(record or {})

    @property
    def narrowed(self) -> bool:
        return any(getattr(self, name) for name in FILTER_FIELDS)

    def as_record(self) -> dict[str, str | None]:
        """The definition to save with whatever used the group (and to put in addresses)."""
        return {name: getattr(self, name) for name in FILTER_FIELDS}

    def query_args(self) -> dict[str, str]:
        return {name: value for name, value in self.as_record().items() if value}

    def describe(self) -> str:
        """'employee-owned mutuals, 5,000–20,000 employees served' (no n)."""
        if not self.narrowed:
            return STANDARD_DESCRIPTION
        who = BUSINESS_MODEL_GROUPS[self.business_model] if self.business_model else "centres"
        parts = [who]
        if self.delivery_model:
            parts.append(DELIVERY_MODEL_GROUPS[self.delivery_model])
        if self.size_band:
            parts.append(SIZE_BAND_RANGES[self.size_band][0])
        if self.platform:
            parts.append(f"on {self.platform}")
        return ", ".join(parts)

    def label(self, n: int | None) -> str:
        """'Peer group: employee-owned mutuals, 5,000–20,000 employees served; n = 7'."""
        text = f"Peer group: {self.describe()}"
        return text if n is None else f"{text}; n = {formatting.count(n)}"

    def conditions(self) -> list:
        """SQL conditions on ServiceCentre for the centres this filter keeps."""
        c = ServiceCentre.__table__.c
        where = []
        if self.size_band:
            _label, low, high = SIZE_BAND_RANGES[self.size_band]
            where.append(c.employees_served.is_not(None))
            if low is not None:
                where.append(c.employees_served >= low)
            if high is not None:
                where.append(c.employees_served <= high)
        if self.business_model:
            where.append(c.business_model == self.business_model)
        if self.delivery_model:
            where.append(c.delivery_model == self.delivery_model)
        if self.platform:
            where.append(func.lower(c.platform) == self.platform.strip().lower())
        return where


STANDARD = PeerFilter()


def allowed_to_narrow(audience) -> bool:
    """Signed-in buyers, centres and admins may narrow; the public sees the standard group."""
    return audience.role is not None


def require_narrowing(audience, peer_filter: PeerFilter) -> None:
    if peer_filter.narrowed and not allowed_to_narrow(audience):
        raise PermissionDenied("Sign in as a buyer or a centre to narrow the peer group.")


@dataclass
class NarrowedStatistic:
    """A narrowed group's figures, with the attribute names of a stored PeerStatistic, so the
    same placing functions (peers.placer, peers.is_peer) read either."""

    metric_id: int
    period_id: int
    peer_filter: PeerFilter
    threshold: int
    n: int
    minimum: float | None = None
    p25: float | None = None
    median: float | None = None
    p75: float | None = None
    maximum: float | None = None
    peer_values: list[float] = field(default_factory=list)
    peer_centre_ids: list[int] = field(default_factory=list)

    @property
    def disclosable(self) -> bool:
        """Enough centres for its statistics to be shown (to anyone: see the module)."""
        return self.n >= 1 and statistics.can_disclose(self.n, self.threshold)

    @property
    def label(self) -> str:
        return self.peer_filter.label(self.n)

    @property
    def too_few(self) -> str | None:
        """The sentence shown instead of the statistics of a group below the threshold."""
        if self.disclosable:
            return None
        return (
            f"Too few centres for a narrowed comparison (n = {formatting.count(self.n)}; "
            f"at least {formatting.count(self.threshold)} needed)."
        )


def narrowed_groups(
    peer_filter: PeerFilter,
    period: ReportingPeriod,
    standard: Mapping[int, PeerStatistic | None],
) -> dict[int, NarrowedStatistic]:
    """The narrowed group of each metric in `standard` (metric id -> its stored group).

    One query: the period's values of those metrics among the centres the filter keeps; each
    is kept when its centre is a member of the metric's standard group. The stored groups
    must have their member ids loaded (peers.stats_for(..., with_values=True)).
    """
    threshold = peers.min_peer_group()
    groups = {
        metric_id: NarrowedStatistic(metric_id, period.id, peer_filter, threshold, 0)
        for metric_id in standard
    }
    members = {
        metric_id: stats.peer_centre_ids
        for metric_id, stats in standard.items()
        if stats is not None and stats.n
    }
    if not members:
        return groups
    o, c = Observation.__table__.c, ServiceCentre.__table__.c
    query = (
        select(o.metric_id, o.centre_id, cast(o.value, Float))
        .join(ServiceCentre.__table__, c.id == o.centre_id)
        .where(o.period_id == period.id, o.metric_id.in_(sorted(members)))
        .where(*peer_filter.conditions())
    )
    values: dict[int, list[float]] = {metric_id: [] for metric_id in members}
    ids: dict[int, list[int]] = {metric_id: [] for metric_id in members}
    # Sets of the members: a national comparison checks thousands of rows here.
    member_sets = {metric_id: set(centre_ids) for metric_id, centre_ids in members.items()}
    for metric_id, centre_id, value in db.session.execute(query).all():
        if centre_id in member_sets[metric_id]:
            values[metric_id].append(value)
            ids[metric_id].append(centre_id)
    for metric_id, group_values in values.items():
        if not group_values:
            continue
        group_values.sort()
        summary = statistics.summary_of_sorted(group_values)
        group = groups[metric_id]
        group.n = summary.n
        group.minimum, group.p25, group.median = summary.minimum, summary.p25, summary.median
        group.p75, group.maximum = summary.p75, summary.maximum
        group.peer_values = group_values
        group.peer_centre_ids = sorted(ids[metric_id])
    return groups


def narrowed_group(
    peer_filter: PeerFilter, period: ReportingPeriod, metric_id: int, stats: PeerStatistic | None
) -> NarrowedStatistic:
    return narrowed_groups(peer_filter, period, {metric_id: stats})[metric_id]


def known_platforms() -> list[str]:
    """The platforms listed centres run on, for the filter's choices (case as entered)."""
    rows = db.session.execute(
        select(ServiceCentre.platform)
        .where(
            ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES),
            ServiceCentre.platform != "",
        )
        .distinct()
    ).scalars()
    return sorted(set(rows), key=str.lower)
