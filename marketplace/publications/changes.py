"""The note of what changed between two versions of an artefact, from their primitives."""

from __future__ import annotations

MAX_LINES = 15


def describe(kind: str, old: dict, new: dict) -> list[str]:
    if kind == "centre_report":
        lines = _centre(old, new)
    elif kind == "league_table":
        lines = _league(old, new)
    else:
        lines = _open_data(old, new)
    if not lines:
        lines = ["The published details were updated; the figures are unchanged."]
    if len(lines) > MAX_LINES:
        extra = len(lines) - (MAX_LINES - 1)
        lines = [*lines[: MAX_LINES - 1], f"…and {extra} more changes."]
    return lines


def _centre(old: dict, new: dict) -> list[str]:
    before = {row["code"]: row for row in old.get("scorecard", [])}
    after = {row["code"]: row for row in new.get("scorecard", [])}
    reasons = {
        (item["metric"], item["to_text"]): item["reason"]
        for item in new.get("data_quality", {}).get("restatements", [])
    }
    lines: list[str] = []
    for code, row in after.items():
        was = before.get(code)
        if was is None:
            lines.append(f"{row['name']}: added ({row['value_text']}).")
            continue
        if was["value_text"] != row["value_text"]:
            reason = reasons.get((row["name"], row["value_text"]))
            because = f" Reason given: {reason}" if reason else ""
            lines.append(
                f"{row['name']}: restated from {was['value_text']} to {row['value_text']}.{because}"
            )
        if was["median_text"] != row["median_text"]:
            lines.append(
                f"{row['name']}: peer median changed from {was['median_text'] or 'not disclosed'} "
                f"to {row['median_text'] or 'not disclosed'}."
            )
        if was["band_label"] != row["band_label"]:
            lines.append(
                f"{row['name']}: quartile band changed from {was['band_label']} "
                f"to {row['band_label']}."
            )
        if was["target_text"] != row["target_text"]:
            lines.append(
                f"{row['name']}: target removed."
                if not row["target_text"]
                else f"{row['name']}: target changed to {row['target_text']}."
            )
    lines.extend(f"{row['name']}: removed." for code, row in before.items() if code not in after)
    earlier = [
        trend["name"]
        for trend in new.get("trends", [])
        if trend["rows"][:-1] != _trend_rows(old, trend["code"])[:-1]
        and _trend_rows(old, trend["code"])
    ]
    if earlier:
        lines.append(f"Figures for earlier quarters changed for: {', '.join(earlier)}.")
    if old.get("commentary") != new.get("commentary"):
        lines.append("The centre's commentary was updated.")
    if old.get("method") != new.get("method"):
        lines.append("The method or metric definitions changed (see section 10).")
    if old.get("centre") != new.get("centre"):
        lines.append("The centre's details were updated.")
    return lines


def _trend_rows(data: dict, code: str) -> list:
    for trend in data.get("trends", []):
        if trend["code"] == code:
            return trend["rows"]
    return []


def _league(old: dict, new: dict) -> list[str]:
    if new.get("part") == "overview":
        return _league_overview(old, new)
    before = {table["code"]: table for table in old.get("tables", [])}
    lines = []
    for table in new.get("tables", []):
        was = before.get(table["code"])
        if was is None:
            lines.append(f"{table['name']}: now ranked.")
            continue
        old_entries = {e["centre_slug"]: e for e in was["entries"]}
        changed = [
            entry["centre_name"]
            for entry in table["entries"]
            if old_entries.get(entry["centre_slug"]) != entry
        ]
        changed += [
            e["centre_name"]
            for slug, e in old_entries.items()
            if slug not in {x["centre_slug"] for x in table["entries"]}
        ]
        if changed:
            lines.append(f"{table['name']}: figures or ranks changed for {', '.join(changed)}.")
    return lines


def _league_overview(old: dict, new: dict) -> list[str]:
    if old.get("part") != "overview":
        return [
            "The league table is now published as one document per service line; this "
            "overview says what they are and links to each."
        ]
    before = {(line["code"], m["code"]): m for line in old["lines"] for m in line["metrics"]}
    lines = []
    for line in new["lines"]:
        for metric in line["metrics"]:
            was = before.pop((line["code"], metric["code"]), None)
            if was is None:
                lines.append(f"{metric['name']}: now in the {line['name']} league table.")
            elif was["ranked"] != metric["ranked"]:
                lines.append(
                    f"{metric['name']}: {'now' if metric['ranked'] else 'no longer'} ranked."
                )
            elif was["n"] != metric["n"]:
                lines.append(f"{metric['name']}: {was['n']} centres before, {metric['n']} now.")
    lines.extend(f"{m['name']}: no longer in the league tables." for m in before.values())
    if old.get("method") != new.get("method"):
        lines.append("The method or metric library changed.")
    return lines


def _open_data(old: dict, new: dict) -> list[str]:
    key = lambda r: (r["centre"], r["metric"])  # noqa: E731
    before = {key(r): r for r in old.get("records", [])}
    after = {key(r): r for r in new.get("records", [])}
    lines = []
    for k, record in after.items():
        was = before.get(k)
        if was is None:
            lines.append(f"Added: {record['centre_name']}, {record['metric_name']}.")
        elif was != record:
            lines.append(f"Changed: {record['centre_name']}, {record['metric_name']}.")
    lines.extend(
        f"Removed: {r['centre_name']}, {r['metric_name']}."
        for k, r in before.items()
        if k not in after
    )
    return lines
