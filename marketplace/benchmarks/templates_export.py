"""Downloadable upload templates, pre-filled with a centre's metrics and the open period.

One per layout (long, wide) and format (CSV, Excel). Figures the centre has already sent
for the open period are filled in, so the template doubles as 'what we hold for you now'
and sending it back unchanged changes nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from marketplace import clock
from marketplace.benchmarks.models import Metric, Observation, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.spreadsheets import neutralise, xlsx_cell

LAYOUTS = ("long", "wide")
FORMATS = ("csv", "xlsx")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
LONG_HEADER = ["metric", "period", "value", "numerator", "denominator", "comment"]


@dataclass(frozen=True)
class Template:
    filename: str
    mimetype: str
    content: bytes


def open_period(today=None) -> ReportingPeriod | None:
    """The period now taking figures: the latest open one that has begun."""
    today = today or clock.today()
    return db.session.execute(
        select(ReportingPeriod)
        .where(ReportingPeriod.status == "open", ReportingPeriod.starts_on <= today)
        .order_by(ReportingPeriod.starts_on.desc())
        .limit(1)
    ).scalar_one_or_none()


def centre_metrics(centre: ServiceCentre) -> list[Metric]:
    """The current metrics of the service lines the centre offers, in library order."""
    line_ids = [line.id for line in centre.service_lines]
    if not line_ids:
        return []
    return list(
        db.session.execute(
            select(Metric)
            .join(ServiceLine, ServiceLine.id == Metric.service_line_id)
            .where(
                Metric.is_current.is_(True),
                Metric.status == "active",
                Metric.service_line_id.in_(line_ids),
            )
            .order_by(ServiceLine.position, ServiceLine.code, Metric.position, Metric.code)
        ).scalars()
    )


def _current_values(centre: ServiceCentre, period: ReportingPeriod) -> dict[int, Observation]:
    rows = db.session.execute(
        select(Observation).where(
            Observation.centre_id == centre.id, Observation.period_id == period.id
        )
    ).scalars()
    return {row.metric_id: row for row in rows}


def _plain(number: Decimal | None) -> str:
    if number is None:
        return ""
    return format(number.normalize(), "f")


def rows_for(centre: ServiceCentre, layout: str) -> tuple[list[str], list[list[str]], str]:
    period = open_period()
    if period is None:
        raise NotFound("No reporting period is open for figures at the moment.")
    metrics = centre_metrics(centre)
    values = _current_values(centre, period)
    if layout == "wide":
        header = ["metric", period.code]
        body = [[m.code, _plain(values[m.id].value) if m.id in values else ""] for m in metrics]
    else:
        header = list(LONG_HEADER)
        body = []
        for metric in metrics:
            held = values.get(metric.id)
            body.append(
                [
                    metric.code,
                    period.code,
                    _plain(held.value) if held else "",
                    _plain(held.numerator) if held else "",
                    _plain(held.denominator) if held else "",
                    held.comment if held else "",
                ]
            )
    return header, body, period.code


def build(centre: ServiceCentre, layout: str, file_format: str) -> Template:
    if layout not in LAYOUTS or file_format not in FORMATS:
        raise NotFound("There is no such template. Choose the long or wide layout, CSV or Excel.")
    header, body, period_code = rows_for(centre, layout)
    stem = f"{centre.slug}-{period_code}-{layout}"
    if file_format == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([neutralise(_cell(cell)) for cell in row] for row in body)
        return Template(f"{stem}.csv", "text/csv", out.getvalue().encode("utf-8"))
    return Template(f"{stem}.xlsx", XLSX_MIMETYPE, _workbook(header, body, centre))


def _workbook(header: list[str], body: list[list[str]], centre: ServiceCentre) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Figures")
    sheet.append(header)
    for row in body:
        # Numbers as numbers, so Excel neither warns nor reformats them; text as text.
        sheet.append([xlsx_cell(sheet, _cell(value)) for value in row])
    guide = book.create_sheet("Metric definitions")
    guide.append(["metric", "name", "service line", "unit", "definition", "lowest", "highest"])
    for metric in centre_metrics(centre):
        guide.append(
            [
                xlsx_cell(guide, value)
                for value in (
                    metric.code,
                    metric.name,
                    metric.service_line.name,
                    metric.unit_label,
                    metric.definition,
                    _cell(_plain(metric.valid_min)),
                    _cell(_plain(metric.valid_max)),
                )
            ]
        )
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(text: str):
    if text == "":
        return None
    try:
        number = Decimal(text)
    except ArithmeticError:
        return text
    return int(number) if number == number.to_integral_value() else float(number)
