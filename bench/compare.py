"""Read-side speed at national scale: /compare, /metrics/<code> and the benchmarks API.

    .venv/bin/python bench/compare.py [--requests 200] [--rebuild] [--sqlite] [--no-postgres]
                                      [--only TEXT]

Uses a dedicated PostgreSQL database, `bench_compare` (BENCH_COMPARE_DATABASE_URL, else
BENCH_DATABASE_URL, to change; never the CI database `test`), built once with
bench/recompute.py's national dataset: 1,000 accredited centres offering every service
line, the 32-metric library, 40 quarters, 1,280,000 observations, peer statistics from
peers.recompute_all(). The observations are then stored in the order real uploads arrive
(by quarter, then centre: CLUSTER), where the generator wrote them metric by metric. All
but the two newest quarters are marked published, so the public sees published figures and
a signed-in buyer also sees the validated, unpublished ones; the market's latest variations
are then judged, as a publication does (market_signals.refresh_market). The database is
rebuilt when its schema no longer matches the models (a new migration changed it) or on
--rebuild.

Each URL is requested through the Flask test client, so the figure is server time (routing,
queries, templates; no network), after a warm-up, with centres and metrics varied per request:

- /compare with 6 centres × all 32 metrics (anonymous, and a signed-in buyer);
- the same for a buyer with a narrowed peer group (employee-owned mutuals, about a quarter
  of the centres) and annual volumes for four cost drivers (projected cost, peer range,
  saving against a current provider), on the page and on GET /api/v1/compare;
- /metrics/<code> (anonymous, and a buyer);
- GET /api/v1/benchmarks/<code>?period=… (anonymous).

The national dataset's centres are all alike (joint ventures with no capacity given), so
before measuring, the centres are given varied business models, delivery models, platforms
and sizes (deterministically, from their ids; the stored peer groups do not depend on them).

It prints p50, p95 and max in milliseconds against the goals: /compare p95 ≤ 20 ms,
/metrics/<code> p95 ≤ 12 ms, benchmarks API p95 ≤ 8 ms, each with the 1-minute load average
at its end (a busy machine inflates wall time). With --sqlite the same is measured on a
SQLite copy too (--no-postgres: on SQLite only; BENCH_COMPARE_SQLITE_PATH names the file,
by default marketplace-bench-compare.sqlite in the temporary directory); --only TEXT
measures only the cases whose label has TEXT.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from flask import has_app_context
from flask.globals import app_ctx
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
# One JSON log line per request would dominate the timings; keep warnings only.
os.environ.setdefault("LOG_LEVEL", "WARNING")

import recompute as dataset  # noqa: E402  (bench/recompute.py: the national dataset)

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import Organisation, User  # noqa: E402
from marketplace.benchmarks import market_signals, peers  # noqa: E402
from marketplace.extensions import db  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_compare"
CENTRES, QUARTERS = 1000, 40
UNPUBLISHED_QUARTERS = 2
GOALS_MS = {"/compare": 20.0, "/metrics/<code>": 12.0, "/api/v1/benchmarks": 8.0}
BUYER_EMAIL = "bench-buyer@dept.example.gov.uk"
CLUSTERED = (
    "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
    "WHERE c.relname = 'ix_observations_period_centre' AND i.indisclustered"
)


def schema_matches() -> bool:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return not compare_metadata(context, db.metadata)


def prepare(rebuild: bool) -> None:
    """Build the dataset if needed; publish the older quarters; make the bench buyer."""
    present = dataset.dataset_present(CENTRES, QUARTERS)
    # End the session's transaction: on SQLite it holds the write lock (BEGIN IMMEDIATE),
    # and schema_matches() reads on a connection of its own.
    db.session.commit()
    if rebuild or not present or not schema_matches():
        print("  building the national dataset (bench/recompute.py) …", flush=True)
        db.session.remove()
        dataset.reset_schema()
        dataset.build(CENTRES, QUARTERS)
        started = time.perf_counter()
        groups = peers.recompute_all()
        db.session.commit()
        print(f"  {groups} peer groups in {time.perf_counter() - started:.1f} s", flush=True)
    if (
        db.engine.dialect.name == "postgresql"
        and not db.session.execute(sa.text(CLUSTERED)).first()
    ):
        # bench/recompute.py writes metric by metric; real data arrives quarter by quarter,
        # one centre's upload at a time. Store the rows in that order, as production would.
        print("  ordering observations by period and centre (CLUSTER) …", flush=True)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("CLUSTER observations USING ix_observations_period_centre"))
            conn.execute(sa.text("VACUUM ANALYZE observations"))
    periods = db.session.execute(
        sa.text("SELECT id, ends_on FROM reporting_periods ORDER BY starts_on")
    ).all()
    published = periods[:-UNPUBLISHED_QUARTERS]
    table = db.metadata.tables["reporting_periods"]
    newly_published = 0
    for period_id, ends_on in published:
        if isinstance(ends_on, str):  # SQLite hands a plain-text query's dates back as text
            ends_on = date.fromisoformat(ends_on)
        newly_published += db.session.execute(
            table.update()
            .where(table.c.id == period_id, table.c.status != "published")
            .values(
                status="published",
                published_at=datetime(ends_on.year, ends_on.month, ends_on.day, tzinfo=UTC)
                + timedelta(days=45),
            )
        ).rowcount
    if newly_published or not market_signals.judged_count():
        # What publishing does (events.period_published): the market's latest variations,
        # which the early-warning summaries of the public and buyers read.
        market_signals.refresh_market()
    if db.session.execute(sa.select(User.id).where(User.email == BUYER_EMAIL)).first() is None:
        department = Organisation(slug="bench-dept", name="Department for Benchmarks")
        department.kind = "department"
        db.session.add(department)
        db.session.flush()
        db.session.add(
            User(email=BUYER_EMAIL, name="Bench Buyer", role="buyer", organisation=department)
        )
    db.session.commit()


BENCH_MODELS = ("public_in_house", "joint_venture", "employee_owned_mutual", "private")
BENCH_PLATFORMS = ("Oracle HCM Cloud", "SAP S/4HANA", "Unit4", "Oracle Fusion", "Workday")
NARROWED = "business_model=employee_owned_mutual"
VOLUMES = (
    "volume:invoices=120000&volume:payslips=600000&volume:employees_served=45000"
    "&volume:tickets=80000"
)
API_VOLUMES = "volumes=invoices:120000,payslips:600000,employees_served:45000,tickets:80000"


def vary_centres() -> None:
    """Give the alike national centres varied catalogue attributes, once (see the module)."""
    c = db.metadata.tables["service_centres"].c
    table = db.metadata.tables["service_centres"]
    if db.session.execute(sa.select(c.id).where(c.employees_served.is_not(None))).first():
        return
    for index, model in enumerate(BENCH_MODELS):
        db.session.execute(
            table.update().where(c.id % len(BENCH_MODELS) == index).values(business_model=model)
        )
    for index, platform in enumerate(BENCH_PLATFORMS):
        db.session.execute(
            table.update().where(c.id % len(BENCH_PLATFORMS) == index).values(platform=platform)
        )
    db.session.execute(
        table.update()
        .where(c.id % 3 == 0)
        .values(delivery_model="virtual", employees_served=1000 + (c.id * 7919) % 79000)
    )
    db.session.execute(
        table.update().where(c.id % 3 != 0).values(employees_served=1000 + (c.id * 7919) % 79000)
    )
    db.session.commit()


class FreshGlobalsClient(FlaskClient):
    """Each request starts with an empty `g`, as in production.

    The bench keeps one application context open, which Flask reuses for every request:
    without this, Flask-Login's user cached in `g` by one client's request answered the
    next client's too, so the "buyer" requests after the public ones ran as the public.
    """

    def open(self, *args, **kwargs):
        if has_app_context():
            app_ctx.g = self.application.app_ctx_globals_class()
        return super().open(*args, **kwargs)


def percentiles(times: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(times, n=100, method="inclusive")
    return statistics.median(times), cuts[94], max(times)


def measure(client, urls: list[str], warmup: int) -> tuple[list[float], list[float]]:
    """Server time (wall clock) and this process's CPU time per request, in ms.

    The CPU time leaves out waiting: for the database and, on a busy machine, for a core.
    """
    for url in urls[:warmup]:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.data[:500])
    walls, cpus = [], []
    for url in urls[warmup:]:
        started, cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        walls.append((time.perf_counter() - started) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return walls, cpus


def run(
    url: str, requests: int, rebuild: bool, only: str | None = None
) -> list[tuple[str, tuple[float, float, float]]]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "SERVER_NAME": None,
        }
    )
    app.test_client_class = FreshGlobalsClient
    rng = random.Random(20261127)
    results = []
    with app.app_context():
        print(f"{db.engine.dialect.name}: {sa.engine.make_url(url).database}", flush=True)
        prepare(rebuild)
        vary_centres()
        slugs = list(
            db.session.execute(sa.text("SELECT slug FROM service_centres ORDER BY id")).scalars()
        )
        codes = list(db.session.execute(sa.text("SELECT code FROM metrics")).scalars())
        published = list(
            db.session.execute(
                sa.text(
                    "SELECT code FROM reporting_periods WHERE status = 'published' "
                    "ORDER BY starts_on DESC LIMIT 8"
                )
            ).scalars()
        )
        buyer = db.session.execute(sa.select(User).where(User.email == BUYER_EMAIL)).scalar_one()
        buyer_identity = buyer.get_id()
        db.session.remove()
        anonymous = app.test_client()
        buyer = app.test_client()
        with buyer.session_transaction() as session:
            session["_user_id"] = buyer_identity
            session["_fresh"] = True

        def compare_urls(n):
            return [f"/compare?centres={','.join(rng.sample(slugs, 6))}" for _ in range(n)]

        def narrowed_page_urls(n):
            urls = []
            for _ in range(n):
                chosen = rng.sample(slugs, 6)
                urls.append(
                    f"/compare?centres={','.join(chosen)}&{NARROWED}&{VOLUMES}"
                    f"&current_provider={chosen[0]}"
                )
            return urls

        def narrowed_api_urls(n):
            urls = []
            for _ in range(n):
                chosen = rng.sample(slugs, 6)
                urls.append(
                    f"/api/v1/compare?centres={','.join(chosen)}&{NARROWED}&{API_VOLUMES}"
                    f"&current_provider={chosen[0]}"
                )
            return urls

        def metric_urls(n):
            return [f"/metrics/{rng.choice(codes)}" for _ in range(n)]

        def api_urls(n):
            return [
                f"/api/v1/benchmarks/{rng.choice(codes)}?period={rng.choice(published)}"
                for _ in range(n)
            ]

        warmup = max(10, requests // 10)
        cases = [
            ("/compare, 6 centres × 32 metrics (public)", anonymous, compare_urls),
            ("/compare, 6 centres × 32 metrics (buyer)", buyer, compare_urls),
            (
                "/compare, 6 × 32, narrowed group + volumes (buyer)",
                buyer,
                narrowed_page_urls,
            ),
            (
                "GET /api/v1/compare, 6 × 32, narrowed + volumes (buyer)",
                buyer,
                narrowed_api_urls,
            ),
            ("/metrics/<code> (public)", anonymous, metric_urls),
            ("/metrics/<code> (buyer)", buyer, metric_urls),
            ("GET /api/v1/benchmarks/<code>?period= (public)", anonymous, api_urls),
        ]
        if only:
            cases = [case for case in cases if only in case[0]]
        for label, client, make in cases:
            walls, cpus = measure(client, make(requests + warmup), warmup)
            load = os.getloadavg()[0]
            results.append((label, percentiles(walls), percentiles(cpus), load))
            p50, p95, top = results[-1][1]
            print(
                f"  {label}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, max {top:.1f} ms "
                f"(CPU p95 {results[-1][2][1]:.1f} ms, load {load:.1f})",
                flush=True,
            )
        db.session.remove()
        db.engine.dispose()
    return results


def report(dialect: str, results) -> bool:
    ok = True
    print(f"\n== {dialect}: server time per request (ms; CPU = this process only) ==")
    print(f"{'request':52} {'p50':>7} {'p95':>7} {'max':>7} {'CPU p95':>8} {'load':>5}  goal (p95)")
    for label, (p50, p95, top), (_c50, cpu95, _ctop), load in results:
        goal = next((g for prefix, g in GOALS_MS.items() if prefix in label), None)
        verdict = ""
        if goal is not None:
            met = p95 <= goal
            ok = ok and met
            verdict = f"≤ {goal:.0f}  {'met' if met else 'MISSED'}"
        print(f"{label:52} {p50:7.1f} {p95:7.1f} {top:7.1f} {cpu95:8.1f} {load:5.1f}  {verdict}")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--sqlite", action="store_true", help="also measure on SQLite")
    parser.add_argument("--no-postgres", action="store_true", help="measure on SQLite only")
    parser.add_argument("--only", default=None, help="only the cases whose label has this")
    args = parser.parse_args()
    url = (
        os.environ.get("BENCH_COMPARE_DATABASE_URL")
        or os.environ.get("BENCH_DATABASE_URL")
        or DEFAULT_URL
    )
    name = sa.engine.make_url(url).database or ""
    if not name.startswith("bench"):
        raise SystemExit(f"refusing to use the database '{name}': bench databases are bench…")
    runs = []
    if not args.no_postgres:
        dataset.ensure_postgres_database(url)
        runs.append(("postgresql", run(url, args.requests, args.rebuild, args.only)))
    if args.sqlite or args.no_postgres:
        path = os.environ.get("BENCH_COMPARE_SQLITE_PATH") or (
            Path(tempfile.gettempdir()) / "marketplace-bench-compare.sqlite"
        )
        runs.append(("sqlite", run(f"sqlite:///{path}", args.requests, args.rebuild, args.only)))
    ok = all([report(dialect, results) for dialect, results in runs])
    print(f"\nload average while measuring: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
