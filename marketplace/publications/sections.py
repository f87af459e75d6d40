"""The sections of a centre report (DOMAIN.md, 'A published performance report'), as primitives.

The scorecard holds every figure once; the sections regroup them by what they say —
volumes, cost, quality, satisfaction with its sample size, service levels met and missed —
and the data-quality statement lists restatements, flags and the peer groups too small to
disclose.
"""

from __future__ import annotations

from decimal import Decimal

from marketplace.publications import formatting as fmt

FLAG_TEXT = {
    "flagged": "Far from its peers; the centre has not yet confirmed or corrected it.",
    "confirmed": "Far from its peers; the centre has confirmed it is correct.",
}


def _figure_row(row: dict) -> dict:
    return {
        "code": row["code"],
        "name": row["name"],
        "value_text": row["value_text"],
        "target_text": row["target_text"],
        "target_met": row["target_met"],
        "target_shown": row["target_shown"],
        "target_status": row["target_status"],
        "counted_text": _counted(row),
    }


def _counted(row: dict) -> str:
    """What the figure was worked out from, in words.

    A share counts part of a whole: '120 of 10,000 invoices processed'. Any other figure is a
    quotient of two different things, so each is named: 'Payslips issued (last 12 months):
    548,990; payroll full-time equivalents: 47'.
    """
    if not (row["numerator"] and row["denominator"]):
        return ""
    numerator, denominator = Decimal(row["numerator"]), Decimal(row["denominator"])
    top, bottom = row["numerator_label"], row["denominator_label"]
    if row.get("is_share") and bottom:
        return f"{fmt.count(numerator)} of {fmt.count(denominator)} {fmt.in_sentence(bottom)}"
    if not (top and bottom):
        return f"{fmt.count(numerator)} ÷ {fmt.count(denominator)}"
    return (
        f"{fmt.label_text(top)}: {fmt.count(numerator)}; "
        f"{fmt.in_sentence(bottom)}: {fmt.count(denominator)}"
    )


def centre_sections(scorecard: list[dict]) -> list[dict]:
    grouped: dict[str, list[dict]] = {key: [] for key in fmt.SECTIONS}
    for row in scorecard:
        grouped[row["section"]].append(row)

    volumes, seen = [], set()
    for row in scorecard:
        label = row["denominator_label"]
        if row["denominator"] and label and label not in seen:
            seen.add(label)
            volumes.append(
                {
                    "label": fmt.label_text(label),
                    "value_text": fmt.count(Decimal(row["denominator"])),
                    "source": row["name"],
                }
            )
    cost = [
        {
            **_figure_row(row),
            "total_text": fmt.figure(Decimal(row["numerator"]), 0, "gbp")
            if row["numerator"]
            else "",
            "units_text": fmt.count(Decimal(row["denominator"])) if row["denominator"] else "",
        }
        for row in grouped["cost"]
    ]
    satisfaction = [
        {
            **_figure_row(row),
            "sample_text": fmt.count(Decimal(row["denominator"])) if row["denominator"] else "",
        }
        for row in grouped["satisfaction"]
    ]
    service_levels = []
    for row in grouped["service_levels"]:
        met = missed = ""
        if row["numerator"] and row["denominator"]:
            numerator, denominator = Decimal(row["numerator"]), Decimal(row["denominator"])
            met, missed = fmt.count(numerator), fmt.count(max(denominator - numerator, 0))
        service_levels.append(
            {
                **_figure_row(row),
                "met_text": met,
                "missed_text": missed,
            }
        )
    return [
        {
            "key": "volumes",
            "title": fmt.SECTIONS["volumes"],
            "volumes": volumes,
            "rows": [_figure_row(row) for row in grouped["volumes"]],
        },
        {"key": "cost", "title": fmt.SECTIONS["cost"], "rows": cost},
        {
            "key": "quality",
            "title": fmt.SECTIONS["quality"],
            "rows": [_figure_row(row) for row in grouped["quality"]],
        },
        {"key": "satisfaction", "title": fmt.SECTIONS["satisfaction"], "rows": satisfaction},
        {"key": "service_levels", "title": fmt.SECTIONS["service_levels"], "rows": service_levels},
    ]


def data_quality(
    scorecard: list[dict], revisions: list[dict], labels: dict, metrics: dict, min_group: int
) -> dict:
    """Restatements (each change with when and why), flags, and undisclosed peer groups."""
    by_observation: dict[int, list[dict]] = {}
    for revision in revisions:
        by_observation.setdefault(revision["observation_id"], []).append(revision)
    restatements = []
    for items in by_observation.values():
        items.sort(key=lambda r: r["revision"])
        for index, item in enumerate(items):
            metric = metrics[item["metric_id"]]
            after = items[index + 1]["value"] if index + 1 < len(items) else item["current_value"]
            restatements.append(
                {
                    "metric": metric.name,
                    "period": labels.get(item["period_id"], ""),
                    "from_text": fmt.figure(item["value"], metric.decimals, metric.unit),
                    "to_text": fmt.figure(after, metric.decimals, metric.unit),
                    "when": fmt.datetime_text(item["superseded_at"]),
                    "when_sort": item["superseded_at"].isoformat(),
                    "reason": item["reason"] or "",
                }
            )
    restatements.sort(key=lambda r: (r["when_sort"], r["metric"], r["period"]))
    return {
        "restatements": restatements,
        "flags": [
            {"metric": row["name"], "text": FLAG_TEXT[row["flag"]]}
            for row in scorecard
            if row["flag"] in FLAG_TEXT
        ],
        "suppressed": [row["name"] for row in scorecard if not row["peers_disclosed"]],
        "outside_group": [
            row["name"] for row in scorecard if row["peers_disclosed"] and not row["in_peer_group"]
        ],
        "min_group": min_group,
    }
