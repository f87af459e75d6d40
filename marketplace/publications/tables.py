"""The period-wide primitives: the sector league table and the open-data records.

Both come from the same figures as the centre reports (builder.build_period), so the league
table ranks, and the open data lists, exactly the published numbers.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace.benchmarks import peers
from marketplace.benchmarks.statistics import competition_ranks
from marketplace.catalogue.models import ServiceCentre
from marketplace.extensions import db
from marketplace.publications import formatting as fmt

# The statistics method of DOMAIN.md, as published on the methodology page; bump it (and say
# what changed in the reports' method section) whenever the method changes.
METHOD_VERSION = "2026.1"


def method(min_group: int, library: dict) -> dict:
    return {"version": METHOD_VERSION, "min_group": min_group, "library": library}


def league_table(period, period_info, metrics, stats_now, rows, min_group, library) -> dict:
    """Each metric's peer group ranked best first (competition ranking: ties share a rank)."""
    values = {(r.metric_id, r.centre_id): r.value for r in rows if r.period_id == period.id}
    member_ids = sorted({cid for _, cid in values})
    names, slugs = {}, {}
    for start in range(0, len(member_ids), 5000):
        chunk = member_ids[start : start + 5000]
        for cid, name, slug in db.session.execute(
            select(ServiceCentre.id, ServiceCentre.name, ServiceCentre.slug).where(
                ServiceCentre.id.in_(chunk)
            )
        ):
            names[cid], slugs[cid] = name, slug
    tables = []
    ordered = sorted(
        (m for m in metrics.values() if (m.id, period.id) in stats_now),
        key=lambda m: (m.service_line.position, m.position, m.code),
    )
    for metric in ordered:
        stats = stats_now[(metric.id, period.id)]
        members = [cid for cid in stats.peer_centre_ids if (metric.id, cid) in values]
        disclosed = peers.disclosable(stats, min_group)
        ranks = competition_ranks(
            {cid: values[(metric.id, cid)] for cid in members},
            higher_is_better=metric.direction == "higher",
        )
        entries = []
        for cid in members:
            value = values[(metric.id, cid)]
            band = peers.band_only(metric, stats, value) if disclosed else None
            entries.append(
                {
                    "rank": ranks[cid] if disclosed else None,
                    "centre_slug": slugs[cid],
                    "centre_name": names[cid],
                    "value": fmt.plain(value, metric.decimals),
                    "value_text": fmt.figure(value, metric.decimals, metric.unit),
                    "band": band,
                    "band_label": fmt.band_label(band),
                }
            )
        entries.sort(key=lambda e: (e["rank"] or 0, e["centre_name"], e["centre_slug"]))
        tables.append(
            {
                "code": metric.code,
                "version": metric.version,
                "name": metric.name,
                "service_line": metric.service_line.name,
                "direction": "Higher is better"
                if metric.direction == "higher"
                else "Lower is better",
                "n": stats.n,
                "ranked": disclosed,
                "median_text": fmt.figure(stats.median, metric.decimals, metric.unit)
                if disclosed
                else "",
                "entries": entries,
            }
        )
    return {
        "kind": "league_table",
        "title": f"League table of accredited shared-service centres, {period.label}",
        "period": period_info,
        "tables": tables,
        "method": method(min_group, library),
    }


def open_data(period_info, reports, league) -> dict:
    """One row per published figure: exactly the numbers in the reports and league table."""
    ranks = {
        (table["code"], entry["centre_slug"]): entry["rank"]
        for table in league["tables"]
        for entry in table["entries"]
    }
    records = []
    for report in sorted(reports.values(), key=lambda r: r["centre"]["slug"]):
        for row in report["scorecard"]:
            records.append(
                {
                    "period": period_info["code"],
                    "centre": report["centre"]["slug"],
                    "centre_name": report["centre"]["name"],
                    "metric": row["code"],
                    "metric_version": row["version"],
                    "metric_name": row["name"],
                    "service_line": row["service_line"],
                    "unit": row["unit"],
                    "direction": row["direction"],
                    "value": row["value"],
                    "numerator": row["numerator"],
                    "denominator": row["denominator"],
                    "peer_n": row["peer_n"],
                    "peer_median": row["median"],
                    "percentile": row["percentile"],
                    "band": row["band"],
                    "rank": ranks.get((row["code"], report["centre"]["slug"])),
                    "restated": row["restated"],
                }
            )
    return {
        "kind": "open_data",
        "title": f"Published benchmark figures, {period_info['label']}",
        "period": period_info,
        "method_version": METHOD_VERSION,
        "records": records,
    }
