"""What goes into and comes out of the catalogue, shared by the HTML pages, the API and the CLI.

- CentreFilterSchema: query arguments of /centres and /api/v1/centres -> CentreQuery.
- CentreSummarySchema: one item of a list; CentreSchema: every catalogue field (dump only).
- CentreUpdateSchema: a PATCH by the centre's own users or an admin -> a flat dict of
  column names that services.update_centre applies.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import (
    EXCLUDE,
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_load,
    validates,
    validates_schema,
)
from marshmallow.validate import URL, Email, Length, OneOf, Range

from marketplace.catalogue import services
from marketplace.catalogue.models import (
    BUSINESS_MODEL_LABELS,
    BUSINESS_MODELS,
    CERTIFICATION_LABELS,
    CERTIFICATION_SCHEMES,
    DELIVERY_MODEL_LABELS,
    DELIVERY_MODELS,
    STATUS_LABELS,
    STATUSES,
)
from marketplace.errors import FieldError, ValidationFailed

# --- helpers shared by every caller --------------------------------------------------------


def field_errors(messages, prefix: str | None = None) -> list[FieldError]:
    """marshmallow's nested {field: [message]} as a flat list of FieldErrors ('sites.0.name')."""
    out: list[FieldError] = []
    if isinstance(messages, dict):
        for key, inner in messages.items():
            name = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            out.extend(field_errors(inner, name))
    elif isinstance(messages, list):
        for item in messages:
            out.extend(field_errors(item, prefix))
    else:
        out.append(FieldError(str(messages), field=prefix))
    return out


def load_or_fail(schema: Schema, data, detail: str = "Some of the values are not valid."):
    """Load with a schema, turning marshmallow's errors into the app's ValidationFailed."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise ValidationFailed(detail, errors=field_errors(error.messages)) from error


def _blank_or(validator):
    """Allow an empty string (the field was cleared) or a value the validator accepts."""

    def validate(value):
        if value == "":
            return True
        return validator(value)

    return validate


class CodeLabelSchema(Schema):
    code = fields.String(metadata={"description": "Stable code, for filters and scripts."})
    label = fields.String(metadata={"description": "The words to show a person."})


class CodeLabel(fields.Nested):
    """A stored code dumped as {code, label}."""

    def __init__(self, labels: dict[str, str], **kwargs):
        super().__init__(CodeLabelSchema, **kwargs)
        self.labels = labels

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return {"code": value, "label": self.labels.get(value, value)}


class Grouped(fields.Nested):
    """Dumps some of the object's own columns as one JSON object (ownership, contact…)."""

    def get_value(self, obj, attr, accessor=None, default=None):
        return obj


class Share(fields.Decimal):
    """A percentage held exactly as Decimal, written to JSON as a number."""

    def __init__(self, **kwargs):
        super().__init__(
            places=2, validate=Range(0, 100, error="Enter a share from 0 to 100."), **kwargs
        )

    def _serialize(self, value, attr, obj, **kwargs):
        number = super()._serialize(value, attr, obj, **kwargs)
        return None if number is None else float(number)


# --- filters -------------------------------------------------------------------------------


class CentreFilterSchema(Schema):
    """Query arguments of the centre list, identical for the HTML page and the API."""

    class Meta:
        unknown = EXCLUDE  # tracking and cache-busting parameters are ignored, not refused

    service_line = fields.String(
        load_default=None,
        metadata={"description": "Only centres offering this service line (code)."},
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
        for key in data:
            value = data[key]
            if isinstance(value, str):
                value = value.strip()
                if not value:
                    continue
            cleaned[key] = value
        return cleaned

    @validates("service_line")
    def known_service_line(self, value, **kwargs):
        if value is None:  # marshmallow 4 also validates the load_default
            return
        codes = services.service_line_codes()
        if value not in codes:
            raise ValidationError(
                f"'{value}' is not a service line. Choose one of: {', '.join(codes)}."
            )

    @post_load
    def make_query(self, data, **kwargs) -> services.CentreQuery:
        return services.CentreQuery(**data)


# --- what comes out ------------------------------------------------------------------------


class ServiceLineSchema(Schema):
    code = fields.String()
    name = fields.String()


class SiteSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(
        required=True,
        validate=Length(1, 200, error="Enter the site's name, 200 characters or fewer."),
        error_messages={"required": "Enter the site's name."},
    )
    town = fields.String(load_default="", validate=Length(max=120))
    region = fields.String(load_default="", validate=Length(max=120))


class CertificationSchema(Schema):
    scheme = CodeLabel(CERTIFICATION_LABELS)
    reference = fields.String()
    expires_on = fields.Date()
    state = fields.Function(
        lambda cert: services.certification_state(cert).code,
        metadata={"description": "'valid', 'expiring' (within 60 days) or 'expired', as of today."},
    )
    days_left = fields.Function(lambda cert: services.certification_state(cert).days_left)


class AccreditationEventSchema(Schema):
    """One step of the public history. Who made it is kept for the audit log, not shown here."""

    action = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    effective_on = fields.Date()
    valid_from = fields.Date(allow_none=True)
    valid_until = fields.Date(allow_none=True)
    reason = fields.String()


class OwnershipSchema(Schema):
    class Meta:
        unknown = RAISE

    required = {"required": "Give all three shares: employee, government and private_partner."}
    employee = Share(attribute="ownership_employee", required=True, error_messages=required)
    government = Share(attribute="ownership_government", required=True, error_messages=required)
    private_partner = Share(attribute="ownership_private", required=True, error_messages=required)


def _seats(attribute: str):
    return fields.Integer(
        attribute=attribute, validate=Range(0, 50, error="Enter a number of seats from 0 to 50.")
    )


class BoardSeatsSchema(Schema):
    """Governance: board seats by constituency."""

    class Meta:
        unknown = RAISE

    workforce = _seats("board_workforce")
    customers = _seats("board_customers")
    government = _seats("board_government")
    private_partner = _seats("board_private_partner")
    independent = _seats("board_independent")


MAX_EMPLOYEES_SERVED = 10_000_000
MAX_TRANSACTIONS = 2_000_000_000


class CapacitySchema(Schema):
    class Meta:
        unknown = RAISE

    # Upper bounds well above any real centre, and inside the database's 32-bit integers.
    employees_served = fields.Integer(
        allow_none=True,
        validate=Range(
            min=0,
            max=MAX_EMPLOYEES_SERVED,
            error=f"Enter a number from 0 to {MAX_EMPLOYEES_SERVED:,}.",
        ),
    )
    transactions_per_year = fields.Integer(
        allow_none=True,
        validate=Range(
            min=0, max=MAX_TRANSACTIONS, error=f"Enter a number from 0 to {MAX_TRANSACTIONS:,}."
        ),
    )


class PricingSchema(Schema):
    class Meta:
        unknown = RAISE

    model = fields.String(attribute="pricing_model", validate=Length(max=2000))
    drivers = fields.String(
        attribute="pricing_drivers",
        validate=Length(max=300),
        metadata={"description": "What the price is counted by, e.g. 'per payslip, per invoice'."},
    )


class ContactSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(attribute="contact_name", validate=Length(max=200))
    email = fields.String(
        attribute="contact_email",
        validate=_blank_or(Email(error="Enter an email address like name@example.org.")),
    )
    phone = fields.String(attribute="contact_phone", validate=Length(max=40))
    website = fields.String(
        attribute="website",
        validate=_blank_or(
            URL(schemes={"http", "https"}, error="Enter a web address starting https://.")
        ),
    )


class AccreditationValiditySchema(Schema):
    valid_from = fields.Date(attribute="accredited_from", allow_none=True)
    valid_until = fields.Date(attribute="accredited_until", allow_none=True)


class CentreSummarySchema(Schema):
    """One centre in a list."""

    slug = fields.String()
    name = fields.String()
    summary = fields.String()
    status = CodeLabel(
        STATUS_LABELS,
        metadata={"description": "Accreditation status today; 'expired' is derived."},
    )
    accreditation = Grouped(AccreditationValiditySchema)
    business_model = CodeLabel(BUSINESS_MODEL_LABELS)
    delivery_model = CodeLabel(DELIVERY_MODEL_LABELS)
    service_lines = fields.List(fields.Nested(ServiceLineSchema))
    towns = fields.Function(
        lambda centre: sorted({site.town for site in centre.sites if site.town}),
        metadata={"description": "Towns of the centre's sites."},
    )
    platform = fields.String()
    capacity = Grouped(CapacitySchema)


class AccreditationSchema(AccreditationValiditySchema):
    history = fields.List(fields.Nested(AccreditationEventSchema), attribute="accreditation_events")


class CentreSchema(CentreSummarySchema):
    """Every catalogue field of a centre (DOMAIN.md 'Service centre')."""

    accreditation = Grouped(AccreditationSchema)
    ownership = Grouped(OwnershipSchema, metadata={"description": "Percentages summing to 100."})
    board_seats = Grouped(BoardSeatsSchema, metadata={"description": "Governance."})
    sites = fields.List(fields.Nested(SiteSchema))
    certifications = fields.List(fields.Nested(CertificationSchema))
    pricing = Grouped(PricingSchema)
    contact = Grouped(ContactSchema)
    updated_at = fields.DateTime()


class LatestValueSchema(Schema):
    """A centre's latest value of one metric (services.latest_values)."""

    metric = fields.String(attribute="metric_code")
    name = fields.String(attribute="metric_name")
    service_line = fields.String()
    unit = fields.String()
    value = fields.Decimal(as_string=True)
    period = fields.String(attribute="period_code")
    published = fields.Boolean(
        metadata={"description": "False: validated data of a period not yet published."}
    )


# --- what goes in --------------------------------------------------------------------------


def _known_scheme(value: str) -> None:
    if not value:
        raise ValidationError("Choose the certification scheme.")
    if value not in CERTIFICATION_SCHEMES:
        choices = ", ".join(
            f"{code} ({CERTIFICATION_LABELS[code]})" for code in CERTIFICATION_SCHEMES
        )
        raise ValidationError(
            f"'{value}' is not a certification we record. Choose one of: {choices}."
        )


class CertificationInSchema(Schema):
    class Meta:
        unknown = RAISE

    scheme = fields.String(
        required=True,
        validate=lambda value: _known_scheme(value),
        error_messages={"required": "Choose the certification scheme."},
    )
    reference = fields.String(load_default="", validate=Length(max=120))
    expires_on = fields.Date(
        required=True, error_messages={"invalid": "Enter the expiry date as YYYY-MM-DD."}
    )


# Nested groups whose keys become the centre's own column names on load.
_GROUPS = ("ownership", "board_seats", "capacity", "pricing", "contact")


class CentreUpdateSchema(Schema):
    """The catalogue fields a centre's own users and admins may change. Absent = unchanged."""

    class Meta:
        unknown = RAISE

    error_messages = {"unknown": "This field does not exist or cannot be changed."}

    name = fields.String(
        validate=Length(1, 200, error="Enter a name of 200 characters or fewer."),
        metadata={"description": "Admins only."},
    )
    summary = fields.String(validate=Length(max=5000))
    business_model = fields.String(
        validate=OneOf(
            BUSINESS_MODELS, error="'{input}' is not a business model. Choose one of: {choices}."
        )
    )
    delivery_model = fields.String(
        validate=OneOf(
            DELIVERY_MODELS, error="'{input}' is not a delivery model. Choose one of: {choices}."
        )
    )
    platform = fields.String(validate=Length(max=200))
    commentary = fields.String(validate=Length(max=10000))
    ownership = fields.Nested(OwnershipSchema)
    board_seats = fields.Nested(BoardSeatsSchema)
    capacity = fields.Nested(CapacitySchema)
    pricing = fields.Nested(PricingSchema)
    contact = fields.Nested(ContactSchema)
    service_lines = fields.List(
        fields.String(),
        validate=Length(min=1, error="A centre offers at least one service line."),
        metadata={"description": "Service line codes; replaces the list."},
    )
    sites = fields.List(fields.Nested(SiteSchema), metadata={"description": "Replaces the list."})
    certifications = fields.List(
        fields.Nested(CertificationInSchema), metadata={"description": "Replaces the list."}
    )

    @validates("service_lines")
    def known_service_lines(self, value, **kwargs):
        codes = services.service_line_codes()
        unknown = [code for code in value if code not in codes]
        if unknown:
            raise ValidationError(
                f"Not a service line: {', '.join(unknown)}. Choose from: {', '.join(codes)}."
            )
        if len(set(value)) != len(value):
            raise ValidationError("Name each service line once.")

    @validates("sites")
    def distinct_sites(self, value, **kwargs):
        # An item that failed its own validation arrives without its fields; skip it here.
        names = [site["name"].strip().casefold() for site in value if "name" in site]
        if len(set(names)) != len(names):
            raise ValidationError("Give each site a different name.")

    @validates("certifications")
    def distinct_schemes(self, value, **kwargs):
        schemes = [cert["scheme"] for cert in value if "scheme" in cert]
        if len(set(schemes)) != len(schemes):
            raise ValidationError("List each certification once.")

    @validates_schema
    def ownership_adds_up(self, data, **kwargs):
        shares = data.get("ownership")
        if shares is None:
            return
        total = sum(shares.values(), Decimal(0))
        if total != 100:
            raise ValidationError(
                f"Ownership shares must add up to 100%. These add up to {total.normalize():f}%.",
                field_name="ownership",
            )

    @post_load
    def flatten(self, data, **kwargs) -> dict:
        for group in _GROUPS:
            data.update(data.pop(group, {}))
        return data
