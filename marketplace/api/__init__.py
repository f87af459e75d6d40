"""The versioned JSON API under /api/v1 (flask-smorest; OpenAPI generated from the schemas)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.api.docs import bp as docs_bp

    app.register_blueprint(docs_bp)
