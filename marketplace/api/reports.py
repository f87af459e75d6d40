"""Published reports: every version of every centre report, league table and open-data file.

Public: what is published is public. The files themselves are served from /reports (see the
`links`), with ETags and conditional requests; this API lists and describes them.
"""

from __future__ import annotations

from marketplace.api.common import (
    OPTIONAL_AUTH,
    PageArgsSchema,
    api_blueprint,
    envelope,
    page_schema,
    paginate,
    problem_response,
)
from marketplace.links import absolute_url
from marketplace.publications import queries
from marketplace.publications.models import Publication
from marketplace.publications.schemas import ReportFilterSchema, ReportSchema
from marketplace.publications.views import file_url, page_url

bp = api_blueprint(
    "reports",
    __name__,
    description=(
        "Published performance reports, league tables and open data: each version, its "
        "SHA-256, size and where to download it. Published files never change; a correction "
        "is a new version and the old one is marked superseded."
    ),
)


class ReportListArgsSchema(PageArgsSchema, ReportFilterSchema):
    pass


def as_item(publication: Publication) -> dict:
    latest = queries.latest_of(publication) or publication
    return {
        "id": publication.public_id,
        "kind": publication.kind,
        "title": publication.title,
        "centre": (
            {"slug": publication.centre.slug, "name": publication.centre.name}
            if publication.centre is not None
            else None
        ),
        "period": publication.period.code,
        "version": publication.version,
        "status": publication.status,
        "published_at": publication.published_at,
        "superseded_at": publication.superseded_at,
        "sha256": publication.sha256,
        "size_bytes": publication.size_bytes,
        "content_type": publication.content_type,
        "page_count": publication.page_count,
        "filename": publication.filename,
        "change_note": [line for line in publication.change_note.splitlines() if line],
        "links": {
            "self_": absolute_url("reports.get_report", report_id=publication.public_id),
            "download": file_url(publication, fixed=True, external=True),
            "latest": file_url(latest, fixed=False, external=True),
            "html": page_url(publication, fixed=True, external=True),
        },
    }


@bp.route("/reports")
@bp.doc(security=OPTIONAL_AUTH)
@bp.arguments(ReportListArgsSchema, location="query", as_kwargs=True)
@bp.response(200, page_schema(ReportSchema, "ReportPage"))
@problem_response(bp, 422, "A filter is not valid (see errors).")
def list_reports(page, per_page, include_superseded=False, centre=None, period=None, kind=None):
    """List published reports

    Newest period first. By default only the current version of each report; ask for
    `include_superseded=true` to see every version.
    """
    filters = queries.Filters(
        centre=centre, period=period, kind=kind, include_superseded=include_superseded
    )
    result = paginate(queries.listing(filters), page, per_page)
    result.items = [as_item(p) for p in result.items]
    return envelope(result)


@bp.route("/reports/<report_id>")
@bp.doc(security=OPTIONAL_AUTH)
@bp.response(200, ReportSchema)
@problem_response(bp, 404, "No published report has that id.")
def get_report(report_id):
    """Read one published report version"""
    return as_item(queries.by_public_id(report_id))
