"""GET /api/v1/reports and /api/v1/reports/<id>."""

from __future__ import annotations

import pytest

from marketplace.publications import services
from tests.api.helpers import assert_problem
from tests.publications.test_publish import restate


@pytest.fixture
def published(world):
    services.publish_inline(world.q3, actor_label="test")
    return world


def test_the_list_is_public_paginated_and_filtered(client, published):
    body = client.get("/api/v1/reports?per_page=3").get_json()
    assert body["meta"]["total"] == len(published.centres) + 4
    assert len(body["data"]) == 3
    assert body["links"]["next"]

    body = client.get("/api/v1/reports?centre=ssc-a&period=2026-Q3").get_json()
    assert [item["filename"] for item in body["data"]] == [
        "ssc-a-2026-Q3-performance-report-v1.pdf"
    ]
    item = body["data"][0]
    assert item["kind"] == "centre_report"
    assert item["centre"] == {"slug": "ssc-a", "name": "Centre A"}
    assert item["version"] == 1 and item["status"] == "current"
    assert len(item["sha256"]) == 64 and item["size_bytes"] > 0
    assert item["links"]["download"] == "http://localhost/reports/ssc-a/2026-Q3/v1.pdf"
    assert item["links"]["latest"] == "http://localhost/reports/ssc-a/2026-Q3.pdf"
    assert item["links"]["html"] == "http://localhost/reports/ssc-a/2026-Q3/v1"

    kinds = client.get("/api/v1/reports?kind=open_data_json").get_json()["data"]
    assert [k["kind"] for k in kinds] == ["open_data_json"]
    assert kinds[0]["centre"] is None and kinds[0]["links"]["html"] is None


def test_one_report_by_id_and_its_versions(client, published):
    centre = published.centres[0]
    restate(centre, "ap_cost_per_invoice", "2026-Q3", "4.40", reason="Invoices double counted")
    services.republish_for_restatement(centre.id, published.q3.id, actor_label="test")

    everything = client.get("/api/v1/reports?centre=ssc-a&include_superseded=true").get_json()[
        "data"
    ]
    assert [(i["version"], i["status"]) for i in everything] == [(2, "current"), (1, "superseded")]
    old = client.get(f"/api/v1/reports/{everything[1]['id']}").get_json()
    assert old["superseded_at"] is not None
    assert old["links"]["latest"] == "http://localhost/reports/ssc-a/2026-Q3.pdf"
    new = client.get(everything[0]["links"]["self"]).get_json()
    assert any("Invoices double counted" in line for line in new["change_note"])


def test_errors_are_problem_documents(client, published):
    assert_problem(client.get("/api/v1/reports/not-an-id"), 404)
    body = assert_problem(client.get("/api/v1/reports?period=Q3-2026"), 422)
    assert body["errors"][0]["field"] == "period"
    assert_problem(client.get("/api/v1/reports?kind=poster"), 422)
