"""PDFs made for the people allowed to read one record (a decision record, a contract's
yearly performance), not published: rendered on first download, kept by content.

Both kinds are rendered the same safe way as published reports (render.py: escaped
primitives, the locked-down fetcher, a capped child process, PDF/UA) and stored in
content-addressed storage under the hash of their primitives and date, so the same record
always gives the same bytes and a changed one a new file. They are sent private and
revalidated, never kept by a shared cache.
"""

from __future__ import annotations

import os
import tempfile
from datetime import datetime

from flask import current_app, send_file

from marketplace.publications import builder, render
from marketplace.publications import formatting as fmt
from marketplace.publications.storage import StoredFile, storage_for


def stored_pdf(kind: str, template: str, data: dict, moment: datetime, author: str) -> StoredFile:
    """The stored PDF of `data` rendered with `template`, dated `moment`; rendered and
    stored the first time (the index under `kind` maps the input hash to the file)."""
    digest = builder.input_hash({"data": data, "dated": moment.isoformat()})
    storage = storage_for(current_app.config)
    index = storage.root / kind / f"{digest}.key"
    if index.exists():
        key = index.read_text().strip()
        if storage.exists(key):
            path = storage.path(key)
            return StoredFile(key, path.stem, path.stat().st_size)
    envelope = {
        "version": 1,
        "published_iso": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "published_text": fmt.datetime_text(moment),
        "author": author,
        "previous": [],
        "change_note": [],
    }
    html = render.render_html(template, data=data, envelope=envelope)
    config = current_app.config
    result = render.render_pdf(
        html,
        published_at=moment,
        timeout=config.get("REPORT_RENDER_TIMEOUT", render.DEFAULT_TIMEOUT_SECONDS),
        memory_mb=config.get("REPORT_RENDER_MEMORY_MB", render.DEFAULT_MEMORY_MB),
    )
    stored = storage.put(result.pdf, "application/pdf")
    # Written aside and renamed, so a reader never sees half an index entry.
    index.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=index.parent, delete=False) as handle:
        handle.write(stored.key)
    os.replace(handle.name, index)
    return stored


def send_private(stored: StoredFile, filename: str):
    """The response for a private PDF: conditional on its hash, never in a shared cache."""
    response = send_file(
        storage_for(current_app.config).path(stored.key),
        mimetype="application/pdf",
        download_name=filename,
        conditional=True,
        etag=stored.sha256,
    )
    response.cache_control.private = True
    response.cache_control.no_cache = True
    return response
