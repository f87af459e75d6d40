"""Selection: side-by-side comparison, weighted evaluations, locked shortlists and decisions."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.selection import receivers
    from marketplace.selection.evaluation_views import bp as evaluations_bp
    from marketplace.selection.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(evaluations_bp)
    # Buyers of live evaluations hear when a shortlisted centre's standing changes.
    receivers.connect()
