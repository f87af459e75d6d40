"""What every /api/v1 endpoint shares: blueprints, pagination envelopes, problems, auth, CSRF.

A new API area makes its blueprint with `api_blueprint(...)` (CSRF handled as below) and lists
it in marketplace/api/__init__.py. List endpoints parse `PageArgsSchema` (or a schema that
extends it), return `envelope(page)` and declare `page_schema(ItemSchema, "ThingPage")`.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from flask_login import current_user
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import func

from marketplace.accounts.auth import Unauthenticated, authenticated_by_token
from marketplace.catalogue.services import DEFAULT_PER_PAGE, MAX_PER_PAGE
from marketplace.extensions import csrf, db
from marketplace.links import absolute_url
from marketplace.web.pagination import MAX_PAGE, Page

API_PREFIX = "/api/v1"
PROBLEM_JSON = "application/problem+json"

# OpenAPI security requirements. Public reads accept either credential (it can widen what is
# visible) or none; writes need one of the two.
BEARER = "bearerAuth"
COOKIE = "cookieAuth"
SECURITY_SCHEMES = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "An API token, sent as `Authorization: Bearer <token>`. A centre's users make "
            "theirs at /centre/tokens; operators run `flask --app marketplace create-token "
            "EMAIL --name NAME`. A token acts for its owner's organisation."
        ),
    },
    COOKIE: {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": (
            "The browser session set by signing in at /login. Requests that change data "
            "must also send the page's CSRF token in an `X-CSRFToken` header."
        ),
    },
}
OPTIONAL_AUTH = [{}, {BEARER: []}, {COOKIE: []}]
REQUIRED_AUTH = [{BEARER: []}, {COOKIE: []}]


def api_blueprint(name: str, import_name: str, *, description: str) -> Blueprint:
    """A blueprint under /api/v1 that scripts can call without a CSRF token.

    Flask-WTF's site-wide check is switched off for it, because a Bearer token cannot be
    forged by another site; a request that rides on a session cookie still needs the token.
    """
    blueprint = Blueprint(name, import_name, url_prefix=API_PREFIX, description=description)
    csrf.exempt(blueprint)
    blueprint.before_request(_protect_cookie_sessions)
    blueprint.after_request(_finish_response)
    return blueprint


def _finish_response(response):
    # What a caller may see depends on who they are, so shared caches must key on it.
    response.vary.add("Authorization")
    # RFC 9110: a 401 names the scheme that would work.
    if response.status_code == 401:
        response.headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    return response


def _protect_cookie_sessions() -> None:
    if request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return
    # Reading current_user runs the loaders, which is what sets authenticated_by_token().
    # Anonymous requests carry no ambient authority to abuse; the view answers them 401.
    if current_user.is_authenticated and not authenticated_by_token():
        from flask_wtf.csrf import CSRFError

        from marketplace.errors import PermissionDenied

        try:
            csrf.protect()
        except CSRFError as error:
            # A session without the page's token may not write: forbidden, not malformed.
            raise PermissionDenied(error.description) from None


def problem_response(blueprint: Blueprint, status: int, description: str):
    """Document an error answer of one endpoint, with what it means there."""
    return blueprint.alt_response(
        status, schema=ProblemSchema, content_type=PROBLEM_JSON, description=description
    )


def signed_in_user():
    """The person (or their token) behind this request, or a 401 problem."""
    if not current_user.is_authenticated:
        raise Unauthenticated("Sign in, or send 'Authorization: Bearer <token>'.")
    return current_user._get_current_object()


def viewer():
    """The signed-in user for services that widen what they show, else None."""
    return current_user._get_current_object() if current_user.is_authenticated else None


# --- problems ------------------------------------------------------------------------------


class FieldErrorSchema(Schema):
    row = fields.Integer(
        allow_none=True, metadata={"description": "Row of an uploaded file (1 = first data row)."}
    )
    field = fields.String(
        allow_none=True, metadata={"description": "Parameter or field the problem is in."}
    )
    message = fields.String(metadata={"description": "What is wrong and how to put it right."})


class ProblemSchema(Schema):
    """An RFC 9457 problem document, sent as application/problem+json."""

    type = fields.String(metadata={"description": "Always `about:blank`: see `status`."})
    title = fields.String(metadata={"description": "Short summary of the kind of problem."})
    status = fields.Integer(metadata={"description": "The HTTP status code."})
    detail = fields.String(metadata={"description": "What went wrong in this request."})
    errors = fields.List(
        fields.Nested(FieldErrorSchema),
        metadata={"description": "Each field or row that failed validation."},
    )


# --- pagination ----------------------------------------------------------------------------


class PageArgsSchema(Schema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": f"Page number, from 1 to {MAX_PAGE:,}."},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=validate.Range(min=1, max=MAX_PER_PAGE),
        metadata={"description": f"Items per page, at most {MAX_PER_PAGE}."},
    )


class LinksSchema(Schema):
    self_ = fields.String(data_key="self", metadata={"description": "This page."})
    first = fields.String()
    prev = fields.String(allow_none=True, metadata={"description": "null on the first page."})
    next = fields.String(allow_none=True, metadata={"description": "null on the last page."})
    last = fields.String()


class PageMetaSchema(Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer(metadata={"description": "Items matching, over every page."})
    pages = fields.Integer(metadata={"description": "Number of pages (at least 1)."})


_page_schemas: dict[str, type[Schema]] = {}


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    """The `{data, links, meta}` envelope around a list of item_schema, named for OpenAPI."""
    if name not in _page_schemas:
        _page_schemas[name] = Schema.from_dict(
            {
                "data": fields.List(fields.Nested(item_schema)),
                "links": fields.Nested(LinksSchema),
                "meta": fields.Nested(PageMetaSchema),
            },
            name=f"{name}Schema",
        )
    return _page_schemas[name]


def paginate(statement, page: int, per_page: int) -> Page:
    """One page of a select() statement, with the count of every row it matches."""
    total = db.session.execute(
        db.select(func.count()).select_from(statement.order_by(None).subquery())
    ).scalar_one()
    items = (
        db.session.execute(statement.limit(per_page).offset((page - 1) * per_page))
        .unique()
        .scalars()
        .all()
    )
    return Page(items=list(items), total=total, page=page, per_page=per_page)


def envelope(page: Page) -> dict[str, Any]:
    """The response body for a page: links keep every filter the client sent."""
    return {
        "data": page.items,
        "links": {
            "self_": _page_url(page.page, page.per_page),
            "first": _page_url(1, page.per_page),
            "prev": _page_url(min(page.page - 1, page.pages), page.per_page)
            if page.page > 1
            else None,
            "next": _page_url(page.page + 1, page.per_page) if page.page < page.pages else None,
            "last": _page_url(page.pages, page.per_page),
        },
        "meta": {
            "page": page.page,
            "per_page": page.per_page,
            "total": page.total,
            "pages": page.pages,
        },
    }


def _page_url(number: int, per_page: int) -> str:
    args: dict[str, Any] = {}
    for key in request.args:
        if key in ("page", "per_page"):
            continue
        values = request.args.getlist(key)
        args[key] = values if len(values) > 1 else values[0]
    return absolute_url(
        request.endpoint, **(request.view_args or {}), **args, page=number, per_page=per_page
    )
