"""The period-wide primitives: the sector league table and the open-data records.

Both come from the same figures as the centre reports (builder.build_period), so the league
table ranks, and the open data lists, exactly the published numbers.

The league table is published as one document per service line plus a short overview
(league_documents): WeasyPrint's layout of one 600-page table document grows faster than
linearly in time and memory, and a restatement then republishes only the service lines whose
figures moved. The whole table (league_table) is still built, for the open data's ranks.
"""

from __future__ import annotations

import hashlib

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
                "service_line_code": metric.service_line.code,
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


LINE_PREFIX = "line:"
SUBJECT_LENGTH = 40  # Publication.subject's column


def line_subject(code: str) -> str:
    """The publication subject of one service line's league table: 'line:<code>'."""
    subject = f"{LINE_PREFIX}{code}"
    if len(subject) > SUBJECT_LENGTH:  # the column would refuse it (PostgreSQL) or keep it whole
        raise ValueError(f"service line code {code!r} is too long for a publication subject")
    return subject


def line_code(subject: str) -> str | None:
    """The service line code of a league table subject, None for the overview (SECTOR)."""
    return subject.removeprefix(LINE_PREFIX) if subject.startswith(LINE_PREFIX) else None


def _line_library(library: dict, line_name: str) -> dict:
    """The definitions of one service line's metrics, with the fingerprint of that subset.

    Only its own definitions, so that a definition changing elsewhere in the library does
    not republish this service line's table (the fingerprint is worked out as builder's).
    """
    used = [d for d in library["definitions"] if d["service_line"] == line_name]
    fingerprint = hashlib.sha256(
        ",".join(
            f"{d['code']}@{d['version']}"
            for d in sorted(used, key=lambda d: (d["code"], d["version"]))
        ).encode()
    ).hexdigest()[:10]
    return {"fingerprint": fingerprint, "definitions": used}


def league_documents(league: dict, min_group: int, library: dict) -> tuple[dict, dict]:
    """(overview, {service line code: that line's league table}) from the whole table.

    Each line's document has the whole table's shape (so the same template renders it) with
    only that line's metrics. The overview says what the tables are and how they are worked
    out, and lists each line's metrics, but holds no figures: it changes only when a metric
    is ranked or unranked, or a group's size changes, never with a centre's figure.
    """
    lines: dict[str, dict] = {}
    for table in league["tables"]:
        code = table["service_line_code"]
        if code not in lines:
            lines[code] = {
                "kind": "league_table",
                "part": "line",
                "title": f"League table: {table['service_line']}, {league['period']['label']}",
                "service_line": {"code": code, "name": table["service_line"]},
                "period": league["period"],
                "tables": [],
                "method": method(min_group, _line_library(library, table["service_line"])),
            }
        lines[code]["tables"].append(table)
    overview = {
        "kind": "league_table",
        "part": "overview",
        "title": league["title"],
        "period": league["period"],
        "lines": [
            {
                "code": code,
                "name": doc["service_line"]["name"],
                "subject": line_subject(code),
                "metrics": [
                    {
                        "code": table["code"],
                        "name": table["name"],
                        "direction": table["direction"],
                        "n": table["n"],
                        "ranked": table["ranked"],
                    }
                    for table in doc["tables"]
                ],
            }
            for code, doc in lines.items()
        ],
        # The method without the definitions table: each line's document lists its own.
        "method": method(min_group, {"fingerprint": library["fingerprint"], "definitions": []}),
    }
    return overview, lines


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
