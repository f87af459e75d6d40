"""A real marketplace on a loopback port, with the demo data, for the browser journeys.

The demo is loaded once per run through the same CLI an operator uses (`db upgrade`,
`seed-demo`, `publish`), into a SQLite file that is then kept as a template. Before each
journey the live database and the reports folder are restored from that template, so every
journey starts from the same committed demo whatever the journey before it changed; a file
copy costs milliseconds where reseeding costs seconds.

The server is Werkzeug's threaded WSGI server in a thread of the test process (so the tests'
frozen clock holds in the app too), in front of a small recorder that notes every 5xx answer:
a journey fails if the server failed, even where the page a person sees looks fine.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from flask import Flask
from flask_migrate import upgrade
from werkzeug.serving import WSGIRequestHandler, make_server

from marketplace import create_app
from marketplace.extensions import db, limiter

# The demo's most recent closed quarter: the newest a newcomer finds published.
PUBLISHED_PERIOD = "2026-Q3"
PUBLISHED_PERIOD_LABEL = "Q3 2026"


class _QuietHandler(WSGIRequestHandler):
    """Werkzeug prints every request; the recorder below keeps what matters."""

    def log_request(self, *args, **kwargs) -> None:
        pass


@dataclass
class LiveSite:
    app: Flask
    root: Path
    url: str = ""
    server_errors: list[str] = field(default_factory=list)
    _server: object = None
    _thread: threading.Thread | None = None

    @property
    def database(self) -> Path:
        return self.root / "live.db"

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    @property
    def template(self) -> Path:
        return self.root / "template"

    # --- WSGI recorder ----------------------------------------------------------------------

    def _recording_app(self, environ, start_response):
        where = f"{environ['REQUEST_METHOD']} {environ.get('PATH_INFO', '')}"
        query = environ.get("QUERY_STRING")
        if query:
            where += "?" + query

        def recording_start_response(status, headers, exc_info=None):
            if status.startswith("5"):
                self.server_errors.append(f"{where} -> {status}")
            return start_response(status, headers, exc_info)

        return self.app(environ, recording_start_response)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        self._server = make_server(
            "127.0.0.1", 0, self._recording_app, threaded=True, request_handler=_QuietHandler
        )
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="live-site", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        with self.app.app_context():
            db.engine.dispose()

    def snapshot(self) -> None:
        """Keep the current database and reports as the state every journey starts from."""
        with self.app.app_context():
            db.engine.dispose()
        self.template.mkdir(exist_ok=True)
        shutil.copyfile(self.database, self.template / "live.db")
        if self.reports.exists():
            shutil.copytree(self.reports, self.template / "reports", dirs_exist_ok=True)

    def restore(self) -> None:
        """Put the demo back exactly as it was snapshotted (no request is in flight now)."""
        with self.app.app_context():
            db.engine.dispose()
            # Every journey signs in from 127.0.0.1: without this, the front door's budget
            # per address (10 POSTs a minute, production's) runs out across journeys and a
            # later sign-in meets a 429 (tests/accounts/test_front_door.py tests the limit).
            limiter.reset()
        for leftover in (self.root / "live.db-journal", self.root / "live.db-wal"):
            leftover.unlink(missing_ok=True)
        shutil.copyfile(self.template / "live.db", self.database)
        shutil.rmtree(self.reports, ignore_errors=True)
        if (self.template / "reports").exists():
            shutil.copytree(self.template / "reports", self.reports)
        self.server_errors.clear()

    def cli(self, *args: str) -> str:
        """Run a `flask --app marketplace` command against the live database; fail loudly."""
        result = self.app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
        if result.exit_code != 0:
            command = " ".join(args)
            raise RuntimeError(f"flask {command} failed ({result.exit_code}):\n{result.output}")
        return result.output

    def path(self, url: str) -> str:
        """A full URL on the live site for a path."""
        return self.url + url


def build_site(secret_key: str) -> LiveSite:
    root = Path(tempfile.mkdtemp(prefix="marketplace-browser-"))
    app = create_app(
        {
            # TESTING stays off: the browser sees the error pages production would serve.
            "TESTING": False,
            "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(root / "live.db"),
            "SECRET_KEY": secret_key,
            "WTF_CSRF_ENABLED": True,
            "REPORTS_DIR": str(root / "reports"),
            "SERVER_NAME": None,
        }
    )
    site = LiveSite(app=app, root=root)
    with app.app_context():
        upgrade()
        db.session.remove()
    # seed-demo also publishes the last year's closed quarters, so reports are there at once.
    site.cli("seed-demo")
    site.snapshot()
    return site


@contextlib.contextmanager
def running_site(secret_key: str):
    site = build_site(secret_key)
    site.start()
    try:
        yield site
    finally:
        site.stop()
        shutil.rmtree(site.root, ignore_errors=True)
