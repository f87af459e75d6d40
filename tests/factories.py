"""factory-boy factories for every model, and the named personas used in access tests."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from werkzeug.security import generate_password_hash

from marketplace import clock
from marketplace.accounts.models import ApiToken, LoginThrottle, Organisation, User
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
from marketplace.extensions import db

PASSWORD = "correct-horse-battery-staple"
# Hashing once keeps hundreds of factory users cheap; the method is the app's own default.
PASSWORD_HASH = generate_password_hash(PASSWORD)


class Base(factory.alchemy.SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class OrganisationFactory(Base):
    class Meta:
        model = Organisation

    slug = factory.Sequence(lambda n: f"dept-{n}")
    name = factory.Sequence(lambda n: f"Department of Examples {n}")
    kind = "department"
    parent = None

    class Params:
        alb = factory.Trait(
            kind="alb",
            slug=factory.Sequence(lambda n: f"alb-{n}"),
            name=factory.Sequence(lambda n: f"Example Agency {n}"),
            parent=factory.SubFactory("tests.factories.OrganisationFactory"),
        )
        centre = factory.Trait(
            kind="centre",
            slug=factory.Sequence(lambda n: f"centre-{n}"),
            name=factory.Sequence(lambda n: f"Example Shared Services {n}"),
        )
        authority = factory.Trait(
            kind="authority",
            slug=factory.Sequence(lambda n: f"authority-{n}"),
            name="Accreditation Authority",
        )


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"person{n}@example.gov.uk")
    name = factory.Sequence(lambda n: f"Person {n}")
    role = "buyer"
    organisation = factory.SubFactory(OrganisationFactory)
    password_hash = PASSWORD_HASH
    active = True

    class Params:
        admin = factory.Trait(
            role="admin", organisation=factory.SubFactory(OrganisationFactory, authority=True)
        )
        centre_user = factory.Trait(
            role="centre", organisation=factory.SubFactory(OrganisationFactory, centre=True)
        )


class LoginThrottleFactory(Base):
    class Meta:
        model = LoginThrottle

    email = factory.Sequence(lambda n: f"unknown{n}@example.gov.uk")
    failed_logins = 1
    last_failed_at = factory.LazyFunction(clock.now)


class ApiTokenFactory(Base):
    class Meta:
        model = ApiToken

    user = factory.SubFactory(UserFactory)
    organisation_id = factory.SelfAttribute("user.organisation_id")
    name = "test token"
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    prefix = "ssm_test"


class ServiceLineFactory(Base):
    class Meta:
        model = ServiceLine
        sqlalchemy_get_or_create = ("code",)

    code = factory.Iterator(["finance", "payroll", "hr", "procurement", "ict", "customer"])
    name = factory.LazyAttribute(lambda o: o.code.capitalize())
    description = ""
    position = 0


class ServiceCentreFactory(Base):
    class Meta:
        model = ServiceCentre

    organisation = factory.SubFactory(OrganisationFactory, centre=True)
    slug = factory.SelfAttribute("organisation.slug")
    name = factory.SelfAttribute("organisation.name")
    summary = "Finance and payroll for central government."
    business_model = "joint_venture"
    ownership_employee = Decimal("25")
    ownership_government = Decimal("35")
    ownership_private = Decimal("40")
    board_workforce = 2
    board_customers = 2
    board_government = 2
    board_private_partner = 2
    board_independent = 1
    delivery_model = "integrated_centres"
    platform = "Oracle Fusion"
    employees_served = 25_000
    transactions_per_year = 1_200_000
    pricing_model = "Per transaction"
    pricing_drivers = "per payslip, per invoice"
    contact_name = "Sam Example"
    contact_email = "contact@example.org"
    accreditation_status = "accredited"
    accredited_from = factory.LazyFunction(lambda: clock.today() - timedelta(days=365 * 2))
    accredited_until = factory.LazyFunction(lambda: clock.today() + timedelta(days=365))

    @factory.post_generation
    def lines(self, create, extracted, **kwargs):
        codes = extracted if extracted is not None else ["finance", "payroll"]
        for code in codes:
            self.service_lines.append(ServiceLineFactory(code=code))
        if create:
            db.session.flush()

    @factory.post_generation
    def history(self, create, extracted, **kwargs):
        """Give the stored status a matching history, as the lifecycle service would."""
        if not create or extracted is False:
            return
        start = self.accredited_from or clock.today()
        AccreditationEventFactory(
            centre=self,
            action="apply",
            from_status=None,
            to_status="applied",
            effective_on=start - timedelta(days=30),
            valid_from=None,
            valid_until=None,
        )
        if self.accreditation_status != "applied":
            AccreditationEventFactory(
                centre=self,
                action="accredit",
                from_status="applied",
                to_status="accredited",
                effective_on=start,
                valid_from=start,
                valid_until=self.accredited_until,
            )
        if self.accreditation_status in ("suspended", "withdrawn"):
            AccreditationEventFactory(
                centre=self,
                action="suspend",
                from_status="accredited",
                to_status="suspended",
                effective_on=clock.today() - timedelta(days=10),
                reason="Test suspension",
                valid_from=start,
                valid_until=self.accredited_until,
            )
        if self.accreditation_status == "withdrawn":
            AccreditationEventFactory(
                centre=self,
                action="withdraw",
                from_status="suspended",
                to_status="withdrawn",
                effective_on=clock.today() - timedelta(days=5),
                reason="Test withdrawal",
                valid_from=start,
                valid_until=self.accredited_until,
            )


class CentreSiteFactory(Base):
    class Meta:
        model = CentreSite

    centre = factory.SubFactory(ServiceCentreFactory)
    name = factory.Sequence(lambda n: f"Site {n}")
    town = "Newport"
    region = "Wales"


class CertificationFactory(Base):
    class Meta:
        model = Certification

    centre = factory.SubFactory(ServiceCentreFactory)
    scheme = "iso27001"
    reference = "CERT-1"
    expires_on = factory.LazyFunction(lambda: clock.today() + timedelta(days=300))


class AccreditationEventFactory(Base):
    class Meta:
        model = AccreditationEvent

    centre = factory.SubFactory(ServiceCentreFactory, history=False)
    action = "accredit"
    from_status = "applied"
    to_status = "accredited"
    valid_from = factory.LazyFunction(clock.today)
    valid_until = factory.LazyFunction(lambda: clock.today() + timedelta(days=365))
    effective_on = factory.LazyFunction(clock.today)
    reason = ""
    actor_label = "test"


class MetricFactory(Base):
    class Meta:
        model = Metric

    code = factory.Sequence(lambda n: f"metric_{n}")
    version = 1
    is_current = True
    name = factory.Sequence(lambda n: f"Metric {n}")
    service_line = factory.SubFactory(ServiceLineFactory, code="finance")
    definition = "total cost ÷ invoices processed"
    unit = "gbp"
    direction = "lower"
    valid_min = Decimal("0")
    valid_max = None
    decimals = 2
    scale = Decimal("1")
    is_share = False

    class Params:
        percentage = factory.Trait(
            unit="percent",
            direction="higher",
            valid_max=Decimal("100"),
            scale=Decimal("100"),
            is_share=True,
        )


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end_month = 3 * quarter
    end = (date(year + (end_month == 12), end_month % 12 + 1, 1)) - timedelta(days=1)
    return start, end


class ReportingPeriodFactory(Base):
    class Meta:
        model = ReportingPeriod
        sqlalchemy_get_or_create = ("code",)

    year = 2026
    quarter = 3
    code = factory.LazyAttribute(lambda o: f"{o.year}-Q{o.quarter}")
    starts_on = factory.LazyAttribute(lambda o: quarter_bounds(o.year, o.quarter)[0])
    ends_on = factory.LazyAttribute(lambda o: quarter_bounds(o.year, o.quarter)[1])
    status = "closed"


class SubmissionFactory(Base):
    class Meta:
        model = Submission

    public_id = factory.Sequence(lambda n: f"sub{n:029d}")
    centre = factory.SubFactory(ServiceCentreFactory)
    actor_label = "test"
    channel = "fixtures"
    filename = "data.csv"
    content_type = "text/csv"
    file_format = "csv_long"
    sha256 = factory.Sequence(lambda n: f"{n:064x}")
    size_bytes = 0
    content = b""
    row_count = 0
    status = "accepted"


class ObservationFactory(Base):
    class Meta:
        model = Observation

    centre = factory.SubFactory(ServiceCentreFactory)
    metric = factory.SubFactory(MetricFactory)
    period = factory.SubFactory(ReportingPeriodFactory)
    value = Decimal("5.00")
    submission = factory.SubFactory(SubmissionFactory, centre=factory.SelfAttribute("..centre"))


class ObservationRevisionFactory(Base):
    observation = factory.SubFactory(ObservationFactory)
    observation_id = factory.SelfAttribute("observation.id")
    revision = 1
    value = Decimal("4.00")
    submission_id = factory.SelfAttribute("observation.submission_id")
    superseded_by_submission_id = factory.SelfAttribute("observation.submission_id")
    actor_label = "test"

    class Meta:
        model = ObservationRevision
        exclude = ("observation",)


class PeerStatisticFactory(Base):
    class Meta:
        model = PeerStatistic

    metric_id = factory.LazyFunction(lambda: MetricFactory().id)
    period_id = factory.LazyFunction(lambda: ReportingPeriodFactory().id)
    n = 5


class AuditEventFactory(Base):
    class Meta:
        model = AuditEvent

    action = "test.event"
    actor_label = "test"


def make_personas() -> dict:
    """anonymous is None; everyone else a real user in a realistic organisation."""
    department = OrganisationFactory(slug="dept-persona", name="Department for Personas")
    alb = OrganisationFactory(
        alb=True, slug="alb-persona", name="Persona Agency", parent=department
    )
    centre = ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug="centre-a", name="Centre A Services")
    )
    other = ServiceCentreFactory(
        organisation=OrganisationFactory(centre=True, slug="centre-b", name="Centre B Services")
    )
    authority = OrganisationFactory(authority=True, slug="authority-persona")
    return {
        "anonymous": None,
        "buyer": UserFactory(email="buyer@dept.example.gov.uk", organisation=department),
        "alb_buyer": UserFactory(email="buyer@alb.example.gov.uk", organisation=alb),
        "centre_user": UserFactory(
            email="user@centre-a.example.org", role="centre", organisation=centre.organisation
        ),
        "other_centre_user": UserFactory(
            email="user@centre-b.example.org", role="centre", organisation=other.organisation
        ),
        "admin": UserFactory(
            email="admin@authority.example.gov.uk", role="admin", organisation=authority
        ),
        "centre": centre,
        "other_centre": other,
    }
