"""Property-based fuzzing of the JSON API from its own OpenAPI document (schemathesis).

For every operation in /api/v1/openapi.json and every role — anonymous, a buyer's browser
session, a centre user's API token, an admin's API token — schemathesis generates requests
that fit the schema and requests that do not, sends them to the app in process (WSGI), and
checks that:
- nothing answers 5xx (with TESTING on, an unhandled exception fails the test outright);
- each answer's status code, content type, headers and body are those the document declares;
- a request that breaks the schema is refused, one that fits it is accepted (schemathesis'
  positive-data check: every check runs), and an operation that needs authentication
  refuses a request without it;
- no role gets a 2xx from an operation it must be refused (ROLE_RULES below): writes by the
  wrong centre, admin-only endpoints for others, hidden centres for the public, and any write
  that rides on a session cookie without the page's CSRF token.

Path parameters are drawn half the time from the real demo identifiers, so the fuzzer
reaches real centres, metrics and periods instead of only 404s. Bounded and deterministic:
FUZZ_EXAMPLES examples per operation and role (environment variable, default below), with
Hypothesis derandomised so every run sends the same requests.
"""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import CheckContext
from schemathesis.core.failures import AcceptedNegativeData, Failure
from schemathesis.openapi.checks import RejectedPositiveData
from schemathesis.transport.serialization import serialize_binary

from tests.fuzz.conftest import OWN_CENTRE, one_example

ROLES = ("anonymous", "buyer", "centre", "admin")
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _openapi_document() -> dict:
    """The document exactly as clients fetch it, from an app that needs no database."""
    from marketplace import create_app

    app = create_app(
        {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "SECRET_KEY": "openapi-document-only-0123456789abcdef",
        }
    )
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200, response.status_code
    return response.get_json()


DOCUMENT = _openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.config.generation.update(
    modes=["positive", "negative"], max_examples=EXAMPLES, deterministic=True, database="none"
)


def _role_may_succeed(role: str, case: Case, world) -> tuple[bool, str]:
    """Whether a 2xx is allowed for this role here, and the rule that says so."""
    method = case.method.upper()
    path = case.operation.path
    slug = (case.path_parameters or {}).get("slug")
    if method in WRITES and role == "buyer":
        return False, "a write on a session cookie without the CSRF token must be refused"
    if method in WRITES and role == "anonymous":
        return False, "a write needs a token or a signed-in session"
    if path == "/api/v1/centres/{slug}" and method == "PATCH":
        return role == "admin" or (role == "centre" and slug == OWN_CENTRE), (
            "only the centre's own users and admins change a catalogue entry"
        )
    if path == "/api/v1/centres/{slug}/submissions":
        return role == "centre" and slug == OWN_CENTRE, "only the centre's own users submit"
    if path == "/api/v1/centres/{slug}/accreditation":
        return role == "admin", "only admins change accreditation"
    if path == "/api/v1/audit-events":
        return role == "admin", "only admins read the audit trail"
    if path == "/api/v1/organisations/{slug}/rollup":
        return role in ("buyer", "admin"), "only buyers of the organisation and admins roll up"
    if path.startswith("/api/v1/centres/{slug}") and slug in world.hidden_centres():
        allowed = role == "admin" or (role == "centre" and slug == OWN_CENTRE)
        return allowed, "applied and withdrawn centres are not shown to the public"
    return True, ""


class RoleRule:
    """A schemathesis check bound to one role and the world's identifiers."""

    def __init__(self, role: str, world) -> None:
        self.role = role
        self.world = world
        self.__name__ = f"role_rules[{role}]"

    def __call__(self, ctx: CheckContext, response, case: Case) -> bool | None:
        if not 200 <= response.status_code < 300:
            return None
        # Negative cases also try undocumented methods; Flask answers OPTIONS with the
        # allowed methods and no data, which refuses nothing because it grants nothing.
        if case.method.upper() == "OPTIONS":
            return None
        allowed, rule = _role_may_succeed(self.role, case, self.world)
        if not allowed:
            raise Failure(
                operation=case.operation.label,
                title=f"{self.role} was not refused",
                message=(
                    f"{case.method.upper()} {case.formatted_path} answered "
                    f"{response.status_code} for {self.role}: {rule}."
                ),
            )
        return True


# Refusals that any operation may give, whatever it is, and that the document therefore
# states once, under each operation's `default` problem: a method the path does not take,
# an Accept header that allows no type the API sends, a request too large, too many tries.
ANY_OPERATION = frozenset((405, 406, 413, 414, 429))


def documented_statuses(method: str, path: str) -> set[str] | None:
    """The status codes an operation documents, or None for a method the path lacks."""
    operation = DOCUMENT["paths"].get(path, {}).get(method.lower())
    return None if operation is None else set(operation.get("responses", {}))


class RefusalsDocumented:
    """Each refusal the fuzzer meets is a response its operation documents by status code.

    schemathesis' status_code_conformance is content with the `default` response every
    operation has; this asks for more: a client reading one operation learns every 4xx it
    can get there and what each means (only ANY_OPERATION is left to `default`).
    """

    __name__ = "refusals_documented"

    def __call__(self, ctx: CheckContext, response, case: Case) -> bool | None:
        status = response.status_code
        if not 400 <= status < 500 or status in ANY_OPERATION:
            return None
        documented = documented_statuses(case.method, case.operation.path)
        if documented is None:
            return None
        if str(status) not in documented:
            raise Failure(
                operation=case.operation.label,
                title=f"Undocumented refusal {status}",
                message=(
                    f"{case.method.upper()} {case.formatted_path} answered {status}, which "
                    f"the operation does not document (it documents {sorted(documented)})."
                ),
            )
        return True


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@schemathesis.serializer(XLSX)
def xlsx_body(context, value) -> dict:
    """Send generated bytes as the workbook: the upload must refuse what is not one, cleanly."""
    return {"data": serialize_binary(value)}


# Real identifiers from the fuzz world, filled in by the `world_ids` fixture before any
# example is generated (hooks run at generation time, inside the test).
REAL_IDS: dict[str, list[str]] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    # Half the time, a real identifier for every parameter the world knows about.
    known = {name: REAL_IDS[name] for name in path_parameters or () if REAL_IDS.get(name)}
    if not known:
        return st.just(path_parameters)
    chosen = st.fixed_dictionaries({name: st.sampled_from(v) for name, v in known.items()})
    return st.one_of(
        st.just(path_parameters), chosen.map(lambda picked: {**path_parameters, **picked})
    )


NEGATED_QUERY = re.compile(r"parameters? ((?:`[^`]+`(?:, | and )?)+) in query")


# Refusals of schema-valid requests that no schema can state, because they depend on the
# data, the clock, another field or who asks: (method, path) -> {field: what its message
# says}. Each is a 422 its operation documents (RefusalsDocumented checks that). A
# schema-valid request refused for any other field, for another reason on one of these
# fields, or with no field named, still fails the run. What the state of a resource decides
# is not here: it is a documented 409 (accreditation changes), and a thing that is missing
# or hidden is a documented 404 (centres compared, periods), both of which schemathesis
# counts as accepting valid data.
DATA_DEPENDENT = {
    # Applied and withdrawn centres are listed for admins only: the status vocabulary
    # depends on who asks, and one document serves every caller.
    ("GET", "/api/v1/centres"): {"status": ("not listed publicly",)},
    # An organisation filter names one that exists (data, not a closed vocabulary), and
    # `to` is on or after `from` (JSON Schema cannot compare two parameters).
    ("GET", "/api/v1/audit-events"): {
        "organisation": ("There is no organisation",),
        "to": ("must be on or after 'from'",),
    },
    # Ownership shares add up to 100 (a sum of fields); one certification per scheme and
    # site names that differ ignoring case (uniqueItems compares whole items, exactly).
    ("PATCH", "/api/v1/centres/{slug}"): {
        "ownership": ("must add up to 100%",),
        "certifications": ("List each certification once.",),
        "sites": ("Give each site a different name.",),
    },
    # `valid_until` is today or later (the clock) and on or after `valid_from` (another
    # field). Which action is open, and whether a renewal extends validity, are 409s.
    ("POST", "/api/v1/centres/{slug}/accreditation"): {
        "valid_until": ("must not be in the past", "must be on or after 'valid from'"),
    },
    # The pattern allows "a,a", which is one centre, not two to compare (a regular
    # expression cannot say "different"); a weight names a metric once, one that the
    # comparison holds, and not every weight may be 0.
    ("GET", "/api/v1/compare"): {
        "centres": ("Choose at least",),
        "weights": ("is weighted twice", "must be more than 0", "not a metric in this comparison"),
        # A driver named twice (a pattern cannot say "different"), the current provider
        # among the centres compared (another parameter), not both it and a cost.
        "volumes": ("is given twice",),
        "current_provider": ("Choose the current provider from the compared centres.",),
        "current_cost": ("not both",),
    },
}
# The upload's body is a file judged row by row against the library, the periods and the
# centre's service lines (every refusal listed): any refusal of its content is such a rule.
FILE_JUDGED = ("POST", "/api/v1/centres/{slug}/submissions")


def _refused_by_a_data_rule(case, response) -> bool:
    key = (case.method.upper(), case.operation.path)
    if not 400 <= response.status_code < 500:
        return False
    if key == FILE_JUDGED:
        return True
    try:
        errors = response.json().get("errors") or []
    except (ValueError, AttributeError):
        return False
    rules = DATA_DEPENDENT.get(key, {})

    def excused(error) -> bool:
        field = str(error.get("field") or "").split(".")[0]
        message = str(error.get("message") or "")
        return any(fragment in message for fragment in rules.get(field, ()))

    return bool(errors) and all(excused(error) for error in errors)


@schema.hook
def filter_failure(context, failure, case, response) -> bool:
    """Keep every failure but those the project decided on.

    - A blank query parameter is unset: HTML GET forms send their empty fields
      (`?to=&actor=`), and the same schemas read the pages' and the API's query strings, so
      a blank filter means "no filter" everywhere. Only a negative case whose sole offence is
      blank query values is let through.
    - A schema-valid request refused by a rule of the data (DATA_DEPENDENT, FILE_JUDGED).
    """
    if isinstance(failure, RejectedPositiveData):
        return not _refused_by_a_data_rule(case, response)
    if not isinstance(failure, AcceptedNegativeData):
        return True
    offending = [
        name
        for names in NEGATED_QUERY.findall(failure.message)
        for name in re.findall(r"`([^`]+)`", names)
    ]
    query = case.query or {}
    blank_only = offending and all(_sent_blank(query.get(name)) for name in offending)
    other_parts = "in path" in failure.message or "in body" in failure.message
    return not blank_only or other_parts


def _sent_blank(value) -> bool:
    """Whether the value goes on the wire as an empty parameter (`?q=`): an empty string,
    or an empty object or list, which the query string serialises to nothing."""
    if isinstance(value, list):
        return all(_sent_blank(item) for item in value)
    return value in ("", None) or value == {}


@pytest.fixture(autouse=True)
def world_ids(fuzz_world):
    REAL_IDS.update(
        slug=sorted(fuzz_world.centres),
        code=sorted(fuzz_world.metrics),
        metric_code=sorted(fuzz_world.metrics),
    )


@pytest.fixture(params=ROLES)
def role(request) -> str:
    return request.param


@schema.parametrize()
@settings(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api_conforms_and_refuses_what_it_must(case, role, fuzz_world, app):
    # The checks that send a request again (without credentials, for one) use the
    # operation's app; the document was loaded as a dict, so tell them which app it is.
    case.operation.app = app
    case.operation.schema.app = app
    with one_example(fuzz_world):
        case.call_and_validate(
            app=app,
            headers=fuzz_world.headers[role],
            cookies=fuzz_world.cookies[role],
            additional_checks=[RoleRule(role, fuzz_world), RefusalsDocumented()],
        )


@pytest.mark.parametrize(
    ("role", "status"), [("anonymous", 401), ("buyer", 403), ("centre", 403), ("admin", 200)]
)
def test_each_role_is_who_the_fuzzer_says(app, fuzz_world, role, status):
    """The credentials above really sign in as their role (else the fuzz proves less)."""
    client = app.test_client()
    for name, value in fuzz_world.cookies[role].items():
        client.set_cookie(name, value)
    with one_example(fuzz_world):
        response = client.get("/api/v1/audit-events", headers=fuzz_world.headers[role])
    assert response.status_code == status, response.get_data(as_text=True)[:300]


def test_each_excused_refusal_is_a_documented_422_of_a_documented_operation():
    """The excuses above name operations that exist, each documenting the 422 excused."""
    for method, path in [*DATA_DEPENDENT, FILE_JUDGED]:
        documented = documented_statuses(method, path)
        assert documented is not None, (method, path)
        assert "422" in documented, (method, path)
