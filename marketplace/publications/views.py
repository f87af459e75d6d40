"""Public downloads (CONTRACT.md 'Downloads'), report pages, the list and the Atom feed.

Files are served from content-addressed storage with send_file: the ETag is the file's
SHA-256, so conditional GETs answer 304 and Range requests resume; a fixed version never
changes, so it may be cached for a year (immutable), while the 'latest' address is cached
briefly because a restatement can move it to a new version.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, abort, current_app, render_template, request, send_file, url_for

from marketplace.benchmarks import periods
from marketplace.benchmarks.periods import PERIOD_CODE
from marketplace.contracts import services as contracts
from marketplace.extensions import db
from marketplace.links import absolute_url
from marketplace.publications import contract_data, feed, lookups, opendata, queries, tables
from marketplace.publications.models import KIND_LABELS, SECTOR, Publication
from marketplace.publications.storage import storage_for
from marketplace.web import pagination

bp = Blueprint("publications", __name__, url_prefix="/reports")

# A service line code in a league table address: lower-case letters, digits and underscores
# (fixtures/README.md), short enough for a 'line:<code>' subject; anything else is not found.
LINE_CODE = re.compile(r"^[a-z0-9_]{1,35}$")
FIXED_MAX_AGE = 365 * 24 * 3600
LATEST_MAX_AGE = 300
PER_PAGE = 25


def _period(code: str) -> str:
    if not PERIOD_CODE.match(code):
        abort(404)
    return code


def _builder(external: bool):
    return absolute_url if external else url_for


def file_url(publication: Publication, *, fixed: bool = True, external: bool = False) -> str:
    """The file's address; external ones start with PUBLIC_URL, never the request's host."""
    url_for = _builder(external)
    period = publication.period.code
    ext = {"open_data_csv": "csv", "open_data_json": "json"}.get(publication.kind)
    if publication.kind == "centre_report":
        slug = publication.centre.slug
        if fixed:
            return url_for(
                "publications.centre_pdf_version",
                centre_slug=slug,
                period=period,
                version=publication.version,
            )
        return url_for(
            "publications.centre_pdf",
            centre_slug=slug,
            period=period,
        )
    if publication.kind == "league_table":
        line = tables.line_code(publication.subject)
        if line is not None:
            if fixed:
                return url_for(
                    "publications.league_line_pdf_version",
                    period=period,
                    line=line,
                    version=publication.version,
                )
            return url_for("publications.league_line_pdf", period=period, line=line)
        if fixed:
            return url_for(
                "publications.league_pdf_version",
                period=period,
                version=publication.version,
            )
        return url_for(
            "publications.league_pdf",
            period=period,
        )
    if fixed:
        return url_for(
            "publications.open_data_version",
            period=period,
            version=publication.version,
            ext=ext,
        )
    return url_for(
        "publications.open_data",
        period=period,
        ext=ext,
    )


def page_url(publication: Publication, *, fixed: bool = True, external: bool = False):
    """The HTML page of a report or league table (open data has none)."""
    url_for = _builder(external)
    period = publication.period.code
    version = {"version": publication.version} if fixed else {}
    if publication.kind == "centre_report":
        endpoint = "centre_page_version" if fixed else "centre_page"
        return url_for(
            f"publications.{endpoint}",
            centre_slug=publication.centre.slug,
            period=period,
            **version,
        )
    if publication.kind == "league_table":
        line = tables.line_code(publication.subject)
        if line is not None:
            endpoint = "league_line_page_version" if fixed else "league_line_page"
            return url_for(f"publications.{endpoint}", period=period, line=line, **version)
        endpoint = "league_page_version" if fixed else "league_page"
        return url_for(f"publications.{endpoint}", period=period, **version)
    return None


@bp.app_template_global("report_file_url")
def _file_url_global(publication, fixed=True):
    return file_url(publication, fixed=fixed)


@bp.app_template_global("report_page_url")
def _page_url_global(publication, fixed=True):
    return page_url(publication, fixed=fixed)


@dataclass(frozen=True)
class FileInfo:
    """What serving a file needs, copied out of the row so it can be cached between requests."""

    storage_key: str
    sha256: str
    content_type: str
    filename: str
    published_at: datetime
    latest_url: str | None  # set while this version is superseded


def _file_info(kind: str, period: str, *, centre_slug=None, version=None, subject=None) -> FileInfo:
    """The file behind a download URL, from the database or the short-lived lookup cache.

    Entries live REPORT_LOOKUP_CACHE_SECONDS (default 30; 0 switches the cache off): a
    'latest' address may serve the previous version for that long after a republication,
    well inside the five minutes for which its Cache-Control lets any client keep it anyway.
    Fixed versions never change; only their 'superseded' Link header can lag.
    """
    cache = lookups.current()
    key = (kind, period, centre_slug, version, subject)
    hit = cache.get(key)
    if hit is not None:
        return hit
    publication = queries.find(
        kind, _period(period), centre_slug=centre_slug, version=version, subject=subject
    )
    latest = None if publication.is_current else queries.latest_of(publication)
    info = FileInfo(
        storage_key=publication.storage_key,
        sha256=publication.sha256,
        content_type=publication.content_type,
        filename=publication.filename,
        published_at=publication.published_at,
        latest_url=file_url(latest) if latest is not None else None,
    )
    cache.put(key, info)
    return info


def _send(info: FileInfo, *, fixed: bool):
    response = send_file(
        storage_for(current_app.config).path(info.storage_key),
        # Werkzeug adds "; charset=utf-8" to text types itself: a charset here is doubled.
        mimetype=info.content_type.split(";", 1)[0],
        download_name=info.filename,
        conditional=True,
        etag=info.sha256,
        last_modified=info.published_at,
        max_age=FIXED_MAX_AGE if fixed else LATEST_MAX_AGE,
    )
    if fixed:
        response.cache_control.immutable = True
    if info.latest_url is not None:
        response.headers["Link"] = f'<{info.latest_url}>; rel="latest-version"'
    return response


# --- files ---------------------------------------------------------------------------------


@bp.get("/<centre_slug>/<period>.pdf")
def centre_pdf(centre_slug, period):
    return _send(_file_info("centre_report", period, centre_slug=centre_slug), fixed=False)


@bp.get("/<centre_slug>/<period>/v<int:version>.pdf")
def centre_pdf_version(centre_slug, period, version):
    info = _file_info("centre_report", period, centre_slug=centre_slug, version=version)
    return _send(info, fixed=True)


def _line(line: str) -> str:
    """A service line's league table subject; an impossible code is simply not found."""
    if not LINE_CODE.match(line):
        abort(404)
    return tables.line_subject(line)


@bp.get("/league-table/<period>.pdf")
def league_pdf(period):
    return _send(_file_info("league_table", period, subject=SECTOR), fixed=False)


@bp.get("/league-table/<period>/v<int:version>.pdf")
def league_pdf_version(period, version):
    return _send(_file_info("league_table", period, version=version, subject=SECTOR), fixed=True)


@bp.get("/league-table/<period>/<line>.pdf")
def league_line_pdf(period, line):
    return _send(_file_info("league_table", period, subject=_line(line)), fixed=False)


@bp.get("/league-table/<period>/<line>/v<int:version>.pdf")
def league_line_pdf_version(period, line, version):
    info = _file_info("league_table", period, version=version, subject=_line(line))
    return _send(info, fixed=True)


def _csv_response(publications: list[Publication], name: str):
    """The league tables of these publications as one CSV, built on request from the
    figures they published; its ETag is their files' digests, so a reader that has it
    is answered 304 without the figures being read."""
    etag = hashlib.sha256("|".join(p.sha256 for p in publications).encode()).hexdigest()
    response = current_app.response_class(mimetype="text/csv")
    response.set_etag(etag)
    response.cache_control.public = True
    response.cache_control.max_age = LATEST_MAX_AGE
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    if request.if_none_match.contains(etag):
        return response.make_conditional(request)
    ids = [p.id for p in publications]
    data = dict(
        db.session.execute(
            db.select(Publication.id, Publication.data).where(Publication.id.in_(ids))
        ).all()
    )
    response.set_data(opendata.league_csv([data[i] for i in ids]))
    return response.make_conditional(request)


@bp.get("/league-table/<period>.csv")
def league_csv(period):
    """Every service line's current league table of the period, in one CSV to sort."""
    overview = queries.find("league_table", _period(period), subject=SECTOR)
    lines = {p.subject: p for p in queries.current_league_lines(period)}
    order = [line["subject"] for line in overview.data.get("lines", [])]
    chosen = [lines[s] for s in order if s in lines] + [
        p for s, p in lines.items() if s not in order
    ]
    if not chosen:
        abort(404)
    return _csv_response(chosen, f"league-table-{period}.csv")


@bp.get("/league-table/<period>/<line>.csv")
def league_line_csv(period, line):
    publication = queries.find("league_table", _period(period), subject=_line(line))
    return _csv_response([publication], f"league-table-{period}-{line}.csv")


@bp.get("/<period>.<any(csv, json):ext>")
def open_data(period, ext):
    return _send(_file_info(f"open_data_{ext}", period), fixed=False)


@bp.get("/<period>/contracts.<any(csv, json):ext>")
def contract_ratings(period, ext):
    """Contract KPI ratings of a published period, built on request (contract_data.py)."""
    found = periods.get_period_or_none(_period(period))
    if found is None or found.status != "published":
        abort(404)
    records = contracts.open_data(found)
    if ext == "csv":
        content, mimetype = contract_data.to_csv(records), "text/csv"
    else:
        content, mimetype = contract_data.to_json(found.code, records), "application/json"
    response = current_app.response_class(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="contracts-{found.code}.{ext}"'
    response.set_etag(contract_data.etag(content))
    response.cache_control.public = True
    response.cache_control.max_age = LATEST_MAX_AGE
    return response.make_conditional(request)


@bp.get("/<period>/v<int:version>.<any(csv, json):ext>")
def open_data_version(period, version, ext):
    return _send(_file_info(f"open_data_{ext}", period, version=version), fixed=True)


# --- pages ---------------------------------------------------------------------------------


def _report_page(publication: Publication, template: str):
    versions = queries.versions_of(publication)
    latest = next((p for p in versions if p.is_current), None)
    data = db.session.scalars(
        db.select(Publication.data).where(Publication.id == publication.id)
    ).one()
    return render_template(
        template,
        publication=publication,
        data=data,
        envelope=publication.envelope,
        versions=versions,
        latest=latest,
    )


@bp.get("/<centre_slug>/<period>")
def centre_page(centre_slug, period):
    publication = queries.find("centre_report", _period(period), centre_slug=centre_slug)
    return _report_page(publication, "reports/centre_page.html")


@bp.get("/<centre_slug>/<period>/v<int:version>")
def centre_page_version(centre_slug, period, version):
    publication = queries.find(
        "centre_report", _period(period), centre_slug=centre_slug, version=version
    )
    return _report_page(publication, "reports/centre_page.html")


@bp.get("/league-table/<period>")
def league_page(period):
    publication = queries.find("league_table", _period(period), subject=SECTOR)
    return _report_page(publication, "reports/league_page.html")


@bp.get("/league-table/<period>/v<int:version>")
def league_page_version(period, version):
    publication = queries.find("league_table", _period(period), version=version, subject=SECTOR)
    return _report_page(publication, "reports/league_page.html")


@bp.get("/league-table/<period>/<line>")
def league_line_page(period, line):
    publication = queries.find("league_table", _period(period), subject=_line(line))
    return _report_page(publication, "reports/league_page.html")


@bp.get("/league-table/<period>/<line>/v<int:version>")
def league_line_page_version(period, line, version):
    publication = queries.find(
        "league_table", _period(period), version=version, subject=_line(line)
    )
    return _report_page(publication, "reports/league_page.html")


@bp.get("")
def index():
    args = request.args
    filters = queries.Filters(
        centre=args.get("centre") or None,
        period=args.get("period") or None,
        kind=args.get("kind") or None,
        include_superseded=args.get("versions") == "all",
    )
    page = queries.listing_page(filters, pagination.page_number(args.get("page")), PER_PAGE)
    return render_template(
        "reports/index.html",
        page=page,
        filters=filters,
        choices=queries.filter_choices(),
        kinds=KIND_LABELS,
        pagination=pagination.links(page, "Pages of publications"),
    )


@bp.get("/feed.atom")
def atom_feed():
    body = feed.atom(queries.recent())
    response = current_app.response_class(body, mimetype="application/atom+xml")
    response.cache_control.public = True
    response.cache_control.max_age = LATEST_MAX_AGE
    return response
