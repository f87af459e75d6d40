"""The authorisation matrix: every route of the application, every persona, the exact status.

Routes are read from the application's URL map, so a new route without a rule here fails
`test_every_route_has_a_rule` (and its own case) with a message saying what to add. Each rule
names, per HTTP method, the status each persona gets: anonymous, a department's buyer, an
ALB's buyer, a centre's user, another centre's user and an admin. URL parameters come from a
small world of real records (tests/authz_world.py). Safe methods are asked by every persona
against one world; unsafe ones get a fresh world per persona, since a request may change it.
CSRF is off in the test app, so a POST reaches the view's own checks.

Reading the numbers: 302 sends an anonymous visitor to sign in; 401 is the API's answer to
nobody; 403 a signed-in person without the role; 404 where even existence is not disclosed;
400/409/422 mean the person was allowed in and the (empty) form was refused on its merits.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from marketplace import create_app
from tests import authz_world
from tests.selection.conftest import ready_to_lock

PERSONAS = ("anonymous", "buyer", "alb_buyer", "centre_user", "other_centre_user", "admin")
SAFE = {"GET"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}


def s(anonymous, buyer, alb_buyer, centre_user, other_centre_user, admin) -> dict[str, int]:
    """Statuses in persona order."""
    return dict(
        zip(
            PERSONAS,
            (anonymous, buyer, alb_buyer, centre_user, other_centre_user, admin),
            strict=True,
        )
    )


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(PERSONAS, status)


PUBLIC = everyone(200)
ADMIN = s(302, 403, 403, 403, 403, 200)
CENTRE = s(302, 403, 403, 200, 200, 403)
API_ADMIN = s(401, 403, 403, 403, 403, 200)


def admin_form(status: int) -> dict[str, int]:
    """An admin form posted empty: others are kept out, the admin hears what is missing."""
    return s(302, 403, 403, 403, 403, status)


@dataclass(frozen=True)
class Case:
    statuses: dict[str, int]
    params: Callable[[authz_world.World], dict] = field(default=lambda w: {})
    data: Callable[[authz_world.World], dict] | None = None
    json: Callable[[authz_world.World], dict] | None = None
    # Records the route shows though its URL does not name them (made before the request).
    needs: tuple[str, ...] = ()


C = Case
RULES: dict[str, dict[str, Case]] = {
    # --- public pages ---------------------------------------------------------------------
    "main.home": {"GET": C(PUBLIC)},
    "main.healthz": {"GET": C(PUBLIC)},
    "static": {"GET": C(PUBLIC, lambda w: {"filename": "build/app.css"})},
    "benchmarks.methodology": {"GET": C(PUBLIC)},
    "benchmarks.reading_figures": {"GET": C(PUBLIC)},
    "catalogue.centres": {"GET": C(PUBLIC)},
    # An applicant is not listed publicly: only admins (and its own users) see it.
    "catalogue.centre": {
        "GET": C(s(404, 404, 404, 404, 404, 200), lambda w: {"slug": w["applicant"]})
    },
    "metric_pages.library": {"GET": C(PUBLIC)},
    "metric_pages.metric": {"GET": C(PUBLIC, lambda w: {"code": w["metric"]})},
    "selection.compare": {
        "GET": C(
            PUBLIC,
            lambda w: {"centres": f"{w['centre']},{w['other_centre']}", "period": w["published"]},
        )
    },
    "selection.compare_csv": {
        "GET": C(
            PUBLIC,
            lambda w: {"centres": f"{w['centre']},{w['other_centre']}", "period": w["published"]},
        )
    },
    # The comparison basket is anyone's: it lives in their own session.
    "basket.add": {"POST": C(everyone(302), data=lambda w: {"centres": w["centre"]})},
    "basket.remove": {"POST": C(everyone(302), data=lambda w: {"centre": w["centre"]})},
    # --- signing in and joining -------------------------------------------------------------
    "accounts.login": {"GET": C(PUBLIC), "POST": C(everyone(400), data=lambda w: {})},
    "accounts.logout_confirm": {"GET": C(s(302, 200, 200, 200, 200, 200))},
    "accounts.logout": {"POST": C(everyone(302), data=lambda w: {})},
    "onboarding.register": {
        "GET": C(s(200, 302, 302, 302, 302, 302)),
        "POST": C(s(400, 302, 302, 302, 302, 302), data=lambda w: {"email": ""}),
    },
    "onboarding.complete_registration": {
        "GET": C(PUBLIC, lambda w: {"token": w["registration"]}),
        "POST": C(everyone(400), lambda w: {"token": w["registration"]}, data=lambda w: {}),
    },
    "onboarding.accept_invitation": {
        "GET": C(PUBLIC, lambda w: {"token": w["invitation"]}),
        "POST": C(everyone(400), lambda w: {"token": w["invitation"]}, data=lambda w: {}),
    },
    "onboarding.request_password_reset": {
        "GET": C(PUBLIC),
        "POST": C(everyone(400), data=lambda w: {"email": ""}),
    },
    "onboarding.choose_password": {
        "GET": C(PUBLIC, lambda w: {"token": w["reset"]}),
        "POST": C(everyone(400), lambda w: {"token": w["reset"]}, data=lambda w: {}),
    },
    # --- published reports (public) ---------------------------------------------------------
    "publications.index": {"GET": C(PUBLIC)},
    "publications.atom_feed": {"GET": C(PUBLIC)},
    "publications.centre_page": {
        "GET": C(PUBLIC, lambda w: {"centre_slug": w["centre"], "period": w["published"]})
    },
    "publications.centre_pdf": {
        "GET": C(PUBLIC, lambda w: {"centre_slug": w["centre"], "period": w["published"]})
    },
    "publications.centre_page_version": {
        "GET": C(
            PUBLIC, lambda w: {"centre_slug": w["centre"], "period": w["published"], "version": 1}
        )
    },
    "publications.centre_pdf_version": {
        "GET": C(
            PUBLIC, lambda w: {"centre_slug": w["centre"], "period": w["published"], "version": 1}
        )
    },
    "publications.league_page": {"GET": C(PUBLIC, lambda w: {"period": w["published"]})},
    "publications.league_pdf": {"GET": C(PUBLIC, lambda w: {"period": w["published"]})},
    "publications.league_page_version": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "version": 1})
    },
    "publications.league_pdf_version": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "version": 1})
    },
    "publications.league_csv": {"GET": C(PUBLIC, lambda w: {"period": w["published"]})},
    "publications.league_line_page": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "line": "finance"})
    },
    "publications.league_line_pdf": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "line": "finance"})
    },
    "publications.league_line_csv": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "line": "finance"})
    },
    "publications.league_line_page_version": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "line": "finance", "version": 1})
    },
    "publications.league_line_pdf_version": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "line": "finance", "version": 1})
    },
    "publications.open_data": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "ext": "csv"})
    },
    "publications.open_data_version": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "version": 1, "ext": "json"})
    },
    # --- buyers' evaluations (the department buyer's own; the ALB buyer and centre users are
    # told nothing, not even that it exists) ------------------------------------------------
    "evaluations.index": {"GET": C(s(302, 200, 200, 403, 403, 200))},
    "evaluations.new": {
        "GET": C(s(302, 200, 200, 403, 403, 403)),
        "POST": C(s(302, 400, 400, 403, 403, 403), data=lambda w: {}),
    },
    "evaluations.show": {
        "GET": C(s(302, 200, 404, 404, 404, 200), lambda w: {"public_id": w["evaluation"]})
    },
    "evaluations.edit": {
        "GET": C(s(302, 200, 404, 404, 404, 403), lambda w: {"public_id": w["evaluation"]}),
        "POST": C(
            s(302, 400, 404, 404, 404, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        ),
    },
    # An empty weights form is a valid save (nothing weighted yet).
    "evaluations.weights": {
        "GET": C(s(302, 200, 404, 404, 404, 403), lambda w: {"public_id": w["evaluation"]}),
        "POST": C(
            s(302, 302, 404, 404, 404, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        ),
    },
    # Sealing the weights (the world's default weights can be sealed) shows the results.
    "evaluations.seal": {
        "POST": C(
            s(302, 302, 404, 404, 404, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        ),
    },
    # Scoring comes after sealing: the world's weights are not sealed, so its owner is told.
    "evaluations.scores": {
        "GET": C(s(302, 409, 404, 404, 404, 403), lambda w: {"public_id": w["evaluation"]}),
        "POST": C(
            s(302, 409, 404, 404, 404, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        ),
    },
    # The GET page is the confirmation; the POST locks the shortlist, refused (422) for the
    # world's evaluation, whose weights are not sealed.
    "evaluations.lock": {
        "GET": C(s(302, 200, 404, 404, 404, 403), lambda w: {"public_id": w["evaluation"]}),
        "POST": C(
            s(302, 422, 404, 404, 404, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        ),
    },
    # The world's evaluation is not locked yet: its owner is told an outcome must wait.
    "evaluations.outcome": {
        "GET": C(s(302, 409, 404, 404, 404, 403), lambda w: {"public_id": w["evaluation"]}),
        "POST": C(
            s(302, 409, 404, 404, 404, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        ),
    },
    # A decision record exists once the evaluation is locked with an outcome: before that,
    # those who may see the evaluation hear so; nobody else learns it exists.
    "decision_records.decision_record_pdf": {
        "GET": C(s(302, 409, 404, 404, 404, 409), lambda w: {"public_id": w["evaluation"]})
    },
    # The team (the department buyer who started it) is sent back to the team section, with
    # what was wrong with the empty form; others do not learn the evaluation exists.
    "evaluation_team.invite": {
        "POST": C(
            s(302, 303, 404, 403, 403, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        )
    },
    "evaluation_team.remove": {
        "POST": C(
            s(302, 303, 404, 403, 403, 403),
            lambda w: {"public_id": w["evaluation"]},
            data=lambda w: {},
        )
    },
    # --- requests to join: the department's approver (the buyer persona), and admins -------
    "join_requests.index": {"GET": C(s(302, 200, 403, 403, 403, 403))},
    "join_requests.decide": {
        "GET": C(s(302, 200, 403, 403, 403, 403), lambda w: {"public_id": w["join_request"]}),
        "POST": C(
            s(302, 400, 403, 403, 403, 403),
            lambda w: {"public_id": w["join_request"]},
            data=lambda w: {},
        ),
    },
    "admin.join_requests": {"GET": C(ADMIN)},
    # The world's department buyer approves: removing it is confirmed first.
    "admin.user_approver": {
        "GET": C(ADMIN, lambda w: {"public_id": w["buyer"], "action": "remove"}),
        "POST": C(
            admin_form(200),
            lambda w: {"public_id": w["buyer"], "action": "remove"},
            data=lambda w: {},
        ),
    },
    "admin.decide_join_request": {
        "GET": C(ADMIN, lambda w: {"public_id": w["join_request"]}),
        "POST": C(admin_form(400), lambda w: {"public_id": w["join_request"]}, data=lambda w: {}),
    },
    "evaluations.export": {
        "GET": C(s(302, 200, 404, 404, 404, 200), lambda w: {"public_id": w["evaluation"]})
    },
    # --- contracts (the ALB's contract with centre A: its buyers, the parent department's
    # buyers, centre A and admins see it; only the ALB's buyers override a rating) ---------
    "buyer_contracts.index": {"GET": C(s(302, 200, 200, 403, 403, 403))},
    "buyer_contracts.show": {
        "GET": C(s(302, 200, 200, 403, 403, 403), lambda w: {"public_id": w["contract"]})
    },
    "buyer_contracts.override": {
        "GET": C(
            s(302, 403, 200, 403, 403, 403),
            lambda w: {"public_id": w["contract"], "metric": w["metric"], "period": w["published"]},
        ),
        "POST": C(
            s(302, 403, 400, 403, 403, 403),
            lambda w: {"public_id": w["contract"], "metric": w["metric"], "period": w["published"]},
            data=lambda w: {},
        ),
    },
    "contract_reports.performance": {
        "GET": C(
            s(302, 200, 200, 200, 404, 200), lambda w: {"public_id": w["contract"], "year": 2026}
        )
    },
    "centre_contracts.centre_index": {"GET": C(CENTRE)},
    "centre_contracts.centre_show": {
        "GET": C(s(302, 403, 403, 200, 404, 403), lambda w: {"public_id": w["contract"]})
    },
    # One address for everyone who may see the contract: a redirect to their own page.
    "contracts.go": {
        "GET": C(s(302, 302, 302, 302, 404, 302), lambda w: {"public_id": w["contract"]})
    },
    "admin_contracts.admin_index": {"GET": C(ADMIN)},
    "admin_contracts.admin_show": {"GET": C(ADMIN, lambda w: {"public_id": w["contract"]})},
    # Without credentials nobody may see a contract: an empty list, and 404.
    "contracts_api.list_contracts": {"GET": C(PUBLIC)},
    "contracts_api.get_contract": {
        "GET": C(s(404, 200, 200, 200, 404, 200), lambda w: {"contract_id": w["contract"]})
    },
    # --- the roll-up (the department's buyers see it with its ALB's contracts; the ALB's
    # buyers their own only, so the department's is refused them; admins any) ------------
    "rollup.buyer_rollup": {"GET": C(s(302, 200, 200, 403, 403, 403))},
    "rollup.buyer_rollup_csv": {"GET": C(s(302, 200, 200, 403, 403, 403))},
    "rollup.admin_rollup": {"GET": C(ADMIN)},
    "rollup.admin_rollup_csv": {"GET": C(ADMIN, lambda w: {"organisation": "dept-persona"})},
    "rollup_api.get_rollup": {
        "GET": C(s(401, 200, 403, 403, 403, 200), lambda w: {"slug": "dept-persona"})
    },
    "publications.contract_ratings": {
        "GET": C(PUBLIC, lambda w: {"period": w["published"], "ext": "csv"})
    },
    # --- centre users' pages (centre A's submission; another centre sees 404) -------------
    "centre_submissions.index": {"GET": C(CENTRE)},
    "centre_submissions.new": {
        "GET": C(CENTRE),
        "POST": C(s(302, 403, 403, 400, 400, 403), data=lambda w: {}),
    },
    "centre_submissions.show": {
        "GET": C(s(302, 403, 403, 200, 404, 403), lambda w: {"public_id": w["submission"]})
    },
    "centre_submissions.download": {
        "GET": C(s(302, 403, 403, 200, 404, 403), lambda w: {"public_id": w["submission"]})
    },
    # A refused file's errors: its centre's people and admins; another centre sees 404.
    "centre_submissions.errors_csv": {
        "GET": C(s(302, 403, 403, 200, 404, 200), lambda w: {"public_id": w["refused_submission"]})
    },
    # The same over the API: a stranger, and a buyer, learn nothing of the file (404).
    "submissions.get_submission_errors": {
        "GET": C(
            s(401, 404, 404, 200, 404, 200),
            lambda w: {"slug": w["centre"], "public_id": w["refused_submission"]},
        )
    },
    "centre_submissions.flags": {"GET": C(CENTRE)},
    # Confirming names a flagged figure; an empty form names none of theirs.
    "centre_submissions.confirm_flag": {
        "POST": C(s(302, 403, 403, 404, 404, 403), data=lambda w: {})
    },
    "centre_submissions.template": {"GET": C(CENTRE, lambda w: {"file_format": "csv"})},
    "centre_tokens.index": {"GET": C(CENTRE)},
    # --- landing pages ------------------------------------------------------------------------
    "centre_home.index": {"GET": C(CENTRE)},
    "buyer_home.index": {"GET": C(s(302, 200, 200, 403, 403, 403))},
    # --- alerts: everyone signed in has their own; the feed answers only to its secret -----
    "alerts.index": {"GET": C(s(302, 200, 200, 200, 200, 200))},
    # Posted empty: signed-in people hear what is missing (the choice), the public signs in.
    "alerts.subscriptions": {"POST": C(s(302, 422, 422, 422, 422, 422), data=lambda w: {})},
    "alerts.feed_key": {"POST": C(s(302, 302, 302, 302, 302, 302), data=lambda w: {})},
    "alerts.private_feed": {"GET": C(everyone(404), lambda w: {"key": "not-a-feed-key"})},
    "centre_tokens.new": {
        "GET": C(CENTRE),
        "POST": C(s(302, 403, 403, 400, 400, 403), data=lambda w: {}),
    },
    "centre_tokens.created": {
        "GET": C(s(302, 403, 403, 200, 404, 403), lambda w: {"public_id": w["token"]}),
    },
    "centre_tokens.revoke": {
        "GET": C(s(302, 403, 403, 200, 404, 403), lambda w: {"public_id": w["token"]}),
        "POST": C(
            s(302, 403, 403, 302, 404, 403), lambda w: {"public_id": w["token"]}, data=lambda w: {}
        ),
    },
    "centre_profile.edit": {
        "GET": C(CENTRE),
        "POST": C(s(302, 403, 403, 400, 400, 403), data=lambda w: {}),
    },
    # --- the accreditation authority (/admin) ---------------------------------------------
    "admin.index": {"GET": C(ADMIN)},
    "admin.centres": {"GET": C(ADMIN)},
    "admin.centre": {"GET": C(ADMIN, lambda w: {"slug": w["centre"]})},
    "admin.accreditation_action": {
        "GET": C(ADMIN, lambda w: {"slug": w["applicant"], "action": "accredit"}),
        "POST": C(
            admin_form(422),
            lambda w: {"slug": w["applicant"], "action": "accredit"},
            data=lambda w: {},
        ),
    },
    "admin.new_centre": {"GET": C(ADMIN), "POST": C(admin_form(422), data=lambda w: {})},
    "admin.metrics": {"GET": C(ADMIN)},
    "admin.metric": {"GET": C(ADMIN, lambda w: {"code": w["metric"]})},
    "admin.new_metric": {"GET": C(ADMIN), "POST": C(admin_form(422), data=lambda w: {})},
    "admin.metric_version": {
        "GET": C(ADMIN, lambda w: {"code": w["metric"]}),
        "POST": C(admin_form(422), lambda w: {"code": w["metric"]}, data=lambda w: {}),
    },
    "admin.retire_metric": {
        "GET": C(ADMIN, lambda w: {"code": w["metric"]}),
        "POST": C(admin_form(422), lambda w: {"code": w["metric"]}, data=lambda w: {}),
    },
    "admin.open_period": {"GET": C(ADMIN), "POST": C(admin_form(422), data=lambda w: {})},
    "admin.reopen_period": {
        "GET": C(ADMIN, lambda w: {"code": w["closed"]}),
        "POST": C(admin_form(422), lambda w: {"code": w["closed"]}, data=lambda w: {}),
    },
    "publication_admin.periods": {"GET": C(ADMIN)},
    "publication_admin.close": {
        "GET": C(ADMIN, lambda w: {"code": w["closed"]}),
        "POST": C(admin_form(400), lambda w: {"code": w["closed"]}, data=lambda w: {}),
    },
    "publication_admin.publish": {
        "GET": C(ADMIN, lambda w: {"code": w["published"]}),
        "POST": C(admin_form(400), lambda w: {"code": w["published"]}, data=lambda w: {}),
    },
    "admin.organisations": {"GET": C(ADMIN)},
    "admin.organisation": {"GET": C(ADMIN, lambda w: {"slug": w["organisation"]})},
    "admin.new_organisation": {
        "GET": C(ADMIN, lambda w: {"kind": "alb"}),
        "POST": C(admin_form(422), lambda w: {"kind": "alb"}, data=lambda w: {}),
    },
    "admin.users": {"GET": C(ADMIN)},
    "admin.user": {"GET": C(ADMIN, lambda w: {"public_id": w["buyer"]})},
    "admin.invite_user": {"GET": C(ADMIN), "POST": C(admin_form(422), data=lambda w: {})},
    "admin.change_role": {
        "GET": C(ADMIN, lambda w: {"public_id": w["buyer"]}),
        "POST": C(admin_form(422), lambda w: {"public_id": w["buyer"]}, data=lambda w: {}),
    },
    "admin.user_state": {
        "GET": C(ADMIN, lambda w: {"public_id": w["buyer"], "action": "deactivate"}),
        "POST": C(
            admin_form(422),
            lambda w: {"public_id": w["buyer"], "action": "deactivate"},
            data=lambda w: {},
        ),
    },
    "admin.tokens": {"GET": C(ADMIN)},
    "admin.revoke_token": {
        "GET": C(ADMIN, lambda w: {"public_id": w["token"]}),
        "POST": C(admin_form(422), lambda w: {"public_id": w["token"]}, data=lambda w: {}),
    },
    "admin.domains": {"GET": C(ADMIN), "POST": C(admin_form(422), data=lambda w: {})},
    "admin.remove_domain": {
        "GET": C(ADMIN, lambda w: {"domain": w["domain"]}),
        "POST": C(admin_form(422), lambda w: {"domain": w["domain"]}, data=lambda w: {}),
    },
    # Posted empty: "any department or ALB", which the admin is asked to confirm.
    "admin.domain_organisations": {
        "GET": C(ADMIN, lambda w: {"domain": w["domain"]}),
        "POST": C(admin_form(200), lambda w: {"domain": w["domain"]}, data=lambda w: {}),
    },
    "admin.reviews": {"GET": C(ADMIN)},
    "admin.signals": {"GET": C(ADMIN)},
    "admin.restatements": {"GET": C(ADMIN)},
    # Posted empty: nothing chosen, no decision; the admin hears what is missing.
    "admin.decide_restatements": {"POST": C(admin_form(422), data=lambda w: {})},
    "admin.review": {
        "GET": C(ADMIN, lambda w: {"public_id": w["review"]}),
        # Acknowledging needs nothing more than the click (a note is optional).
        "POST": C(admin_form(302), lambda w: {"public_id": w["review"]}, data=lambda w: {}),
    },
    "audit.index": {"GET": C(ADMIN)},
    "audit.export": {"GET": C(ADMIN)},
    "mail.index": {"GET": C(ADMIN)},
    "mail.show": {"GET": C(ADMIN, lambda w: {"public_id": w["email"]})},
    # --- the JSON API -----------------------------------------------------------------------
    "api_docs.docs": {"GET": C(PUBLIC)},
    "api-docs.openapi_json": {"GET": C(PUBLIC)},
    "centres.list_centres": {"GET": C(PUBLIC)},
    "centres.get_centre": {
        "GET": C(s(404, 404, 404, 404, 404, 200), lambda w: {"slug": w["applicant"]})
    },
    "centres.update_centre": {
        "PATCH": C(
            s(401, 403, 403, 200, 403, 200),
            lambda w: {"slug": w["centre"]},
            json=lambda w: {"summary": "Changed by the matrix"},
        ),
    },
    "admin_api.change_accreditation": {
        "POST": C(
            API_ADMIN,
            lambda w: {"slug": w["centre"]},
            json=lambda w: {"action": "suspend", "reason": "Matrix"},
        ),
    },
    "admin_api.list_audit_events": {"GET": C(API_ADMIN)},
    "restatements_api.list_restatements": {"GET": C(API_ADMIN)},
    # Posted empty: others are kept out, the admin hears what is missing.
    "restatements_api.approve_restatements": {
        "POST": C(s(401, 403, 403, 403, 403, 422), json=lambda w: {})
    },
    "restatements_api.refuse_restatements": {
        "POST": C(s(401, 403, 403, 403, 403, 422), json=lambda w: {})
    },
    "submissions.list_observations": {"GET": C(PUBLIC, lambda w: {"slug": w["centre"]})},
    "submissions.post_submission": {
        "POST": C(
            s(401, 403, 403, 422, 403, 403),
            lambda w: {"slug": w["centre"]},
            json=lambda w: {"observations": []},
        ),
    },
    "peer_benchmarks.benchmark": {
        "GET": C(PUBLIC, lambda w: {"metric_code": w["metric"], "period": w["published"]})
    },
    "peer_benchmarks.compare": {
        "GET": C(
            PUBLIC,
            lambda w: {"centres": f"{w['centre']},{w['other_centre']}", "period": w["published"]},
        )
    },
    "spc.centre_spc": {
        "GET": C(PUBLIC, lambda w: {"slug": w["centre"], "metric_code": w["metric"]})
    },
    "spc.centre_signals": {"GET": C(PUBLIC, lambda w: {"slug": w["centre"]})},
    "metrics.list_metrics": {"GET": C(PUBLIC)},
    "metrics.get_metric": {"GET": C(PUBLIC, lambda w: {"code": w["metric"]})},
    "periods.list_periods": {"GET": C(PUBLIC)},
    "service_lines.list_service_lines": {"GET": C(PUBLIC)},
    "reports.list_reports": {"GET": C(PUBLIC)},
    "reports.get_report": {"GET": C(PUBLIC, lambda w: {"report_id": w["report_id"]})},
}


# Published reports are real records for every page under /reports (and the reports API).
for _endpoint, _methods in RULES.items():
    if _endpoint.startswith(("publications.", "reports.")):
        for _method, _case in _methods.items():
            _methods[_method] = replace(_case, needs=("report",))


# --- the cases, from the URL map --------------------------------------------------------------


def _routes() -> list[tuple[str, str]]:
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True})
    routes = set()
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            routes.add((rule.endpoint, method))
    return sorted(routes)


ROUTES = _routes()
SAFE_CASES = [(e, m) for e, m in ROUTES if m in SAFE]
UNSAFE_CASES = [(e, m, p) for e, m in ROUTES if m not in SAFE for p in PERSONAS]


def _case(endpoint: str, method: str) -> Case:
    rule = RULES.get(endpoint, {}).get(method)
    if rule is None:
        pytest.fail(
            f"The route {method} {endpoint} has no authorisation rule. Add an entry to RULES in "
            f"tests/test_authorisation_matrix.py saying what each persona ({', '.join(PERSONAS)}) "
            f"gets, e.g. RULES[{endpoint!r}] = {{{method!r}: Case(ADMIN, params=...)}}.",
            pytrace=False,
        )
    return rule


def _request(client, endpoint: str, method: str, case: Case, world):
    from flask import current_app, url_for

    for name in case.needs:
        world[name]
    with current_app.test_request_context():
        url = url_for(endpoint, **case.params(world))
    kwargs = {}
    if case.json is not None:
        kwargs["json"] = case.json(world)
    elif case.data is not None:
        kwargs["data"] = case.data(world)
    response = client.open(url, method=method, **kwargs)
    response.close()  # file downloads hold their file open until closed
    return response


def _check(got: dict, expected: dict, endpoint: str, method: str) -> None:
    if os.environ.get("MATRIX_PRINT"):
        print(f"\nMATRIX {endpoint} {method} {[got[p] for p in got]}")
    assert got == expected, (
        f"{method} {endpoint}: each persona's status differs from the rule.\n"
        f"  expected {expected}\n  got      {got}"
    )


def test_every_route_has_a_rule():
    missing = [f"{m} {e}" for e, m in ROUTES if m not in RULES.get(e, {})]
    assert not missing, (
        "These routes have no authorisation rule; add them to RULES in "
        "tests/test_authorisation_matrix.py with the status each persona gets:\n  "
        + "\n  ".join(missing)
    )


def test_every_rule_names_a_route():
    known = set(ROUTES)
    stale = [f"{m} {e}" for e, methods in RULES.items() for m in methods if (e, m) not in known]
    assert not stale, f"Rules for routes that no longer exist (remove them): {stale}"


@pytest.mark.parametrize(
    ("endpoint", "method"), SAFE_CASES, ids=[f"{m} {e}" for e, m in SAFE_CASES]
)
def test_safe_route(endpoint, method, as_persona, personas, app):
    case = _case(endpoint, method)
    world = authz_world.build(personas)
    got = {}
    for persona in PERSONAS:
        response = _request(as_persona(persona), endpoint, method, case, world)
        got[persona] = response.status_code
    _check(got, case.statuses, endpoint, method)


@pytest.mark.parametrize(
    ("endpoint", "method", "persona"),
    UNSAFE_CASES,
    ids=[f"{m} {e} {p}" for e, m, p in UNSAFE_CASES],
)
def test_unsafe_route(endpoint, method, persona, as_persona, personas, app):
    case = _case(endpoint, method)
    world = authz_world.build(personas)
    response = _request(as_persona(persona), endpoint, method, case, world)
    expected = case.statuses[persona]
    if os.environ.get("MATRIX_PRINT"):
        print(f"\nMATRIX {endpoint} {method} {persona} {response.status_code}")
    assert response.status_code == expected, (
        f"{method} {endpoint} as {persona}: expected {expected}, got {response.status_code}: "
        + response.get_data(as_text=True)[:300]
    )


# --- the team rule and the front door (DOMAIN.md "Choosing a centre"; issue 11) -------------
# The six personas above are the evaluation's team (the department buyer who started it) and
# outsiders. Two more people matter: a colleague of the same department who is not on the
# team, and a buyer of the department whose request to join is still waiting (or refused).

BUYER_ROUTES = [
    (e, m)
    for e, m in ROUTES
    if e.startswith(("evaluations.", "evaluation_team.", "join_requests."))
]
BUYER_ROUTES += [(e, m) for e, m in ROUTES if e == "decision_records.decision_record_pdf"]


def _client_for(app, user):
    from tests.conftest import sign_in

    client = app.test_client()
    sign_in(client, user)
    return client


def _colleague(personas):
    from tests.factories import UserFactory

    return UserFactory(
        email="colleague@dept.example.gov.uk", organisation=personas["buyer"].organisation
    )


@pytest.mark.parametrize("route", ["", "/weights", "/edit", "/lock", "/export.csv"])
def test_a_colleague_outside_the_team_learns_nothing_of_a_live_evaluation(app, personas, route):
    world = authz_world.build(personas)
    client = _client_for(app, _colleague(personas))
    url = f"/buyer/evaluations/{world['evaluation']}{route}"
    assert client.get(url).status_code == 404
    assert client.post(url if route else url + "/weights", data={}).status_code in (404, 405)
    listing = client.get("/buyer/evaluations").get_data(as_text=True)
    assert world["evaluation"] not in listing


def test_a_colleague_outside_the_team_reads_a_locked_evaluation_only(app, personas):
    from marketplace.extensions import db
    from marketplace.selection import services as selection

    world = authz_world.build(personas)
    evaluation = selection.get_for_viewer(world["evaluation"], personas["buyer"])
    ready_to_lock(personas["buyer"], evaluation)
    selection.lock(personas["buyer"], evaluation)
    db.session.commit()
    client = _client_for(app, _colleague(personas))
    url = f"/buyer/evaluations/{world['evaluation']}"
    page = client.get(url)
    assert page.status_code == 200
    assert "Set weights and scores" not in page.get_data(as_text=True)
    assert "Invite to the team" not in page.get_data(as_text=True)
    assert client.get(url + "/weights").status_code == 403
    assert client.post(url + "/weights", data={}).status_code == 403
    assert client.post(url + "/team", data={"member": "x"}).status_code == 403
    assert world["evaluation"] in client.get("/buyer/evaluations").get_data(as_text=True)


def test_an_invited_colleague_is_on_the_team(app, personas):
    world = authz_world.build(personas)
    colleague = _colleague(personas)
    owner = _client_for(app, personas["buyer"])
    url = f"/buyer/evaluations/{world['evaluation']}"
    assert colleague.public_id in owner.get(url).get_data(as_text=True)  # offered in the select
    assert owner.post(url + "/team", data={"member": colleague.public_id}).status_code == 303
    client = _client_for(app, colleague)
    assert client.get(url).status_code == 200
    assert client.get(url + "/weights").status_code == 200


@pytest.mark.parametrize("status", ["pending", "refused"])
@pytest.mark.parametrize(
    ("endpoint", "method"), BUYER_ROUTES, ids=[f"{m} {e}" for e, m in BUYER_ROUTES]
)
def test_a_buyer_not_yet_a_member_gets_the_waiting_page_on_every_buyer_route(
    app, personas, endpoint, method, status
):
    from marketplace.accounts import membership
    from tests.factories import UserFactory

    world = authz_world.build(personas)
    newcomer = UserFactory(
        email="newcomer@dept.example.gov.uk", organisation=personas["buyer"].organisation
    )
    request = membership.ask_to_join(newcomer, newcomer.organisation)
    if status == "refused":
        membership.decide(request, approver=personas["admin"], approve=False, reason="Not known")
    case = _case(endpoint, method)
    response = _request(_client_for(app, newcomer), endpoint, method, case, world)
    assert response.status_code == 403, f"{method} {endpoint}: {response.status_code}"
    page = response.get_data(as_text=True)
    if status == "pending":
        assert "is waiting for approval by Department for Personas" in page
    else:
        assert "was refused: Not known" in page
