"""The comparison basket's forms: add one or several centres, remove one (POST, no JavaScript).

Each form may name where to go back to (`next`, a path on this site); without it the
visitor goes to the comparison. Problems (an unknown centre, a full basket) are flashed on
the page they go back to, so a catalogue card's button needs no page of its own.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request
from markupsafe import Markup

from marketplace.catalogue.access import PUBLIC_STATUSES
from marketplace.errors import ValidationFailed
from marketplace.selection import basket
from marketplace.selection.compare import MAX_CENTRES
from marketplace.web.redirects import safe_next

bp = Blueprint("basket", __name__, url_prefix="/compare/basket")


def _back(slugs: list[str]):
    return redirect(safe_next(request.form.get("next")) or basket.compare_url(slugs))


@bp.post("/add")
def add():
    current = basket.current()
    try:
        slugs = basket.added(current, request.form.getlist("centres"))
    except ValidationFailed as error:
        for problem in error.errors:
            flash(problem.message, "error")
        return _back(current)
    basket.keep(slugs)
    count = len(slugs) - len(current)
    if count:
        names = basket.listed_names(slugs[len(current) :])
        added = " and ".join(names[slug] for slug in slugs[len(current) :]) if count < 3 else None
        what = added or f"{count} centres"
        flash(f"{what} added to your comparison ({_count(slugs)}).", "success")
    return _back(slugs)


@bp.post("/remove")
def remove():
    slug = (request.form.get("centre") or "").strip()
    current = basket.current()
    slugs = basket.removed(current, slug)
    basket.keep(slugs)
    if slugs != current:
        name = basket.listed_names([slug]).get(slug, "The centre")
        flash(f"{name} removed from your comparison ({_count(slugs)}).", "success")
    return _back(slugs)


def _count(slugs) -> str:
    return f"{len(slugs)} {'centre' if len(slugs) == 1 else 'centres'} chosen"


# --- for every page's templates (the catalogue's cards and centre pages among them) ------------


def comparison_button(centre, next_url: str | None = None) -> Markup:
    """The "Add to comparison" (or "Remove from comparison") form for a listed centre."""
    if centre.accreditation_status not in PUBLIC_STATUSES:
        return Markup("")
    slugs = basket.current()
    return Markup(  # noqa: S704 - a rendered, autoescaped template
        render_template(
            "selection/_basket_button.html",
            centre=centre,
            chosen=centre.slug in slugs,
            full=len(slugs) >= MAX_CENTRES,
            count=len(slugs),
            next_url=next_url or request.full_path.rstrip("?"),
        )
    )


def template_globals() -> dict:
    return {
        "comparison_button": comparison_button,
        "comparison_basket": basket.current,
        "comparison_url": basket.compare_url,
    }
