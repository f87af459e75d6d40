"""Static files served small and cached for good, and HTML compressed on the way out.

`make assets` builds the front end, then `scripts/fingerprint-assets` copies each file to a
name that carries a hash of its content (`app.3f2a9c01b7de.css`), writes `manifest.json`,
and precompresses every file with gzip and Brotli. WhiteNoise serves them: a fingerprinted
name can never mean other bytes, so WhiteNoise marks it immutable and cacheable for ten
years; any other static file is cached for an hour. Pages name assets through `asset_url()`,
which falls back to the plain name when no manifest has been built (only the npm build ran).

HTML, JSON and the feed are compressed by Flask-Compress when the client accepts it and no
proxy has done it already. Downloads (PDF, CSV, xlsx) are left as they are: they are either
compressed already or served with byte ranges and ETags that compression would break.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask, current_app, url_for

# What scripts/fingerprint-assets writes: name.<12 hex digits>.ext
FINGERPRINTED = re.compile(r"\.[0-9a-f]{12}\.[A-Za-z0-9]+$")
MANIFEST = "build/manifest.json"
ONE_HOUR = 3600

COMPRESSED_TYPES = [
    "text/html",
    "application/json",
    "application/problem+json",
    "application/atom+xml",
]


def is_immutable(path: str, url: str) -> bool:
    """WhiteNoise's test for far-future caching: only fingerprinted names."""
    return bool(FINGERPRINTED.search(url))


def load_manifest(static_folder: str) -> dict[str, str]:
    path = Path(static_folder) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(key): str(value) for key, value in manifest.items()}


def asset_url(filename: str) -> str:
    """The URL of a static file, under its fingerprinted name when one was built."""
    manifest = current_app.extensions.get("asset_manifest", {})
    return url_for("static", filename=manifest.get(filename, filename))


def install(app: Flask) -> None:
    from flask_compress import Compress
    from whitenoise import WhiteNoise

    app.extensions["asset_manifest"] = load_manifest(app.static_folder)
    app.jinja_env.globals["asset_url"] = asset_url

    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIN_SIZE", 500)
    # Streamed responses (report downloads) are left alone.
    app.config.setdefault("COMPRESS_STREAMS", False)
    Compress(app)

    # WhiteNoise answers /static/ before Flask sees the request, with the precompressed
    # file the client accepts; everything else goes on to the app.
    app.wsgi_app = WhiteNoise(
        app.wsgi_app,
        root=app.static_folder,
        prefix="static/",
        max_age=ONE_HOUR,
        immutable_file_test=is_immutable,
        autorefresh=bool(app.debug),
        add_headers_function=_static_headers(app),
    )


def _static_headers(app: Flask):
    """WhiteNoise answers before Flask's after_request hooks (marketplace/security.py), so
    static files get the headers that still mean something for them here."""
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))

    def add(headers, path: str, url: str) -> None:
        headers["X-Content-Type-Options"] = "nosniff"
        if secure:
            headers["Strict-Transport-Security"] = "max-age=31536000"

    return add
