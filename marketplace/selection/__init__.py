"""Selection: side-by-side comparison, weighted evaluations, locked shortlists and decisions."""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.selection import receivers
    from marketplace.selection.basket_views import bp as basket_bp
    from marketplace.selection.basket_views import template_globals
    from marketplace.selection.evaluation_views import bp as evaluations_bp
    from marketplace.selection.home_views import bp as buyer_home_bp
    from marketplace.selection.rollup_views import bp as rollup_bp
    from marketplace.selection.team_views import bp as team_bp
    from marketplace.selection.team_views import template_globals as team_globals
    from marketplace.selection.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(evaluations_bp)
    app.register_blueprint(basket_bp)
    app.register_blueprint(buyer_home_bp)
    app.register_blueprint(team_bp)
    app.register_blueprint(rollup_bp)
    app.jinja_env.globals.update(team_globals())
    # The comparison basket on every page: the count in the menu, the catalogue's buttons.
    app.jinja_env.globals.update(template_globals())
    # Buyers of live evaluations hear when a shortlisted centre's standing changes.
    receivers.connect()
