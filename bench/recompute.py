"""How long peer statistics take to recompute, and to read, at national scale.

    .venv/bin/python bench/recompute.py [--sqlite] [--rebuild] [--runs 3]
                                        [--centres 1000] [--quarters 40]

Builds (once, then reuses) a synthetic national dataset in a dedicated PostgreSQL database,
`bench_stats` by default (never the CI database `test`): 1,000 accredited centres offering
every service line, the 32-metric library from fixtures/demo/metrics.csv and 40 quarters of
observations, 1,280,000 in all, stored in the order uploads arrive (quarter by quarter, centre
by centre), with some centres suspended for a while so that peer groups differ between
quarters. Building takes about a minute and a half. It then prints:

- full recompute: every peer group rebuilt (recompute_all) and committed;
- incremental recompute after a change: peers.recompute(pairs) for the groups the change
  touched, timed alone (the change is written first, and rolled back afterwards), for three
  shapes, because the cost follows the number and size of the groups touched, not the rows:
  2,000 rows in the latest quarter (32 groups), 2,000 rows spread over 8 quarters (256
  groups), and one centre restating its whole history (1,280 groups: every group);
- reads the pages build on: stats_for for a comparison, quartiles for trends, and every
  centre's position in one group (the benchmarks API), p95 of 60.

Each timing is shown as wall time and as CPU time (this process plus the PostgreSQL backend,
read from /proc; parallel workers are not counted). On a shared machine wall time includes
waiting for a CPU; the load average is printed with the figures.

With --sqlite the same dataset is built in a temporary SQLite file and measured too.
Set BENCH_DATABASE_URL to use another PostgreSQL database (its name must not be `test`).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from marketplace import create_app  # noqa: E402
from marketplace.benchmarks import peers  # noqa: E402
from marketplace.benchmarks.models import Metric  # noqa: E402
from marketplace.extensions import db  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench_stats"
METRICS_CSV = ROOT / "fixtures" / "demo" / "metrics.csv"
SERVICE_LINES = ("finance", "payroll", "hr", "procurement", "ict", "customer")
CHANGE_ROWS = 2000


def quarter_bounds(year: int, quarter: int) -> tuple[date, date]:
    start = date(year, 3 * quarter - 2, 1)
    end_month = 3 * quarter
    end = date(year + (end_month == 12), end_month % 12 + 1, 1) - timedelta(days=1)
    return start, end


def last_quarters(count: int, today: date) -> list[tuple[int, int]]:
    """The `count` calendar quarters that ended before today, oldest first."""
    year, quarter = today.year, (today.month - 1) // 3 + 1
    result = []
    for _ in range(count):
        quarter -= 1
        if quarter == 0:
            year, quarter = year - 1, 4
        result.append((year, quarter))
    return result[::-1]


# --- building the dataset ------------------------------------------------------------------


def ensure_postgres_database(url: str) -> None:
    name = sa.engine.make_url(url).database
    if name in (None, "", "test", "postgres"):
        raise SystemExit(f"refusing to benchmark in the database '{name}'; use a dedicated one")
    admin = sa.create_engine(
        sa.engine.make_url(url).set(database="postgres", drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def dataset_present(centres: int, quarters: int) -> bool:
    inspector = sa.inspect(db.engine)
    if not inspector.has_table("observations") or not inspector.has_table("alembic_version"):
        return False
    count = db.session.execute(sa.text("SELECT count(*) FROM observations")).scalar_one()
    metrics = db.session.execute(sa.text("SELECT count(*) FROM metrics")).scalar_one()
    return count == centres * metrics * quarters and count > 0


def schema_matches() -> bool:
    """Are the stored tables still those of the models? If not, the dataset is rebuilt."""
    inspector = sa.inspect(db.engine)
    for table in db.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            return False
        stored = {column["name"] for column in inspector.get_columns(table.name)}
        if stored != {column.name for column in table.columns}:
            return False
    return True


def reset_schema() -> None:
    from flask_migrate import upgrade

    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))
    upgrade()


def build(centres: int, quarters: int, seed: int = 20261127) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    md = db.metadata.tables
    conn = db.session.connection()

    conn.execute(
        md["service_lines"].insert(),
        [
            {"code": c, "name": c.title(), "description": "", "position": i}
            for i, c in enumerate(SERVICE_LINES)
        ],
    )
    line_ids = dict(conn.execute(sa.text("SELECT code, id FROM service_lines")).all())

    with METRICS_CSV.open(newline="", encoding="utf-8") as handle:
        library = list(csv.DictReader(handle))
    conn.execute(
        md["metrics"].insert(),
        [
            {
                "code": row["code"],
                "version": 1,
                "is_current": True,
                "name": row["name"],
                "service_line_id": line_ids[row["service_line"]],
                "definition": row["definition"],
                "numerator_label": row["numerator_label"],
                "denominator_label": row["denominator_label"],
                "unit": row["unit"],
                "direction": row["direction"],
                "valid_min": Decimal(row["valid_min"]) if row["valid_min"] else None,
                "valid_max": Decimal(row["valid_max"]) if row["valid_max"] else None,
                "decimals": int(row["decimals"]),
                "scale": Decimal(row["scale"]),
                "is_share": row["is_share"] == "true",
                "reference": row["reference"],
                "status": "active",
                "position": position,
                "created_at": now,
                "updated_at": now,
            }
            for position, row in enumerate(library)
        ],
    )
    metrics = conn.execute(
        sa.text("SELECT id, unit, decimals, valid_min, valid_max FROM metrics ORDER BY id")
    ).all()

    periods = []
    for year, quarter in last_quarters(quarters, date.today()):
        starts_on, ends_on = quarter_bounds(year, quarter)
        periods.append(
            {
                "code": f"{year}-Q{quarter}",
                "year": year,
                "quarter": quarter,
                "starts_on": starts_on,
                "ends_on": ends_on,
                "status": "closed",
            }
        )
    conn.execute(md["reporting_periods"].insert(), periods)
    period_ids = [
        pid
        for (pid,) in conn.execute(sa.text("SELECT id FROM reporting_periods ORDER BY starts_on"))
    ]

    conn.execute(
        md["organisations"].insert(),
        [
            {
                "slug": f"bench-centre-{i}",
                "name": f"Bench Shared Services {i}",
                "kind": "centre",
                "created_at": now,
                "updated_at": now,
            }
            for i in range(centres)
        ],
    )
    org_ids = dict(conn.execute(sa.text("SELECT slug, id FROM organisations")).all())
    conn.execute(
        md["service_centres"].insert(),
        [
            {
                "organisation_id": org_ids[f"bench-centre-{i}"],
                "slug": f"bench-centre-{i}",
                "name": f"Bench Shared Services {i}",
                "business_model": "joint_venture",
                "ownership_employee": Decimal(25),
                "ownership_government": Decimal(35),
                "ownership_private": Decimal(40),
                "delivery_model": "integrated_centres",
                "accreditation_status": "accredited",
                "accredited_from": date(2015, 6, 1),
                "accredited_until": date(2030, 12, 31),
                "created_at": now,
                "updated_at": now,
            }
            for i in range(centres)
        ],
    )
    centre_ids = [
        cid for (cid,) in conn.execute(sa.text("SELECT id FROM service_centres ORDER BY id"))
    ]
    conn.execute(
        md["centre_service_lines"].insert(),
        [
            {"centre_id": c, "service_line_id": line_ids[code]}
            for c in centre_ids
            for code in SERVICE_LINES
        ],
    )
    events = []
    first, last = periods[0]["starts_on"], periods[-1]["ends_on"]
    for centre_id in centre_ids:
        base = {"centre_id": centre_id, "actor_label": "bench", "reason": "", "recorded_at": now}
        events.append(
            {
                **base,
                "action": "apply",
                "from_status": None,
                "to_status": "applied",
                "valid_from": None,
                "valid_until": None,
                "effective_on": date(2015, 1, 1),
            }
        )
        events.append(
            {
                **base,
                "action": "accredit",
                "from_status": "applied",
                "to_status": "accredited",
                "valid_from": date(2015, 6, 1),
                "valid_until": date(2030, 12, 31),
                "effective_on": date(2015, 6, 1),
            }
        )
        if rng.random() < 0.05:  # a suspension, mostly lifted a year later
            suspended_on = first + timedelta(days=rng.randrange((last - first).days))
            events.append(
                {
                    **base,
                    "action": "suspend",
                    "from_status": "accredited",
                    "to_status": "suspended",
                    "valid_from": date(2015, 6, 1),
                    "valid_until": date(2030, 12, 31),
                    "effective_on": suspended_on,
                    "reason": "bench",
                }
            )
            if rng.random() < 0.7:
                events.append(
                    {
                        **base,
                        "action": "reinstate",
                        "from_status": "suspended",
                        "to_status": "accredited",
                        "valid_from": date(2015, 6, 1),
                        "valid_until": date(2030, 12, 31),
                        "effective_on": suspended_on + timedelta(days=365),
                        "reason": "bench",
                    }
                )
    conn.execute(md["accreditation_events"].insert(), events)
    conn.execute(
        md["submissions"].insert(),
        [
            {
                "public_id": f"bench{c:027d}",
                "centre_id": c,
                "actor_label": "bench",
                "channel": "fixtures",
                "sha256": f"{c:064x}",
                "size_bytes": 0,
                "content": b"",
                "row_count": len(metrics) * len(period_ids),
                "status": "accepted",
                "reason": "",
                "errors": [],
                "summary": {},
                "created_at": now,
            }
            for c in centre_ids
        ],
    )
    submission_of = dict(conn.execute(sa.text("SELECT centre_id, id FROM submissions")).all())

    # Each centre has a level on each metric; quarters vary around it.
    effect = {m[0]: {c: rng.lognormvariate(0, 0.35) for c in centre_ids} for m in metrics}

    def values():
        # Stored in the order real data arrives: quarter by quarter, one centre's upload at a
        # time, so a peer group's rows are spread over its quarter as in production.
        for period_id in period_ids:
            for centre_id in centre_ids:
                for metric_id, unit, decimals, _valid_min, valid_max in metrics:
                    level = effect[metric_id][centre_id]
                    if unit == "percent":
                        raw = min(100.0, max(0.0, rng.gauss(75, 12) / level**0.3))
                    else:
                        raw = level * rng.lognormvariate(1.5, 0.4)
                        if valid_max is not None:
                            raw = min(raw, float(valid_max))
                    yield (
                        centre_id,
                        metric_id,
                        period_id,
                        round(raw, decimals),
                        submission_of[centre_id],
                    )

    started = time.perf_counter()
    columns = (
        "centre_id",
        "metric_id",
        "period_id",
        "value",
        "comment",
        "submission_id",
        "revision",
        "flag_status",
        "created_at",
        "updated_at",
    )
    if db.engine.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY observations ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for c, m, p, v, s in values():
                copy.write_row((c, m, p, v, "", s, 1, "none", now, now))
    else:
        raw = conn.connection.driver_connection
        stamp = now.isoformat(sep=" ")
        raw.executemany(
            f"INSERT INTO observations ({', '.join(columns)}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            ((c, m, p, v, "", s, 1, "none", stamp, stamp) for c, m, p, v, s in values()),
        )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(sa.text("VACUUM ANALYZE"))
    else:
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    print(f"  loaded observations in {time.perf_counter() - started:.1f} s", flush=True)


# --- measuring -----------------------------------------------------------------------------


@dataclass
class Sample:
    wall: float  # seconds
    cpu: float  # seconds of CPU used by this process and the database backend


def backend_cpu_reader():
    """CPU seconds used so far by this session's PostgreSQL backend, when it runs locally.

    The machine the figures are taken on is shared, so wall time includes waiting for a CPU;
    the CPU time of the client and the server backend is what the work costs on its own.
    (Parallel workers, if a plan uses them, are not counted.)
    """
    if db.engine.dialect.name != "postgresql":
        return lambda: 0.0
    pid = db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    stat = Path(f"/proc/{pid}/stat")
    if not stat.exists():
        return None
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


def measure(fn) -> tuple[Sample, object]:
    server = backend_cpu_reader()
    wall0, cpu0, server0 = time.perf_counter(), time.process_time(), server() if server else 0
    result = fn()
    wall = time.perf_counter() - wall0
    cpu = time.process_time() - cpu0 + ((server() - server0) if server else float("nan"))
    return Sample(wall, cpu), result


def measure_full(runs: int) -> list[Sample]:
    samples = []
    for _ in range(runs):

        def full():
            groups = peers.recompute_all()
            db.session.commit()
            return groups

        sample, groups = measure(full)
        samples.append(sample)
        print(
            f"  full recompute: {groups} groups in {sample.wall:.3f} s (CPU {sample.cpu:.3f} s)",
            flush=True,
        )
    return samples


def change_shapes(rng: random.Random) -> dict[str, list[tuple[int, int, int]]]:
    """(centre_id, metric_id, period_id) sets of 2,000 rows (or fewer where noted)."""
    rows = lambda sql: db.session.execute(sa.text(sql)).all()  # noqa: E731
    (latest,) = rows("SELECT id FROM reporting_periods ORDER BY starts_on DESC LIMIT 1")[0]
    recent = [
        pid for (pid,) in rows("SELECT id FROM reporting_periods ORDER BY starts_on DESC LIMIT 8")
    ]
    metric_ids = [m for (m,) in rows("SELECT id FROM metrics ORDER BY id")]
    centre_ids = [c for (c,) in rows("SELECT id FROM service_centres ORDER BY id")]
    one_quarter = [(c, m, latest) for c in centre_ids for m in metric_ids][:CHANGE_ROWS]
    spread = rng.sample(
        [(c, m, p) for c in centre_ids[:200] for m in metric_ids for p in recent], CHANGE_ROWS
    )
    periods = [p for (p,) in rows("SELECT id FROM reporting_periods")]
    history = [(centre_ids[0], m, p) for m in metric_ids for p in periods]
    return {
        f"{CHANGE_ROWS:,} rows, latest quarter (63 centres × 32 metrics)": one_quarter,
        f"{CHANGE_ROWS:,} rows, spread over the last 8 quarters": spread,
        f"{len(history):,} rows, one centre restating {len(periods)} quarters": history,
    }


def measure_incremental(label: str, keys, runs: int) -> list[Sample]:
    seconds = []
    for run in range(runs):
        # Write the change as an upload would (not timed), then time the recompute alone.
        obs = db.metadata.tables["observations"]
        db.session.execute(
            obs.update()
            .where(
                obs.c.centre_id == sa.bindparam("c"),
                obs.c.metric_id == sa.bindparam("m"),
                obs.c.period_id == sa.bindparam("p"),
            )
            .values(value=obs.c.value + Decimal("0.5") * (run + 1)),
            [{"c": c, "m": m, "p": p} for c, m, p in keys],
        )
        pairs = {(m, p) for _, m, p in keys}
        sample, _ = measure(lambda: peers.recompute(pairs))  # noqa: B023 - called at once
        seconds.append(sample)
        db.session.rollback()
        print(
            f"  {label}: {len(pairs)} groups in {sample.wall * 1000:.0f} ms "
            f"(CPU {sample.cpu * 1000:.0f} ms)",
            flush=True,
        )
    return seconds


def bench(url: str, centres: int, quarters: int, rebuild: bool, runs: int) -> dict:
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        dialect = db.engine.dialect.name
        print(
            f"{dialect}: {sa.engine.make_url(db.engine.url).render_as_string(hide_password=True)}",
            flush=True,
        )
        if rebuild or not schema_matches() or not dataset_present(centres, quarters):
            print("  building the national dataset …", flush=True)
            db.session.remove()
            reset_schema()
            build(centres, quarters)
        else:
            from flask_migrate import upgrade

            db.session.remove()
            upgrade()  # a reused database gets any newer migrations
        count = db.session.execute(sa.text("SELECT count(*) FROM observations")).scalar_one()
        print(f"  {count:,} observations", flush=True)
        full = measure_full(runs)
        shapes = change_shapes(random.Random(7))
        incremental = {
            label: measure_incremental(label, keys, runs) for label, keys in shapes.items()
        }
        db.session.remove()
        reads = measure_reads()
    return {
        "dialect": dialect,
        "observations": count,
        "full": full,
        "incremental": incremental,
        "reads": reads,
    }


def measure_reads(runs: int = 60) -> dict[str, tuple[float, float]]:
    """p95 of the read functions other pages build on, each in a fresh session."""
    rows = lambda sql: db.session.execute(sa.text(sql)).all()  # noqa: E731
    (latest,) = rows("SELECT id FROM reporting_periods ORDER BY starts_on DESC LIMIT 1")[0]
    recent = [
        p for (p,) in rows("SELECT id FROM reporting_periods ORDER BY starts_on DESC LIMIT 8")
    ]
    metrics = db.session.scalars(sa.select(Metric).order_by(Metric.id)).all()
    centre_ids = [c for (c,) in rows("SELECT id FROM service_centres ORDER BY id LIMIT 6")]
    values = {
        (c, m, p): v
        for c, m, p, v in rows(
            "SELECT centre_id, metric_id, period_id, value FROM observations "
            f"WHERE period_id = {latest} AND centre_id IN ({','.join(map(str, centre_ids))})"
        )
    }
    first_metric = metrics[0]
    group_values = rows(
        f"SELECT centre_id, value FROM observations WHERE period_id = {latest} "
        f"AND metric_id = {first_metric.id}"
    )
    by_id = {m.id: m for m in metrics}
    db.session.remove()

    def compare_matrix():
        stats = peers.stats_for(by_id, [latest])
        for (c, m, p), v in values.items():
            s = stats.get((m, p))
            if peers.is_peer(s, c):
                peers.position(by_id[m], s, v)

    def trend_quartiles():
        peers.stats_for(by_id, recent, with_values=False)

    def one_group_every_centre():
        s = peers.group_stats(first_metric.id, latest)
        for c, v in group_values:
            if peers.is_peer(s, c):
                peers.position(first_metric, s, v)

    results = {}
    for label, fn in (
        ("stats_for 32 metrics + 6 centres' positions", compare_matrix),
        ("stats_for 32 metrics × 8 quarters, quartiles only", trend_quartiles),
        ("group_stats + 1,000 centres' positions", one_group_every_centre),
    ):
        times, cpu = [], []
        for _ in range(runs):
            started, cpu_started = time.perf_counter(), time.process_time()
            fn()
            times.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            db.session.remove()
        times.sort()
        results[label] = (times[int(0.95 * (len(times) - 1))], statistics.median(cpu))
        print(
            f"  read: {label}: p95 {results[label][0] * 1000:.1f} ms wall, "
            f"median {results[label][1] * 1000:.1f} ms client CPU",
            flush=True,
        )
    return results


def _summary(samples: list[Sample], scale: float, unit: str, digits: int) -> str:
    wall = statistics.median(s.wall for s in samples) * scale
    cpu = statistics.median(s.cpu for s in samples) * scale
    runs = ", ".join(f"{s.wall * scale:.{digits}f}" for s in samples)
    return f"median {wall:.{digits}f} {unit} wall, {cpu:.{digits}f} {unit} CPU (runs: {runs})"


def report(result: dict) -> None:
    print(f"\n== {result['dialect']} ({result['observations']:,} observations) ==")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"full recompute: {_summary(result['full'], 1, 's', 3)}")
    for label, samples in result["incremental"].items():
        print(f"incremental recompute, {label}: {_summary(samples, 1000, 'ms', 0)}")
    for label, (p95, cpu) in result["reads"].items():
        print(f"read, {label}: p95 {p95 * 1000:.1f} ms wall, median {cpu * 1000:.1f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--centres", type=int, default=1000)
    parser.add_argument("--quarters", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the dataset first")
    parser.add_argument("--sqlite", action="store_true", help="also measure on SQLite")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    ensure_postgres_database(url)
    results = [bench(url, args.centres, args.quarters, args.rebuild, args.runs)]
    if args.sqlite:
        path = Path(tempfile.gettempdir()) / "marketplace-bench-stats.sqlite"
        results.append(
            bench(f"sqlite:///{path}", args.centres, args.quarters, args.rebuild, args.runs)
        )
    for result in results:
        report(result)


if __name__ == "__main__":
    main()
