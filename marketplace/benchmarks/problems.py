"""Wording for the problems the set-wise checks find: what is wrong and how to fix it.

set_checks.problem_rows flags each staged row with the kinds of problem the database can see;
this module turns those flags into the plain-English messages a person reads.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from marketplace.benchmarks.models import Metric
from marketplace.benchmarks.validation import fmt
from marketplace.catalogue.models import ServiceLine
from marketplace.extensions import db


def metric_info() -> dict[str, MetricInfo]:
    """What the messages say about each current metric (read only when a file has problems)."""
    rows = db.session.execute(
        select(
            Metric.code,
            Metric.name,
            Metric.unit,
            Metric.valid_min,
            Metric.valid_max,
            ServiceLine.code,
            Metric.decimals,
            Metric.scale,
        )
        .join(ServiceLine, ServiceLine.id == Metric.service_line_id)
        .where(Metric.is_current.is_(True))
    ).all()
    return {row[0]: MetricInfo(*row) for row in rows}


def suggest_metric(code: str, known: dict[str, str]) -> str:
    """'Did you mean …?' from close codes, or a code whose name was typed instead."""
    by_name = {name.lower(): c for c, name in known.items()}
    if code in by_name:
        return f" Did you mean '{by_name[code]}'? Use the code, not the name."
    close = difflib.get_close_matches(code, list(known), n=1, cutoff=0.7)
    if close:
        return f" Did you mean '{close[0]}'?"
    return ""


@dataclass(frozen=True)
class MetricInfo:
    code: str
    name: str
    unit: str
    valid_min: Decimal | None
    valid_max: Decimal | None
    service_line: str
    decimals: int
    scale: Decimal


@dataclass(frozen=True)
class _Problem:
    """One flagged staged row, as each wording function needs it."""

    row: dict  # the SQL columns of set_checks.problem_rows
    code: str | None
    period: str | None
    info: MetricInfo | None  # None when the metric code is unknown
    metrics: dict[str, MetricInfo]
    today: date


def set_problem_messages(
    row: dict, metrics: dict[str, MetricInfo], today: date
) -> list[tuple[str, str]]:
    """Word the set-wise problems set_checks.py found for one staged row: (column, message)."""
    code = row["metric_code"]
    problem = _Problem(
        row=row,
        code=code,
        period=row["period_code"],
        info=metrics.get(code) if code else None,
        metrics=metrics,
        today=today,
    )
    return [
        word(problem)
        for kind, word in WORDING.items()
        if _flagged(row, kind) and (problem.info or kind not in NEEDS_METRIC)
    ]


def _flagged(row: dict, kind: str) -> bool:
    if kind == "duplicate_of":  # holds the row number of the first copy
        return row[kind] is not None
    return bool(row[kind])


def _unknown_metric(p: _Problem) -> tuple[str, str]:
    names = {m.code: m.name for m in p.metrics.values()}
    return (
        "metric",
        f"Unknown metric code '{p.code}'.{suggest_metric(p.code, names)} The codes are "
        "listed on the Metrics page and in the template.",
    )


def _unknown_period(p: _Problem) -> tuple[str, str]:
    return (
        p.row["period_column"],
        f"There is no reporting period {p.period}. Use a quarter that has been opened for "
        "reporting (the template shows the open one).",
    )


def _future(p: _Problem) -> tuple[str, str]:
    return (
        p.row["period_column"],
        f"{p.period} is in the future (today is {p.today.isoformat()}). Check the year and "
        "quarter.",
    )


def _retired(p: _Problem) -> tuple[str, str]:
    return ("metric", f"The metric '{p.code}' is retired and no longer collected. Remove the row.")


def _not_offered(p: _Problem) -> tuple[str, str]:
    return (
        "metric",
        f"'{p.code}' belongs to the {p.info.service_line} service line, which your centre "
        "does not offer. Remove the row, or ask the authority to add the service line "
        "to your catalogue entry.",
    )


def _duplicate(p: _Problem) -> tuple[str, str]:
    return (
        p.row["period_column"],
        f"{p.code} for {p.period} is already given on row {p.row['duplicate_of']}. Keep one "
        "row per metric and period.",
    )


def _below_min(p: _Problem) -> tuple[str, str]:
    row, info = p.row, p.info
    return (
        row["value_column"],
        f"The value {fmt(row['value'])} for {p.code} is below the lowest allowed "
        f"({fmt(info.valid_min)}{_unit(info)}). Check the sign and the figure.",
    )


def _above_max(p: _Problem) -> tuple[str, str]:
    row, info = p.row, p.info
    return (
        row["value_column"],
        f"The value {fmt(row['value'])} for {p.code} is above the highest allowed "
        f"({fmt(info.valid_max)}{_unit(info)}). Percentages are written 0 to 100."
        if info.unit == "percent"
        else f"The value {fmt(row['value'])} for {p.code} is above the highest allowed "
        f"({fmt(info.valid_max)}).",
    )


def _share_violation(p: _Problem) -> tuple[str, str]:
    row = p.row
    return (
        "numerator",
        f"The numerator ({fmt(row['numerator'])}) is larger than the denominator "
        f"({fmt(row['denominator'])}); for {p.code} the numerator is part of the "
        "denominator. Check that they are not swapped.",
    )


def _inconsistent(p: _Problem) -> tuple[str, str]:
    row, info = p.row, p.info
    expected = Decimal(str(row["numerator"])) / Decimal(str(row["denominator"])) * info.scale
    return (
        row["value_column"],
        f"The value {fmt(row['value'])} does not match numerator ÷ denominator"
        f"{' × ' + fmt(info.scale) if info.scale != 1 else ''} = "
        f"{fmt(round(expected, info.decimals))}. Correct the value or the numerator "
        "and denominator.",
    )


def _closed_new(p: _Problem) -> tuple[str, str]:
    return (
        p.row["period_column"],
        f"{p.period} is {p.row['period_status']}: it takes no new figures, only corrections "
        "of figures already sent. Remove the row or move it to the open period.",
    )


def _needs_reason(p: _Problem) -> tuple[str, str]:
    row = p.row
    return (
        row["value_column"],
        f"This changes the {row['period_status']} figure for {p.code} in {p.period} from "
        f"{fmt(row['old_value'])} to {fmt(row['value'])}. Give a reason for the "
        "restatement in the 'reason' field.",
    )


# Each kind of problem set_checks.py flags, in the order a row's messages are listed.
WORDING = {
    "unknown_metric": _unknown_metric,
    "unknown_period": _unknown_period,
    "future": _future,
    "retired": _retired,
    "not_offered": _not_offered,
    "duplicate_of": _duplicate,
    "below_min": _below_min,
    "above_max": _above_max,
    "share_violation": _share_violation,
    "inconsistent": _inconsistent,
    "closed_new": _closed_new,
    "needs_reason": _needs_reason,
}
# Worded from the metric's definition: skipped when the code is unknown (that is said once).
NEEDS_METRIC = {
    "retired",
    "not_offered",
    "below_min",
    "above_max",
    "share_violation",
    "inconsistent",
}


def _unit(info: MetricInfo) -> str:
    return "%" if info.unit == "percent" else ""
