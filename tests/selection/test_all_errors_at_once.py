"""Issue 14: forms report every problem at once, never in waves."""

from __future__ import annotations

import re

from tests.selection.test_defensible import client, evaluation, text_of  # noqa: F401


def summary_items(html: str) -> list[str]:
    summary = html.split('class="govuk-error-summary"', 1)[1].split("</ul>", 1)[0]
    return [text_of(item).strip() for item in re.findall(r"<a [^>]*>(.*?)</a>", summary, re.S)]


def test_weights_format_and_range_errors_come_together(evaluation, client):  # noqa: F811
    url = f"/buyer/evaluations/{evaluation.public_id}/weights"
    response = client.post(
        url, data={"weight:ap_cost_per_invoice": "two", "weight:social_value": "5000"}
    )
    assert response.status_code == 400
    items = summary_items(response.get_data(as_text=True))
    assert len(items) == 2, items
    assert items[0].startswith("Enter the weight for ") and "as a number" in items[0]
    assert items[1].startswith("Enter a weight from 0 to 1000 for ")


def test_each_score_error_names_its_centre(evaluation, client):  # noqa: F811
    url = f"/buyer/evaluations/{evaluation.public_id}"
    client.post(url + "/seal")
    slugs = [c.centre.slug for c in evaluation.candidates]
    data = {f"score:social_value:{slug}": "150" for slug in slugs}
    response = client.post(url + "/scores", data=data)
    assert response.status_code in (400, 422)
    items = summary_items(response.get_data(as_text=True))
    names = [c.centre.name for c in evaluation.candidates]
    assert len(items) == len(names), items
    for name in names:
        assert any(name in item for item in items), (name, items)
