"""The catalogue of service centres: list and read (public), change (the centre and admins).

The list takes exactly the query arguments of the HTML page /centres and runs the same
service, so a script and a person asking the same question get the same centres in the
same order.
"""

from __future__ import annotations

import functools

from flask import request
from werkzeug.exceptions import UnsupportedMediaType

from marketplace.api.common import (
    OPTIONAL_AUTH,
    REQUIRED_AUTH,
    api_blueprint,
    envelope,
    page_schema,
    problem_response,
    signed_in_user,
    viewer,
)
from marketplace.catalogue import services as catalogue
from marketplace.catalogue.centre_schemas import CentreSchema, CentreSummarySchema
from marketplace.catalogue.filter_schemas import CentreFilterSchema
from marketplace.catalogue.update_schemas import CentreUpdateSchema
from marketplace.extensions import db

bp = api_blueprint(
    "centres",
    __name__,
    description=(
        "Accredited shared-service centres: what they offer, who owns them, their "
        "accreditation and certifications. Applied and withdrawn centres are not public."
    ),
)


def problem(status: int, description: str):
    return problem_response(bp, status, description)


def _signed_in_json_write(view):
    """Refuse anonymous callers (401) and non-JSON bodies (415) before the body is parsed.

    Applied outside flask-smorest's `arguments`, so an anonymous request learns that it must
    sign in rather than what is wrong with its body.
    """

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        signed_in_user()
        if not request.is_json:
            raise UnsupportedMediaType("Send the changes as JSON (Content-Type: application/json).")
        return view(*args, **kwargs)

    return wrapped


@bp.route("/centres")
@bp.doc(security=OPTIONAL_AUTH)
@bp.arguments(CentreFilterSchema, location="query")
@bp.response(200, page_schema(CentreSummarySchema, "CentrePage"))
@problem(422, "A filter is not valid (see errors), or the status is not public.")
def list_centres(query):
    """List service centres

    The same filters, sort orders and results as the service centres page. Accredited,
    expired and suspended centres are listed; admins may also ask for `status=applied` or
    `status=withdrawn`.
    """
    return envelope(catalogue.search_centres(query, viewer=viewer()))


@bp.route("/centres/<slug>")
@bp.doc(security=OPTIONAL_AUTH)
@bp.response(200, CentreSchema)
@problem(404, "No centre you may see has that slug.")
def get_centre(slug):
    """Read a service centre

    Every catalogue field. A centre that is not listed publicly (applied or withdrawn) is
    visible only to its own users and admins; to everyone else it does not exist (404).
    """
    return catalogue.get_public_centre(slug, viewer=viewer())


@bp.route("/centres/<slug>", methods=["PATCH"])
@bp.doc(security=REQUIRED_AUTH)
@bp.response(200, CentreSchema, description="The centre as it is now.")
@problem(400, "Malformed JSON.")
@problem(401, "No valid session or token.")
@problem(403, "Not this centre's user or an admin, or a session write without its CSRF token.")
@problem(404, "No centre you may see has that slug.")
@problem(415, "The body is not JSON.")
@problem(422, "A field is not valid, or the shares do not add up to 100: see errors.")
@_signed_in_json_write
@bp.arguments(CentreUpdateSchema, location="json", description="Only the fields to change.")
def update_centre(changes, slug):
    """Change a service centre's entry

    For the centre's own users (signed in, or with a token of theirs) and admins; only
    admins may change `name`. Send only what changes: a group (`ownership`, `contact`…) is
    sent whole, and a list (`service_lines`, `sites`, `certifications`) replaces the old one.
    Ownership shares must add up to 100. Each change is written to the audit log.
    """
    actor = signed_in_user()
    centre = catalogue.get_public_centre(slug, viewer=actor)
    catalogue.update_centre(centre, changes, actor=actor)
    db.session.commit()
    return centre
