"""Imports every area's models so that metadata (and Alembic) sees all tables."""

from marketplace.accounts.models import ApiToken, EmailDomain, EmailLink, Organisation, User
from marketplace.alerts.models import Alert, AlertFeedKey, AlertMute, AlertRecipient
from marketplace.audit.models import AuditEvent
from marketplace.benchmarks.models import (
    Metric,
    Observation,
    ObservationRevision,
    PeerStatistic,
    ReportingPeriod,
    Submission,
)
from marketplace.benchmarks.variation_models import LatestVariation
from marketplace.catalogue.models import (
    AccreditationEvent,
    CentreEditReview,
    CentreSite,
    Certification,
    ServiceCentre,
    ServiceLine,
)
from marketplace.contracts.models import Contract, ContractKpi, KpiRating
from marketplace.mail.models import OutboxEmail
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
    "Alert",
    "AlertFeedKey",
    "AlertMute",
    "AlertRecipient",
    "ApiToken",
    "AuditEvent",
    "CentreEditReview",
    "CentreSite",
    "Certification",
    "Contract",
    "ContractKpi",
    "EmailDomain",
    "EmailLink",
    "Evaluation",
    "EvaluationCandidate",
    "EvaluationCriterion",
    "EvaluationOutcome",
    "EvaluationScore",
    "KpiRating",
    "LatestVariation",
    "Metric",
    "Observation",
    "ObservationRevision",
    "Organisation",
    "OutboxEmail",
    "PeerStatistic",
    "Publication",
    "ReportingPeriod",
    "ServiceCentre",
    "ServiceLine",
    "Submission",
    "User",
]
