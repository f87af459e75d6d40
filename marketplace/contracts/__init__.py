"""Contracts: what an award commits the buyer and the centre to, with KPIs rated every
published quarter (contracts/ratings.py) and overridable by the buyer with a reason.

Sits between selection (whose award makes a contract) and benchmarks (whose figures rate
it). Rates on `period_published` and re-rates on `restatements_approved`
(contracts/receivers.py); adds its KPI signals to the early-warning summary
(contracts/signals.py).
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from marketplace.contracts import receivers, signals
    from marketplace.contracts.views import admin_bp, buyer_bp, centre_bp, go_bp

    for blueprint in (buyer_bp, centre_bp, admin_bp, go_bp):
        app.register_blueprint(blueprint)
    receivers.connect()
    # KPIs rated Requires improvement or Inadequate join a centre's early-warning summary.
    signals.register(app)
