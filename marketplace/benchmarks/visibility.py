"""Who may see which benchmark figures: the confidentiality rules in one place.

- The public (and centre users, for other centres) see published periods only, and no peer
  statistic, percentile or band from a group of fewer than MIN_PEER_GROUP centres.
- Signed-in buyers also see the latest validated data (open and closed periods), marked as
  not yet published; the threshold still applies to them, because a small group's
  quartiles would disclose individual centres' figures before they are published.
- A centre's own value is always shown to itself; other centres' values once published.
- Admins (the accreditation authority, who run publication) see everything, including
  groups below the threshold, marked as such.
"""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.benchmarks import peers
from marketplace.benchmarks.models import PeerStatistic, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db

PUBLISHED = "published"


@dataclass(frozen=True)
class Audience:
    role: str | None  # None for the public
    organisation_id: int | None
    own_centre_id: int | None
    threshold: int  # MIN_PEER_GROUP

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_buyer(self) -> bool:
        return self.role == "buyer"

    @property
    def sees_unpublished(self) -> bool:
        return self.role in ("buyer", "admin")

    @property
    def min_group(self) -> int:
        """The smallest group whose statistics this audience may see."""
        return 1 if self.is_admin else self.threshold

    def period_visible(self, period: ReportingPeriod) -> bool:
        return period.status == PUBLISHED or self.sees_unpublished

    def value_visible(self, period: ReportingPeriod, centre_id: int) -> bool:
        return self.period_visible(period) or centre_id == self.own_centre_id

    def stats_visible(self, period: ReportingPeriod, stats: PeerStatistic | None) -> bool:
        return (
            stats is not None
            and stats.n >= self.min_group
            and stats.n >= 1
            and self.period_visible(period)
        )

    def below_threshold(self, stats: PeerStatistic | None) -> bool:
        """A group that would be hidden from the public for its size."""
        return stats is not None and stats.n < self.threshold


def threshold() -> int:
    return peers.min_peer_group()


def audience_for(viewer) -> Audience:
    """The audience for a signed-in user (or None / an anonymous user for the public)."""
    if viewer is None or not getattr(viewer, "is_authenticated", False):
        return Audience(None, None, None, threshold())
    if viewer.role == "buyer" and not viewer.acts_as_buyer:
        # A buyer whose request to join is still waiting sees what the public sees
        # (accounts.membership holds the rule).
        return Audience(None, None, None, threshold())
    own_centre_id = None
    if viewer.role == "centre":
        own_centre_id = db.session.execute(
            db.select(ServiceCentre.id).where(
                ServiceCentre.organisation_id == viewer.organisation_id
            )
        ).scalar_one_or_none()
    return Audience(viewer.role, viewer.organisation_id, own_centre_id, threshold())
