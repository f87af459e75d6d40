"""What a page needs to offer the peer-group filter: the choices, the reader's filter, and
the errors to show (shared by /metrics/<code> and /compare)."""

from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.benchmarks import narrowing
from marketplace.benchmarks.narrowing_schemas import peer_filter_from
from marketplace.catalogue.models import BUSINESS_MODEL_LABELS, DELIVERY_MODEL_LABELS
from marketplace.errors import ValidationFailed
from marketplace.web import forms


@dataclass
class FilterForm:
    offered: bool  # signed in: the filter is on the page
    peer_filter: narrowing.PeerFilter
    asked_by_public: bool  # the public sent narrowing arguments (ignored)
    errors: list[dict] = field(default_factory=list)
    size_bands: dict[str, str] = field(default_factory=dict)
    business_models: dict[str, str] = field(default_factory=dict)
    delivery_models: dict[str, str] = field(default_factory=dict)
    platforms: list[str] = field(default_factory=list)

    @property
    def open(self) -> bool:
        return self.peer_filter.narrowed or bool(self.errors)


def filter_form(audience, args) -> FilterForm:
    """The filter a page's query string asks for, as this reader may use it.

    The public is not offered the filter, and narrowing arguments it sends are ignored (the
    page says so); invalid choices leave the standard group and are listed as errors.
    """
    asked = any(args.get(name) for name in narrowing.FILTER_FIELDS)
    if not narrowing.allowed_to_narrow(audience):
        return FilterForm(False, narrowing.STANDARD, asked_by_public=asked)
    errors: list[dict] = []
    try:
        peer_filter = peer_filter_from(args)
    except ValidationFailed as error:
        peer_filter = narrowing.STANDARD
        errors = forms.error_summary(error.errors, detail=error.detail)
    platforms = narrowing.known_platforms()
    if peer_filter.platform and peer_filter.platform.lower() not in {p.lower() for p in platforms}:
        platforms.append(peer_filter.platform)  # asked for by address: keep it chosen
    return FilterForm(
        True,
        peer_filter,
        asked_by_public=False,
        errors=errors,
        size_bands=narrowing.SIZE_BAND_LABELS,
        business_models=BUSINESS_MODEL_LABELS,
        delivery_models=DELIVERY_MODEL_LABELS,
        platforms=platforms,
    )
