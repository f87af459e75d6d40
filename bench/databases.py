"""What the bench scripts share: the national data set on disk, and emptying a database.

PostgreSQL databases must be named bench… (they are emptied); DATABASE_URL is never read, so
a bench cannot empty a development database, and the CI database `test` is never touched.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent


def ensure_data(directory: Path) -> None:
    if (directory / "centres.json").exists():
        return
    print(f"{directory} is missing: generating it (bench/generate.py).")
    subprocess.run(
        [sys.executable, str(ROOT / "bench" / "generate.py"), "--out", str(directory)],
        check=True,
    )


def prepare_database(url: str) -> None:
    """An empty database at `url`, created if it does not exist."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    name = parsed.database or ""
    if not name.startswith("bench"):
        raise SystemExit(
            f"Refusing to empty the database '{name}': benchmark databases are named bench…"
        )
    admin = sa.create_engine(
        parsed.set(database="postgres", drivername="postgresql+psycopg"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        found = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
        ).first()
        if not found:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()
