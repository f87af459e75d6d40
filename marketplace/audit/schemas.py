"""The audit trail's filters (page, API and CSV alike) and an event as the API shows it."""

from __future__ import annotations

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from marketplace.audit.services import TO_BEFORE_FROM, AuditQuery
from marketplace.web.fields import IsoDate
from marketplace.web.pagination import MAX_PAGE

MAX_PER_PAGE = 100
DATES = ("from", "to")
# OFFSET must fit a 64-bit integer: a larger page number failed in the database (a 500).


class AuditFilterSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    actor = fields.String(
        load_default=None,
        validate=validate.Length(max=320),
        metadata={"description": "Part of the actor's email address or label (e.g. 'cli:')."},
    )
    organisation = fields.String(
        load_default=None,
        # organisations.slug is String(80) (accounts, which the audit area may not import).
        validate=validate.Length(max=80, error="An organisation's slug is 80 characters or fewer."),
        metadata={"description": "The slug of the organisation the event concerns."},
    )
    action = fields.String(
        load_default=None,
        validate=validate.Length(max=80),
        metadata={
            "description": "An action (`accreditation.suspend`), or a prefix ending in `.` or "
            "`*` (`accreditation.`)."
        },
    )
    object = fields.String(
        load_default=None,
        validate=validate.Length(max=200),
        metadata={"description": "`type` or `type:id`, e.g. `centre:northmoor`."},
    )
    date_from = IsoDate(
        data_key="from",
        load_default=None,
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
        metadata={"description": "First day (UTC), inclusive, YYYY-MM-DD."},
    )
    date_to = IsoDate(
        data_key="to",
        load_default=None,
        error_messages={"invalid": "Enter the date as YYYY-MM-DD."},
        metadata={"description": "Last day (UTC), inclusive, YYYY-MM-DD."},
    )

    @pre_load
    def drop_blanks(self, data, **kwargs):
        # A form's empty field is no filter; free text is trimmed; a date is read as sent,
        # so that ' 2026-01-01' is refused here as the document's `format: date` refuses it.
        return {
            key: value if key in DATES else value.strip()
            for key, value in dict(data).items()
            if isinstance(value, str) and value.strip()
        }

    # Run even when another filter is wrong, so the page reports the dates' order with it
    # at once (services.statement checks it again for every caller).
    @validates_schema(skip_on_field_errors=False)
    def to_on_or_after_from(self, data, **kwargs):
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from is not None and date_to is not None and date_from > date_to:
            raise ValidationError(TO_BEFORE_FROM, "to")

    @post_load
    def make_query(self, data, **kwargs) -> dict:
        names = ("actor", "organisation", "action", "object", "date_from", "date_to")
        query = AuditQuery(**{name: data.pop(name, None) for name in names})
        return {"query": query, **data}


class AuditPageArgsSchema(AuditFilterSchema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": f"From 1 to {MAX_PAGE:,}."},
    )
    per_page = fields.Integer(
        load_default=50,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"At most {MAX_PER_PAGE}."},
    )
    format = fields.String(
        load_default="json",
        validate=validate.OneOf(("json", "csv")),
        metadata={
            "description": "`csv` for every matching event as CSV (or send Accept: text/csv)."
        },
    )


class AuditEventSchema(Schema):
    id = fields.Integer()
    occurred_at = fields.DateTime()
    actor = fields.String(metadata={"description": "Email address, 'cli:USER' or 'system'."})
    organisation = fields.String(allow_none=True, metadata={"description": "Organisation slug."})
    action = fields.String()
    object_type = fields.String(allow_none=True)
    object_id = fields.String(allow_none=True)
    detail = fields.Dict(metadata={"description": "What changed (before/after, reason…)."})
    ip_address = fields.String(allow_none=True)
