"""How long the early-warning signals take at national scale (issue 16).

    .venv/bin/python bench/signals.py [--centres 1000] [--quarters 40] [--runs 3] [--rebuild]

Uses the national dataset of bench/recompute.py (1,000 centres × 32 metrics × 40 quarters,
1,280,000 figures), built once in its own PostgreSQL database, `bench_signals` by default
(BENCH_DATABASE_URL to change; never `test`), with every quarter published. It prints:

- the whole market judged after a publication: market_signals.refresh_market(), every
  centre × metric's latest point, written to latest_variations and committed;
- one centre re-judged after its restatement: market_signals.refresh_centres([id]);
- one centre's early-warning summary as its page and the API build it (signals_for: SPC
  over all its series, plus standing, certifications, deadline and restatements), p95.

Wall and CPU time (this process plus the PostgreSQL backend) are both shown, with the load
average: on a shared machine wall time includes waiting for a CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import recompute  # noqa: E402  (the dataset builder and the timing helpers)

from marketplace import create_app  # noqa: E402
from marketplace.benchmarks import market_signals, signals  # noqa: E402
from marketplace.benchmarks.visibility import audience_for  # noqa: E402
from marketplace.catalogue.models import ServiceCentre  # noqa: E402
from marketplace.extensions import db  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_signals"


def publish_everything() -> None:
    db.session.execute(
        sa.text(
            "UPDATE reporting_periods SET status = 'published', published_at = now() "
            "WHERE status <> 'published'"
        )
    )
    db.session.commit()
    # Statistics as a running database would have them: the build analysed the periods
    # before they were all published (the planner then thought one quarter in forty was),
    # and earlier runs left 32,000 dead latest_variations rows each.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE reporting_periods, observations, latest_variations"))


def bench(url: str, centres: int, quarters: int, rebuild: bool, runs: int) -> None:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if (
            rebuild
            or not recompute.schema_matches()
            or not recompute.dataset_present(centres, quarters)
        ):
            print("building the national dataset (about a minute and a half) …", flush=True)
            db.session.remove()
            recompute.reset_schema()
            recompute.build(centres, quarters)
        else:
            from flask_migrate import upgrade

            db.session.remove()
            upgrade()
        publish_everything()
        count = db.session.execute(sa.text("SELECT count(*) FROM observations")).scalar_one()
        print(f"{count:,} published figures", flush=True)

        market = []
        for _ in range(runs):
            # After a real publication every series' latest point is in the new quarter, so
            # each stored row gets a new period (and PostgreSQL checks that key). Re-judging
            # unchanged data would write the same period back: move the rows off it first
            # (not timed).
            db.session.execute(
                sa.text(
                    "UPDATE latest_variations SET period_id = "
                    "(SELECT min(id) FROM reporting_periods)"
                )
            )
            db.session.commit()

            def full():
                written = market_signals.refresh_market()
                db.session.commit()
                return written

            sample, written = recompute.measure(full)
            market.append(sample)
            print(f"  whole market: {written:,} series judged in {sample.wall:.3f} s", flush=True)

        ids = list(
            db.session.execute(sa.select(ServiceCentre.id).order_by(ServiceCentre.id)).scalars()
        )
        one = []
        for centre_id in ids[:: max(1, len(ids) // 20)][:20]:

            def single(centre_id=centre_id):
                written = market_signals.refresh_centres([centre_id])
                db.session.commit()
                return written

            sample, _ = recompute.measure(single)
            one.append(sample)

        audience = audience_for(None)
        summaries = []
        for centre_id in ids[:: max(1, len(ids) // 40)][:40]:
            centre = db.session.get(ServiceCentre, centre_id)
            started = time.perf_counter()
            signals.signals_for(centre, audience)
            summaries.append(time.perf_counter() - started)
            db.session.rollback()

    def p95(values):
        return sorted(values)[max(0, int(len(values) * 0.95) - 1)]

    print(f"\n== signals, {count:,} published figures ==")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"whole market after a publication: {recompute._summary(market, 1, 's', 3)}")
    print(
        "one centre after its restatement: median "
        f"{statistics.median(s.wall for s in one) * 1000:.1f} ms wall, "
        f"{statistics.median(s.cpu for s in one) * 1000:.1f} ms CPU; "
        f"p95 {p95([s.wall for s in one]) * 1000:.1f} ms wall ({len(one)} centres)"
    )
    print(
        "one centre's summary (page/API): median "
        f"{statistics.median(summaries) * 1000:.1f} ms, p95 {p95(summaries) * 1000:.1f} ms "
        f"({len(summaries)} centres)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--centres", type=int, default=1000)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    recompute.ensure_postgres_database(url)
    bench(url, args.centres, args.quarters, args.rebuild, args.runs)


if __name__ == "__main__":
    main()
