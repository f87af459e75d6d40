"""Contracts: the ones the caller may see (buyers of the organisation and of its parent
department, the centre's users, admins), each with its KPIs and quarterly ratings.

Like the other reads, credentials widen what is visible rather than being demanded: a caller
without them may see no contract, so the list is empty and a contract does not exist (404),
exactly as a hidden centre is for the public. (A session's cookie and a token both work.)
"""

from __future__ import annotations

from marketplace.api.common import (
    OPTIONAL_AUTH,
    PageArgsSchema,
    api_blueprint,
    envelope,
    page_schema,
    paginate,
    problem_response,
    viewer,
)
from marketplace.contracts import services as contracts
from marketplace.contracts.schemas import ContractSchema, ContractSummarySchema

bp = api_blueprint(
    "contracts_api",
    __name__,
    description=(
        "Contracts made by awards: value, term, annual volumes, and at least three KPIs, "
        "each with its target, the centre's baseline at award, and a rating for every "
        "published quarter (computed, and the buyer's override with its reason). Visible to "
        "buyers of the organisation (and of its parent department), the centre and admins."
    ),
)


def problem(status: int, description: str):
    return problem_response(bp, status, description)


@bp.route("/contracts")
@bp.doc(security=OPTIONAL_AUTH)
@bp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@bp.response(200, page_schema(ContractSummarySchema, "ContractPage"))
@problem(422, "page or per_page is not valid (see errors).")
def list_contracts(page, per_page):
    """List the contracts you may see

    Newest award first. Buyers see their organisation's contracts (a department's also
    those of its ALBs), a centre's users the centre's, admins every contract; without
    credentials the list is empty.
    """
    result = paginate(contracts.visible(viewer()), page, per_page)
    result.items = [contracts.summary(c) for c in result.items]
    return envelope(result)


@bp.route("/contracts/<contract_id>")
@bp.doc(security=OPTIONAL_AUTH)
@bp.response(200, ContractSchema)
@problem(404, "No contract you may see has that id (without credentials, none).")
def get_contract(contract_id):
    """Read a contract, its KPIs and their ratings

    Each KPI lists every published quarter of the contract's term, oldest first: the
    centre's figure, the computed rating, the rating that stands (the buyer's override,
    else the computed one) and the buyer's reason; a quarter without a figure has nulls.
    """
    return contracts.detail(contracts.get_for_viewer(contract_id, viewer()))
