"""Public pages about benchmarking: the methodology (later, /metrics/<code> joins it here)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from flask import Blueprint, render_template

from marketplace.benchmarks import drivers, narrowing, peers, statistics

bp = Blueprint("benchmarks", __name__)

# The worked example on the page: six centres' AP cost per invoice (£, lower is better).
# Figures are illustrative; the page computes every step with the production functions, so
# the explanation cannot drift from what the service does.
EXAMPLE_COSTS = (
    Decimal("4.50"),
    Decimal("10.40"),
    Decimal("2.07"),
    Decimal("7.20"),
    Decimal("4.50"),
    Decimal("3.10"),
)
QUARTILE_LABELS = (("Lower quartile (p25)", 0.25), ("Median", 0.5), ("Upper quartile (p75)", 0.75))
EXAMPLE_VOLUMES = ((Decimal("2.00"), 1_000), (Decimal("12.00"), 9_000))


@dataclass(frozen=True)
class QuartileStep:
    label: str
    q: float
    position: float
    lower_rank: int  # 1-based, as a reader counts
    low: float
    high: float
    fraction: float
    result: float


def _quartile_steps(ordered: list[float]) -> list[QuartileStep]:
    steps = []
    for label, q in QUARTILE_LABELS:
        position = q * (len(ordered) - 1)
        lower = math.floor(position)
        high = ordered[min(lower + 1, len(ordered) - 1)]
        steps.append(
            QuartileStep(
                label=label,
                q=q,
                position=position,
                lower_rank=lower + 1,
                low=ordered[lower],
                high=high,
                fraction=position - lower,
                result=statistics.quantile(ordered, q),
            )
        )
    return steps


@bp.get("/methodology")
def methodology():
    ordered = statistics.sorted_floats(EXAMPLE_COSTS)
    summary = statistics.summary_of_sorted(ordered)
    example_value = 4.50
    position = statistics.position_in_group(ordered, example_value, higher_is_better=False)
    worse = sum(1 for v in ordered if v > example_value)
    tied = sum(1 for v in ordered if v == example_value) - 1
    return render_template(
        "benchmarks/methodology.html",
        ordered=ordered,
        steps=_quartile_steps(ordered),
        summary=summary,
        example_value=example_value,
        example_worse=worse,
        example_tied=tied,
        example_position=position,
        band_labels=statistics.BAND_LABELS,
        volumes=EXAMPLE_VOLUMES,
        volume_mean=statistics.volume_weighted_mean(EXAMPLE_VOLUMES),
        plain_mean=sum(v for v, _ in EXAMPLE_VOLUMES) / len(EXAMPLE_VOLUMES),
        min_peer_group=peers.min_peer_group(),
        size_bands=[label for label, _low, _high in narrowing.SIZE_BAND_RANGES.values()],
        cost_drivers=drivers.DRIVERS,
    )


@bp.get("/help/reading-figures")
def reading_figures():
    """How to read these figures: the words the figure tables use, in plain English."""
    return render_template("benchmarks/reading_figures.html", min_peer_group=peers.min_peer_group())
