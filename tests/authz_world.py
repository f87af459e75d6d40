"""A small world with one of everything a route can name, for the authorisation matrix.

Every URL parameter of every route gets a real value from here: a centre's slug, a metric
code, periods, a submission, an evaluation, a token, published reports (recorded through the
publication service with stand-in PDF bytes, so no renderer is needed), a review, an email in
the outbox, and live single-use links.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from flask import current_app

from marketplace.accounts import email_links, membership, registration
from marketplace.benchmarks import peers, submissions
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.catalogue import reviews
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.mail import services as mail
from marketplace.publications import opendata
from marketplace.publications import services as publications
from marketplace.publications.storage import storage_for
from marketplace.selection import services as selection
from tests.factories import (
    ApiTokenFactory,
    MetricFactory,
    ObservationFactory,
    ReportingPeriodFactory,
    ServiceCentreFactory,
    UserFactory,
)
from tests.selection.conftest import ready_to_lock


class World:
    """Values for URL parameters. The common records are made at once; the costlier ones
    (published reports, an evaluation) the first time a route asks for them."""

    def __init__(self, personas):
        self.personas = personas
        self.values: dict = {}
        # Asking for the published period publishes it (its reports are then real records).
        self._parts = {
            "published": _reports,
            "report": _reports,
            "report_id": _reports,
            "evaluation": _evaluation,
            "contract": _contract,
        }

    def __getitem__(self, name):
        if name not in self.values:
            self.values.update(self._parts[name](self))
            db.session.flush()
        return self.values[name]


def _publish_without_rendering(period, actor_label: str) -> list:
    """Publish through the real service, storing stand-in bytes instead of rendered PDFs."""
    publications.start_publication(period, actor_label=actor_label)
    plan = publications.plan_period(period, actor_label=actor_label)
    storage = storage_for(current_app.config)
    out = []
    for item in plan.items:
        if item.kind == "open_data_csv":
            content = opendata.to_csv(item.data)
        elif item.kind == "open_data_json":
            content = opendata.to_json(item.data, publications.envelope(item))
        else:
            content = b"%PDF-1.7\n% stand-in for the authorisation matrix\n"
        stored = storage.put(content, publications.CONTENT_TYPES[item.kind])
        produced = publications.Produced(
            stored.key,
            stored.sha256,
            stored.size_bytes,
            publications.CONTENT_TYPES[item.kind],
            1,
            0.0,
        )
        out.append(publications.record(item, produced))
    return out


def _reports(world: World) -> dict:
    period = db.session.execute(
        db.select(ReportingPeriod).where(ReportingPeriod.code == world["to_publish"])
    ).scalar_one()
    files = _publish_without_rendering(period, "matrix")
    centre_id = world.personas["centre"].id
    report = next(p for p in files if p.kind == "centre_report" and p.centre_id == centre_id)
    return {"published": period.code, "report": report, "report_id": report.public_id}


def _evaluation(world: World) -> dict:
    evaluation = selection.create(
        world.personas["buyer"],
        {
            "title": "Payroll for 2027",
            "needs": "",
            "period": world["to_publish"],
            "service_lines": ["finance"],
            "centres": [world["centre"], world["other_centre"]],
        },
    )
    return {"evaluation": evaluation.public_id}


def _contract(world: World) -> dict:
    """The ALB's contract with centre A, awarded after the period was published (so its
    AP cost per invoice is rated for it): the department buyer sees it as the parent."""
    from datetime import date

    from marketplace.contracts import services as contracts

    world["published"]
    buyer = world.personas["alb_buyer"]
    evaluation = selection.create(
        buyer,
        {
            "title": "Finance for 2026",
            "needs": "",
            "period": world["to_publish"],
            "service_lines": ["finance"],
            "centres": [world["centre"], world["other_centre"]],
        },
    )
    ready_to_lock(buyer, evaluation)
    selection.lock(buyer, evaluation)
    third = MetricFactory(service_line=world.personas["centre"].service_lines[0])
    outcome = selection.record_outcome(
        buyer,
        evaluation,
        "awarded",
        world["centre"],
        "Best value",
        contract={
            "contract_value": Decimal("100000"),
            "contract_starts_on": date(2026, 1, 1),
            "contract_ends_on": date(2027, 12, 31),
            "annual_volumes": {},
            "kpis": [
                {"metric": code, "target": Decimal("4")}
                for code in (world["metric"], world["other_metric"], third.code)
            ],
        },
    )
    return {"contract": contracts.for_outcome(outcome.id).public_id}


def build(personas) -> World:
    world = World(personas)
    centre = personas["centre"]
    other = personas["other_centre"]
    finance = next(line for line in centre.service_lines if line.code == "finance")
    metric = MetricFactory(
        code="ap_cost_per_invoice", name="AP cost per invoice", service_line=finance
    )
    published = ReportingPeriodFactory(year=2026, quarter=2, status="closed")
    closed = ReportingPeriodFactory(year=2026, quarter=3, status="closed")
    ReportingPeriodFactory(year=2026, quarter=4, status="open")  # the quarter running today
    # Three more accredited peers, so published statistics have a group to show.
    peers_centres = [ServiceCentreFactory() for _ in range(3)]
    for index, who in enumerate([centre, other, *peers_centres]):
        for period in (published, closed):
            ObservationFactory(
                centre=who, metric=metric, period=period, value=Decimal("4.00") + index
            )
    other_metric = MetricFactory(service_line=finance)
    submission = ObservationFactory(centre=centre, metric=other_metric, period=closed).submission
    # A file of the centre's that was refused: its errors are for its people and admins.
    try:
        submissions.submit(
            centre,
            b"metric,period,value\nno_such_metric,2026-Q3,1\n",
            filename="refused.csv",
            content_type="text/csv",
            channel="cli",
            actor=personas["centre_user"],
        )
    except ValidationFailed as error:
        refused = error.refused_submission
    peers.recompute_all()
    token = ApiTokenFactory(user=personas["centre_user"], name="Upload script")
    domain = registration.add_domain("example.gov.uk", actor=personas["admin"])
    with_changes = ServiceCentreFactory()
    review = reviews.record(
        with_changes,
        {"summary": {"before": "old", "after": "new"}},
        actor=personas["centre_user"],
    )
    email = mail.queue(
        "someone@example.gov.uk",
        "Hello",
        "registration",
        link="https://example.invalid/",
        expires_at=published.ends_on,
    )
    _, invitation = email_links.issue(
        "invitation",
        "new.person@example.gov.uk",
        lifetime=timedelta(days=7),
        organisation=personas["buyer"].organisation,
        role="buyer",
    )
    _, registration_secret = email_links.issue(
        "registration", "self@example.gov.uk", lifetime=timedelta(days=2)
    )
    _, reset = email_links.issue(
        "password_reset",
        personas["buyer"].email,
        lifetime=timedelta(hours=1),
        user=personas["buyer"],
    )
    applicant = ServiceCentreFactory(
        accreditation_status="applied", accredited_from=None, accredited_until=None
    )
    # The department buyer approves requests to join the department; one is waiting.
    personas["buyer"].is_approver = True
    newcomer = UserFactory(
        email="asker@dept.example.gov.uk", organisation=personas["buyer"].organisation
    )
    join_request = membership.ask_to_join(newcomer, newcomer.organisation)
    db.session.flush()
    world.values.update(
        centre=centre.slug,
        other_centre=other.slug,
        applicant=applicant.slug,
        metric=metric.code,
        other_metric=other_metric.code,
        to_publish=published.code,
        closed=closed.code,
        submission=submission.public_id,
        refused_submission=refused.public_id,
        token=token.public_id,
        domain=domain.domain,
        review=review.public_id,
        email=email.public_id,
        invitation=invitation,
        registration=registration_secret,
        reset=reset,
        buyer=personas["buyer"].public_id,
        admin=personas["admin"].public_id,
        organisation=personas["buyer"].organisation.slug,
        join_request=join_request.public_id,
    )
    return world
