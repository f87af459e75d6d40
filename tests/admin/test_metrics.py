"""The metric library from the admin pages: add, new version (old series keeps its version),
retire; each confirmed and audited."""

from __future__ import annotations

from decimal import Decimal

from marketplace.benchmarks.models import Metric, Observation
from marketplace.extensions import db
from tests.admin.conftest import confirm, events
from tests.factories import MetricFactory, ObservationFactory, ServiceLineFactory

DEFINITION = {
    "name": "Cost per hire",
    "definition": "recruitment cost ÷ hires",
    "unit": "gbp",
    "direction": "lower",
    "valid_min": "0",
    "decimals": "2",
    "scale": "1",
}


def _versions(code: str) -> list[Metric]:
    db.session.expire_all()
    return list(
        db.session.execute(
            db.select(Metric).where(Metric.code == code).order_by(Metric.version)
        ).scalars()
    )


def test_an_admin_adds_a_metric(admin, personas):
    ServiceLineFactory(code="hr", name="HR")
    response = confirm(
        admin, "/admin/metrics/new", {"code": "cost_per_hire", "service_line": "hr", **DEFINITION}
    )
    assert response.status_code == 302
    [metric] = _versions("cost_per_hire")
    assert (metric.version, metric.is_current, metric.status) == (1, True, "active")
    assert metric.valid_min == Decimal("0") and metric.valid_max is None
    assert events("metric.added", "cost_per_hire")[0].actor_label == personas["admin"].email


def test_a_metric_code_is_used_once(admin, personas):
    existing = MetricFactory(code="cost_per_hire")
    response = admin.post(
        "/admin/metrics/new",
        data={"code": "cost_per_hire", "service_line": existing.service_line.code, **DEFINITION},
    )
    assert response.status_code == 409
    assert "This code is already used" in response.get_data(as_text=True)


def _add_x_rate(admin, **fields):
    """Post a new HR metric 'x_rate' with DEFINITION changed by `fields`."""
    ServiceLineFactory(code="hr", name="HR")
    data = {"code": "x_rate", "service_line": "hr", **DEFINITION, **fields}
    return admin.post("/admin/metrics/new", data=data)


def test_blank_numbers_are_missing_not_zero(admin, personas):
    response = _add_x_rate(admin, valid_min="", scale="abc")
    assert response.status_code == 422
    assert "Enter a number (100 for percentages" in response.get_data(as_text=True)


def test_figures_too_large_to_store_are_refused_with_the_limit(admin, personas):
    response = _add_x_rate(admin, valid_max="1e13", target="-1000000000000", scale="1000000")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count("Enter a number between -999,999,999,999 and 999,999,999,999.") >= 2
    assert "The scale must be above 0 and at most 10,000." in page
    assert _versions("x_rate") == []


def test_a_new_version_leaves_the_old_series_on_its_version(admin, personas):
    metric = MetricFactory(code="cost_per_hire", name="Cost per hire")
    old = ObservationFactory(metric=metric, centre=personas["centre"])
    changed = {**DEFINITION, "definition": "recruitment cost incl. agency fees ÷ hires"}
    response = confirm(
        admin, "/admin/metrics/cost_per_hire/version", {**changed, "reason": "Agency fees"}
    )
    assert response.status_code == 302
    first, second = _versions("cost_per_hire")
    assert (first.version, first.is_current) == (1, False)
    assert (second.version, second.is_current) == (2, True)
    assert second.definition == changed["definition"]
    assert db.session.get(Observation, old.id).metric_id == first.id
    [event] = events("metric.version_published", "cost_per_hire")
    assert event.detail["reason"] == "Agency fees"
    assert event.detail["changed"]["definition"]["before"] == "total cost ÷ invoices processed"


def test_the_confirmation_page_shows_what_changes_and_keeps_the_old_version(admin, personas):
    MetricFactory(code="cost_per_hire", **{"name": "Cost per hire"})
    changed = {**DEFINITION, "definition": "new words"}
    page = admin.post(
        "/admin/metrics/cost_per_hire/version", data={**changed, "reason": "Clearer"}
    ).get_data(as_text=True)
    assert "Publish version 2 of cost_per_hire?" in page
    assert "total cost ÷ invoices processed → new words" in page
    assert [m.version for m in _versions("cost_per_hire")] == [1]


def test_a_version_that_changes_nothing_is_refused(admin, personas):
    metric = MetricFactory(
        code="cost_per_hire",
        **{k: v for k, v in DEFINITION.items() if k in ("name", "definition", "unit", "direction")},
    )
    response = admin.post(
        f"/admin/metrics/{metric.code}/version",
        data={**DEFINITION, "reason": "none", "valid_min": "0"},
    )
    assert response.status_code == 422
    assert "Change at least one part of the definition." in response.get_data(as_text=True)


def test_retiring_needs_a_reason_and_is_audited(admin, personas):
    MetricFactory(code="old_metric")
    assert admin.post("/admin/metrics/old_metric/retire", data={}).status_code == 422
    assert (
        confirm(admin, "/admin/metrics/old_metric/retire", {"reason": "Superseded"}).status_code
        == 302
    )
    assert _versions("old_metric")[0].status == "retired"
    assert events("metric.retired", "old_metric")[0].detail["reason"] == "Superseded"
