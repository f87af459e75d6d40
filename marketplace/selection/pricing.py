"""Price scores from projected costs: the usual UK price-scoring formula (DOMAIN.md).

The lowest projected cost scores 100; every other cost scores 100 × lowest ÷ its cost. Worked
in Decimal and rounded once, half up (marketplace/formatting.py), to PRICE_SCORE_DECIMALS
places, so 100 × 3 ÷ 7 = 42.857… is 42.86 everywhere it is shown or saved.

A service for the comparison page and, later, for evaluations (cost scored from projected £).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from decimal import ROUND_HALF_UP, Context, Decimal

from marketplace import formatting

PRICE_SCORE_DECIMALS = 2
HUNDRED = Decimal(100)
# Enough digits that the one rounding is the half-up one to PRICE_SCORE_DECIMALS places.
_EXACT = Context(prec=80, rounding=ROUND_HALF_UP)


def price_scores(
    costs: Mapping[Hashable, object], *, decimals: int = PRICE_SCORE_DECIMALS
) -> dict[Hashable, Decimal | None]:
    """Each key's price score from its cost (None where the cost is unknown).

    Costs are amounts in £ (Decimal, int, str or float); a negative cost is a programming
    error. When the lowest cost is £0, the free offers score 100 and every other scores 0
    (100 × 0 ÷ cost), which is the formula's own limit.
    """
    known: dict[Hashable, Decimal] = {}
    for key, raw in costs.items():
        cost = formatting.exact(raw)
        if cost is None:
            continue
        if cost < 0:
            raise ValueError(f"the cost of {key!r} is negative")
        known[key] = cost
    scores: dict[Hashable, Decimal | None] = {key: None for key in costs}
    if not known:
        return scores
    lowest = min(known.values())
    for key, cost in known.items():
        # cost == lowest covers a lowest of £0 (no division by zero).
        score = HUNDRED if cost == lowest else _EXACT.divide(_EXACT.multiply(HUNDRED, lowest), cost)
        scores[key] = formatting.rounded(score, decimals)
    return scores
