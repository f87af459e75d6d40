"""The public methodology page states the method and its worked example correctly."""

from __future__ import annotations

import re

import pytest


@pytest.mark.parametrize("persona", ["anonymous", "buyer", "centre_user", "admin"])
def test_everyone_can_read_the_methodology(as_persona, persona):
    response = as_persona(persona).get("/methodology")
    assert response.status_code == 200
    assert "How benchmarks are calculated" in response.get_data(as_text=True)


def text_of(client) -> str:
    html = client.get("/methodology").get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_page_sets_out_the_method(client):
    text = text_of(client)
    assert "accredited on the last day of the quarter" in text
    assert "offers the service line the metric belongs to" in text
    assert "linear interpolation between the closest ranks" in text
    assert "PERCENTILE.INC" in text and "percentile_cont" in text
    assert (
        "100 × (number of peers strictly worse + half the number of other peers with "
        "exactly the same value) ÷ (n − 1)" in text
    )
    assert "Unit costs are not a pure measure of efficiency across services of different " in text
    assert "weighted by volume" in text
    assert "1, 1, 3" in text


def test_the_worked_example_is_computed(client):
    text = text_of(client)
    # 2.07 3.10 4.50 4.50 7.20 10.40: p25 = 3.10 + 0.25 × 1.40; p75 = 4.50 + 0.75 × 2.70.
    assert "£3.4500" in text and "£4.5000" in text and "£6.5250" in text
    # £4.50: two worse, one other tied: 100 × 2.5 ÷ 5.
    assert "= 50.0" in text
    assert "so it is in band 2" in text
    assert "£11.00 a transaction overall, not the £7.00" in text


def test_the_threshold_follows_configuration(app, client):
    assert "at least 5 centres" in text_of(client)
    app.config["MIN_PEER_GROUP"] = 8
    try:
        assert "at least 8 centres" in text_of(client)
    finally:
        app.config["MIN_PEER_GROUP"] = 5
