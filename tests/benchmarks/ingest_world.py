"""A small world for the ingest tests: a centre, a peer, metrics and periods in every state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from marketplace.benchmarks.models import Metric, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from tests.factories import MetricFactory, ReportingPeriodFactory, ServiceLineFactory


@dataclass
class World:
    centre: ServiceCentre
    other: ServiceCentre
    centre_user: object
    other_user: object
    cost: Metric  # ap_cost_per_invoice, £, finance
    paid: Metric  # invoices_paid_30_days, %, share, finance
    payroll: Metric  # payroll_accuracy, %, share, payroll
    tickets: Metric  # cost_per_ticket, ict (not offered by the centre)
    open: ReportingPeriod  # 2026-Q3
    closed: ReportingPeriod  # 2026-Q2
    published: ReportingPeriod  # 2026-Q1
    future: ReportingPeriod  # 2027-Q1 (created ahead, open)


def build_world(personas) -> World:
    finance = ServiceLineFactory(code="finance")
    ict = ServiceLineFactory(code="ict")
    payroll_line = ServiceLineFactory(code="payroll")
    cost = MetricFactory(
        code="ap_cost_per_invoice", name="AP cost per invoice", service_line=finance, decimals=2
    )
    paid = MetricFactory(
        code="invoices_paid_30_days",
        name="Invoices paid within 30 days",
        service_line=finance,
        percentage=True,
        decimals=1,
    )
    payroll = MetricFactory(
        code="payroll_accuracy", name="Payroll accuracy", service_line=payroll_line, percentage=True
    )
    tickets = MetricFactory(code="cost_per_ticket", name="Cost per ticket", service_line=ict)
    open_ = ReportingPeriodFactory(year=2026, quarter=3, status="open")
    closed = ReportingPeriodFactory(year=2026, quarter=2, status="closed")
    published = ReportingPeriodFactory(
        year=2026,
        quarter=1,
        status="published",
        published_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    future = ReportingPeriodFactory(year=2027, quarter=1, status="open")
    return World(
        centre=personas["centre"],
        other=personas["other_centre"],
        centre_user=personas["centre_user"],
        other_user=personas["other_centre_user"],
        cost=cost,
        paid=paid,
        payroll=payroll,
        tickets=tickets,
        open=open_,
        closed=closed,
        published=published,
        future=future,
    )


@pytest.fixture
def world(personas) -> World:
    return build_world(personas)


D = Decimal


def snapshot() -> dict:
    """Everything an accepted upload writes, so a test can show that a refusal wrote none of
    it (a refusal leaves only its `rejected` submission, for the history and the errors)."""
    from marketplace.benchmarks.models import Observation, ObservationRevision, Submission
    from marketplace.extensions import db

    def rows(model, *columns, where=True):
        return sorted(db.session.execute(db.select(*columns).where(where)).all(), key=repr)

    return {
        "submissions": rows(
            Submission, Submission.id, Submission.sha256, where=Submission.status == "accepted"
        ),
        "observations": rows(
            Observation,
            Observation.id,
            Observation.value,
            Observation.revision,
            Observation.flag_status,
        ),
        "revisions": rows(ObservationRevision, ObservationRevision.id),
    }


def audit_events(action: str) -> list:
    from marketplace.audit.models import AuditEvent
    from marketplace.extensions import db

    return list(
        db.session.execute(
            db.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).scalars()
    )


def csv_bytes(*lines: str, newline: str = "\n", bom: bool = False) -> bytes:
    text = newline.join(lines) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def xlsx_bytes(rows: list[list]) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def submit(
    world: World,
    content: bytes,
    *,
    filename="figures.csv",
    content_type="text/csv",
    reason="",
    channel="web",
    actor=None,
):
    from marketplace.benchmarks import submissions

    return submissions.submit(
        world.centre,
        content,
        filename=filename,
        content_type=content_type,
        channel=channel,
        actor=actor if actor is not None else world.centre_user,
        reason=reason,
    )


def value_of(world: World, metric: Metric, period: ReportingPeriod, centre=None):
    from marketplace.benchmarks.models import Observation
    from marketplace.extensions import db

    return db.session.execute(
        db.select(Observation).where(
            Observation.centre_id == (centre or world.centre).id,
            Observation.metric_id == metric.id,
            Observation.period_id == period.id,
        )
    ).scalar_one_or_none()
