"""The query arguments of /centres and /api/v1/centres, loaded into a CentreQuery."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, pre_load, validates
from marshmallow.validate import Length, OneOf, Range

from marketplace.catalogue import services
from marketplace.catalogue.models import BUSINESS_MODELS, SERVICE_LINE_CODES, STATUSES


class CentreFilterSchema(Schema):
    """Query arguments of the centre list, identical for the HTML page and the API."""

    class Meta:
        unknown = EXCLUDE  # tracking and cache-busting parameters are ignored, not refused

    service_line = fields.List(
        fields.String(metadata={"enum": list(SERVICE_LINE_CODES)}),
        load_default=tuple,  # a callable, so the OpenAPI document shows no default
        metadata={
            "description": "Only centres offering this service line (code). Repeat it "
            "(service_line=finance&service_line=payroll) for centres offering every line named."
        },
    )
    business_model = fields.String(
        load_default=None,
        validate=OneOf(
            BUSINESS_MODELS, error="'{input}' is not a business model. Choose one of: {choices}."
        ),
        metadata={"description": "Only centres with this business model (code)."},
    )
    status = fields.String(
        load_default=None,
        validate=OneOf(
            STATUSES, error="'{input}' is not an accreditation status. Choose one of: {choices}."
        ),
        metadata={
            "description": "Accreditation status as of today ('expired' is derived from the "
            "validity dates). Applied and withdrawn centres are listed for admins only."
        },
    )
    q = fields.String(
        load_default=None,
        validate=Length(max=200, error="Search for 200 characters or fewer."),
        metadata={"description": "Words to find in the name, summary, platform or site towns."},
    )
    sort = fields.String(
        load_default=services.DEFAULT_SORT,
        validate=OneOf(
            tuple(services.SORTS), error="'{input}' is not a sort order. Choose one of: {choices}."
        ),
        metadata={"description": "Sort key; a leading '-' reverses it."},
    )
    page = fields.Integer(
        load_default=1,
        validate=[
            Range(min=1, error="The page number must be 1 or more."),
            Range(
                max=services.MAX_PAGE,
                error=f"The page number must be {services.MAX_PAGE:,} or less.",
            ),
        ],
        error_messages={"invalid": "The page number must be a whole number."},
    )
    per_page = fields.Integer(
        load_default=services.DEFAULT_PER_PAGE,
        validate=Range(
            min=1,
            max=services.MAX_PER_PAGE,
            error=f"Results per page must be from 1 to {services.MAX_PER_PAGE}.",
        ),
        error_messages={"invalid": "Results per page must be a whole number."},
    )

    @pre_load
    def drop_blanks(self, data, **kwargs):
        # An HTML form sends an empty value for "any"; treat it as not filtering at all.
        cleaned = {}
        # A query string's repeated service_line arrives as a list (the web page reads it
        # with getlist, the API through webargs); one value, from a caller or a test, too.
        lines = (
            data.getlist("service_line") if hasattr(data, "getlist") else data.get("service_line")
        )
        for key in data:
            value = lines if key == "service_line" else data[key]
            if key == "service_line":
                value = [value] if isinstance(value, str) else value
                if isinstance(value, list | tuple):
                    value = [v.strip() if isinstance(v, str) else v for v in value]
                    value = list(dict.fromkeys(v for v in value if v != ""))
                    if not value:
                        continue
            elif isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cleaned[key] = value
        return cleaned

    @validates("service_line")
    def known_service_line(self, value, **kwargs):
        if not value:  # marshmallow 4 also validates the load_default
            return
        codes = services.service_line_codes()
        unknown = [code for code in value if code not in codes]
        if unknown:
            raise ValidationError(
                " ".join(f"'{code}' is not a service line." for code in unknown)
                + f" Choose from: {', '.join(codes)}."
            )

    @post_load
    def make_query(self, data, **kwargs) -> services.CentreQuery:
        return services.CentreQuery(**{**data, "service_line": tuple(data["service_line"] or ())})
