"""A person's private Atom feed of their alerts (RFC 4287), at an address with a secret."""

from __future__ import annotations

from datetime import UTC
from xml.etree.ElementTree import Element, SubElement, tostring

from marketplace import clock
from marketplace.alerts.models import Alert
from marketplace.links import public_url

ATOM = "http://www.w3.org/2005/Atom"


def _time(moment) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom(alerts: list[Alert], *, self_path: str) -> bytes:
    base = public_url()
    root = Element("feed", xmlns=ATOM)
    SubElement(root, "title").text = "Your early-warning alerts: shared-services marketplace"
    # The feed's id names no secret: the address changes when the key does, the feed not.
    SubElement(root, "id").text = f"{base}/alerts"
    SubElement(root, "updated").text = _time(alerts[0].created_at if alerts else clock.now())
    SubElement(root, "link", rel="self", href=f"{base}{self_path}")
    SubElement(root, "link", rel="alternate", type="text/html", href=f"{base}/alerts")
    SubElement(SubElement(root, "author"), "name").text = "Shared-services marketplace"
    for alert in alerts:
        entry = SubElement(root, "entry")
        SubElement(entry, "id").text = f"{base}/alerts#{alert.public_id}"
        SubElement(entry, "title").text = alert.title
        SubElement(entry, "published").text = _time(alert.created_at)
        SubElement(entry, "updated").text = _time(alert.created_at)
        SubElement(entry, "category", term=alert.kind)
        SubElement(entry, "link", rel="alternate", type="text/html", href=f"{base}{alert.link}")
        SubElement(entry, "summary").text = alert.detail
    return tostring(root, encoding="utf-8", xml_declaration=True)
