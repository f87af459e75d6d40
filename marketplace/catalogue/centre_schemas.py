"""What comes out of the catalogue about a centre, and the groups of fields it is made of.

- CentreSummarySchema: one item of a list; CentreSchema: every catalogue field (dump only).
- The groups (ownership, board seats, capacity, pricing, contact, sites) are also what a
  change sends in: update_schemas.py nests them.
"""

from __future__ import annotations

from marshmallow import RAISE, Schema, fields
from marshmallow.validate import URL, Email, Length, Range

from marketplace.catalogue import services
from marketplace.catalogue.models import (
    BUSINESS_MODEL_LABELS,
    CERTIFICATION_LABELS,
    DELIVERY_MODEL_LABELS,
    STATUS_LABELS,
    ServiceCentre,
)
from marketplace.catalogue.schema_fields import CodeLabel, Grouped, Share, blank_or


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
# The entry's free text, the same on every door: the profile page, the API, the admin's new
# centre form and the fixtures loader.
SUMMARY_MAX_LENGTH = 5000
COMMENTARY_MAX_LENGTH = 10000
PRICING_MODEL_MAX_LENGTH = 2000


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

    model = fields.String(attribute="pricing_model", validate=Length(max=PRICING_MODEL_MAX_LENGTH))
    drivers = fields.String(
        attribute="pricing_drivers",
        validate=Length(max=300),
        metadata={"description": "What the price is counted by, e.g. 'per payslip, per invoice'."},
    )


# What the Email and URL validators accept (or blank), said in the document.
EMAIL_PATTERN = (
    r"^(?:|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})$"
)
# A host label neither starts nor ends with a hyphen (as the URL validator checks).
WEBSITE_PATTERN = (
    r"^(?:|https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
    r"(?:/[A-Za-z0-9._~/-]*)?)$"
)


MAX_EMAIL = ServiceCentre.__table__.c.contact_email.type.length
MAX_WEBSITE = ServiceCentre.__table__.c.website.type.length


class ContactSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(attribute="contact_name", validate=Length(max=200))
    # The column's length, said and checked here: the validators below take longer text,
    # which PostgreSQL refused with a DataError (a 500) when the entry was saved.
    email = fields.String(
        attribute="contact_email",
        metadata={"pattern": EMAIL_PATTERN},
        validate=[
            Length(
                max=MAX_EMAIL, error=f"Enter an email address of {MAX_EMAIL} characters or fewer."
            ),
            blank_or(Email(error="Enter an email address like name@example.org.")),
        ],
    )
    phone = fields.String(attribute="contact_phone", validate=Length(max=40))
    website = fields.String(
        attribute="website",
        metadata={"pattern": WEBSITE_PATTERN},
        validate=[
            Length(
                max=MAX_WEBSITE, error=f"Enter a web address of {MAX_WEBSITE} characters or fewer."
            ),
            blank_or(
                URL(schemes={"http", "https"}, error="Enter a web address starting https://.")
            ),
        ],
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
