"""The peer-group filter's fields: one schema for the /metrics/<code> and /compare forms and
for the API's query arguments (GET /api/v1/benchmarks/<code>, GET /api/v1/compare)."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, post_load, pre_load
from marshmallow.validate import Length, OneOf

from marketplace.benchmarks.narrowing import PLATFORM_MAX, SIZE_BAND_RANGES, SIZE_BANDS, PeerFilter
from marketplace.catalogue.models import BUSINESS_MODELS, DELIVERY_MODELS
from marketplace.input_guard import valid_text
from marketplace.web import forms

_SIZES = "; ".join(f"`{code}`: {label}" for code, (label, _lo, _hi) in SIZE_BAND_RANGES.items())


class PeerFilterFields(Schema):
    """The four narrowing fields; mixed into the API's argument schemas."""

    size_band = fields.String(
        validate=OneOf(SIZE_BANDS, error="'{input}' is not a size band. Choose one of: {choices}."),
        metadata={
            "description": "Narrow the peer group (signed in only) to centres of one size, by "
            f"capacity (employees served, whole numbers, both ends inclusive): {_SIZES}. "
            "Centres that have not given their capacity are in no band."
        },
    )
    business_model = fields.String(
        validate=OneOf(
            BUSINESS_MODELS, error="'{input}' is not a business model. Choose one of: {choices}."
        ),
        metadata={"description": "Narrow the peer group (signed in only) to one business model."},
    )
    delivery_model = fields.String(
        validate=OneOf(
            DELIVERY_MODELS, error="'{input}' is not a delivery model. Choose one of: {choices}."
        ),
        metadata={"description": "Narrow the peer group (signed in only) to one delivery model."},
    )
    platform = fields.String(
        validate=[
            Length(
                min=1,
                max=PLATFORM_MAX,
                error=f"Give the platform in 1 to {PLATFORM_MAX} characters.",
            ),
            valid_text,
        ],
        metadata={
            "description": "Narrow the peer group (signed in only) to centres on this platform "
            "(as their catalogue entries name it, ignoring case), e.g. `Oracle HCM Cloud`."
        },
    )


class PeerFilterSchema(PeerFilterFields):
    """The filter on its own (the pages' forms): loads into a PeerFilter."""

    class Meta:
        unknown = EXCLUDE  # the page's other arguments (period, page, centres) pass by

    @pre_load
    def _blank_is_unset(self, data, **_kwargs):
        return {k: v.strip() for k, v in data.items() if isinstance(v, str) and v.strip()}

    @post_load
    def _make(self, data, **_kwargs) -> PeerFilter:
        return PeerFilter.from_args(data)


def peer_filter_from(args) -> PeerFilter:
    """The filter a page's query string asks for, or ValidationFailed naming each field."""
    plain = {name: args.get(name) for name in PeerFilterFields().fields if args.get(name)}
    return forms.load(PeerFilterSchema(), plain, "The peer group could not be narrowed.")
