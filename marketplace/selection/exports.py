"""Rows for CSV downloads of a comparison and of an evaluation (cells neutralised later).

Figures are rounded by marketplace/formatting.py, half up to the metric's decimals, so a
value in the download is the figure on the page and in the published open data ("2.35" where
the page says "£2.35"). They stay Decimals so the CSV writer leaves them as numbers.
"""

from __future__ import annotations

from marketplace import formatting
from marketplace.benchmarks.statistics import BAND_LABELS
from marketplace.selection.compare import Comparison
from marketplace.selection.projection import Projection


def _round(value, places: int):
    return formatting.rounded(value, places)


def _decimals(criterion: dict, otherwise: int | None = None) -> int | None:
    """The criterion's metric decimals; `otherwise` for a score or a snapshot without them."""
    decimals = (criterion.get("metric") or {}).get("decimals")
    return otherwise if decimals is None else decimals


def _figure(value, decimals: int | None):
    """A metric figure at its decimals; as recorded when a snapshot does not say them."""
    if decimals is None:
        return formatting.exact(value)
    return formatting.rounded(value, decimals)


def comparison_rows(comparison: Comparison, projection: Projection | None = None) -> list[list]:
    period = comparison.period
    rows: list[list] = [
        ["Comparison of shared-service centres"],
        ["Period", period.code if period else "none"],
        [
            "Status",
            "published" if comparison.published else "not yet published (validated data)",
        ],
        ["Caveat", comparison.caveat],
        ["Peer group", comparison.peer_filter.describe()],
        [],
    ]
    header = ["metric", "name", "unit", "better", "weight", "peer n", "peer median"]
    for centre in comparison.centres:
        header += [f"{centre.slug} value", f"{centre.slug} percentile", f"{centre.slug} band"]
    rows.append(header)
    for row in comparison.rows:
        line = [
            row.metric.code,
            row.metric.name,
            row.metric.unit_label,
            row.metric.direction,
            row.weight,
            row.n,
            _round(row.median, row.metric.decimals),
        ]
        for cell in row.cells:
            line += [
                _round(cell.value, row.metric.decimals),
                _round(cell.percentile, 1),
                BAND_LABELS.get(cell.band, "") if cell.band else None,
            ]
        rows.append(line)
    rows.append([])
    rows.append(["centre", "name", "status", "weighted score", "coverage (%)", "rank"])
    for centre in comparison.centres:
        rows.append(
            [
                centre.slug,
                centre.name,
                centre.status,
                _round(centre.score, 1),
                _round(centre.coverage * 100, 1),
                centre.rank,
            ]
        )
    if projection is not None:
        rows += projection_rows(projection)
    return rows


def projection_rows(projection: Projection) -> list[list]:
    """The projected annual cost: inputs, each centre's lines and total, the peer range."""
    money = lambda value: _round(value, 2)  # noqa: E731 - £ to the penny, half up
    rows: list[list] = [[], ["Projected annual cost"]]
    rows.append(["volumes", *(f"{code}:{n}" for code, n in projection.volumes.items())])
    if projection.current_provider:
        rows.append(["current provider", projection.current_provider])
    rows.append(["current cost (£)", money(projection.current_cost)])
    header = ["centre"]
    for driver in projection.drivers:
        header += [
            f"{driver.code} unit cost (£)",
            f"{driver.code} period",
            f"{driver.code} cost (£)",
        ]
    rows.append([*header, "total (£)", "saving (£)", "price score"])
    for centre in projection.centres:
        line = [centre.slug]
        for cost in centre.lines:
            line += [
                _round(cost.unit_cost, cost.decimals),
                cost.period.code if cost.period is not None else None,
                money(cost.cost),
            ]
        rows.append([*line, money(centre.total), money(centre.saving), centre.price_score])
    rows.append([])
    rows.append(
        ["driver", "volume", "period", "peer group", "n", "p25 (£)", "median (£)", "p75 (£)"]
    )
    for r in projection.peer_ranges:
        rows.append(
            [
                r.driver.code,
                r.volume,
                r.period.code if r.period is not None else None,
                r.label,
                r.n,
                money(r.p25),
                money(r.median),
                money(r.p75),
            ]
        )
    return rows


def evaluation_rows(view: dict, evaluation, *, shown: bool = True) -> list[list]:
    """An evaluation as the buyer saw it (the snapshot once locked), with its outcome.

    Before the weights are sealed (`shown` false) only the criteria and weights are given:
    results appear once the weights are sealed.
    """
    period = view["period"]
    rows: list[list] = [
        ["Evaluation", view["evaluation"]["title"]],
        ["Reference", view["evaluation"]["id"]],
        ["Organisation", view["evaluation"]["organisation"]],
        ["Needs", view["evaluation"]["needs"]],
        ["Period", period["code"]],
        ["Figures", "published" if period["published"] else "validated, not yet published"],
        ["Method version", view["method_version"]],
        ["Status", "locked" if evaluation.is_locked else "draft (not locked)"],
    ]
    if evaluation.is_locked:
        rows.append(["Locked at", view.get("locked_at")])
        rows.append(["Locked by", (view.get("locked_by") or {}).get("email")])
    outcome = evaluation.outcome
    if outcome is not None:
        rows.append(["Outcome", outcome.label])
        if outcome.centre is not None:
            rows.append(["Awarded to", outcome.centre.slug])
        rows.append(["Rationale", outcome.rationale])
        rows.append(["Decided at", outcome.decided_at.isoformat()])
        rows.append(["Decided by", outcome.decided_by.email])
    rows.append(["Caveat", view["caveat"]])
    for warning in view["warnings"]:
        rows.append(["Warning", warning])
    rows.append([])
    if not shown:
        rows.append(["Results", "Results appear once the weights are sealed."])
        rows.append([])
        rows.append(["criterion", "name", "kind", "weight", "share of weight (%)"])
        for criterion in view["criteria"]:
            rows.append(
                [
                    criterion["code"],
                    criterion["name"],
                    criterion["kind"],
                    criterion["weight"],
                    _round(criterion["share"] * 100, 1),
                ]
            )
        return rows
    slugs = [c["slug"] for c in view["candidates"]]
    header = ["criterion", "name", "kind", "weight", "share of weight (%)", "peer n", "median"]
    for slug in slugs:
        header += [f"{slug} value", f"{slug} percentile or score", f"{slug} band"]
    rows.append(header)
    for criterion in view["criteria"]:
        stats = criterion["statistics"] or {}
        line = [
            criterion["code"],
            criterion["name"],
            criterion["kind"],
            criterion["weight"],
            _round(criterion["share"] * 100, 1),
            stats.get("n"),
            _round(stats.get("median"), _decimals(criterion, otherwise=6)),
        ]
        for slug in slugs:
            cell = view["cells"][criterion["code"]][slug]
            mark = cell["percentile"] if criterion["kind"] == "metric" else cell["score"]
            value = _figure(cell["value"], _decimals(criterion))
            if mark is None:
                mark = cell.get("score")  # the buyer's, where a metric had no figure to score
            line += [value, _round(mark, 1), cell["band_label"]]
        rows.append(line)
    _buyer_scores(rows, view)
    rows.append([])
    rows.append(["centre", "name", "weighted score", "coverage (%)", "rank"])
    for result in view["results"]:
        rows.append(
            [
                result["slug"],
                result["name"],
                _round(result["score"], 1),
                _round(result["coverage"] * 100, 1),
                result["rank"],
            ]
        )
    return rows


def _buyer_scores(rows: list[list], view: dict) -> None:
    """The buyer's scores with their rationale, and "not scored" with its reason."""
    entries = []
    for criterion in view["criteria"]:
        for candidate in view["candidates"]:
            cell = view["cells"][criterion["code"]][candidate["slug"]]
            if cell.get("not_scored_reason"):
                entries.append(
                    [criterion["code"], candidate["slug"], "not scored", cell["not_scored_reason"]]
                )
            elif cell.get("score") is not None and cell.get("percentile") is None:
                entries.append(
                    [
                        criterion["code"],
                        candidate["slug"],
                        _round(cell["score"], 1),
                        cell.get("rationale") or "",
                    ]
                )
    if entries:
        rows.append([])
        rows.append(["criterion", "centre", "buyer's score", "rationale or reason not scored"])
        rows.extend(entries)
