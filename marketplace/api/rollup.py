"""The roll-up of a department with its ALBs, or of one ALB (selection/rollup.py).

Authorised as the page: admins for any department or ALB; a member buyer for its own
organisation and, in a department, each of its ALBs. 401 without credentials, 403 for
anyone else (an ALB's buyers asking for their department included), 404 for an unknown
organisation or one that is not a department or ALB, or a quarter that is not published.
"""

from __future__ import annotations

from marketplace.api.common import (
    REQUIRED_AUTH,
    api_blueprint,
    problem_response,
    signed_in_user,
)
from marketplace.selection import rollup
from marketplace.selection.rollup_schemas import RollupArgsSchema, RollupSchema

bp = api_blueprint(
    "rollup_api",
    __name__,
    description=(
        "Roll-up of a department with its ALBs: volume-weighted average unit costs and the "
        "distribution of KPI ratings over the contracts live in a published quarter, with "
        "the contracts and centres behind each figure."
    ),
)


def problem(status: int, description: str):
    return problem_response(bp, status, description)


@bp.route("/organisations/<slug>/rollup")
@bp.doc(security=REQUIRED_AUTH)
@bp.arguments(RollupArgsSchema, location="query", as_kwargs=True)
@bp.response(200, RollupSchema)
@problem(401, "No valid session or token.")
@problem(403, "Not a buyer of the organisation (or of its department), nor an admin.")
@problem(404, "No department or ALB has that slug, or the quarter is not published.")
@problem(422, "period is not YYYY-Qn (see errors).")
def get_rollup(slug: str, period: str | None = None):
    """Roll up a department's (and its ALBs') contracts

    For each service line the contracts give an annual volume for: Σ volume × the centre's
    published unit cost ÷ Σ volume, in pounds rounded half up to 2 dp (null when no centre
    published one), with each contract behind it. For each KPI metric: the ratings that
    stand (override, else computed), counted and weighted by the contract's annual volume of
    the metric's service line. An ALB's roll-up is its own contracts only.
    """
    user = signed_in_user()
    organisation = rollup.organisation_for_rollup(slug)
    rollup.check_view(user, organisation)
    return rollup.rollup(organisation, rollup.choose_period(period))
