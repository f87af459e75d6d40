"""Planning a period's publication: which artefacts are missing or whose figures changed.

Planning builds the period's primitives (builder.py) and compares each artefact's input hash
with its current publication: only what is missing or changed becomes a work item, so
publishing is idempotent and a stopped run resumes where it stopped. A work item carries
everything its render needs — primitives, version number, publication time, note of what
changed — as plain data, so a local worker process or an RQ worker elsewhere produces the
same bytes. services.py produces and records the items (and re-exports what is here).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select

from marketplace import clock
from marketplace.accounts.models import Organisation
from marketplace.benchmarks import peers
from marketplace.benchmarks.models import ReportingPeriod
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.publications import builder, changes, tables
from marketplace.publications import formatting as fmt
from marketplace.publications.models import SECTOR, Publication, centre_subject

DEFAULT_AUTHOR = "Shared Services Accreditation Authority"


@dataclass
class WorkItem:
    kind: str
    period_id: int
    period_code: str
    subject: str
    centre_id: int | None
    centre_slug: str | None
    title: str
    data: dict
    input_hash: str
    version: int
    published_at: str  # ISO 8601, UTC
    author: str
    actor_label: str
    previous: list[dict] = field(default_factory=list)
    change_note: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> WorkItem:
        return cls(**values)

    @property
    def moment(self) -> datetime:
        return datetime.fromisoformat(self.published_at)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.centre_slug or self.subject} {self.period_code} v{self.version}"


@dataclass
class Plan:
    period_code: str
    items: list[WorkItem]
    unchanged: int


def author_name() -> str:
    configured = current_app.config.get("REPORT_AUTHOR")
    if configured:
        return configured
    name = db.session.scalar(
        select(Organisation.name).where(Organisation.kind == "authority").order_by(Organisation.id)
    )
    return name or DEFAULT_AUTHOR


def min_group() -> int:
    return peers.min_peer_group()


# --- planning ------------------------------------------------------------------------------


def plan_period(period: ReportingPeriod, *, actor_label: str, now: datetime | None = None) -> Plan:
    """The artefacts of a period that are missing or whose figures changed."""
    now = (now or clock.now()).astimezone(UTC).replace(microsecond=0)
    build = builder.build_period(period, min_group=min_group())
    wanted: list[tuple[str, str, int | None, str | None, dict]] = [
        ("centre_report", centre_subject(cid), cid, data["centre"]["slug"], data)
        for cid, data in build.centre_reports.items()
    ]
    if build.centre_reports:
        wanted.append(("league_table", SECTOR, None, None, _with_links(build, period)))
        wanted += [
            ("league_table", tables.line_subject(code), None, None, data)
            for code, data in build.league_lines.items()
        ]
        wanted += [
            ("open_data_csv", SECTOR, None, None, build.open_data),
            ("open_data_json", SECTOR, None, None, build.open_data),
        ]
    existing = _versions(period.id)
    author = author_name()
    items, unchanged = [], 0
    for kind, subject, centre_id, slug, data in wanted:
        versions = existing.get((kind, subject), [])
        current = next((p for p in versions if p.is_current), None)
        digest = builder.input_hash(data)
        if current is not None and current.input_hash == digest:
            unchanged += 1
            continue
        items.append(
            WorkItem(
                kind=kind,
                period_id=period.id,
                period_code=period.code,
                subject=subject,
                centre_id=centre_id,
                centre_slug=slug,
                title=data["title"],
                data=data,
                input_hash=digest,
                version=max((p.version for p in versions), default=0) + 1,
                published_at=now.isoformat(),
                author=author,
                actor_label=actor_label,
                previous=[
                    {"version": p.version, "published_text": fmt.datetime_text(p.published_at)}
                    for p in sorted(versions, key=lambda p: p.version, reverse=True)
                ],
                change_note=changes.describe(kind, current.data, data) if current else [],
            )
        )
    return Plan(period.code, items, unchanged)


def _with_links(build: builder.PeriodBuild, period: ReportingPeriod) -> dict:
    """The overview with each service line's addresses: a PDF's links must be absolute."""
    overview = build.league_overview
    for line in overview["lines"]:
        values = {"period": period.code, "line": line["code"]}
        line["pdf_url"] = absolute_url("publications.league_line_pdf", **values)
        line["page_url"] = absolute_url("publications.league_line_page", **values)
        line["csv_url"] = absolute_url("publications.league_line_csv", **values)
    return overview


def _versions(period_id: int) -> dict[tuple[str, str], list[Publication]]:
    found: dict[tuple[str, str], list[Publication]] = {}
    for publication in db.session.scalars(
        select(Publication).where(Publication.period_id == period_id)
    ):
        found.setdefault((publication.kind, publication.subject), []).append(publication)
    return found
