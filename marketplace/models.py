"""Imports every area's models so that metadata (and Alembic) sees all tables."""

from marketplace.accounts.models import ApiToken, Organisation, User
from marketplace.audit.models import AuditEvent
from marketplace.benchmarks.models import (
    Metric,
    Observation,
    ObservationRevision,
    PeerStatistic,
    ReportingPeriod,
    Submission,
)
from marketplace.catalogue.models import (
    AccreditationEvent,
    CentreSite,
    Certification,
    ServiceCentre,
    ServiceLine,
)
from marketplace.publications.models import Publication
from marketplace.selection.models import (
    Evaluation,
    EvaluationCandidate,
    EvaluationCriterion,
    EvaluationOutcome,
    EvaluationScore,
)

__all__ = [
    "AccreditationEvent",
    "ApiToken",
    "AuditEvent",
    "CentreSite",
    "Certification",
    "Evaluation",
    "EvaluationCandidate",
    "EvaluationCriterion",
    "EvaluationOutcome",
    "EvaluationScore",
    "Metric",
    "Observation",
    "ObservationRevision",
    "Organisation",
    "PeerStatistic",
    "Publication",
    "ReportingPeriod",
    "ServiceCentre",
    "ServiceLine",
    "Submission",
    "User",
]
