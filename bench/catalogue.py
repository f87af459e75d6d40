"""Catalogue speed at national scale: load bench/data/national, then time /centres and the API.

    .venv/bin/python bench/catalogue.py                      # SQLite (bench/out/bench_catalogue.db)
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_catalogue \\
        .venv/bin/python bench/catalogue.py                  # SQLite, then PostgreSQL
    .venv/bin/python bench/catalogue.py --database-url postgresql://…/bench_catalogue

The data set (bench/generate.py: 1,000 centres, ~1.25 million observations) is generated
first if it is missing. Each database is emptied and migrated, then the data set is loaded
through the fixtures loader — observations through the same ingest service as uploads — in
one transaction, and the load is timed. Then each URL is requested through the Flask test
client (so the figure is server time: routing, queries, templates, no network), warmed up,
and timed ~200 times; the table shows p50, p95 and max of the wall time in milliseconds, and
p50 and p95 of the CPU time the request used: this process's (Python, and SQLite's queries)
plus, on PostgreSQL, that of its server processes (read from /proc, so on the same host). A
busy machine inflates wall time, not CPU time.

A PostgreSQL database is created if missing and its schema dropped: its name must start with
'bench' (never the CI database 'test', never a development database). DATABASE_URL is
deliberately not read, so `make bench` can never empty the database you develop against.
--reuse skips the load when the database already holds the data set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Request logs (one JSON line per request) would dominate the timings; keep warnings only.
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.databases import ensure_data, prepare_database  # noqa: E402
from marketplace import create_app  # noqa: E402
from marketplace.catalogue.models import ServiceCentre  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.fixtures import loader  # noqa: E402

DATA = ROOT / "bench" / "data" / "national"
SQLITE_FILE = ROOT / "bench" / "out" / "bench_catalogue.db"
TARGET_P95_MS = 50.0
QUERIES = (
    "",
    "?service_line=payroll",
    "?business_model=employee_owned_mutual",
    "?status=suspended",
    "?status=expired",
    "?q=moor",
    "?sort=-employees_served",
    "?page=25",
    "?service_line=hr&business_model=joint_venture&status=accredited&sort=accredited_until&page=2",
)


def make_app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "SERVER_NAME": None,
        }
    )


def load(app, directory: Path) -> float:
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()
        plan = loader.read(directory)
        done = {"units": 0, "next": 0}
        started = time.perf_counter()

        def progress(units: int) -> None:
            done["units"] += units
            if done["units"] >= done["next"]:
                elapsed = time.perf_counter() - started
                print(f"  {done['units']:>6}/{plan.units} units  {elapsed:7.1f} s", flush=True)
                done["next"] += max(plan.units // 20, 1)

        summary = loader.load(
            directory, actor_label="bench", progress=progress, plan=plan, outlier_flags=False
        )
        db.session.commit()
        elapsed = time.perf_counter() - started
        observations = summary.counts.get("observations", {}).get("created", 0)
        print(
            f"  loaded {observations:,} observations in {elapsed:.1f} s "
            f"({observations / max(elapsed, 1e-9):,.0f} a second), one transaction"
        )
        db.session.remove()
        return elapsed


def already_loaded(app, directory: Path) -> bool:
    import json

    expected = len(json.loads((directory / "centres.json").read_text())["centres"])
    with app.app_context():
        try:
            found = db.session.execute(sa.select(sa.func.count(ServiceCentre.id))).scalar_one()
        except sa.exc.DatabaseError:
            return False
        finally:
            db.session.remove()
    return found == expected


def _cpu_ns(pids: list[int]) -> int:
    """CPU time used so far by this process and by the given PostgreSQL backends (same host).

    /proc/<pid>/schedstat counts nanoseconds on a CPU, so unlike wall time it is not inflated
    while other processes hold the CPUs.
    """
    total = time.process_time_ns()
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):  # the backend has gone
            total += int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
    return total


def _backend_pids() -> list[int]:
    """The PostgreSQL server processes serving this database (the app's pooled connections)."""
    if db.engine.dialect.name != "postgresql":
        return []
    with db.engine.connect() as conn:
        pids = conn.execute(
            sa.text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        return [pid for pid in pids if Path(f"/proc/{pid}/schedstat").exists()]


def measure(app, requests: int, warmup: int) -> list[tuple]:
    client = app.test_client()
    rows = []
    for base in ("/centres", "/api/v1/centres"):
        for query in QUERIES:
            url = base + query
            for _ in range(warmup):
                client.get(url)
            pids = _backend_pids()
            times, cpu = [], []
            response = None
            for _ in range(requests):
                started, started_cpu = time.perf_counter(), _cpu_ns(pids)
                response = client.get(url)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((_cpu_ns(pids) - started_cpu) / 1e6)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")
            cuts = statistics.quantiles(times, n=100, method="inclusive")
            total = ""
            if base.startswith("/api/"):
                total = str(response.get_json()["meta"].get("total", ""))
            cpu_cuts = statistics.quantiles(cpu, n=100, method="inclusive")
            rows.append(
                (url, requests, cuts[49], cuts[94], max(times), cpu_cuts[49], cpu_cuts[94], total)
            )
    return rows


def report(label: str, rows) -> bool:
    width = max(len(r[0]) for r in rows)
    print(f"\n{label}: server time per request, milliseconds")
    print(
        f"{'URL':<{width}}  {'n':>4}  {'p50':>6}  {'p95':>6}  {'max':>6}  "
        f"{'cpu p50':>7}  {'cpu p95':>7}  {'matches':>7}"
    )
    for url, n, p50, p95, top, cpu50, cpu95, total in rows:
        mark = "" if p95 < TARGET_P95_MS else "  wall p95 over target"
        print(
            f"{url:<{width}}  {n:>4}  {p50:6.1f}  {p95:6.1f}  {top:6.1f}  "
            f"{cpu50:7.1f}  {cpu95:7.1f}  {total:>7}{mark}"
        )
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        "p50/p95/max: wall time. cpu: CPU time of this process plus, on PostgreSQL, of its "
        f"server processes, which other work on the machine does not inflate. Load average "
        f"{load} on {os.cpu_count()} CPUs."
    )
    worst = max(r[3] for r in rows)
    worst_cpu = max(r[6] for r in rows)
    met = worst < TARGET_P95_MS
    verdict = "met" if met else "MISSED"
    print(
        f"worst wall p95 {worst:.1f} ms (worst cpu p95 {worst_cpu:.1f} ms): "
        f"target p95 < {TARGET_P95_MS:.0f} ms {verdict}"
    )
    return met


def run(url: str, args) -> bool:
    backend = sa.engine.make_url(url).get_backend_name()
    print(f"\n== {backend}: {sa.engine.make_url(url).render_as_string(hide_password=True)}")
    app = make_app(url)
    if args.reuse and already_loaded(app, args.data):
        print("  reusing the data already loaded")
    else:
        prepare_database(url)
        app = make_app(url)
        load(app, args.data)
    with app.app_context():
        with db.engine.connect() as conn:
            if backend == "postgresql":
                conn.execute(sa.text("ANALYZE"))
                conn.commit()
            else:
                conn.exec_driver_sql("ANALYZE")
        rows = measure(app, args.requests, args.warmup)
        db.session.remove()
    return report(f"{backend}, {len(QUERIES) * 2} URLs", rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--database-url", help="one database to use instead of the defaults")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="keep data already loaded")
    args = parser.parse_args(argv)
    ensure_data(args.data)
    if args.database_url:
        urls = [args.database_url]
    else:
        urls = [f"sqlite:///{SQLITE_FILE}"]
        if os.environ.get("BENCH_DATABASE_URL"):
            urls.append(os.environ["BENCH_DATABASE_URL"])
    for url in urls:
        run(url, args)


if __name__ == "__main__":
    main()
