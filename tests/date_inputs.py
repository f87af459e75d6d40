"""What a page shows of a GOV.UK date input, read from its HTML as a person meets it."""

from __future__ import annotations

import re
from html import unescape


def visible(html: str) -> str:
    """The text a person reads: tags, scripts and styles gone, spaces collapsed."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).strip()


def summary_links(html: str) -> list[tuple[str, str]]:
    """The error summary's (href, text) pairs."""
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', html, flags=re.S)
    assert match, "no error summary on the page"
    return [
        (href, visible(text))
        for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', match.group(0), re.S)
    ]


def box_labels(html: str, name: str) -> list[str]:
    """The labels of the date input's boxes, in order."""
    return [
        visible(label)
        for part in ("day", "month", "year")
        for label in re.findall(
            rf'<label class="govuk-label[^"]*" for="{name}-{part}">(.*?)</label>', html, re.S
        )
    ]


def legend_and_hint(html: str, name: str) -> tuple[str, str]:
    match = re.search(
        rf'<legend[^>]*>([^<]*)</legend>\s*<div id="{name}-hint" class="govuk-hint">(.*?)</div>',
        html,
        re.S,
    )
    assert match, f"no legend and hint for the date input {name}"
    return visible(match.group(1)), visible(match.group(2))


def box_values(html: str, name: str) -> tuple[str, ...]:
    """What the Day, Month and Year boxes hold."""
    values = []
    for part in ("day", "month", "year"):
        tag = re.search(rf'<input [^>]*\bid="{name}-{part}"[^>]*>', html)
        assert tag, f"no box {name}-{part}"
        value = re.search(r'\bvalue="([^"]*)"', tag.group(0))
        values.append(unescape(value.group(1)) if value else "")
    return tuple(values)


def date_error(html: str, name: str) -> str:
    """The error message of a date input, which its fieldset is described by."""
    fieldset = re.search(
        r'<fieldset class="govuk-fieldset" role="group" aria-describedby="([^"]*)">\s*'
        rf'<legend[^>]*>[^<]*</legend>\s*<div id="{name}-hint"',
        html,
    )
    assert fieldset, f"no fieldset for the date input {name}"
    assert f"{name}-error" in fieldset.group(1).split(), f"{name} is not described by its error"
    match = re.search(rf'<p id="{name}-error" class="govuk-error-message">(.*?)</p>', html, re.S)
    return visible(match.group(1)).removeprefix("Error:").strip()


def highlighted(html: str, name: str) -> list[str]:
    """The boxes of a date input drawn as wrong (with GOV.UK's error border)."""
    return [
        part
        for part in ("day", "month", "year")
        if re.search(rf'<input class="[^"]*govuk-input--error[^"]*" id="{name}-{part}"', html)
    ]
