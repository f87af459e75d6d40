"""The comparison basket: the centres a visitor has put aside to compare, at most six.

The basket lives in the session (so "Add to comparison" on any page works without
JavaScript) and in the comparison's address (/compare?centres=a,b, so it can be bookmarked
and shared); visiting a comparison address makes its listed centres the basket. Only centres
listed in the public catalogue can be added: a hidden centre answers as an unknown one, so the
basket cannot be used to discover it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import quote

from flask import session, url_for

from marketplace.catalogue.access import PUBLIC_STATUSES
from marketplace.catalogue.models import ServiceCentre
from marketplace.errors import FieldError, ValidationFailed
from marketplace.extensions import db
from marketplace.selection.compare import MAX_CENTRES, split_list

SESSION_KEY = "comparison_basket"


def listed_names(slugs: Iterable[str]) -> dict[str, str]:
    """{slug: name} of the centres among these that the public catalogue lists."""
    slugs = list(slugs)
    if not slugs:
        return {}
    rows = db.session.execute(
        db.select(ServiceCentre.slug, ServiceCentre.name).where(
            ServiceCentre.slug.in_(slugs),
            ServiceCentre.accreditation_status.in_(PUBLIC_STATUSES),
        )
    ).all()
    return dict(rows)


def added(basket: Sequence[str], slugs: Sequence[str]) -> list[str]:
    """The basket with these centres added at the end; every problem reported at once."""
    new = [slug for slug in split_list(slugs) if slug not in basket]
    if not new:
        if slugs:
            return list(basket)
        raise ValidationFailed(
            "No centre was chosen.",
            errors=[FieldError("Choose at least one centre to add.", "centres")],
        )
    names = listed_names(new)
    problems = [
        FieldError(f"There is no centre '{slug}' in the catalogue.", "centres")
        for slug in new
        if slug not in names
    ]
    if len(basket) + len(new) > MAX_CENTRES:
        room = MAX_CENTRES - len(basket)
        problems.append(
            FieldError(
                f"A comparison holds at most {MAX_CENTRES} centres. "
                + (
                    f"There is room for {room} more; you chose {len(new)}."
                    if room
                    else "Remove a centre before you add another."
                ),
                "centres",
            )
        )
    if problems:
        raise ValidationFailed("The centres could not be added.", errors=problems)
    return [*basket, *new]


def removed(basket: Sequence[str], slug: str) -> list[str]:
    return [kept for kept in basket if kept != slug]


def from_address(slugs: Sequence[str]) -> list[str]:
    """The basket a comparison address stands for: its listed centres, in order, at most six."""
    names = listed_names(slugs)
    return [slug for slug in slugs if slug in names][:MAX_CENTRES]


# --- the visitor's basket, in the session ------------------------------------------------------


def current() -> list[str]:
    value = session.get(SESSION_KEY)
    if not isinstance(value, list):
        return []
    return [slug for slug in value if isinstance(slug, str)][:MAX_CENTRES]


def keep(slugs: Sequence[str]) -> None:
    if list(slugs) != current():
        session[SESSION_KEY] = list(slugs)


def compare_url(slugs: Sequence[str]) -> str:
    """/compare?centres=a,b (the commas kept readable), or /compare for an empty basket."""
    base = url_for("selection.compare")
    return f"{base}?centres={','.join(quote(s, safe='') for s in slugs)}" if slugs else base
