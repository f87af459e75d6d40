"""Publishing speed: one centre report, a 1,000-centre league table, 200 centres with 1 and 2
jobs, and serving a published PDF against the same bytes as a static file under gunicorn.

    .venv/bin/python bench/publish.py [--league-centres 1000] [--publish-centres 200]
                                      [--seconds 5] [--concurrency 4] [--rebuild]

Data: bench/recompute.py's synthetic national dataset (every centre offers all six service
lines, the 32-metric library) for 9 quarters, built into dedicated SQLite files in
bench/out/ (never the CI database `test`, never DATABASE_URL). The first 8 quarters are
marked published, so each report has a full 8-quarter trend; the newest is closed, ready to
publish. Rendering runs exactly as in production: render.py's capped child processes.

1. A centre report: the largest a centre can have (all six service lines, 32 metrics) and a
   typical one (finance and payroll, 15 metrics): seconds and pages, median of 3 renders,
   each in its own capped process as in production. Goal: under 2 s.
2. The league tables of 1,000 centres, as published: the overview and one document per
   service line, each rendered as in production (one capped process each, one after
   another): seconds, pages and the render process's peak memory per document and in
   total, against the goals (≤ 30 s and ≤ 600 MB peak), with the load average beside each
   figure; and the time to build the period's primitives (all reports' figures). With
   --whole-league also the whole table as one document (what was published before the
   split; about 3 minutes and 3 GB).
3. Publishing 200 centres (200 reports + league table + open data) with --jobs 1 and 2:
   wall-clock seconds, and the speed-up. Goal: at least 1.8×. The centres offer finance and
   payroll (a typical report); --all-lines publishes the 32-metric reports instead.
4. gunicorn (2 sync workers) on 127.0.0.1: requests/s for a published PDF through its
   /reports URL (database lookup, ETag, send_file) and for the same bytes as a file under
   /static, each for --seconds with --concurrency client threads, alternated twice. Goal:
   the PDF at least 80% of the static file's throughput.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import http.client
import os
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

import recompute as dataset  # noqa: E402  (bench/recompute.py: the national dataset)

from marketplace import create_app  # noqa: E402
from marketplace.benchmarks import peers  # noqa: E402
from marketplace.benchmarks.models import ReportingPeriod  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.publications import builder, jobs, render, sections, services  # noqa: E402
from marketplace.publications.models import Publication  # noqa: E402

OUT = ROOT / "bench" / "out"
QUARTERS = 9
GOALS = {
    "report_seconds": 2.0,
    "speedup": 1.8,
    "throughput_ratio": 0.8,
    "league_seconds": 30.0,  # issue 15: every league table document of 1,000 centres, in all
    "league_peak_mb": 600.0,  # issue 15: the largest render process
}
SECRET = "bench-secret-key-not-for-production-0123456789"  # noqa: S105 - bench only


def make_app(path: Path, reports_dir: Path, **extra):
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SECRET_KEY": SECRET,
            "REPORTS_DIR": str(reports_dir),
            "SERVER_NAME": None,
            **extra,
        }
    )


def schema_matches() -> bool:
    """A dataset built before the models changed is rebuilt."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    # The session's own connection: on SQLite a second one would wait for the session's
    # write lock (dataset_present has begun a transaction) and fail with "database is locked".
    context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
    return not compare_metadata(context, db.metadata)


def prepare(centres: int, rebuild: bool) -> ReportingPeriod:
    """The dataset in this app's database; all but the newest quarter published."""
    if rebuild or not dataset.dataset_present(centres, QUARTERS) or not schema_matches():
        print(f"  building {centres} centres × {QUARTERS} quarters …", flush=True)
        started = time.perf_counter()
        db.session.remove()
        dataset.reset_schema()
        dataset.build(centres, QUARTERS)
        peers.recompute_all()
        db.session.commit()
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    periods = db.session.scalars(
        sa.select(ReportingPeriod).order_by(ReportingPeriod.starts_on)
    ).all()
    for period in periods[:-1]:
        if period.status != "published":
            period.status = "published"
            period.published_at = datetime.combine(
                period.ends_on + timedelta(days=45), datetime.min.time(), UTC
            )
    target = periods[-1]
    target.status, target.published_at = "closed", None
    db.session.execute(sa.delete(Publication))
    db.session.commit()
    return target


def two_service_lines(item):
    """The same centre's report as if it offered finance and payroll only (15 metrics).

    Every centre of the synthetic dataset offers all six service lines; a real centre
    offers two or three, so this is the typical size of a report.
    """
    data = copy.deepcopy(item.data)
    keep = {"Finance", "Payroll"}
    data["scorecard"] = [row for row in data["scorecard"] if row["service_line"] in keep]
    codes = {row["code"] for row in data["scorecard"]}
    data["trends"] = [trend for trend in data["trends"] if trend["code"] in codes]
    data["sections"] = sections.centre_sections(data["scorecard"])
    library = data["method"]["library"]
    library["definitions"] = [d for d in library["definitions"] if d["code"] in codes]
    data["centre"]["service_lines"] = sorted(keep)
    return dataclasses.replace(item, data=data)


def render_item(item) -> render.RenderResult:
    """One render exactly as publishing does it, with caps raised to measure big documents."""
    html = render.render_html(
        services.PDF_TEMPLATES[item.kind], data=item.data, envelope=services.envelope(item)
    )
    return render.render_pdf(html, published_at=item.moment, timeout=3600, memory_mb=8192)


def league_line(document: dict) -> str:
    return (
        f"{document['subject']} ({document['metrics']} metrics): {document['seconds']:.1f} s, "
        f"{document['pages']} pages, {document['bytes'] / 1e6:.1f} MB, render peak "
        f"{document['peak_mb']:.0f} MB (load average {document['load']:.1f})"
    )


def measure_reports(path: Path, centres: int, rebuild: bool, whole_league: bool) -> dict:
    reports_dir = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    app = make_app(path, reports_dir, REPORT_RENDER_MEMORY_MB=8192, REPORT_RENDER_TIMEOUT=3600)
    result = {}
    with app.app_context():
        period = prepare(centres, rebuild)
        started = time.perf_counter()
        build = builder.build_period(period, min_group=services.min_group())
        result["build_seconds"] = time.perf_counter() - started
        plan = services.plan_period(period, actor_label="bench")
        report = next(item for item in plan.items if item.kind == "centre_report")
        runs = [render_item(report) for _ in range(3)]
        result["report_seconds"] = statistics.median(r.seconds for r in runs)
        result["report_pages"] = runs[0].pages
        result["report_peak_mb"] = max(r.peak_mb for r in runs)
        result["report_metrics"] = len(report.data["scorecard"])
        print(
            f"  centre report: {result['report_seconds']:.2f} s, {result['report_pages']} pages "
            f"({result['report_metrics']} metrics), peak {result['report_peak_mb']:.0f} MB",
            flush=True,
        )
        typical = two_service_lines(report)
        runs = [render_item(typical) for _ in range(3)]
        result["typical_seconds"] = statistics.median(r.seconds for r in runs)
        result["typical_pages"] = runs[0].pages
        result["typical_metrics"] = len(typical.data["scorecard"])
        print(
            f"  centre report: {result['typical_seconds']:.2f} s, "
            f"{result['typical_pages']} pages ({result['typical_metrics']} metrics)",
            flush=True,
        )
        result["league_centres"] = len(build.centre_reports)
        result["league_documents"] = []
        for league in (item for item in plan.items if item.kind == "league_table"):
            outcome = render_item(league)
            document = {
                "subject": league.subject,
                "metrics": len(league.data.get("tables", [])),
                "seconds": outcome.seconds,
                "pages": outcome.pages,
                "bytes": len(outcome.pdf),
                "peak_mb": outcome.peak_mb,
                "load": os.getloadavg()[0],
            }
            result["league_documents"].append(document)
            print(f"  league table {league_line(document)}", flush=True)
        if whole_league:
            whole = copy.copy(league)
            whole.data = build.league_table
            outcome = render_item(whole)
            result["league_whole"] = {
                "subject": "the whole table",
                "metrics": len(build.league_table["tables"]),
                "seconds": outcome.seconds,
                "pages": outcome.pages,
                "bytes": len(outcome.pdf),
                "peak_mb": outcome.peak_mb,
                "load": os.getloadavg()[0],
            }
            print(f"  league table as one document: {league_line(result['league_whole'])}")
        # This process built every figure of the period (a publisher's work, not a worker's).
        result["parent_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        db.session.remove()
        db.engine.dispose()
    shutil.rmtree(reports_dir, ignore_errors=True)
    return result


def publish_with(app, period_code: str, jobs_count: int) -> tuple[float, int, int]:
    """Wall-clock seconds to publish everything (plan, render, store, record, commit)."""
    with app.app_context():
        db.session.execute(sa.delete(Publication))
        db.session.commit()
        started = time.perf_counter()
        period = services.get_period(period_code)
        services.start_publication(period, actor_label="bench")
        db.session.commit()
        plan = services.plan_period(period, actor_label="bench")
        pages = 0
        for item, produced, error in jobs.run_local(plan.items, app.config, jobs_count):
            if error:
                raise SystemExit(f"{item.label}: {error}")
            services.record(item, produced)
            db.session.commit()
            pages += produced.page_count or 0
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed, len(plan.items), pages


def keep_lines(lines: tuple[str, ...]) -> None:
    """Make every centre offer only these service lines (and drop the other figures)."""
    codes = {"codes": sa.bindparam("codes", value=list(lines), expanding=True)}
    db.session.execute(
        sa.text(
            "DELETE FROM centre_service_lines WHERE service_line_id NOT IN "
            "(SELECT id FROM service_lines WHERE code IN :codes)"
        ).bindparams(codes["codes"])
    )
    db.session.execute(
        sa.text(
            "DELETE FROM observations WHERE metric_id IN (SELECT m.id FROM metrics m JOIN "
            "service_lines s ON s.id = m.service_line_id WHERE s.code NOT IN :codes)"
        ).bindparams(codes["codes"])
    )
    peers.recompute_all()
    db.session.commit()


def measure_publishing(path: Path, centres: int, lines, reports_dir: Path) -> dict:
    app = make_app(path, reports_dir)
    with app.app_context():
        # Rebuilt every time: cheap at this size, and the trimming below is not repeatable.
        code = prepare(centres, rebuild=True).code
        if lines:
            keep_lines(lines)
        db.session.remove()
    result = {"centres": centres}
    for count in (1, 2):
        # Each run renders from scratch: a fresh store, so nothing is reused from the last.
        shutil.rmtree(reports_dir, ignore_errors=True)
        seconds, artefacts, pages = publish_with(app, code, count)
        result[f"jobs{count}"] = seconds
        result.update(artefacts=artefacts, pages=pages)
        print(
            f"  --jobs {count}: {artefacts} artefacts, {pages} pages in {seconds:.1f} s "
            f"({artefacts / seconds:.2f}/s)",
            flush=True,
        )
    result["speedup"] = result["jobs1"] / result["jobs2"]
    with app.app_context():
        db.engine.dispose()
    return result


# --- serving -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(port: int, path: str, seconds: float, concurrency: int) -> float:
    """Requests per second of complete 200 responses, each on a fresh connection (sync)."""
    stop = time.perf_counter() + seconds
    counts = [0] * concurrency
    errors: list[str] = []

    def worker(index: int) -> None:
        while time.perf_counter() < stop:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(f"{path}: {response.status}")
                    return
                counts[index] += 1
            finally:
                connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise SystemExit(errors[0])
    return sum(counts) / (time.perf_counter() - started)


def measure_serving(path: Path, reports_dir: Path, seconds: float, concurrency: int) -> dict:
    app = make_app(path, reports_dir)
    with app.app_context():
        report = db.session.scalars(
            sa.select(Publication).where(Publication.kind == "centre_report").limit(1)
        ).one()
        url = f"/reports/{report.centre.slug}/{report.period.code}/v{report.version}.pdf"
        content = (reports_dir / report.storage_key).read_bytes()
        db.session.remove()
        db.engine.dispose()
    static_dir = ROOT / "marketplace" / "static" / "build"
    static_file = static_dir / f"bench-{report.sha256[:12]}.pdf"
    static_file.write_bytes(content)
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{path}",
        "REPORTS_DIR": str(reports_dir),
        "SECRET_KEY": SECRET,
        "LOG_LEVEL": "WARNING",
    }
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit("gunicorn did not start") from None
                time.sleep(0.2)
        static_url = f"/static/build/{static_file.name}"
        load(port, url, 1, concurrency)  # warm both workers
        load(port, static_url, 1, concurrency)
        rates: dict[str, list[float]] = {"pdf": [], "static": []}
        for _ in range(2):
            rates["static"].append(load(port, static_url, seconds, concurrency))
            rates["pdf"].append(load(port, url, seconds, concurrency))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
        static_file.unlink(missing_ok=True)
    result = {
        "bytes": len(content),
        "pdf_rps": statistics.mean(rates["pdf"]),
        "static_rps": statistics.mean(rates["static"]),
    }
    result["ratio"] = result["pdf_rps"] / result["static_rps"]
    print(
        f"  {len(content) / 1024:.0f} KB PDF: /reports {result['pdf_rps']:.0f} req/s, "
        f"/static {result['static_rps']:.0f} req/s, ratio {result['ratio']:.2f}",
        flush=True,
    )
    return result


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--league-centres", type=int, default=1000)
    parser.add_argument("--publish-centres", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the datasets first")
    parser.add_argument(
        "--only",
        choices=("reports", "publishing"),
        help="run only parts 1–2 (reports) or only parts 3–4 (publishing and serving)",
    )
    parser.add_argument(
        "--all-lines",
        action="store_true",
        help="publish centres offering all six service lines (default: finance and payroll, "
        "the typical size of a report)",
    )
    parser.add_argument(
        "--whole-league",
        action="store_true",
        help="also render the whole league table as one document, as before the split",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    print(f"Machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start.")

    large = publishing = serving = None
    if args.only != "publishing":
        print(f"1–2. Reports on {args.league_centres} centres", flush=True)
        large = measure_reports(
            OUT / f"bench_publish_{args.league_centres}.db",
            args.league_centres,
            args.rebuild,
            args.whole_league,
        )
    if args.only != "reports":
        print(f"3. Publishing {args.publish_centres} centres", flush=True)
        reports_dir = OUT / "bench_publish_reports"
        small_db = OUT / f"bench_publish_{args.publish_centres}.db"
        lines = None if args.all_lines else ("finance", "payroll")
        publishing = measure_publishing(small_db, args.publish_centres, lines, reports_dir)
        print("4. Serving under gunicorn", flush=True)
        serving = measure_serving(small_db, reports_dir, args.seconds, args.concurrency)
    summary(large, publishing, serving)


def league_summary(large: dict) -> None:
    documents = large["league_documents"]
    print(f"league tables, {large['league_centres']} centres, {len(documents)} documents:")
    for document in documents:
        print(f"  {league_line(document)}")
    seconds = sum(d["seconds"] for d in documents)
    peak = max((d["peak_mb"] for d in documents), default=0.0)
    print(
        f"  in all: {seconds:.1f} s, {sum(d['pages'] for d in documents)} pages, "
        f"{sum(d['bytes'] for d in documents) / 1e6:.1f} MB — goal ≤ "
        f"{GOALS['league_seconds']:.0f} s: {verdict(seconds <= GOALS['league_seconds'])}; "
        f"largest render peak {peak:.0f} MB — goal ≤ {GOALS['league_peak_mb']:.0f} MB: "
        f"{verdict(peak <= GOALS['league_peak_mb'])}"
    )
    if "league_whole" in large:
        print(f"  as one document (before the split): {league_line(large['league_whole'])}")
    print(
        f"  (building every figure of the period: {large['build_seconds']:.1f} s; this "
        f"process's peak, primitives of every report included: {large['parent_peak_mb']:.0f} MB)"
    )


def summary(large, publishing, serving) -> None:
    print("\n== Publishing ==")
    if large:
        print(
            f"centre report ({large['report_metrics']} metrics, the largest): "
            f"{large['report_seconds']:.2f} s, {large['report_pages']} pages — goal "
            f"< {GOALS['report_seconds']:.0f} s: "
            f"{verdict(large['report_seconds'] < GOALS['report_seconds'])}"
        )
        print(
            f"centre report ({large['typical_metrics']} metrics, typical): "
            f"{large['typical_seconds']:.2f} s, {large['typical_pages']} pages — goal "
            f"< {GOALS['report_seconds']:.0f} s: "
            f"{verdict(large['typical_seconds'] < GOALS['report_seconds'])}"
        )
        league_summary(large)
    if publishing:
        print(
            f"publish {publishing['centres']} centres ({publishing['artefacts']} artefacts, "
            f"{publishing['pages']} pages): --jobs 1 {publishing['jobs1']:.1f} s, --jobs 2 "
            f"{publishing['jobs2']:.1f} s, speed-up {publishing['speedup']:.2f}× — goal "
            f"≥ {GOALS['speedup']}×: {verdict(publishing['speedup'] >= GOALS['speedup'])}"
        )
    if serving:
        print(
            f"serving a {serving['bytes'] / 1024:.0f} KB PDF: {serving['pdf_rps']:.0f} req/s vs "
            f"static {serving['static_rps']:.0f} req/s, ratio {serving['ratio']:.2f} — goal "
            f"≥ {GOALS['throughput_ratio']:.0%}: "
            f"{verdict(serving['ratio'] >= GOALS['throughput_ratio'])}"
        )
    print(
        f"load average at the end: {os.getloadavg()[0]:.1f} (other work on this machine "
        "slows renders, and the speed-up needs two otherwise idle cores)"
    )


if __name__ == "__main__":
    main()
