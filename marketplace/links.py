"""Absolute addresses, built from configuration and never from the request.

A link in an e-mail, the Atom feed, an API response or a PDF must point at the service
itself whatever Host header the request came with: otherwise a forged Host header turns a
password-reset e-mail into a link to the attacker's site, or poisons a cached feed. Every
absolute URL is therefore PUBLIC_URL (the operator's setting) plus the route's path.
Relative links inside pages keep using url_for.

A shared module: it imports no area.
"""

from __future__ import annotations

from urllib.parse import quote, urlsplit

from flask import Flask, current_app


def public_url(config=None) -> str:
    """The service's own origin (and path prefix, if any), without a trailing slash."""
    config = config if config is not None else current_app.config
    return (config.get("PUBLIC_URL") or "").rstrip("/")


def absolute_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values, _external=True), but on PUBLIC_URL's scheme and host.

    Works in a request, in the CLI and in an RQ job alike, since it never reads a request.
    """
    app = current_app
    base = urlsplit(public_url(app.config))
    anchor = values.pop("_anchor", None)
    values.pop("_external", None)
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(
        base.netloc,
        script_name=base.path or "/",
        url_scheme=base.scheme or "http",
    )
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(anchor)
    return url


def install(app: Flask) -> None:
    """Pages and e-mails that print an absolute address read it from here: the API docs'
    examples (public_url) and links in e-mails (absolute_url), which a reader opens outside
    the service, where a relative path leads nowhere."""
    app.jinja_env.globals["public_url"] = public_url
    app.jinja_env.globals["absolute_url"] = absolute_url
