"""Reference data: the metric library, reporting periods and service lines (public reads)."""

from __future__ import annotations

from dataclasses import dataclass

from marshmallow import ValidationError, fields, pre_load, validate, validates

from marketplace.api.common import (
    OPTIONAL_AUTH,
    PageArgsSchema,
    api_blueprint,
    envelope,
    page_schema,
    paginate,
    problem_response,
)
from marketplace.benchmarks.models import METRIC_STATUSES, PERIOD_STATUSES, Metric, ReportingPeriod
from marketplace.benchmarks.schemas import (
    MetricDetailSchema,
    MetricSchema,
    PeriodSchema,
    ServiceLineDetailSchema,
)
from marketplace.catalogue import services as catalogue
from marketplace.catalogue.models import SERVICE_LINE_CODES, ServiceLine
from marketplace.errors import NotFound
from marketplace.extensions import db

metrics_bp = api_blueprint(
    "metrics",
    __name__,
    description="The metric library: what each benchmark measures, its unit and direction.",
)
periods_bp = api_blueprint(
    "periods", __name__, description="Reporting periods: calendar quarters written YYYY-Qn."
)
service_lines_bp = api_blueprint(
    "service_lines", __name__, description="The service lines centres offer and metrics measure."
)


class MetricFilterSchema(PageArgsSchema):
    service_line = fields.String(
        metadata={
            "description": "Only metrics of this service line (its code).",
            "enum": list(SERVICE_LINE_CODES),
        }
    )
    status = fields.String(
        validate=validate.OneOf(METRIC_STATUSES),
        metadata={"description": "active or retired; both when left out."},
    )

    @pre_load
    def drop_blanks(self, data, **kwargs):
        # As the centre list does: an empty filter (`?service_line=`) is no filter.
        return {k: v for k, v in dict(data).items() if not (isinstance(v, str) and not v.strip())}

    @validates("service_line")
    def known_service_line(self, value, **kwargs):
        # As the centre list does: a mistyped code is an error, not an empty list.
        codes = catalogue.service_line_codes()
        if value not in codes:
            raise ValidationError(
                f"'{value}' is not a service line. Choose one of: {', '.join(codes)}."
            )


class PeriodFilterSchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(PERIOD_STATUSES))


@dataclass
class MetricWithVersions:
    """The current definition, plus every version for the `versions` list."""

    current: Metric
    versions: list[Metric]

    def __getattr__(self, name):
        return getattr(self.current, name)


@metrics_bp.route("/metrics")
@metrics_bp.doc(security=OPTIONAL_AUTH)
@metrics_bp.arguments(MetricFilterSchema, location="query", as_kwargs=True)
@metrics_bp.response(200, page_schema(MetricSchema, "MetricPage"))
def list_metrics(page, per_page, service_line=None, status=None):
    """List the metric library

    The current definition of each metric, by service line then the library's own order.
    """
    statement = (
        db.select(Metric)
        .join(Metric.service_line)
        .where(Metric.is_current.is_(True))
        .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
    )
    if service_line:
        statement = statement.where(ServiceLine.code == service_line)
    if status:
        statement = statement.where(Metric.status == status)
    return envelope(paginate(statement, page, per_page))


@metrics_bp.route("/metrics/<code>")
@metrics_bp.doc(security=OPTIONAL_AUTH)
@metrics_bp.response(200, MetricDetailSchema)
@problem_response(metrics_bp, 404, "No metric has that code.")
def get_metric(code):
    """Read one metric

    Its current definition, and every version it has had (oldest first). A changed
    definition is a new version; a series crosses versions only with a visible break.
    """
    versions = list(
        db.session.execute(db.select(Metric).where(Metric.code == code).order_by(Metric.version))
        .scalars()
        .all()
    )
    if not versions:
        raise NotFound(f"There is no metric '{code}' in the library.")
    current = next((m for m in versions if m.is_current), versions[-1])
    return MetricWithVersions(current=current, versions=versions)


@periods_bp.route("/periods")
@periods_bp.doc(security=OPTIONAL_AUTH)
@periods_bp.arguments(PeriodFilterSchema, location="query", as_kwargs=True)
@periods_bp.response(200, page_schema(PeriodSchema, "PeriodPage"))
def list_periods(page, per_page, status=None):
    """List reporting periods

    Newest first. `open` periods accept data; `closed` ones accept only restatements.
    """
    statement = db.select(ReportingPeriod).order_by(*ReportingPeriod.newest_first())
    if status:
        statement = statement.where(ReportingPeriod.status == status)
    return envelope(paginate(statement, page, per_page))


@service_lines_bp.route("/service-lines")
@service_lines_bp.doc(security=OPTIONAL_AUTH)
@service_lines_bp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@service_lines_bp.response(200, page_schema(ServiceLineDetailSchema, "ServiceLinePage"))
def list_service_lines(page, per_page):
    """List service lines

    The codes here are the values of the `service_line` filters elsewhere in the API.
    """
    statement = db.select(ServiceLine).order_by(ServiceLine.position, ServiceLine.code)
    return envelope(paginate(statement, page, per_page))
