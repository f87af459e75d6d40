"""The metric library: add a metric, publish a new version of a definition, retire one.

A changed definition is a new Metric row (version + 1) that becomes the current one; the
old row stays, and every observation keeps pointing at the version it was measured under,
so an old series keeps its version and a chart can show the break (DOMAIN.md).
"""

from __future__ import annotations

from sqlalchemy import func

from marketplace.audit import services as audit
from marketplace.benchmarks.models import Metric
from marketplace.catalogue.models import ServiceLine
from marketplace.errors import Conflict, FieldError, IllegalTransition, NotFound, ValidationFailed
from marketplace.extensions import db

# The fields that make up a definition; any change to one is a new version.
DEFINITION_FIELDS = (
    "name",
    "definition",
    "numerator_label",
    "denominator_label",
    "unit",
    "direction",
    "valid_min",
    "valid_max",
    "decimals",
    "scale",
    "is_share",
    "target",
    "reference",
)


def library() -> list[Metric]:
    """The current version of every metric, by service line then position."""
    return list(
        db.session.execute(
            db.select(Metric)
            .join(ServiceLine, ServiceLine.id == Metric.service_line_id)
            .where(Metric.is_current)
            .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
        ).scalars()
    )


def current(code: str, *, lock: bool = False) -> Metric:
    statement = db.select(Metric).where(Metric.code == code, Metric.is_current)
    if lock:
        statement = statement.with_for_update(of=Metric).execution_options(populate_existing=True)
    metric = db.session.execute(statement).scalar_one_or_none()
    if metric is None:
        raise NotFound(f"There is no metric '{code}'.")
    return metric


def versions(code: str) -> list[Metric]:
    return list(
        db.session.execute(
            db.select(Metric).where(Metric.code == code).order_by(Metric.version.desc())
        ).scalars()
    )


def _check_range(values: dict) -> None:
    low, high = values.get("valid_min"), values.get("valid_max")
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            "The valid range is back to front.",
            errors=[
                FieldError("The lowest valid value must not be above the highest.", "valid_max")
            ],
        )


def definition_of(metric: Metric) -> dict:
    return {name: getattr(metric, name) for name in DEFINITION_FIELDS}


def add_metric(values: dict, *, actor) -> Metric:
    """A new metric, version 1, current and active."""
    _check_range(values)
    code = values["code"]
    if db.session.execute(db.select(Metric.id).where(Metric.code == code).limit(1)).first():
        raise Conflict(
            f"The code '{code}' is already used.",
            errors=[FieldError("This code is already used; choose another.", "code")],
        )
    line = db.session.execute(
        db.select(ServiceLine).where(ServiceLine.code == values["service_line"])
    ).scalar_one_or_none()
    if line is None:
        raise ValidationFailed(
            "Unknown service line.",
            errors=[FieldError("Choose one of the service lines.", "service_line")],
        )
    last = db.session.execute(
        db.select(func.max(Metric.position)).where(Metric.service_line_id == line.id)
    ).scalar_one()
    metric = Metric(
        code=code,
        version=1,
        is_current=True,
        service_line=line,
        status="active",
        position=(last or 0) + 1,
        **{name: values[name] for name in DEFINITION_FIELDS if name in values},
    )
    db.session.add(metric)
    db.session.flush()
    audit.record(
        "metric.added",
        actor=actor,
        object_type="metric",
        object_id=code,
        detail={"version": 1, "service_line": line.code, **definition_of(metric)},
    )
    return metric


def publish_version(code: str, values: dict, *, actor, reason: str) -> Metric:
    """Make a changed definition the current version; the old one stays for its series."""
    _check_range(values)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say why the definition changes.",
            errors=[FieldError("Give the reason for the new version.", "reason")],
        )
    old = current(code, lock=True)
    before = definition_of(old)
    after = {name: values.get(name, before[name]) for name in DEFINITION_FIELDS}
    changed = {
        name: {"before": before[name], "after": after[name]}
        for name in DEFINITION_FIELDS
        if before[name] != after[name]
    }
    if not changed:
        raise ValidationFailed(
            "Nothing in the definition has changed.",
            errors=[FieldError("Change at least one part of the definition.", "definition")],
        )
    # The partial unique index allows one current row per code: retire the flag first.
    old.is_current = False
    db.session.flush()
    metric = Metric(
        code=code,
        version=old.version + 1,
        is_current=True,
        service_line_id=old.service_line_id,
        status=old.status,
        position=old.position,
        **after,
    )
    db.session.add(metric)
    db.session.flush()
    audit.record(
        "metric.version_published",
        actor=actor,
        object_type="metric",
        object_id=code,
        detail={
            "from_version": old.version,
            "version": metric.version,
            "reason": reason,
            "changed": changed,
        },
    )
    return metric


def retire(code: str, *, actor, reason: str) -> Metric:
    """No new data for a retired metric; what was collected stays, and stays published."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            "Say why the metric is retired.",
            errors=[FieldError("Give the reason to retire this metric.", "reason")],
        )
    metric = current(code, lock=True)
    if metric.status == "retired":
        raise IllegalTransition(f"{metric.name} is already retired.")
    metric.status = "retired"
    db.session.flush()
    audit.record(
        "metric.retired",
        actor=actor,
        object_type="metric",
        object_id=code,
        detail={"version": metric.version, "reason": reason},
    )
    return metric
