"""Reading publications: the public list, one artefact by its stable address, the feed."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager

from marketplace.benchmarks.models import ReportingPeriod
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.publications import tables
from marketplace.publications.models import KINDS, Publication
from marketplace.web import pagination


@dataclass(frozen=True)
class Filters:
    centre: str | None = None
    period: str | None = None
    kind: str | None = None
    include_superseded: bool = False


def listing(filters: Filters):
    """A select of publications, newest period first, then centre name, then version."""
    statement = (
        select(Publication)
        .join(Publication.period)
        .outerjoin(Publication.centre)
        .options(contains_eager(Publication.period), contains_eager(Publication.centre))
        .order_by(
            *ReportingPeriod.newest_first(),
            Publication.kind,
            ServiceCentre.name,
            Publication.version.desc(),
        )
    )
    if filters.centre:
        statement = statement.where(ServiceCentre.slug == filters.centre)
    if filters.period:
        statement = statement.where(ReportingPeriod.code == filters.period)
    if filters.kind in KINDS:
        statement = statement.where(Publication.kind == filters.kind)
    if not filters.include_superseded:
        statement = statement.where(Publication.status == "current")
    return statement


def listing_page(filters: Filters, number: int, per_page: int) -> pagination.Page:
    return pagination.of_query(db.session, listing(filters), number, per_page)


def find(
    kind: str,
    period_code: str,
    *,
    centre_slug: str | None = None,
    version: int | None = None,
    subject: str | None = None,
) -> Publication:
    """The current version (version=None) or one fixed version of an artefact, else NotFound.

    A league table needs its subject: the overview (SECTOR) or a service line's table.
    """
    statement = (
        select(Publication)
        .join(Publication.period)
        .where(Publication.kind == kind, ReportingPeriod.code == period_code)
    )
    if subject is not None:
        statement = statement.where(Publication.subject == subject)
    if centre_slug is not None:
        statement = statement.join(Publication.centre).where(ServiceCentre.slug == centre_slug)
    if version is None:
        statement = statement.where(Publication.status == "current")
    else:
        statement = statement.where(Publication.version == version)
    publication = db.session.scalars(statement.limit(1)).first()
    if publication is None:
        what = f"version {version} of " if version is not None else ""
        raise NotFound(f"There is no published {what}that report.")
    return publication


def by_public_id(public_id: str) -> Publication:
    publication = db.session.scalars(
        select(Publication).where(Publication.public_id == public_id)
    ).first()
    if publication is None:
        raise NotFound("There is no publication with that id.")
    return publication


def versions_of(publication: Publication) -> list[Publication]:
    return list(
        db.session.scalars(
            select(Publication)
            .where(
                Publication.kind == publication.kind,
                Publication.period_id == publication.period_id,
                Publication.subject == publication.subject,
            )
            .order_by(Publication.version.desc())
        )
    )


def latest_of(publication: Publication) -> Publication | None:
    if publication.is_current:
        return publication
    return db.session.scalars(
        select(Publication).where(
            Publication.kind == publication.kind,
            Publication.period_id == publication.period_id,
            Publication.subject == publication.subject,
            Publication.status == "current",
        )
    ).first()


def current_league_lines(period_code: str) -> list[Publication]:
    """The current league table of each service line of a period, in the overview's order."""
    return list(
        db.session.scalars(
            select(Publication)
            .join(Publication.period)
            .where(
                ReportingPeriod.code == period_code,
                Publication.kind == "league_table",
                Publication.subject.startswith(tables.LINE_PREFIX),
                Publication.status == "current",
            )
            .order_by(Publication.subject)
        )
    )


def current_reports_for(centre_id: int, limit: int = 8) -> list[Publication]:
    """A centre's current performance reports, newest period first."""
    return list(
        db.session.scalars(
            select(Publication)
            .join(Publication.period)
            .options(contains_eager(Publication.period))
            .where(
                Publication.centre_id == centre_id,
                Publication.kind == "centre_report",
                Publication.status == "current",
            )
            .order_by(*ReportingPeriod.newest_first())
            .limit(limit)
        )
    )


def recent(limit: int = 50) -> list[Publication]:
    return list(
        db.session.scalars(
            select(Publication)
            .order_by(Publication.published_at.desc(), Publication.id.desc())
            .limit(limit)
        )
    )


def filter_choices() -> dict:
    """Centres and periods that have publications, for the filter form."""
    centres = db.session.execute(
        select(ServiceCentre.slug, ServiceCentre.name)
        .where(ServiceCentre.id.in_(select(Publication.centre_id).distinct()))
        .order_by(ServiceCentre.name)
    ).all()
    periods = db.session.scalars(
        select(ReportingPeriod.code)
        .where(ReportingPeriod.id.in_(select(Publication.period_id).distinct()))
        .order_by(*ReportingPeriod.newest_first())
    ).all()
    return {"centres": centres, "periods": periods}


def current_counts(period_ids: list[int]) -> dict[int, dict[str, int]]:
    """{period id: {kind: number of current artefacts}} for many periods in one query."""
    counts: dict[int, dict[str, int]] = {period_id: {} for period_id in period_ids}
    if not period_ids:
        return counts
    rows = db.session.execute(
        select(Publication.period_id, Publication.kind, func.count())
        .where(Publication.period_id.in_(period_ids), Publication.status == "current")
        .group_by(Publication.period_id, Publication.kind)
    )
    for period_id, kind, number in rows:
        counts[period_id][kind] = number
    return counts
