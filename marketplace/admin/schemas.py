"""What the admin forms (and the admin API) send in: metrics, organisations, centres, users."""

from __future__ import annotations

import re

from marshmallow import EXCLUDE, Schema, fields, pre_load, validate

from marketplace.accounts.models import ROLES
from marketplace.addresses import EmailAddress
from marketplace.benchmarks.models import DIRECTIONS, UNITS
from marketplace.catalogue.centre_schemas import SUMMARY_MAX_LENGTH
from marketplace.catalogue.models import BUSINESS_MODELS, DELIVERY_MODELS

# 'new' is the page that adds a metric (/admin/metrics/new), so it cannot be a code.
CODE = re.compile(r"^(?!new$)[a-z][a-z0-9_]{1,59}$")
SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def _required(message: str) -> dict:
    return {"required": message, "null": message}


class _Form(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token, the confirmation flag, the button

    @pre_load
    def blanks_are_missing(self, data, **kwargs):
        """An empty box means 'not given' (None for numbers), never zero."""
        out = {}
        for key in data:
            value = data.getlist(key) if hasattr(data, "getlist") else [data[key]]
            value = value if key in self.list_fields else value[-1]
            if isinstance(value, str):
                value = value.strip()
                if value == "":
                    continue
            out[key] = value
        return out

    list_fields: tuple[str, ...] = ()


# The metric columns hold 12 digits before the point (Numeric(18, 6)); scale 8 (12, 4).
MAX_FIGURE = 999_999_999_999
MAX_SCALE = 10_000


def _figure() -> fields.Decimal:
    return fields.Decimal(
        load_default=None,
        allow_none=True,
        validate=validate.Range(
            min=-MAX_FIGURE,
            max=MAX_FIGURE,
            error=f"Enter a number between -{MAX_FIGURE:,} and {MAX_FIGURE:,}.",
        ),
        error_messages={"invalid": "Enter a number."},
    )


class MetricVersionSchema(_Form):
    """A metric's definition: everything that, if it changes, makes a new version."""

    name = fields.String(
        required=True,
        validate=validate.Length(max=200),
        error_messages=_required("Enter the metric's name."),
    )
    definition = fields.String(
        required=True,
        validate=validate.Length(max=2000),
        error_messages=_required("Enter the definition, e.g. 'total AP cost ÷ invoices'."),
    )
    numerator_label = fields.String(load_default="", validate=validate.Length(max=200))
    denominator_label = fields.String(load_default="", validate=validate.Length(max=200))
    unit = fields.String(
        required=True,
        validate=validate.OneOf(UNITS, error="Choose a unit."),
        error_messages=_required("Choose a unit."),
    )
    direction = fields.String(
        required=True,
        validate=validate.OneOf(DIRECTIONS, error="Choose whether higher or lower is better."),
        error_messages=_required("Choose whether higher or lower is better."),
    )
    valid_min = _figure()
    valid_max = _figure()
    decimals = fields.Integer(
        load_default=2,
        validate=validate.Range(0, 6, error="Enter a number of decimal places from 0 to 6."),
        error_messages={"invalid": "Enter a whole number of decimal places."},
    )
    scale = fields.Decimal(
        load_default=1,
        validate=validate.Range(
            min=0,
            max=MAX_SCALE,
            min_inclusive=False,
            error=f"The scale must be above 0 and at most {MAX_SCALE:,}.",
        ),
        error_messages={"invalid": "Enter a number (100 for percentages, otherwise 1)."},
    )
    is_share = fields.Boolean(
        load_default=False, truthy={"yes", "true", "1", "on"}, falsy={"no", "false", "0"}
    )
    target = _figure()
    reference = fields.String(load_default="", validate=validate.Length(max=2000))


class NewMetricSchema(MetricVersionSchema):
    code = fields.String(
        required=True,
        validate=validate.Regexp(
            CODE,
            error="Use 2 to 60 lower-case letters, digits and underscores, e.g. cost_per_hire.",
        ),
        error_messages=_required("Enter a code, e.g. cost_per_hire."),
    )
    service_line = fields.String(
        required=True, error_messages=_required("Choose the service line.")
    )


def _slug_field(what: str):
    return fields.String(
        load_default=None,
        validate=validate.Regexp(
            SLUG, error="Use lower-case letters, digits and single hyphens, e.g. hm-revenue."
        ),
        metadata={
            "description": f"The {what}'s identifier in addresses; made from the name if blank."
        },
    )


class OrganisationSchema(_Form):
    name = fields.String(
        required=True,
        validate=validate.Length(max=200),
        error_messages=_required("Enter the organisation's name."),
    )
    slug = _slug_field("organisation")
    parent = fields.String(load_default=None)


class NewCentreSchema(_Form):
    list_fields = ("service_lines",)

    name = fields.String(
        required=True,
        validate=validate.Length(max=200),
        error_messages=_required("Enter the centre's name."),
    )
    slug = _slug_field("centre")
    business_model = fields.String(
        required=True,
        validate=validate.OneOf(BUSINESS_MODELS, error="Choose a business model."),
        error_messages=_required("Choose a business model."),
    )
    delivery_model = fields.String(
        required=True,
        validate=validate.OneOf(DELIVERY_MODELS, error="Choose a delivery model."),
        error_messages=_required("Choose a delivery model."),
    )
    ownership_employee = fields.Decimal(
        load_default=0, validate=validate.Range(0, 100, error="Enter a share from 0 to 100.")
    )
    ownership_government = fields.Decimal(
        load_default=0, validate=validate.Range(0, 100, error="Enter a share from 0 to 100.")
    )
    ownership_private = fields.Decimal(
        load_default=0, validate=validate.Range(0, 100, error="Enter a share from 0 to 100.")
    )
    service_lines = fields.List(
        fields.String(),
        required=True,
        validate=validate.Length(min=1, error="Choose at least one service line."),
        error_messages=_required("Choose at least one service line."),
    )
    summary = fields.String(load_default="", validate=validate.Length(max=SUMMARY_MAX_LENGTH))


class InvitationSchema(_Form):
    email = EmailAddress(
        required=True, error_messages=_required("Enter the person's email address.")
    )
    name = fields.String(load_default="", validate=validate.Length(max=200))
    organisation = fields.String(
        required=True, error_messages=_required("Choose the person's organisation.")
    )
    role = fields.String(
        required=True,
        validate=validate.OneOf(ROLES, error="Choose buyer, centre or admin."),
        error_messages=_required("Choose buyer, centre or admin."),
    )


class RoleChangeSchema(_Form):
    organisation = fields.String(
        required=True, error_messages=_required("Choose the organisation.")
    )
    role = fields.String(
        required=True,
        validate=validate.OneOf(ROLES, error="Choose buyer, centre or admin."),
        error_messages=_required("Choose buyer, centre or admin."),
    )
    reason = fields.String(
        required=True,
        validate=validate.Length(max=2000),
        error_messages=_required("Give the reason for the change."),
    )
