"""The versioned JSON API under /api/v1 (flask-smorest; OpenAPI generated from the schemas)."""

from __future__ import annotations

import http

from flask import Flask

from marketplace.api.common import PROBLEM_JSON, SECURITY_SCHEMES, ProblemSchema
from marketplace.input_guard import TEXT_PATTERN

API_DESCRIPTION = """\
The catalogue of accredited shared-service centres and their published benchmarks.

Lists are paginated with `page` and `per_page` (at most 100) and answer
`{"data": [...], "links": {...}, "meta": {...}}`. Every error is an RFC 9457 problem
document (`application/problem+json`). A human guide is at /api/docs.
"""


# Python 3.13 names these statuses as RFC 9110 does, and flask-smorest refers to a status by
# the name Python gives it; either spelling must resolve, whichever Python runs the app.
RFC_9110_NAMES = {
    "CONTENT_TOO_LARGE": 413,
    "URI_TOO_LONG": 414,
    "RANGE_NOT_SATISFIABLE": 416,
    "UNPROCESSABLE_CONTENT": 422,
    "UNPROCESSABLE_ENTITY": 422,
}


def register(app: Flask) -> None:
    from marketplace.api.benchmarks import bp as benchmarks_bp
    from marketplace.api.centres import bp as centres_bp
    from marketplace.api.docs import bp as docs_bp
    from marketplace.api.library import metrics_bp, periods_bp, service_lines_bp
    from marketplace.api.submissions import bp as submissions_bp
    from marketplace.extensions import api

    _describe_errors_and_security(api)
    for blueprint in (centres_bp, metrics_bp, periods_bp, service_lines_bp, submissions_bp):
        api.register_blueprint(blueprint)
    api.register_blueprint(benchmarks_bp)
    api.register_blueprint(__import__("marketplace.api.reports", fromlist=["bp"]).bp)
    api.register_blueprint(__import__("marketplace.api.admin", fromlist=["bp"]).bp)
    api.register_blueprint(__import__("marketplace.api.spc", fromlist=["bp"]).bp)
    api.register_blueprint(__import__("marketplace.api.restatements", fromlist=["bp"]).bp)
    api.register_blueprint(__import__("marketplace.api.contracts", fromlist=["bp"]).bp)
    api.register_blueprint(__import__("marketplace.api.rollup", fromlist=["bp"]).bp)
    app.register_blueprint(docs_bp)
    app.before_request(_refuse_unacceptable_types)


# What the API can answer: JSON, problem documents, the audit trail's CSV, and the HTML
# guide at /api/docs. An Accept header that takes none of them is a 406, not a JSON body.
OFFERED = ("application/json", PROBLEM_JSON, "text/csv", "text/html")


def _refuse_unacceptable_types() -> None:
    from flask import request

    from marketplace.errors import DomainError

    if not request.path.startswith("/api/") or "Accept" not in request.headers:
        return
    if request.accept_mimetypes.best_match(OFFERED) is None:
        error = DomainError(
            "The API answers in JSON (application/json, or application/problem+json for "
            "errors); send an Accept header that allows it."
        )
        error.status, error.title = 406, "Not acceptable"
        raise error


def _describe_errors_and_security(api) -> None:
    """Make the document say what the app really sends: problem+json, and our two schemes.

    flask-smorest pre-registers (lazily, so unreferenced ones never appear) one response per
    HTTP status, described with its own error schema; we answer problem documents instead
    (marketplace/errors.py), so each error response is registered again before any
    blueprint refers to it.
    """
    spec = api.spec
    spec.options.setdefault("info", {})["description"] = API_DESCRIPTION
    names = {name: status for name, status in http.HTTPStatus.__members__.items()}
    names.update({name: http.HTTPStatus(code) for name, code in RFC_9110_NAMES.items()})
    for name, status in names.items():
        if status >= 400:
            spec.components.response(name, _problem(status.phrase), lazy=True)
        else:
            spec.components.response(name, {"description": status.phrase}, lazy=True)
    spec.components.response(
        api.DEFAULT_ERROR_RESPONSE_NAME, _problem("Any other error"), lazy=True
    )
    # Lists carry their page in the body ({data, links, meta}), not in an X-Pagination
    # header, so flask-smorest's header and both its now unreferenced schemas go.
    spec.components.headers_lazy.pop("PAGINATION", None)
    _forget_schemas(api, {"Error", "PaginationMetadata"})
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    api.ma_plugin.converter.add_attribute_function(text_pattern)


# What input_guard.text_problem refuses in every query argument and JSON string (NUL, the
# controls XML 1.0 cannot carry, U+FFFE/U+FFFF) is said in the document of each free text:
# input_guard.TEXT_PATTERN.


def text_pattern(self, field, ret, **kwargs) -> dict:
    """apispec attribute function: a plain String with no enum, format or pattern of its own
    carries the pattern of text the server can store and publish."""
    from marshmallow import fields

    is_text = type(field) is fields.String or (
        type(field) is fields.Raw and field.metadata.get("type") == "string"
    )
    if is_text and not {"enum", "format", "pattern"} & set(ret):
        return {"pattern": TEXT_PATTERN}
    return {}


def _forget_schemas(api, names: set[str]) -> None:
    for name in names:
        api.spec.components.schemas.pop(name, None)
    refs = api.ma_plugin.converter.refs
    for key in [key for key, name in refs.items() if name in names]:
        del refs[key]


def _problem(description: str) -> dict:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": ProblemSchema}}}
