"""Rendering is locked down: user text stays text, nothing outside the report assets loads,
no attachment is embedded, and a runaway document fails alone with a clear error."""

from __future__ import annotations

import http.server
import threading
import zlib
from datetime import UTC, datetime

import pikepdf
import pytest

from marketplace.extensions import db
from marketplace.publications import render
from tests.publications.helpers import open_pdf, pdf_text, plan_item, render_item

# Importing WeasyPrint in the test process warns where HarfBuzz-Subset is missing.
pytestmark = pytest.mark.filterwarnings("ignore:HarfBuzz-Subset:DeprecationWarning")

MOMENT = datetime(2026, 11, 27, 9, tzinfo=UTC)


@pytest.fixture
def internal_server():
    """A stand-in for an internal service: it records every request that reaches it."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", hits
    server.shutdown()
    server.server_close()


def hostile_commentary(base: str) -> str:
    return (
        '<img src="file:///etc/passwd">\n'
        '<link rel="attachment" href="file:///etc/passwd">\n'
        f'<img src="{base}/internal">\n'
        "<script>alert(1)</script>"
    )


def raw_objects(pdf: pikepdf.Pdf) -> bytes:
    """Every stream of the file, decoded, for searching what it carries."""
    chunks = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            try:
                chunks.append(obj.read_bytes())
            except (pikepdf.PdfError, zlib.error):
                chunks.append(obj.read_raw_bytes())
    return b"\n".join(chunks)


def test_hostile_commentary_is_printed_as_text_and_fetches_nothing(app, world, internal_server):
    base, hits = internal_server
    world.centres[0].commentary = hostile_commentary(base)
    db.session.flush()
    item = plan_item(world.q3)

    content = render_item(item, app.config)

    # Compared without whitespace: long lines of commentary wrap.
    text = "".join(pdf_text(content).split())
    assert '<imgsrc="file:///etc/passwd">' in text
    assert '<linkrel="attachment"href="file:///etc/passwd">' in text
    assert f'<imgsrc="{base}/internal">' in text
    assert "<script>alert(1)</script>" in text
    assert hits == []
    pdf = open_pdf(content)
    assert "/Names" not in pdf.Root or "/EmbeddedFiles" not in pdf.Root.Names
    assert "/AF" not in pdf.Root
    assert not any("/Annots" in page for page in pdf.pages)
    carried = raw_objects(pdf)
    assert b"root:x:0:0" not in carried
    assert not any(str(obj.get("/Type", "")) == "/Filespec" for obj in _dicts(pdf))


def _dicts(pdf):
    return [obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary)]


def test_hostile_commentary_is_escaped_on_the_report_page(app, client, world, internal_server):
    from marketplace.publications import services

    base, _hits = internal_server
    world.centres[0].commentary = hostile_commentary(base)
    db.session.flush()
    services.publish_inline(world.q3, actor_label="test")

    page = client.get("/reports/ssc-a/2026-Q3").get_data(as_text=True)

    assert "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<img src="file:///etc/passwd">' not in page


@pytest.mark.parametrize(
    "markup",
    [
        '<img src="file:///etc/passwd" alt="x">',
        '<link rel="attachment" href="file:///etc/passwd">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E" alt="x">',
        '<img src="report-asset:../../../../etc/passwd" alt="x">',
        '<img src="fonts/DejaVuSans.ttf" alt="x">',
    ],
)
def test_a_document_asking_for_anything_else_fails_to_render(markup):
    """Even markup that bypassed escaping (a template bug) cannot load a resource."""
    html = (
        f'<!DOCTYPE html><html lang="en"><head><title>t</title></head><body>{markup}</body></html>'
    )
    with pytest.raises(render.RenderFailed) as failure:
        render.render_pdf(html, published_at=MOMENT)
    assert "refused" in str(failure.value) or "Error fetching" in str(failure.value)


def test_an_internal_address_is_never_contacted(internal_server):
    base, hits = internal_server
    html = (
        '<!DOCTYPE html><html lang="en"><head><title>t</title>'
        f'<link rel="stylesheet" href="{base}/style.css"></head>'
        f'<body><img src="{base}/internal" alt="x"></body></html>'
    )
    with pytest.raises(render.RenderFailed):
        render.render_pdf(html, published_at=MOMENT)
    assert hits == []


def test_the_fetcher_serves_only_named_report_assets():
    from marketplace.publications.fetcher import AssetRefused, ReportURLFetcher

    fetcher = ReportURLFetcher()
    response = fetcher.fetch("report-asset:report.css")
    assert response.content_type == "text/css"
    assert b"@font-face" in response.read()
    for url in (
        "file:///etc/passwd",
        "http://127.0.0.1/internal",
        "https://example.org/x.css",
        "data:text/css,body{}",
        "ftp://example.org/x",
        "report-asset:../fetcher.py",
        "report-asset:fonts/../../fetcher.py",
        "report-asset:fonts/LICENSE.txt",
        "report-asset:/etc/passwd",
    ):
        with pytest.raises(AssetRefused):
            fetcher.fetch(url)


def test_a_runaway_document_fails_alone_with_a_clear_error():
    rows = "".join(f"<tr><td>{i}</td><td>{'x' * 40}</td></tr>" for i in range(40_000))
    huge = (
        f'<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><table>{rows}</table>'
    )

    with pytest.raises(render.RenderFailed, match="longer than 2 seconds"):
        render.render_pdf(huge, published_at=MOMENT, timeout=2)
    with pytest.raises(render.RenderFailed, match="MB"):
        render.render_pdf(huge, published_at=MOMENT, memory_mb=400, timeout=120)

    # The caller is unharmed and the next document renders.
    small = (
        '<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><p>ok</p></body></html>'
    )
    result = render.render_pdf(small, published_at=MOMENT)
    assert result.pdf.startswith(b"%PDF-") and result.pages == 1
