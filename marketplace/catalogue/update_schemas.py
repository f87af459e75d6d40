"""What goes into the catalogue: a PATCH by the centre's own users or an admin.

CentreUpdateSchema loads it into a flat dict of column names that services.update_centre
applies; absent fields are left unchanged.
"""

from __future__ import annotations

from decimal import Decimal

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validates,
    validates_schema,
)
from marshmallow.validate import Length, OneOf

from marketplace.catalogue import services
from marketplace.catalogue.centre_schemas import (
    COMMENTARY_MAX_LENGTH,
    SUMMARY_MAX_LENGTH,
    BoardSeatsSchema,
    CapacitySchema,
    ContactSchema,
    OwnershipSchema,
    PricingSchema,
    SiteSchema,
)
from marketplace.catalogue.models import (
    BUSINESS_MODELS,
    CERTIFICATION_LABELS,
    CERTIFICATION_SCHEMES,
    DELIVERY_MODELS,
    SERVICE_LINE_CODES,
)
from marketplace.catalogue.profile_form import MAX_ROWS
from marketplace.web.fields import IsoDate


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
        metadata={"enum": list(CERTIFICATION_SCHEMES)},
        validate=lambda value: _known_scheme(value),
        error_messages={"required": "Choose the certification scheme."},
    )
    reference = fields.String(load_default="", validate=Length(max=120))
    expires_on = IsoDate(
        required=True, error_messages={"invalid": "Enter the expiry date as YYYY-MM-DD."}
    )


# As many items as the web form takes: the API is no wider a door.
MAX_LIST_ITEMS = MAX_ROWS
_TOO_MANY = f"List at most {MAX_LIST_ITEMS} items."

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
    summary = fields.String(validate=Length(max=SUMMARY_MAX_LENGTH))
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
    commentary = fields.String(validate=Length(max=COMMENTARY_MAX_LENGTH))
    ownership = fields.Nested(OwnershipSchema)
    board_seats = fields.Nested(BoardSeatsSchema)
    capacity = fields.Nested(CapacitySchema)
    pricing = fields.Nested(PricingSchema)
    contact = fields.Nested(ContactSchema)
    service_lines = fields.List(
        fields.String(validate=Length(min=1, max=40), metadata={"enum": list(SERVICE_LINE_CODES)}),
        validate=Length(
            min=1, max=MAX_LIST_ITEMS, error="A centre offers at least one service line."
        ),
        metadata={"description": "Service line codes; replaces the list.", "uniqueItems": True},
    )
    sites = fields.List(
        fields.Nested(SiteSchema),
        validate=Length(max=MAX_LIST_ITEMS, error=_TOO_MANY),
        metadata={"description": "Replaces the list."},
    )
    certifications = fields.List(
        fields.Nested(CertificationInSchema),
        validate=Length(max=MAX_LIST_ITEMS, error=_TOO_MANY),
        metadata={"description": "Replaces the list."},
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

    # Run even when other fields failed, so the sum is reported with the e-mail's and the
    # dates' errors at once, not in a second wave after they are fixed.
    @validates_schema(skip_on_field_errors=False)
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
