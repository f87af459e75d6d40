"""The Atom feed (RFC 4287) of new publications, newest first.

Each entry is one published version: its id is the fixed, immutable address of that version,
so a feed reader sees a restatement's version 2 as a new entry rather than an edit.
"""

from __future__ import annotations

from datetime import UTC
from xml.etree.ElementTree import Element, SubElement, tostring

from marketplace import clock
from marketplace.links import absolute_url
from marketplace.publications.models import Publication

ATOM = "http://www.w3.org/2005/Atom"


def _time(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(publications: list[Publication]) -> bytes:
    from marketplace.publications.views import file_url, page_url

    root = Element("feed", xmlns=ATOM)
    SubElement(root, "title").text = "Published performance reports of shared-service centres"
    SubElement(root, "id").text = absolute_url("publications.atom_feed")
    updated = publications[0].published_at if publications else clock.now()
    SubElement(root, "updated").text = _time(updated)
    SubElement(root, "link", rel="self", href=absolute_url("publications.atom_feed"))
    SubElement(
        root,
        "link",
        rel="alternate",
        type="text/html",
        href=absolute_url("publications.index"),
    )
    author = SubElement(root, "author")
    SubElement(author, "name").text = (
        publications[0].envelope.get("author", "") if publications else ""
    ) or "Accreditation authority"
    for publication in publications:
        entry = SubElement(root, "entry")
        fixed = file_url(publication, fixed=True, external=True)
        SubElement(entry, "id").text = fixed
        title = publication.title
        if publication.version > 1:
            title = f"{title} (version {publication.version})"
        SubElement(entry, "title").text = title
        SubElement(entry, "published").text = _time(publication.published_at)
        SubElement(entry, "updated").text = _time(publication.published_at)
        SubElement(entry, "category", term=publication.kind, label=publication.kind_label)
        page = page_url(publication, fixed=True, external=True)
        SubElement(entry, "link", rel="alternate", type="text/html", href=page or fixed)
        SubElement(
            entry,
            "link",
            rel="enclosure",
            type=publication.content_type,
            length=str(publication.size_bytes),
            href=fixed,
        )
        summary = publication.change_note or (
            f"{publication.kind_label} for {publication.period.label}, version "
            f"{publication.version}. SHA-256 {publication.sha256}."
        )
        SubElement(entry, "summary").text = summary
    return tostring(root, encoding="utf-8", xml_declaration=True)
