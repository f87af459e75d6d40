"""/admin/signals: early warning across the market, for the accreditation authority.

Read from the stored judgement of every centre's latest published figures
(benchmarks/market_signals.py), refreshed at each publication and approved restatement.
"""

from __future__ import annotations

from flask import render_template

from marketplace.admin import bp
from marketplace.benchmarks import market_signals, spc


@bp.get("/signals")
def signals():
    return render_template(
        "admin/signals.html",
        concerns=market_signals.concerns_by_centre(),
        judged=market_signals.judged_count(),
        rule_labels=spc.RULE_LABELS,
    )
