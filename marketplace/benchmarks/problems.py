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


def set_problem_messages(row: dict, metrics: dict[str, MetricInfo], today: date) -> list[str]:
    """Word the set-wise problems set_checks.py found for one staged row (dict of SQL columns)."""
    out: list[tuple[str, str]] = []
    code = row["metric_code"]
    period = row["period_code"]
    info = metrics.get(code) if code else None
    if row["unknown_metric"]:
        names = {m.code: m.name for m in metrics.values()}
        out.append(
            (
                "metric",
                f"Unknown metric code '{code}'.{suggest_metric(code, names)} The codes are "
                "listed on the Metrics page and in the template.",
            )
        )
    if row["unknown_period"]:
        out.append(
            (
                row["period_column"],
                f"There is no reporting period {period}. Use a quarter that has been opened for "
                "reporting (the template shows the open one).",
            )
        )
    if row["future"]:
        out.append(
            (
                row["period_column"],
                f"{period} is in the future (today is {today.isoformat()}). Check the year and "
                "quarter.",
            )
        )
    if row["retired"] and info:
        out.append(
            ("metric", f"The metric '{code}' is retired and no longer collected. Remove the row.")
        )
    if row["not_offered"] and info:
        out.append(
            (
                "metric",
                f"'{code}' belongs to the {info.service_line} service line, which your centre "
                "does not offer. Remove the row, or ask the authority to add the service line "
                "to your catalogue entry.",
            )
        )
    if row["duplicate_of"] is not None:
        out.append(
            (
                row["period_column"],
                f"{code} for {period} is already given on row {row['duplicate_of']}. Keep one "
                "row per metric and period.",
            )
        )
    value_column = row["value_column"]
    if info and row["below_min"]:
        out.append(
            (
                value_column,
                f"The value {fmt(row['value'])} for {code} is below the lowest allowed "
                f"({fmt(info.valid_min)}{_unit(info)}). Check the sign and the figure.",
            )
        )
    if info and row["above_max"]:
        out.append(
            (
                value_column,
                f"The value {fmt(row['value'])} for {code} is above the highest allowed "
                f"({fmt(info.valid_max)}{_unit(info)}). Percentages are written 0 to 100."
                if info.unit == "percent"
                else f"The value {fmt(row['value'])} for {code} is above the highest allowed "
                f"({fmt(info.valid_max)}).",
            )
        )
    if info and row["share_violation"]:
        out.append(
            (
                "numerator",
                f"The numerator ({fmt(row['numerator'])}) is larger than the denominator "
                f"({fmt(row['denominator'])}); for {code} the numerator is part of the "
                "denominator. Check that they are not swapped.",
            )
        )
    if info and row["inconsistent"]:
        expected = Decimal(str(row["numerator"])) / Decimal(str(row["denominator"])) * info.scale
        out.append(
            (
                value_column,
                f"The value {fmt(row['value'])} does not match numerator ÷ denominator"
                f"{' × ' + fmt(info.scale) if info.scale != 1 else ''} = "
                f"{fmt(round(expected, info.decimals))}. Correct the value or the numerator "
                "and denominator.",
            )
        )
    if row["closed_new"]:
        out.append(
            (
                row["period_column"],
                f"{period} is {row['period_status']}: it takes no new figures, only corrections "
                "of figures already sent. Remove the row or move it to the open period.",
            )
        )
    if row["needs_reason"]:
        out.append(
            (
                value_column,
                f"This changes the {row['period_status']} figure for {code} in {period} from "
                f"{fmt(row['old_value'])} to {fmt(row['value'])}. Give a reason for the "
                "restatement in the 'reason' field.",
            )
        )
    return out


def _unit(info: MetricInfo) -> str:
    return "%" if info.unit == "percent" else ""
