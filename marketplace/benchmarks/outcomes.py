"""What an accepted upload did: the values it changed, the ones it flagged, and the outcome.

Kept apart from submissions.py and ingest.py because both make these: ingest.py for a new
file, submissions.py when identical bytes were already accepted and are replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.benchmarks.models import Submission


@dataclass(frozen=True, slots=True)
class Change:
    """One value a submission set: before (None if new) and after, as plain decimal text."""

    metric: str
    period: str
    old: str | None
    new: str
    restated: bool
    # A restatement of a published figure: held for the authority, not yet applied.
    pending: bool = False

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "period": self.period,
            "old": self.old,
            "new": self.new,
            "restated": self.restated,
        }

    def as_row(self) -> list:
        # Stored compactly in Submission.summary: a file may change 100,000 values.
        return [self.metric, self.period, self.old, self.new, self.restated, self.pending]


def changes_of(submission: Submission) -> list[Change]:
    return [Change(*row) for row in (submission.summary or {}).get("changes", [])]


@dataclass(frozen=True)
class Flag:
    metric: str
    period: str
    value: str
    score: float

    def as_dict(self) -> dict:
        return {
            "metric": self.metric,
            "period": self.period,
            "value": self.value,
            "score": self.score,
        }


@dataclass
class SubmissionOutcome:
    submission: Submission
    created: bool  # False: identical bytes were already accepted; nothing was written
    changes: list[Change] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
