"""The catalogue: service centres, service lines, the accreditation lifecycle, live-entry
changes and their review. Announces accreditation changes and entry edits (events.py)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.catalogue.cli import accreditation_command
    from marketplace.catalogue.profile_views import bp as centre_profile_bp
    from marketplace.catalogue.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(centre_profile_bp)
    app.cli.add_command(accreditation_command)
