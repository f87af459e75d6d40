"""Run every benchmark script in bench/ (what `make bench` does), one after another.

    .venv/bin/python bench/run_all.py [--only NAME ...]

generate.py runs first (it writes the national data set the others load, and leaves an
up-to-date copy alone); then every other bench/*.py in alphabetical order. Each runs as its
own process with this environment (set BENCH_DATABASE_URL to include PostgreSQL), its output
shown as it comes. A failing script does not stop the others; the summary at the end lists
each script's time and outcome, and the exit status is 1 if any failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
FIRST = "generate.py"


def scripts() -> list[Path]:
    found = sorted(p for p in BENCH.glob("*.py") if p.name != Path(__file__).name)
    return sorted(found, key=lambda p: (p.name != FIRST, p.name))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", default=None, help="script names, e.g. catalogue")
    args = parser.parse_args(argv)
    chosen = scripts()
    if args.only:
        wanted = {name.removesuffix(".py") for name in args.only}
        chosen = [p for p in chosen if p.stem in wanted]
    results = []
    for script in chosen:
        print(f"\n######## bench/{script.name}", flush=True)
        started = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=BENCH.parent).returncode
        results.append((script.name, time.perf_counter() - started, code))
    print("\n######## summary")
    for name, elapsed, code in results:
        outcome = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"  {name:<20} {elapsed:8.1f} s  {outcome}")
    return 0 if all(code == 0 for _, _, code in results) else 1


if __name__ == "__main__":
    sys.exit(main())
