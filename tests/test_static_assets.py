"""Static files fingerprinted, precompressed and cached for good; HTML compressed."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from marketplace import static_assets


def _stylesheet_url(client) -> str:
    html = client.get("/").get_data(as_text=True)
    return re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)


def _needs_manifest(app):
    if not app.extensions.get("asset_manifest"):
        pytest.skip("no manifest: run `make assets` (scripts/fingerprint-assets)")


def test_pages_name_the_fingerprinted_stylesheet_and_script(app, client):
    _needs_manifest(app)
    html = client.get("/").get_data(as_text=True)
    assert re.search(r'href="/static/build/app\.[0-9a-f]{12}\.css"', html)
    assert re.search(r'src="/static/build/govuk-frontend\.min\.[0-9a-f]{12}\.js"', html)


def test_a_fingerprinted_file_is_immutable_and_served_compressed(app, client):
    _needs_manifest(app)
    url = _stylesheet_url(client)
    plain = client.get(url)
    assert plain.status_code == 200
    assert "immutable" in plain.headers["Cache-Control"]
    assert "max-age=315360000" in plain.headers["Cache-Control"]
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert plain.headers["Content-Type"].startswith("text/css")

    compressed = client.get(url, headers={"Accept-Encoding": "br, gzip"})
    assert compressed.headers["Content-Encoding"] == "br"
    assert brotli.decompress(compressed.data) == plain.data
    assert len(compressed.data) < len(plain.data) / 4

    gzipped = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(gzipped.data) == plain.data


def test_a_plain_static_name_is_cached_only_briefly(client):
    response = client.get("/static/build/app.css")
    assert response.status_code == 200
    assert "immutable" not in response.headers["Cache-Control"]
    assert "max-age=3600" in response.headers["Cache-Control"]


def test_only_fingerprinted_names_count_as_immutable():
    assert static_assets.is_immutable("", "/static/build/app.d4e02fb8c9e2.css")
    assert not static_assets.is_immutable("", "/static/build/app.css")
    assert not static_assets.is_immutable("", "/static/build/app.d4e02fb8.css")


def test_without_a_manifest_pages_use_the_plain_names(app, tmp_path):
    assert static_assets.load_manifest(str(tmp_path)) == {}
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "manifest.json").write_text("not json")
    assert static_assets.load_manifest(str(tmp_path)) == {}
    with app.test_request_context("/"):
        app.extensions["asset_manifest"], saved = {}, app.extensions.get("asset_manifest")
        try:
            assert static_assets.asset_url("build/app.css") == "/static/build/app.css"
        finally:
            app.extensions["asset_manifest"] = saved


def test_html_is_compressed_for_clients_that_accept_it(client):
    plain = client.get("/centres")
    compressed = client.get("/centres", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in plain.headers
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed.headers["Vary"]
    assert gzip.decompress(compressed.data).decode().count("<html") == 1
    assert len(compressed.data) < len(plain.data) / 2


def test_api_json_is_compressed_too(client):
    response = client.get("/api/v1/openapi.json", headers={"Accept-Encoding": "br"})
    assert response.headers["Content-Encoding"] == "br"
    assert brotli.decompress(response.data).startswith(b"{")
