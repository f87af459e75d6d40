"""What the reports API and the /reports list take and give (marshmallow).

- ReportFilterSchema: query arguments of GET /api/v1/reports (and the page's filter form).
- ReportSchema: one published version of one artefact, with its addresses.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from marketplace.benchmarks.periods import PERIOD_CODE
from marketplace.publications.models import KINDS, PUBLICATION_STATUSES


class ReportFilterSchema(Schema):
    centre = fields.String(
        validate=validate.Length(max=80),
        metadata={"description": "Only this centre's reports (its slug)."},
    )
    period = fields.String(
        validate=validate.Regexp(PERIOD_CODE, error="Write a period as YYYY-Qn, e.g. 2026-Q1."),
        metadata={"description": "Only this reporting period, YYYY-Qn."},
    )
    kind = fields.String(
        validate=validate.OneOf(KINDS),
        metadata={"description": "centre_report, league_table, open_data_csv or open_data_json."},
    )
    include_superseded = fields.Boolean(
        load_default=False,
        metadata={"description": "Also list versions replaced by a later one (default false)."},
    )


class CentreRefSchema(Schema):
    slug = fields.String()
    name = fields.String()


class ReportLinksSchema(Schema):
    self_ = fields.String(data_key="self", metadata={"description": "This resource in the API."})
    download = fields.String(
        metadata={"description": "This version's file; immutable, cacheable for a year."}
    )
    latest = fields.String(
        metadata={"description": "The current version's file at its stable address."}
    )
    html = fields.String(
        allow_none=True,
        metadata={"description": "This version as a web page (null for open data)."},
    )


class ReportSchema(Schema):
    id = fields.String(metadata={"description": "Random, stable id of this version."})
    kind = fields.String(validate=validate.OneOf(KINDS))
    title = fields.String()
    centre = fields.Nested(CentreRefSchema, allow_none=True)
    period = fields.String(metadata={"description": "The reporting period, YYYY-Qn."})
    version = fields.Integer(metadata={"description": "1 for the first publication."})
    status = fields.String(
        validate=validate.OneOf(PUBLICATION_STATUSES),
        metadata={"description": "current, or superseded by a later version."},
    )
    published_at = fields.DateTime(format="iso")
    superseded_at = fields.DateTime(format="iso", allow_none=True)
    sha256 = fields.String(metadata={"description": "SHA-256 of the file; also its ETag."})
    size_bytes = fields.Integer()
    content_type = fields.String()
    page_count = fields.Integer(allow_none=True)
    filename = fields.String()
    change_note = fields.List(
        fields.String(),
        metadata={"description": "What changed since the previous version (empty for v1)."},
    )
    links = fields.Nested(ReportLinksSchema)
