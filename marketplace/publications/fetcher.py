"""The only way a report can load anything: the project's own report assets, nothing else.

Templates name assets as `report-asset:NAME` (e.g. `report-asset:fonts/DejaVuSans.ttf`).
Every other URL — file:, http(s): (so no internal addresses), data:, ftp:, a relative URL, a
path that climbs out of the assets folder — is refused, and a refusal stops the render
(fail_on_errors) rather than leaving a silent gap: nothing in a report should ever ask for
an outside resource, so a request for one is a fault to see, not to skip. Nothing here opens a
network connection, so redirects cannot happen.
"""

from __future__ import annotations

from pathlib import Path

from weasyprint.urls import URLFetcher, URLFetcherResponse

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
SCHEME = "report-asset:"
CONTENT_TYPES = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".woff2": "font/woff2",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


class AssetRefused(ValueError):
    """A URL a report may not load."""


def _allowed_assets() -> dict[str, Path]:
    """Every servable asset by its name, listed once: names are matched, never joined."""
    assets: dict[str, Path] = {}
    for path in sorted(ASSETS_DIR.rglob("*")):
        if path.is_file() and path.suffix in CONTENT_TYPES:
            assets[path.relative_to(ASSETS_DIR).as_posix()] = path
    return assets


ALLOWED = _allowed_assets()


class ReportURLFetcher(URLFetcher):
    def __init__(self):
        # No HTTP(S), FTP, file or data handlers are used: fetch() below never calls them.
        super().__init__(allowed_protocols=("report-asset",), fail_on_errors=True)
        self.fetched: list[str] = []

    def fetch(self, url, headers=None):
        if not isinstance(url, str) or not url.startswith(SCHEME):
            raise AssetRefused(f"reports may load only their own assets; refused {url!r}")
        name = url[len(SCHEME) :].split("?", 1)[0].split("#", 1)[0]
        path = ALLOWED.get(name)
        if path is None:
            raise AssetRefused(f"no report asset named {name!r}")
        self.fetched.append(name)
        return URLFetcherResponse(
            url, path.read_bytes(), {"Content-Type": CONTENT_TYPES[path.suffix]}
        )
