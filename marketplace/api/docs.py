"""A human page for the API: how to authenticate, page and read errors, then every endpoint.

The endpoint list is read from the generated OpenAPI document on the server, so the page
cannot drift from what the API does and needs no JavaScript or third-party viewer.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, url_for
from markupsafe import Markup, escape

from marketplace.api.common import BEARER, COOKIE, PROBLEM_JSON
from marketplace.extensions import api

bp = Blueprint("api_docs", __name__)

METHOD_ORDER = ("get", "post", "put", "patch", "delete")
AUTH_LABELS = {BEARER: "API token", COOKIE: "signed-in session"}
# Said once here rather than by every schema that pages.
PARAMETER_HINTS = {"page": "Page number, from 1.", "per_page": "How many items a page holds."}


@bp.get("/api/docs")
def docs():
    spec = api.spec.to_dict()
    return render_template(
        "api/docs.html",
        info=spec.get("info", {}),
        sections=endpoint_sections(spec),
        openapi_url=url_for("api-docs.openapi_json"),
        max_per_page=current_app.config.get("PER_PAGE_MAX", 100),
    )


@bp.app_template_filter("inline_code")
def inline_code(text: str | None) -> Markup:
    """Escape text, then show `backticked` words from the spec's descriptions as code."""
    parts = str(text or "").split("`")
    out = []
    for index, part in enumerate(parts):
        if index % 2 and index < len(parts) - 1:
            out.append(Markup("<code>{}</code>").format(part))
        elif index % 2:  # an unpaired backtick stays as written
            out.append(escape("`" + part))
        else:
            out.append(escape(part))
    return Markup("").join(out)


def endpoint_sections(spec: dict) -> list[dict]:
    """The operations grouped by tag, in the order the tags were declared."""
    tags = {tag["name"]: tag.get("description", "") for tag in spec.get("tags", [])}
    grouped: dict[str, list[dict]] = {name: [] for name in tags}
    for path, item in sorted(spec.get("paths", {}).items()):
        shared_parameters = item.get("parameters", [])
        for method in METHOD_ORDER:
            operation = item.get(method)
            if operation is None:
                continue
            entry = _operation(spec, path, method, operation, shared_parameters)
            for tag in operation.get("tags") or ["other"]:
                grouped.setdefault(tag, []).append(entry)
    return [
        {
            "name": name,
            "title": name.replace("_", " ").capitalize(),
            "description": tags.get(name, ""),
            "operations": operations,
        }
        for name, operations in grouped.items()
        if operations
    ]


def _operation(spec: dict, path: str, method: str, operation: dict, shared: list) -> dict:
    parameters = [_parameter(spec, p) for p in [*shared, *operation.get("parameters", [])]]
    body = None
    request_body = operation.get("requestBody")
    if request_body:
        content_type, media = next(iter(request_body.get("content", {}).items()))
        body = {"content_type": content_type, "fields": _fields(spec, media.get("schema", {}))}
    responses = []
    for status, response in sorted(operation.get("responses", {}).items()):
        response = _resolve(spec, response)
        content_type, schema = next(iter(response.get("content", {}).items()), (None, {}))
        schema = (schema or {}).get("schema", {})
        is_problem = content_type == PROBLEM_JSON
        # A page envelope: describe what each item in `data` holds as well.
        item = _resolve(spec, schema).get("properties", {}).get("data", {}).get("items")
        responses.append(
            {
                "status": status,
                "description": response.get("description", ""),
                "content_type": content_type,
                "schema": _schema_name(schema),
                "fields": [] if is_problem else _fields(spec, schema),
                "item_schema": _schema_name(item) if item and not is_problem else None,
                "item_fields": _fields(spec, item) if item and not is_problem else [],
            }
        )
    return {
        "id": f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", "").strip("-"),
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "auth": _auth(operation.get("security")),
        "parameters": parameters,
        "body": body,
        "responses": responses,
    }


def _auth(security: list | None) -> str:
    if not security:
        return "None needed."
    schemes = [AUTH_LABELS.get(name, name) for requirement in security for name in requirement]
    listed = " or ".join(schemes)
    if {} in security:
        return f"None needed; an {listed} may show you more." if schemes else "None needed."
    return f"Needs an {listed}."


def _parameter(spec: dict, parameter: dict) -> dict:
    parameter = _resolve(spec, parameter)
    # A query or path parameter is absent or a string; it is never JSON null.
    schema = {k: v for k, v in parameter.get("schema", {}).items() if k != "nullable"}
    return {
        "name": parameter["name"],
        "location": parameter.get("in", ""),
        "required": parameter.get("required", False),
        "type": _type_text(spec, schema),
        "description": parameter.get("description")
        or schema.get("description")
        or PARAMETER_HINTS.get(parameter["name"], ""),
    }


def _fields(spec: dict, schema: dict) -> list[dict]:
    schema = _resolve(spec, schema)
    if "oneOf" in schema:
        return _variant_fields(spec, schema)
    required = set(schema.get("required", []))
    return [
        {
            "name": name,
            "type": _type_text(spec, prop),
            "required": name in required,
            "description": _resolve(spec, prop).get("description", ""),
        }
        for name, prop in schema.get("properties", {}).items()
    ]


def _variant_fields(spec: dict, schema: dict) -> list[dict]:
    """A body that is one of several (a discriminated oneOf) as one table: each field says
    for which values of the discriminator it is taken, and whether it is required there."""
    key = (schema.get("discriminator") or {}).get("propertyName")
    variants = []
    for option in schema["oneOf"]:
        resolved = _resolve(spec, option)
        tag = _resolve(spec, resolved.get("properties", {}).get(key, {})).get("enum", [None])[0]
        variants.append((tag or _schema_name(option), resolved))
    rows: dict[str, dict] = {}
    for tag, variant in variants:
        for field in _fields(spec, variant):
            row = rows.setdefault(field["name"], {**field, "uses": []})
            row["uses"].append(f"{tag}{' (required)' if field['required'] else ''}")
    out = []
    for name, row in rows.items():
        if name == key:
            tags = ", ".join(f"`{tag}`" for tag, _ in variants)
            description = f"Which body this is: one of {tags}."
            out.append({**row, "type": "string", "required": True, "description": description})
            continue
        every = len(row["uses"]) == len(variants) and all("required" in u for u in row["uses"])
        description = f"With {', '.join(row['uses'])}. {row['description']}".strip()
        out.append({**row, "required": every, "description": description})
    return [{k: v for k, v in row.items() if k != "uses"} for row in out]


def _type_text(spec: dict, schema: dict) -> str:
    if "$ref" in schema:
        return _schema_name(schema)
    kind = schema.get("type", "any")
    if kind == "array":
        return f"list of {_type_text(spec, schema.get('items', {}))}"
    text = schema.get("format") or kind
    if "enum" in schema:
        text += ": one of " + ", ".join(str(v) for v in schema["enum"] if v is not None)
    if "minimum" in schema and "maximum" in schema:
        text += f", {schema['minimum']} to {schema['maximum']}"
    elif "minimum" in schema:
        text += f", {schema['minimum']} or more"
    elif "maximum" in schema:
        text += f", at most {schema['maximum']}"
    if "default" in schema and schema["default"] is not None:
        text += f" (default {schema['default']})"
    if schema.get("nullable"):
        text += ", or null"
    return text


def _schema_name(schema: dict) -> str:
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] if ref else schema.get("type", "")


def _resolve(spec: dict, obj: dict) -> dict:
    """Follow a local $ref ('#/components/...') to what it names."""
    seen = 0
    while isinstance(obj, dict) and "$ref" in obj and seen < 10:
        node = spec
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node.get(part, {})
        obj = node
        seen += 1
    return obj
