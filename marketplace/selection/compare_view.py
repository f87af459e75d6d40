"""The comparison table as text, ready to print: the /compare page's view model.

The page has up to 6 × 32 cells, each with a value, band, percentile, trend and chart.
Formatting them here and handing the template plain strings keeps the page within its time
budget: a Jinja function or macro call per figure costs more than the figures themselves.
Text is escaped by the template as usual; only the charts are markup (charts.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from markupsafe import Markup

from marketplace.benchmarks.charts import sparkline
from marketplace.benchmarks.display import band_text, percentile_text, trend_text, value_text
from marketplace.selection.compare import Comparison


@dataclass(frozen=True)
class CellText:
    value: str
    detail: str | None  # band and percentile, when there is a value
    trend: str
    chart: Markup


@dataclass(frozen=True)
class RowText:
    name: str
    href: str
    about: str  # unit and direction
    median: str | None  # None when there are no statistics or they are withheld
    n: int | None
    withheld: bool
    cells: list[CellText]
    group: str | None = None  # a narrowed group's definition, with n
    too_few: str | None = None  # why a narrowed group shows no statistics


def table_rows(comparison: Comparison) -> list[RowText]:
    period = comparison.period
    rows = []
    for r, row in enumerate(comparison.rows):
        metric = row.metric
        unit, decimals = metric.unit, metric.decimals
        cells = []
        for c, cell in enumerate(row.cells):
            detail = None
            if cell.value is not None:
                detail = f"Band {band_text(cell.band)}"
                if cell.percentile is not None:
                    detail += f", percentile {percentile_text(cell.percentile)}"
                if cell.restated:
                    detail += " (restated)"
                elif cell.corrected:
                    detail += " (corrected)"
            cells.append(
                CellText(
                    value=value_text(cell.value, unit, decimals)
                    if cell.value is not None
                    else "No value",
                    detail=detail,
                    trend=trend_text(cell.direction),
                    chart=sparkline(
                        cell.trend,
                        chart_id=f"trend-{r}-{c}",
                        title=f"{metric.name}, {comparison.centres[c].name}: last 8 quarters",
                        decimals=decimals,
                    ),
                )
            )
        rows.append(
            RowText(
                name=metric.name,
                href=url_for("metric_pages.metric", code=metric.code, period=period.code),
                about=f"{metric.unit_label}, {metric.direction} is better",
                median=value_text(row.median, unit, decimals) if row.stats_visible else None,
                n=row.n,
                withheld=row.stats is not None and not row.stats_visible,
                cells=cells,
                group=row.narrowed.label if row.narrowed is not None else None,
                too_few=row.narrowed.too_few if row.narrowed is not None else None,
            )
        )
    return rows
