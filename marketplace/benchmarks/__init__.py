"""Benchmarks: the metric library, reporting periods, submissions of figures, peer statistics
and the read model every page of figures uses (who sees what, readings, distributions).

Announces accepted submissions; redraws peer groups when the catalogue announces an
accreditation change or an edit of service lines (benchmarks/receivers.py)."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.benchmarks import centre_page, receivers
    from marketplace.benchmarks.centre_views import bp as centre_submissions_bp
    from marketplace.benchmarks.cli import import_benchmarks_command
    from marketplace.benchmarks.home_views import bp as centre_home_bp
    from marketplace.benchmarks.metric_views import bp as metric_pages_bp
    from marketplace.benchmarks.recompute_cli import recompute_statistics_command
    from marketplace.benchmarks.restatements_cli import restatements_group
    from marketplace.benchmarks.views import bp

    for blueprint in (bp, metric_pages_bp, centre_submissions_bp, centre_home_bp):
        app.register_blueprint(blueprint)
    app.cli.add_command(import_benchmarks_command)
    app.cli.add_command(recompute_statistics_command)
    app.cli.add_command(restatements_group)
    receivers.connect()
    centre_page.register(app)
