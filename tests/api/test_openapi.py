"""The OpenAPI document is valid, complete and honest; /api/docs shows every endpoint."""

from __future__ import annotations

import itertools
import re

import pytest
from openapi_spec_validator import validate

PROBLEM = "application/problem+json"
IGNORED_METHODS = {"HEAD", "OPTIONS"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def api_routes(app) -> set[tuple[str, str]]:
    """(METHOD, /api/v1/path/{param}) for every rule of the app under /api/v1."""
    routes = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == "/api/v1/openapi.json":
            continue
        path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
        routes |= {(method, path) for method in rule.methods - IGNORED_METHODS}
    return routes


def documented_routes(document) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, operation


def resolve(document, obj):
    while "$ref" in obj:
        node = document
        for part in obj["$ref"].lstrip("#/").split("/"):
            node = node[part]
        obj = node
    return obj


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.")
    validate(document)


def test_the_document_describes_every_api_route_of_the_app(app, document):
    routes = api_routes(app)
    assert ("GET", "/api/v1/centres") in routes  # the walk found the API at all
    assert routes == documented_routes(document)


def test_the_contract_endpoints_are_there(document):
    documented = documented_routes(document)
    for route in [
        ("GET", "/api/v1/centres"),
        ("GET", "/api/v1/centres/{slug}"),
        ("PATCH", "/api/v1/centres/{slug}"),
        ("GET", "/api/v1/metrics"),
        ("GET", "/api/v1/metrics/{code}"),
        ("GET", "/api/v1/periods"),
        ("GET", "/api/v1/service-lines"),
    ]:
        assert route in documented


def test_identifiers_in_paths_are_slugs_or_codes_never_integer_ids(document):
    for path, item in document["paths"].items():
        parameters = [
            p
            for p in [*item.get("parameters", [])]
            + [p for op in item.values() if isinstance(op, dict) for p in op.get("parameters", [])]
            if p.get("in") == "path"
        ]
        assert len({p["name"] for p in parameters}) == len(re.findall(r"{[^}]+}", path))
        for parameter in parameters:
            assert parameter["schema"]["type"] == "string", (path, parameter)
            assert parameter["name"] != "id", path


def test_every_operation_declares_auth_and_answers_errors_as_problems(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["cookieAuth"]["in"] == "cookie"
    for method, path, operation in operations(document):
        assert "security" in operation, (method, path)
        assert operation["summary"], (method, path)
        errors = {
            status: resolve(document, response)
            for status, response in operation["responses"].items()
            if status == "default" or status.startswith(("4", "5"))
        }
        assert "default" in errors, (method, path)
        for status, response in errors.items():
            assert list(response["content"]) == [PROBLEM], (method, path, status)
            schema = response["content"][PROBLEM]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}


def test_writes_need_credentials_and_document_401_and_403(document):
    operation = document["paths"]["/api/v1/centres/{slug}"]["patch"]
    assert {} not in operation["security"]
    assert {"bearerAuth": []} in operation["security"]
    assert {"401", "403", "404", "422"} <= set(operation["responses"])
    body = resolve(document, operation["requestBody"]["content"]["application/json"]["schema"])
    assert {"ownership", "contact", "service_lines", "sites"} <= set(body["properties"])


def test_lists_describe_their_page_envelope(document):
    for path in ["/api/v1/centres", "/api/v1/metrics", "/api/v1/periods", "/api/v1/service-lines"]:
        operation = document["paths"][path]["get"]
        parameters = {p["name"]: p for p in operation["parameters"]}
        assert parameters["per_page"]["schema"]["maximum"] == 100
        assert parameters["page"]["schema"]["minimum"] == 1
        envelope = resolve(
            document, operation["responses"]["200"]["content"]["application/json"]["schema"]
        )
        assert set(envelope["properties"]) == {"data", "links", "meta"}
        links = resolve(document, envelope["properties"]["links"])
        assert set(links["properties"]) == {"self", "first", "prev", "next", "last"}
        meta = resolve(document, envelope["properties"]["meta"])
        assert set(meta["properties"]) == {"page", "per_page", "total", "pages"}


def test_the_centre_filters_are_documented(document):
    parameters = {p["name"] for p in document["paths"]["/api/v1/centres"]["get"]["parameters"]}
    assert {"service_line", "business_model", "status", "q", "sort"} <= parameters


def test_the_document_does_not_advertise_formats_the_api_does_not_send(document):
    # flask-smorest's own error body and X-Pagination header are not what we answer.
    assert "Error" not in document["components"]["schemas"]
    assert "PaginationMetadata" not in document["components"]["schemas"]
    assert "headers" not in document.get("components", {})


def test_the_docs_page_lists_every_endpoint_from_the_document(client, document):
    response = client.get("/api/docs")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'href="/api/v1/openapi.json"' in html
    for method, path in documented_routes(document):
        assert f"{method} {path}" in html
    for heading in ["Authentication", "Pages of results", "Errors", "Endpoints"]:
        assert f">{heading}</h2>" in html
    assert "create-token" in html
    assert "Authorization: Bearer" in html
    assert "application/problem+json" in html


def test_the_docs_page_loads_nothing_from_elsewhere(client):
    html = client.get("/api/docs").get_data(as_text=True)
    for source in re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html):
        assert source.startswith("/"), source


def test_the_docs_page_headings_go_in_order(client):
    html = client.get("/api/docs").get_data(as_text=True)
    levels = [int(level) for level in re.findall(r"<h([1-6])\b", html)]
    assert levels[0] == 1 and levels.count(1) == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels


def test_descriptions_are_escaped_and_only_backticks_become_code(app):
    from marketplace.api.docs import inline_code

    assert str(inline_code("Use `page` <script>x</script>")) == (
        "Use <code>page</code> &lt;script&gt;x&lt;/script&gt;"
    )
    assert str(inline_code("`<b>`")) == "<code>&lt;b&gt;</code>"
    assert str(inline_code("an odd ` backtick")) == "an odd ` backtick"


def test_the_service_line_filter_is_a_repeatable_list_of_strings(document):
    (parameter,) = [
        p
        for p in document["paths"]["/api/v1/centres"]["get"]["parameters"]
        if p["name"] == "service_line"
    ]
    assert parameter["in"] == "query"
    assert parameter["schema"]["type"] == "array"
    assert parameter["schema"]["items"]["type"] == "string"
    # Closed vocabulary: the document names every service-line code it accepts.
    assert "payroll" in parameter["schema"]["items"]["enum"]
    assert parameter.get("explode", True) is True


def test_the_docs_page_says_which_accreditation_action_takes_each_field(client):
    html = client.get("/api/docs").get_data(as_text=True)
    start = html.index(
        "Request body (application/json) of POST /api/v1/centres/{slug}/accreditation"
    )
    table = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start : html.index("</table>", start)])
    )
    assert "With accredit (required), renew (required)." in table
    assert "suspend (required), reinstate (required), withdraw (required)" in table
