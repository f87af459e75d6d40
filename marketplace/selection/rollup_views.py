"""The roll-up pages: a buyer's (/buyer/rollup) and the authority's (/admin/rollup).

A department's buyer sees the department with its ALBs, and may narrow to one ALB
(`?organisation=<slug>`); an ALB's buyer sees the ALB's own contracts only (asking for the
department is refused, with the reason). Admins choose any department or ALB. `?period=` is
a published quarter (the newest by default); `.csv` downloads the same figures. Read only:
nothing is committed.
"""

from __future__ import annotations

from flask import Blueprint, render_template, request, url_for
from flask_login import current_user

from marketplace.accounts.auth import role_required
from marketplace.accounts.models import Organisation
from marketplace.extensions import db
from marketplace.selection import rollup
from marketplace.selection.csvexport import csv_response

bp = Blueprint("rollup", __name__)


def _organisation(default: Organisation | None) -> Organisation | None:
    slug = (request.args.get("organisation") or "").strip()
    if not slug:
        return default
    return rollup.organisation_for_rollup(slug[:100])


def _result(organisation: Organisation | None):
    if organisation is not None:
        rollup.check_view(current_user, organisation)
    period = rollup.choose_period((request.args.get("period") or "").strip()[:20] or None)
    result = None if organisation is None else rollup.rollup(organisation, period)
    return result, period


def _page(area: str, organisation: Organisation | None, choices: list[Organisation]):
    result, period = _result(organisation)
    endpoint = f"rollup.{area}_rollup"
    return render_template(
        "selection/rollup.html",
        result=result,
        periods=rollup.published_periods(),
        period=period,
        choices=choices,
        chosen=organisation,
        endpoint=endpoint,
        csv_url=(
            None
            if result is None
            else url_for(
                f"{endpoint}_csv",
                organisation=organisation.slug,
                period=period.code if period else None,
            )
        ),
    )


def _csv(organisation: Organisation):
    result, period = _result(organisation)
    name = f"rollup-{organisation.slug}-{period.code if period else 'none'}.csv"
    return csv_response(rollup.csv_rows(result), name)


def _buyer_choices() -> list[Organisation]:
    own = db.session.get(Organisation, current_user.organisation_id)
    return rollup.covered(own)


@bp.get("/buyer/rollup")
@role_required("buyer")
def buyer_rollup():
    own = db.session.get(Organisation, current_user.organisation_id)
    return _page("buyer", _organisation(own), _buyer_choices())


@bp.get("/buyer/rollup.csv")
@role_required("buyer")
def buyer_rollup_csv():
    own = db.session.get(Organisation, current_user.organisation_id)
    return _csv(_organisation(own))


@bp.get("/admin/rollup")
@role_required("admin")
def admin_rollup():
    return _page("admin", _organisation(None), rollup.departments())


@bp.get("/admin/rollup.csv")
@role_required("admin")
def admin_rollup_csv():
    organisation = _organisation(None)
    if organisation is None:
        organisation = rollup.organisation_for_rollup("")
    return _csv(organisation)
