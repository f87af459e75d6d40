"""Buyers' evaluations: shortlist, weights, buyer-scored criteria, locked snapshot, outcome.

The database carries the rules that make a decision defensible, not only the services:
- an outcome can only name a centre that is on the evaluation's shortlist (composite foreign
  key (evaluation_id, centre_id) -> evaluation_candidates);
- an outcome can only exist for a locked evaluation, and a locked evaluation with an outcome
  can never be unlocked (composite foreign key (evaluation_id, evaluation_status) ->
  evaluations(id, status) with evaluation_status fixed to 'locked');
- an award names a centre, "none suitable" and "cancelled" do not; a rationale is required;
- an award records the contract basics (value, start and end dates; annual volumes per
  service line), other outcomes none; on PostgreSQL a trigger (migration 0007) refuses a new
  award without them, or to a centre that is not accredited on the day of the decision;
- a buyer's score is 0-100 and belongs to a criterion and a candidate of the same evaluation;
  it carries its rationale (evidence), or the buyer marks the pair "not scored" with a reason;
- the weights are sealed (who, when, the weights then) before any result is shown, and a
  locked evaluation was sealed; every change of a weight is kept (evaluation_weight_changes)
  and one after sealing carries its reason.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import clock
from marketplace.accounts.models import Organisation, User
from marketplace.benchmarks.models import Metric, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.db import IdMixin, TimestampMixin, UTCDateTime, one_of
from marketplace.extensions import db

EVALUATION_STATUSES = ("draft", "locked")
CRITERION_KINDS = ("metric", "buyer")
OUTCOME_KINDS = ("awarded", "none_suitable", "cancelled")
OUTCOME_LABELS = {
    "awarded": "Awarded",
    "none_suitable": "None suitable",
    "cancelled": "Cancelled",
}
MIN_CANDIDATES = 2
MAX_CANDIDATES = 6


def new_public_id() -> str:
    return secrets.token_hex(8)


evaluation_service_lines = Table(
    "evaluation_service_lines",
    db.metadata,
    Column(
        "evaluation_id",
        Integer,
        ForeignKey("evaluations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "service_line_id",
        Integer,
        ForeignKey("service_lines.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    ),
)


class Evaluation(IdMixin, TimestampMixin, db.Model):
    """A buyer's weighted evaluation of shortlisted centres on one period's data."""

    __tablename__ = "evaluations"

    public_id: Mapped[str] = mapped_column(
        String(32), unique=True, nullable=False, default=new_public_id
    )
    organisation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("organisations.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    created_by_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    # What the buyer needs (volumes, timing), in their words; always escaped on output.
    needs: Mapped[str] = mapped_column(Text, nullable=False, default="")
    period_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("reporting_periods.id", ondelete="RESTRICT"), nullable=False
    )
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="draft")
    locked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    # Everything the buyer saw when locking: the only source for a locked evaluation's pages.
    snapshot: Mapped[dict | None] = mapped_column(JSON)
    method_version: Mapped[str | None] = mapped_column(String(40))
    # Weights before scores: the criteria and weights are sealed, and only then are the
    # centres' results shown. sealed_weights is {criterion code: weight as text} at sealing.
    weights_sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    weights_sealed_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT")
    )
    sealed_weights: Mapped[dict | None] = mapped_column(JSON)

    organisation: Mapped[Organisation] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    locked_by: Mapped[User | None] = relationship(foreign_keys=[locked_by_id])
    weights_sealed_by: Mapped[User | None] = relationship(foreign_keys=[weights_sealed_by_id])
    period: Mapped[ReportingPeriod] = relationship(lazy="joined")
    service_lines: Mapped[list[ServiceLine]] = relationship(
        secondary=evaluation_service_lines, order_by="ServiceLine.position"
    )
    candidates: Mapped[list[EvaluationCandidate]] = relationship(
        back_populates="evaluation",
        cascade="all, delete-orphan",
        order_by="EvaluationCandidate.position",
    )
    criteria: Mapped[list[EvaluationCriterion]] = relationship(
        back_populates="evaluation",
        cascade="all, delete-orphan",
        order_by="EvaluationCriterion.position",
    )
    outcome: Mapped[EvaluationOutcome | None] = relationship(
        back_populates="evaluation",
        uselist=False,
        primaryjoin="Evaluation.id == EvaluationOutcome.evaluation_id",
        foreign_keys="EvaluationOutcome.evaluation_id",
    )

    __table_args__ = (
        CheckConstraint(one_of("status", EVALUATION_STATUSES), name="status"),
        CheckConstraint(
            "status = 'draft' OR (locked_at IS NOT NULL AND locked_by_id IS NOT NULL "
            "AND snapshot IS NOT NULL AND method_version IS NOT NULL)",
            name="locked_has_snapshot",
        ),
        CheckConstraint("length(trim(title)) > 0", name="title_not_blank"),
        CheckConstraint(
            "(weights_sealed_at IS NULL) = (weights_sealed_by_id IS NULL)",
            name="sealed_by_someone",
        ),
        # Results are shown only after sealing, so nothing unsealed can be locked.
        CheckConstraint("status = 'draft' OR weights_sealed_at IS NOT NULL", name="locked_sealed"),
        # The target of evaluation_outcomes' (evaluation_id, evaluation_status) key.
        UniqueConstraint("id", "status"),
    )

    @property
    def is_locked(self) -> bool:
        return self.status == "locked"

    @property
    def is_sealed(self) -> bool:
        return self.weights_sealed_at is not None


class EvaluationCandidate(db.Model):
    """A centre on an evaluation's shortlist."""

    __tablename__ = "evaluation_candidates"

    evaluation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    centre_id: Mapped[int] = mapped_column(
        Integer,
        ForeignKey("service_centres.id", ondelete="RESTRICT"),
        primary_key=True,
        index=True,
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    evaluation: Mapped[Evaluation] = relationship(back_populates="candidates")
    centre: Mapped[ServiceCentre] = relationship(lazy="joined")


class EvaluationCriterion(IdMixin, db.Model):
    """A weighted criterion: a benchmark metric, or one the buyer scores 0-100 themselves."""

    __tablename__ = "evaluation_criteria"

    evaluation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("evaluations.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    metric_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("metrics.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(60), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    weight: Mapped[Decimal] = mapped_column(Numeric(9, 3), nullable=False, default=0)
    # PPN 06/20: social value should carry at least 10% of the total weight.
    is_social_value: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)

    evaluation: Mapped[Evaluation] = relationship(back_populates="criteria")
    metric: Mapped[Metric | None] = relationship(lazy="joined")

    __table_args__ = (
        UniqueConstraint("evaluation_id", "code"),
        # The target of evaluation_scores' (evaluation_id, criterion_id) key.
        UniqueConstraint("evaluation_id", "id"),
        CheckConstraint(one_of("kind", CRITERION_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'metric' AND metric_id IS NOT NULL AND NOT is_social_value) "
            "OR (kind = 'buyer' AND metric_id IS NULL)",
            name="kind_matches_metric",
        ),
        CheckConstraint("weight >= 0", name="weight_not_negative"),
    )


class EvaluationScore(db.Model):
    """The buyer's 0-100 score of one candidate on one criterion, with its rationale; or the
    pair marked "not scored" with the reason.

    Buyer-scored criteria (social value, quoted price, the buyer's own) are scored here for
    every centre; a metric criterion only where the centre has no figure that can be scored.
    """

    __tablename__ = "evaluation_scores"

    evaluation_id: Mapped[int] = mapped_column(Integer, nullable=False)
    criterion_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    centre_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    # The evidence for the score; required with one.
    rationale: Mapped[str | None] = mapped_column(Text)
    # Set instead of a score: why this centre is not scored on this criterion.
    not_scored_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def not_scored(self) -> bool:
        return self.score is None

    __table_args__ = (
        ForeignKeyConstraint(
            ["evaluation_id", "criterion_id"],
            ["evaluation_criteria.evaluation_id", "evaluation_criteria.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["evaluation_id", "centre_id"],
            ["evaluation_candidates.evaluation_id", "evaluation_candidates.centre_id"],
            ondelete="CASCADE",
        ),
        CheckConstraint("score >= 0 AND score <= 100", name="score_range"),
        CheckConstraint(
            "(score IS NOT NULL AND rationale IS NOT NULL AND length(trim(rationale)) > 0 "
            "AND not_scored_reason IS NULL) "
            "OR (score IS NULL AND rationale IS NULL AND not_scored_reason IS NOT NULL "
            "AND length(trim(not_scored_reason)) > 0)",
            name="score_has_rationale_or_reason",
        ),
    )


class EvaluationWeightChange(IdMixin, db.Model):
    """One change of one criterion's weight: who, when, old and new, and why.

    Written by every change of the weights, before sealing and after; a change after sealing
    carries the buyer's reason. A criterion added has no old weight, one removed no new one.
    The criterion is named by code and name, so the history outlives a removed criterion.
    """

    __tablename__ = "evaluation_weight_changes"

    evaluation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("evaluations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    changed_by_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)
    criterion_code: Mapped[str] = mapped_column(String(60), nullable=False)
    criterion_name: Mapped[str] = mapped_column(String(200), nullable=False)
    old_weight: Mapped[Decimal | None] = mapped_column(Numeric(9, 3))
    new_weight: Mapped[Decimal | None] = mapped_column(Numeric(9, 3))
    after_sealing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reason: Mapped[str | None] = mapped_column(Text)

    changed_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint(
            "(old_weight IS NOT NULL OR new_weight IS NOT NULL) "
            "AND (old_weight IS NULL OR new_weight IS NULL OR old_weight <> new_weight)",
            name="is_a_change",
        ),
        CheckConstraint(
            "NOT after_sealing OR (reason IS NOT NULL AND length(trim(reason)) > 0)",
            name="sealed_change_has_reason",
        ),
    )


class EvaluationOutcome(IdMixin, db.Model):
    """What was decided after locking; written once, never changed."""

    __tablename__ = "evaluation_outcomes"

    evaluation_id: Mapped[int] = mapped_column(Integer, nullable=False, unique=True)
    # Always 'locked': with the key below, the evaluation must be locked and stay locked.
    evaluation_status: Mapped[str] = mapped_column(String(10), nullable=False, default="locked")
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    centre_id: Mapped[int | None] = mapped_column(Integer, index=True)
    rationale: Mapped[str] = mapped_column(Text, nullable=False)
    decided_by_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, nullable=False)
    # The contract an award makes (later work rates its KPIs): value in £, dates, and the
    # annual volumes per service line {service line code: volume}.
    contract_value: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    contract_starts_on: Mapped[date | None] = mapped_column(Date)
    contract_ends_on: Mapped[date | None] = mapped_column(Date)
    annual_volumes: Mapped[dict | None] = mapped_column(JSON)
    # Each shortlisted centre's accreditation standing when the outcome was recorded
    # {slug: status}, beside the standing at lock kept in the snapshot.
    standings: Mapped[dict | None] = mapped_column(JSON)

    evaluation: Mapped[Evaluation] = relationship(
        back_populates="outcome",
        primaryjoin="Evaluation.id == EvaluationOutcome.evaluation_id",
        foreign_keys=[evaluation_id],
    )
    decided_by: Mapped[User] = relationship()
    centre: Mapped[ServiceCentre | None] = relationship(
        primaryjoin="EvaluationOutcome.centre_id == ServiceCentre.id",
        foreign_keys=[centre_id],
        viewonly=True,
    )

    __table_args__ = (
        ForeignKeyConstraint(
            ["evaluation_id", "evaluation_status"],
            ["evaluations.id", "evaluations.status"],
            ondelete="RESTRICT",
            onupdate="RESTRICT",
        ),
        # The awarded centre must be on this evaluation's (locked) shortlist.
        ForeignKeyConstraint(
            ["evaluation_id", "centre_id"],
            ["evaluation_candidates.evaluation_id", "evaluation_candidates.centre_id"],
            ondelete="RESTRICT",
        ),
        CheckConstraint("evaluation_status = 'locked'", name="evaluation_locked"),
        CheckConstraint(one_of("kind", OUTCOME_KINDS), name="kind"),
        CheckConstraint(
            "(kind = 'awarded' AND centre_id IS NOT NULL) "
            "OR (kind <> 'awarded' AND centre_id IS NULL)",
            name="award_names_centre",
        ),
        CheckConstraint("length(trim(rationale)) > 0", name="rationale_not_blank"),
        # Only an award carries a contract; the service (and on PostgreSQL the trigger of
        # migration 0007, for new rows) requires its basics, older awards have none.
        CheckConstraint(
            "kind = 'awarded' OR (contract_value IS NULL AND contract_starts_on IS NULL "
            "AND contract_ends_on IS NULL AND annual_volumes IS NULL)",
            name="contract_only_for_award",
        ),
        CheckConstraint("contract_value IS NULL OR contract_value >= 0", name="contract_value"),
        CheckConstraint(
            "contract_starts_on IS NULL OR contract_ends_on IS NULL "
            "OR contract_ends_on > contract_starts_on",
            name="contract_dates_ordered",
        ),
    )

    @property
    def label(self) -> str:
        return OUTCOME_LABELS[self.kind]


class EvaluationMember(db.Model):
    """The evaluation's team: the buyer who started it and the colleagues it invites.

    Only its members change a live evaluation; others of the organisation see it only once
    it is locked (selection.access). A member is a buyer of the evaluation's organisation;
    on PostgreSQL a trigger (migration 0010) refuses anyone else, and removing the last one.
    """

    __tablename__ = "evaluation_members"

    evaluation_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("evaluations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), primary_key=True, index=True
    )
    added_by_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("users.id", ondelete="RESTRICT"), nullable=False
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    added_by: Mapped[User] = relationship(foreign_keys=[added_by_id])
