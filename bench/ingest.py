"""Ingest speed and memory at national scale, against a raw PostgreSQL COPY of the same rows.

    .venv/bin/python bench/ingest.py                         # SQLite (bench/out/bench_ingest.db)
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_ingest \\
        .venv/bin/python bench/ingest.py                     # SQLite, then PostgreSQL
    .venv/bin/python bench/ingest.py --database-url postgresql://…/bench_ingest --centres 200

The data set is bench/data/national (bench/generate.py: ~1,000 centres × the metric library ×
40 quarters, ~1.25 million observations), generated if missing. Each database is emptied and
migrated; organisations, centres, metrics and periods are loaded with the fixtures loader
(without observations) and every period is opened so that first values may be sent. Then:

1. National import: each centre's file through benchmarks.submissions.submit() — parse, check
   every cell, COPY (PostgreSQL) or executemany (SQLite) into the staging table, set-wise
   checks, revisions, updates, inserts, audit — committed one submission per file, as
   `import-benchmarks` would. Peer statistics are recomputed once at the end and outlier
   scoring is left out, as for any bulk load (the peer groups are incomplete until the end);
   the peer statistics pass is timed on its own.
2. The largest file: one centre, one file of MAX_UPLOAD_ROWS (100,000) figures, ~3.5 MB (the
   bench adds 5,000 metrics to the library so that they are distinct), written as a bulk load
   is (no peer recompute, hence no outlier scores: its metrics are the bench's own, with no
   peers to score against).
3. Memory: this process's peak resident size (getrusage) after each step, and the
   tracemalloc peak of one largest-file submission.
4. A 2,000-row file through the web form (test client, signed in as the centre's user; peer
   statistics and outlier scoring included), three times with different figures, and the
   same size of file through the service without the peer work.
5. Raw COPY (PostgreSQL), last so that it cannot inflate the memory figures: the rows our
   import wrote, written to a file as COPY text beforehand, then one COPY into (a) an
   identical empty table — the observations table's keys, indexes, checks and foreign keys —
   and (b) a table of the same columns with no index or constraint. Only the database's
   work is timed. Ours / raw is printed for both.

PostgreSQL databases must be named bench… (they are emptied). DATABASE_URL is never read.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("LOG_LEVEL", "WARNING")

from bench.databases import ensure_data, prepare_database  # noqa: E402
from marketplace import create_app  # noqa: E402
from marketplace.extensions import db  # noqa: E402

DATA = ROOT / "bench" / "data" / "national"
SQLITE_URL = f"sqlite:///{ROOT / 'bench' / 'out' / 'bench_ingest.db'}"
WEB_ROWS = 2000
# Issue 15: our import at least half the speed of a raw COPY into an identical table.
COPY_RATIO_GOAL = 0.5
BIG_METRICS = 5000
BIG_ROWS = 100_000  # MAX_UPLOAD_ROWS, the binding limit (the file is ~5 MB)
STAMP = "2026-11-27 09:00:00+00"
COPY_COLUMNS = (
    "centre_id, metric_id, period_id, value, numerator, denominator, comment, "
    "submission_id, revision, flag_status, created_at, updated_at"
)


def make_app(url: str):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench-secret-key-not-for-production-0123456789",
            "SERVER_NAME": None,
            "WTF_CSRF_ENABLED": False,
        }
    )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_structure(directory: Path) -> None:
    """Everything but the observations, with every period open; committed."""
    from flask_migrate import upgrade

    from marketplace.benchmarks.models import ReportingPeriod
    from marketplace.fixtures import loader

    upgrade()
    plan = loader.read(directory)
    plan.observation_files = []
    loader.load(directory, actor_label="bench", plan=plan)
    db.session.execute(sa.update(ReportingPeriod).values(status="open", published_at=None))
    db.session.commit()


def centre(slug: str):
    from marketplace.catalogue.models import ServiceCentre

    return db.session.execute(
        sa.select(ServiceCentre).where(ServiceCentre.slug == slug)
    ).scalar_one()


def submit(centre_obj, content: bytes, **options):
    from marketplace.benchmarks import submissions

    return submissions.submit(
        centre_obj,
        content,
        filename="bench.csv",
        content_type="text/csv",
        channel="cli",
        actor_label="bench",
        **options,
    )


def national_import(files: list[Path]) -> tuple[int, float]:
    from marketplace.catalogue.models import ServiceCentre

    centres = {c.slug: c for c in db.session.execute(sa.select(ServiceCentre)).scalars()}
    rows = 0
    started = time.perf_counter()
    for number, path in enumerate(files, start=1):
        outcome = submit(
            centres[path.stem], path.read_bytes(), recompute_peers=False, flag_outliers=False
        )
        db.session.commit()
        rows += outcome.submission.row_count
        if number % 100 == 0:
            rate = rows / (time.perf_counter() - started)
            print(f"    … {number:,} files, {rows:,} rows, {rate:,.0f} rows/s", flush=True)
    return rows, time.perf_counter() - started


def big_file(slug: str, version: int) -> bytes:
    """100,000 distinct figures for one centre: the most one file may hold."""
    from marketplace.benchmarks.models import ReportingPeriod

    periods = list(
        db.session.execute(
            sa.select(ReportingPeriod.code)
            .where(ReportingPeriod.code.like("20__-Q_"), ReportingPeriod.year >= 2017)
            .order_by(ReportingPeriod.code)
        ).scalars()
    )[:40]
    out = io.StringIO()
    out.write("metric,period,value,numerator,denominator\n")
    count = 0
    for index in range(BIG_METRICS):
        for period in periods:
            numerator = 1000 + (index * 37 + count * 11 + version) % 9000
            out.write(f"bench_{index:05d},{period},{numerator / 800:.4f},{numerator},800\n")
            count += 1
            if count == BIG_ROWS:
                return out.getvalue().encode()
    return out.getvalue().encode()


def add_big_library(slug: str) -> None:
    """5,000 extra metrics of a line the centre offers, so the largest file can be all new."""
    from marketplace import clock
    from marketplace.benchmarks.models import Metric

    line_id = centre(slug).service_lines[0].id
    stamp = clock.now()
    rows = [
        {
            "code": f"bench_{index:05d}",
            "version": 1,
            "is_current": True,
            "name": f"Bench metric {index}",
            "service_line_id": line_id,
            "definition": "bench only",
            "numerator_label": "",
            "denominator_label": "",
            "unit": "gbp",
            "direction": "lower",
            "valid_min": 0,
            "decimals": 4,
            "scale": 1,
            "is_share": False,
            "reference": "",
            "status": "active",
            "position": 1000 + index,
            "created_at": stamp,
            "updated_at": stamp,
        }
        for index in range(BIG_METRICS)
    ]
    db.session.execute(sa.insert(Metric), rows)
    db.session.commit()


def copy_file(where=None) -> Path:
    """The rows now in observations, as COPY text in a file: exactly what our import wrote.

    Written before any timing, and streamed from the file into COPY, so the baseline costs
    no memory and no Python work while it is timed.
    """
    from marketplace.benchmarks.models import Observation as O

    query = sa.select(O.centre_id, O.metric_id, O.period_id, O.value, O.numerator, O.denominator)
    if where is not None:
        query = query.where(where)
    path = ROOT / "bench" / "out" / "ingest-raw-copy.tsv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        for centre_id, metric_id, period_id, value, numerator, denominator in db.session.execute(
            query.execution_options(yield_per=50_000)
        ):
            out.write(
                f"{centre_id}\t{metric_id}\t{period_id}\t{value}\t"
                f"{numerator if numerator is not None else chr(92) + 'N'}\t"
                f"{denominator if denominator is not None else chr(92) + 'N'}\t\t1\t1\tnone\t"
                f"{STAMP}\t{STAMP}\n"
            )
    # End the read transaction: its locks would block dropping the raw table's foreign keys.
    db.session.commit()
    return path


def raw_copy(path: Path, *, constrained: bool) -> float:
    """One COPY of the rows into a new empty table; only the database's work is timed."""
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS bench_raw_observations")
        if constrained:
            conn.exec_driver_sql(
                "CREATE TABLE bench_raw_observations (LIKE observations INCLUDING ALL)"
            )
            for column, target in (
                ("centre_id", "service_centres"),
                ("metric_id", "metrics"),
                ("period_id", "reporting_periods"),
                ("submission_id", "submissions"),
            ):
                conn.exec_driver_sql(
                    f"ALTER TABLE bench_raw_observations ADD FOREIGN KEY ({column}) "
                    f"REFERENCES {target} (id)"
                )
        else:
            conn.exec_driver_sql(
                "CREATE TABLE bench_raw_observations AS SELECT * FROM observations WITH NO DATA"
            )
    raw = db.engine.raw_connection()
    try:
        with path.open("rb") as source:
            started = time.perf_counter()
            with (
                raw.driver_connection.cursor() as cursor,
                cursor.copy(f"COPY bench_raw_observations ({COPY_COLUMNS}) FROM STDIN") as copy,
            ):
                while chunk := source.read(1 << 20):
                    copy.write(chunk)
            raw.driver_connection.commit()
            elapsed = time.perf_counter() - started
    finally:
        raw.close()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE bench_raw_observations")
    return elapsed


def compare_with_copy(label: str, rows: int, seconds: float, path: Path) -> None:
    ours = rows / seconds
    for constrained, table in (
        (True, "an identical table (keys, indexes, checks, foreign keys)"),
        (False, "a bare table (same columns, no index or constraint)"),
    ):
        raw_seconds = raw_copy(path, constrained=constrained)
        raw = rows / raw_seconds
        verdict = "meets" if ours >= raw * COPY_RATIO_GOAL else "misses"
        print(
            f"  {label}: raw COPY into {table}: {raw_seconds:.2f} s = {raw:,.0f} rows/s; "
            f"ours ({ours:,.0f} rows/s) / raw = {ours / raw:.2f} "
            f"({verdict} the goal of {COPY_RATIO_GOAL})"
        )
    path.unlink()


def spot(bounds: tuple[float, float], i: int) -> float:
    low, high = bounds
    return low + (high - low) * (0.2 + 0.6 * ((i * 7) % 97) / 97)


def web_uploads(slug: str) -> tuple[list[float], float]:
    """A 2,000-row file through the upload form, as the centre's own user, three times."""
    from flask import current_app

    from marketplace.accounts.models import User
    from marketplace.benchmarks.models import Metric, ReportingPeriod
    from marketplace.benchmarks.periods import quarter_bounds

    target = centre(slug)
    # 2,000 distinct figures of the real library need more quarters: open ten more years.
    for year in range(2007, 2017):
        for quarter in range(1, 5):
            start, end = quarter_bounds(year, quarter)
            db.session.add(
                ReportingPeriod(
                    code=f"{year}-Q{quarter}",
                    year=year,
                    quarter=quarter,
                    starts_on=start,
                    ends_on=end,
                    status="open",
                )
            )
    user = User(
        email="bench-upload@centre.example.org",
        name="Bench",
        role="centre",
        organisation_id=target.organisation_id,
    )
    db.session.add(user)
    db.session.commit()
    # Figures inside each metric's valid range, so that the upload is accepted.
    ranges = {
        code: (float(low or 0), float(high if high is not None else (low or 0) + 100))
        for code, low, high in db.session.execute(
            sa.select(Metric.code, Metric.valid_min, Metric.valid_max)
            .where(~Metric.code.like("bench_%"))
            .order_by(Metric.code)
        )
    }
    periods = list(
        db.session.execute(
            sa.select(ReportingPeriod.code).order_by(ReportingPeriod.starts_on.desc())
        ).scalars()
    )
    pairs = [(m, p) for p in periods for m in ranges][:WEB_ROWS]
    client = current_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True
    timings = []
    for attempt in range(3):
        text = "metric,period,value\n" + "".join(
            f"{m},{p},{spot(ranges[m], i + attempt):.1f}\n" for i, (m, p) in enumerate(pairs)
        )
        started = time.perf_counter()
        response = client.post(
            "/centre/submissions/new",
            data={"file": (io.BytesIO(text.encode()), "upload.csv", "text/csv"), "reason": "bench"},
            content_type="multipart/form-data",
        )
        timings.append(time.perf_counter() - started)
        if response.status_code != 302:
            problems = re.findall(r'<a href="#file">(.*?)</a>', response.text, re.S)[:5]
            raise SystemExit(f"web upload failed: {response.status_code}: {problems}")
    text = "metric,period,value\n" + "".join(
        f"{m},{p},{spot(ranges[m], i + 9):.1f}\n" for i, (m, p) in enumerate(pairs)
    )
    started = time.perf_counter()
    submit(centre(slug), text.encode(), recompute_peers=False, flag_outliers=False)
    ingest_only = time.perf_counter() - started
    db.session.rollback()
    return timings, ingest_only


def run(url: str, args) -> None:
    from marketplace.benchmarks import peers
    from marketplace.benchmarks.models import Metric, Observation
    from marketplace.errors import DomainError

    parsed = sa.engine.make_url(url)
    backend = parsed.get_backend_name()
    print(f"\n== {backend}: {parsed.render_as_string(hide_password=True)}")
    prepare_database(url)
    app = make_app(url)
    files = sorted((args.data / "observations").glob("*.csv"))[: args.centres or None]
    with app.app_context():
        load_structure(args.data)
        print(f"  set up; resident memory {rss_mb():,.0f} MB")

        rows, seconds = national_import(files)
        print(
            f"  national import: {rows:,} rows, {len(files):,} files (one submission each) in "
            f"{seconds:.1f} s = {rows / seconds:,.0f} rows/s; peak resident memory "
            f"{rss_mb():,.0f} MB"
        )
        started = time.perf_counter()
        peers.recompute_all()
        db.session.commit()
        print(f"  then peer statistics of every group, once: {time.perf_counter() - started:.1f} s")
        if backend == "postgresql":
            # What autovacuum would soon do after a bulk load; the planner needs it.
            with db.engine.begin() as conn:
                conn.exec_driver_sql("ANALYZE")

        slug = files[0].stem
        add_big_library(slug)
        content = big_file(slug, 0)
        started = time.perf_counter()
        outcome = submit(centre(slug), content, recompute_peers=False, flag_outliers=False)
        db.session.commit()
        big_seconds = time.perf_counter() - started
        big_rows = outcome.submission.row_count
        print(
            f"  largest file: {len(content) / 1_048_576:.1f} MB, {big_rows:,} rows in "
            f"{big_seconds:.1f} s = {big_rows / big_seconds:,.0f} rows/s; peak resident memory "
            f"{rss_mb():,.0f} MB"
        )
        del content, outcome

        timings, ingest_only = web_uploads(files[-1].stem)
        print(
            f"  {WEB_ROWS:,}-row upload through the web form (peer statistics and outlier "
            "scoring included): "
            + ", ".join(f"{t:.2f} s" for t in timings)
            + f" (median {statistics.median(timings):.2f} s; goal < 1 s); the same file through "
            f"the service without the peer work: {ingest_only:.2f} s"
        )
        print(f"  peak resident memory of our import, all steps: {rss_mb():,.0f} MB (goal < 300)")
        # Last of the memory figures: tracemalloc's own bookkeeping inflates the process.
        changed = big_file(slug, 1)
        tracemalloc.start()
        with contextlib.suppress(DomainError):
            submit(centre(slug), changed, recompute_peers=False, flag_outliers=False)
        peak = tracemalloc.get_traced_memory()[1] / 1_048_576
        tracemalloc.stop()
        db.session.rollback()
        print(
            f"  tracemalloc peak of a largest-file submission (every figure changed): "
            f"{peak:,.1f} MB; the file itself is {len(changed) / 1_048_576:.1f} MB"
        )

        if backend == "postgresql":
            compare_with_copy("national", rows, seconds, copy_file())
            bench_ids = sa.select(Metric.id).where(Metric.code.like("bench_%"))
            compare_with_copy(
                "largest file",
                big_rows,
                big_seconds,
                copy_file(Observation.metric_id.in_(bench_ids)),
            )
        else:
            print("  raw COPY: not applicable (SQLite has no COPY)")
        db.session.remove()
        db.engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="one database to use instead of the defaults")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--centres", type=int, default=None, help="only the first N files")
    args = parser.parse_args(argv)
    ensure_data(args.data)
    urls = [args.database_url] if args.database_url else [SQLITE_URL]
    if not args.database_url and os.environ.get("BENCH_DATABASE_URL"):
        urls.append(os.environ["BENCH_DATABASE_URL"])
    if len(urls) == 1:
        run(urls[0], args)
        return
    # One process per database: peak resident memory is a lifetime figure, so the second
    # database's would otherwise include the first one's (and its tracemalloc step).
    for url in urls:
        command = [sys.executable, __file__, "--database-url", url, "--data", str(args.data)]
        if args.centres:
            command += ["--centres", str(args.centres)]
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
