"""'How to read these figures': the help page, and its link beside every table of figures."""

from __future__ import annotations

import re

import pytest

HELP = '<a class="govuk-link" href="/help/reading-figures">How to read these figures</a>'


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_the_help_page_explains_the_words_the_tables_use(client):
    response = client.get("/help/reading-figures")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(html).replace("’", "'")
    assert "<title>How to read these figures" in html
    assert '<meta name="description" content="What percentile' in html
    for words in (
        "peer group",
        "n = 7",
        "percentile runs from 0 to 100, where 100 is best",
        "For a cost, the lower quartile is the good end",
        "band 1: top quartile",
        "band 4: bottom quartile",
        "at least 5 centres",
        "confidentiality threshold",
        "Not yet published",
        "Corrected",
        "Restated",
        "provisional",
        "Grey circle",
        "Blue square",
        "Orange triangle",
    ):
        assert words in text, words
    assert 'href="/methodology"' in html


@pytest.mark.parametrize(
    "path",
    [
        "/centres/centre-a",
        "/metrics/ap_cost_per_invoice",
        "/compare?centres=centre-a,centre-b,peer-0",
    ],
)
def test_every_page_with_figure_tables_links_to_the_help(bench, as_persona, path):
    html = as_persona("anonymous").get(path).get_data(as_text=True)
    assert HELP in html
