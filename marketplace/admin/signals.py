"""/admin/signals: early warning across the market, for the accreditation authority.

Two lists: centres whose latest published figure of a metric is special cause concern, read
from the stored judgement of every centre's latest published figures
(benchmarks/market_signals.py, refreshed at each publication and approved restatement); and
live contracts whose KPIs are rated Requires improvement or Inadequate
(contracts/signals.py, the same rule as each centre's early-warning summary).
"""

from __future__ import annotations

from flask import render_template

from marketplace import clock
from marketplace.admin import bp
from marketplace.benchmarks import market_signals, spc
from marketplace.contracts import signals as contract_signals
from marketplace.contracts.models import RATING_LABELS


@bp.get("/signals")
def signals():
    return render_template(
        "admin/signals.html",
        concerns=market_signals.concerns_by_centre(),
        judged=market_signals.judged_count(),
        rule_labels=spc.RULE_LABELS,
        kpis=contract_signals.concerning_across_market(clock.today()),
        rating_labels=RATING_LABELS,
    )
