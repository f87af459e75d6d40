"""The audit trail as people read it: names instead of identifiers, changes as 'old → new'.

Events store identifiers (slugs, codes, e-mail addresses, ids) and raw JSON, which is what
the CSV export and the API hand on unchanged: data for machines. The admin page shows the same
events in words: the centre's, organisation's, metric's and user's names, a reporting period's
label, each detail on its own line, numbers and dates through marketplace.formatting, and
'not set' where a value is empty, never 'None'. Names are looked up in one query per kind for
the whole page, so a page of fifty events costs a handful of queries.

The audit area sits at the bottom of the house and knows no names; the admin area, above
every area it needs, composes them here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select

from marketplace import formatting
from marketplace.accounts.models import ApiToken, Organisation, User
from marketplace.benchmarks.models import Metric, ReportingPeriod
from marketplace.catalogue.models import ServiceCentre, ServiceLine
from marketplace.extensions import db
from marketplace.selection.models import Evaluation

NOT_SET = "not set"
ARROW = "→"
MAX_DEPTH = 4  # nested detail deeper than this is summarised, not spelled out
OBJECT_LABELS = {
    "api_token": "API token",
    "centre": "Centre",
    "email_domain": "E-mail domain",
    "evaluation": "Evaluation",
    "fixtures": "Fixtures",
    "metric": "Metric",
    "observation": "Figure",
    "organisation": "Organisation",
    "period": "Reporting period",
    "publication": "Publication",
    "request": "Request",
    "restatement": "Restatement",
    "submission": "Submission",
    "user": "User",
}
KEY_LABELS = {
    "api_token": "API token",
    "ip_address": "IP address",
    "sla": "SLA",
    "kpis": "KPIs",
    "centre_id": "Centre",
    "slug": "Centre",
    "organisation_id": "Organisation",
    "target_organisation_id": "Organisation",
    "url": "URL",
}
# Which kind of name a value stands for, by the key it is stored under.
CENTRE_KEYS = frozenset({"centre", "centres", "centre_slug", "slug", "chosen", "winner"})
ORGANISATION_KEYS = frozenset({"organisation", "parent", "owner", "buyer"})
METRIC_KEYS = frozenset({"metric", "metrics", "metric_code", "criterion", "new_criterion"})
PERIOD_KEYS = frozenset({"period", "periods", "period_code"})
SERVICE_LINE_KEYS = frozenset({"service_line", "service_lines"})
USER_KEYS = frozenset({"user", "email", "invited", "member"})
CENTRE_ID_KEYS = frozenset({"centre_id"})
ORGANISATION_ID_KEYS = frozenset({"organisation_id", "target_organisation_id"})
CHANGE_PAIRS = (("before", "after"), ("from", "to"), ("old", "new"), ("was", "now"))
_DECIMAL = re.compile(r"-?\d+\.\d+")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


@dataclass
class Names:
    """Display names for the identifiers on one page of events."""

    centres: dict[str, str] = field(default_factory=dict)
    centre_ids: dict[int, str] = field(default_factory=dict)
    organisations: dict[str, str] = field(default_factory=dict)
    organisation_ids: dict[int, str] = field(default_factory=dict)
    metrics: dict[str, str] = field(default_factory=dict)
    periods: dict[str, str] = field(default_factory=dict)
    service_lines: dict[str, str] = field(default_factory=dict)
    users: dict[str, str] = field(default_factory=dict)
    evaluations: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def user(self, email: str) -> str:
        name = self.users.get(email)
        return f"{name} ({email})" if name else email

    def for_key(self, key: str, value) -> str | None:
        """The name a value stands for under this key, or None if it names nothing known."""
        if isinstance(value, bool):
            return None
        if isinstance(value, int):
            if key in CENTRE_ID_KEYS:
                return self.centre_ids.get(value)
            if key in ORGANISATION_ID_KEYS:
                return self.organisation_ids.get(value)
            return None
        if not isinstance(value, str):
            return None
        for keys, names in (
            (CENTRE_KEYS, self.centres),
            (ORGANISATION_KEYS, self.organisations),
            (METRIC_KEYS, self.metrics),
            (PERIOD_KEYS, self.periods),
            (SERVICE_LINE_KEYS, self.service_lines),
        ):
            if key in keys:
                return names.get(value)
        if key in USER_KEYS and value in self.users:
            return self.user(value)
        return None

    def for_mapping_key(self, key: str) -> str | None:
        """A dict key that is itself an identifier: {centre slug: …} or {metric code: …}."""
        return self.centres.get(key) or self.metrics.get(key)


def _strings(value, depth: int = 0) -> Iterable[str]:
    if depth > MAX_DEPTH + 2:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _ints(value, keys: frozenset, depth: int = 0) -> Iterable[int]:
    if depth > MAX_DEPTH + 2 or not isinstance(value, dict):
        return
    for key, item in value.items():
        if key in keys and isinstance(item, int) and not isinstance(item, bool):
            yield item
        elif isinstance(item, dict):
            yield from _ints(item, keys, depth + 1)


def _lookup(pairs, wanted) -> dict:
    wanted = [w for w in wanted if w]
    if not wanted:
        return {}
    found: dict = {}
    key_column, name_column = pairs
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            db.session.execute(select(key_column, name_column).where(key_column.in_(chunk))).all()
        )
    return found


def names_for(events) -> Names:
    """Every name the page needs, one query per kind."""
    strings: set[str] = set()
    centre_ids: set[int] = set()
    organisation_ids: set[int] = set()
    for event in events:
        strings.update(_strings(event.detail or {}))
        strings.add(event.actor_label)
        if event.object_id:
            strings.add(event.object_id)
            strings.update(event.object_id.split("/"))
        centre_ids.update(_ints(event.detail or {}, CENTRE_ID_KEYS))
        organisation_ids.update(_ints(event.detail or {}, ORGANISATION_ID_KEYS))
        if event.organisation_id is not None:
            organisation_ids.add(event.organisation_id)
    # Identifiers are short; a long string (a rationale, a reason) names nothing.
    wanted = sorted(s for s in strings if 0 < len(s) <= 320)
    periods = {}
    codes = [s for s in wanted if re.fullmatch(r"\d{4}-Q[1-4]", s)]
    if codes:
        for period in db.session.scalars(
            select(ReportingPeriod).where(ReportingPeriod.code.in_(codes))
        ):
            periods[period.code] = period.label
    return Names(
        centres=_lookup((ServiceCentre.slug, ServiceCentre.name), wanted),
        centre_ids=_lookup((ServiceCentre.id, ServiceCentre.name), sorted(centre_ids)),
        organisations=_lookup((Organisation.slug, Organisation.name), wanted),
        organisation_ids=_lookup((Organisation.id, Organisation.name), sorted(organisation_ids)),
        metrics={
            code: name
            for code, name in db.session.execute(
                select(Metric.code, Metric.name)
                .where(Metric.code.in_(wanted[:2000]))
                .order_by(Metric.version)
            )
        },
        periods=periods,
        service_lines=_lookup((ServiceLine.code, ServiceLine.name), wanted),
        users={
            email: name
            for email, name in _lookup(
                (User.email, User.name), [s for s in wanted if "@" in s]
            ).items()
            if name
        },
        evaluations=_lookup((Evaluation.public_id, Evaluation.title), wanted),
        tokens=_lookup((ApiToken.public_id, ApiToken.name), wanted),
    )


def key_label(key: str) -> str:
    if key in KEY_LABELS:
        return KEY_LABELS[key]
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:] if words else key


def value_text(value, key: str = "", names: Names | None = None, depth: int = 0) -> str:
    """One value in words: a name where it names something, numbers and dates formatted."""
    if names is not None:
        named = names.for_key(key, value)
        if named:
            return named
    if value is None or value == "":
        return NOT_SET
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return formatting.number(value, 0)
    if isinstance(value, float):
        return formatting.number(value, 0 if value.is_integer() else 2)
    if isinstance(value, str):
        return _string_text(value)
    if depth >= MAX_DEPTH:
        return "…"
    if isinstance(value, list):
        if not value:
            return "none"
        return "; ".join(value_text(item, key, names, depth + 1) for item in value)
    if isinstance(value, dict):
        change = _change(value)
        if change is not None:
            old, new = change
            return (
                f"{value_text(old, key, names, depth + 1)} {ARROW} "
                f"{value_text(new, key, names, depth + 1)}"
            )
        parts = [
            f"{_mapping_key(k, names)}: {value_text(v, k, names, depth + 1)}"
            for k, v in value.items()
        ]
        text = ", ".join(parts) if parts else "none"
        return f"({text})" if depth else text
    return str(value)


def _mapping_key(key, names: Names | None) -> str:
    key = str(key)
    if names is not None:
        named = names.for_mapping_key(key)
        if named:
            return named
    return key_label(key)


def _string_text(value: str) -> str:
    text = value.strip()
    if _DECIMAL.fullmatch(text):
        try:
            number = Decimal(text).normalize()
        except InvalidOperation:
            return value
        places = max(0, -number.as_tuple().exponent)
        return formatting.number(number, min(places, 6))
    if _ISO_MOMENT.fullmatch(text):
        try:
            return formatting.datetime_text(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            return value
    if _ISO_DATE.fullmatch(text):
        try:
            return formatting.date_text(date.fromisoformat(text))
        except ValueError:
            return value
    return value


def _change(value: dict):
    """(old, new) when the dict records one change, as {'before': …, 'after': …}."""
    for old, new in CHANGE_PAIRS:
        if set(value) == {old, new}:
            return value[old], value[new]
    return None


def detail_lines(detail: dict, names: Names) -> list[str]:
    """Each detail on its own line: 'Status: accredited → suspended'; a change set one per field."""
    lines: list[str] = []
    for key, value in (detail or {}).items():
        if isinstance(value, dict) and _change(value) is None and key in ("changed", "fields"):
            for field_name, item in value.items():
                if isinstance(item, list) and len(item) == 2:
                    item = {"before": item[0], "after": item[1]}
                lines.append(f"{key_label(field_name)}: {value_text(item, field_name, names)}")
            continue
        lines.append(f"{key_label(key)}: {value_text(value, key, names)}")
    return lines


def object_text(object_type: str | None, object_id: str | None, names: Names) -> str:
    if not object_type:
        return formatting.DASH
    label = OBJECT_LABELS.get(object_type, key_label(object_type))
    if not object_id:
        return label
    found = {
        "centre": names.centres,
        "organisation": names.organisations,
        "metric": names.metrics,
        "period": names.periods,
        "evaluation": names.evaluations,
        "api_token": names.tokens,
    }.get(object_type, {})
    if object_type == "user":
        return f"{label}: {names.user(object_id)}"
    if object_type == "observation":
        parts = object_id.split("/")
        if len(parts) == 3:
            centre, metric, period = parts
            return (
                f"{label}: {names.centres.get(centre, centre)}, "
                f"{names.metrics.get(metric, metric)}, {names.periods.get(period, period)}"
            )
    return f"{label}: {found.get(object_id, object_id)}"


def page_rows(rows) -> list[dict]:
    """The page's events as strings ready to print, newest first as searched."""
    names = names_for([row.event for row in rows])
    shown = []
    for row in rows:
        event = row.event
        shown.append(
            {
                "occurred_at": event.occurred_at,
                "actor": names.user(event.actor_label),
                "organisation": names.organisation_ids.get(event.organisation_id)
                or (row.organisation or formatting.DASH),
                "action": event.action,
                "object": object_text(event.object_type, event.object_id, names),
                "detail": detail_lines(event.detail or {}, names),
            }
        )
    return shown
