"""Publications: report building, PDF rendering, storage, public downloads, open data and
decision-record PDFs. Republishes when a restated published figure is accepted
(publications/receivers.py)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.publications import centre_page, lookups, receivers, republishing
    from marketplace.publications.cli import publications_group, publish_command
    from marketplace.publications.contract_views import bp as contract_reports_bp
    from marketplace.publications.decision_views import bp as decision_records_bp
    from marketplace.publications.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(decision_records_bp)
    app.register_blueprint(contract_reports_bp)
    app.cli.add_command(publish_command)
    app.cli.add_command(publications_group)
    receivers.connect()
    republishing.install()
    lookups.install(app)
    centre_page.register(app)
