"""Browser journeys: the system Chromium driven by Playwright against a live marketplace.

These tests commit for real into their own SQLite database (tests/browser/site.py), so the
suite's rolled-back `db_session` is replaced here by a fixture that touches nothing.

They run once per `make test`, on the SQLite pass: the journeys exercise pages, not SQL
dialects, and the PostgreSQL pass would only repeat them. Where Chromium is missing they are
skipped with a reason that names the fix, and the summary repeats it loudly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from marketplace import clock
from tests.browser.a11y import AxeScanner, axe_source, describe
from tests.conftest import TEST_TODAY

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).parent
_skipped_reasons: set[str] = set()
_all_findings: list = []


def _why_not_here() -> str | None:
    if os.environ.get("TEST_DATABASE_URL"):
        return (
            "browser journeys run once, on the SQLite pass of `make test` "
            "(they test pages, not the database dialect)"
        )
    if not CHROMIUM.exists():
        return (
            f"BROWSER TESTS SKIPPED: {CHROMIUM} is missing. Install Debian's chromium "
            "(`scripts/ensure-system-deps` does it as root) to run the journeys, the axe-core "
            "scan and the keyboard checks"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "BROWSER TESTS SKIPPED: the playwright package is missing: pip install -e '.[dev]'"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _why_not_here()
    if reason is None:
        return
    marker = pytest.mark.skip(reason=reason)
    for item in items:
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(marker)
            _skipped_reasons.add(reason)


def pytest_terminal_summary(terminalreporter):
    for reason in sorted(_skipped_reasons):
        loud = reason.startswith("BROWSER TESTS SKIPPED")
        bar = "!" * 78 if loud else "-" * 78
        terminalreporter.write_line(bar, yellow=True, bold=loud)
        terminalreporter.write_line(reason, yellow=True, bold=loud)
        terminalreporter.write_line(bar, yellow=True, bold=loud)
    if _all_findings:
        pages = len(_all_findings)
        advisory = [f for f in _all_findings if f.advisory()]
        terminalreporter.write_line(
            f"axe-core: {pages} page scans; "
            f"{sum(len(f.blocking()) for f in _all_findings)} serious or critical violations; "
            f"{len(advisory)} scans with moderate or minor findings"
        )
        by_rule: dict[tuple[str, str, str], list] = {}
        for finding in advisory:
            for violation in finding.advisory():
                key = (violation["impact"], violation["id"], violation["help"])
                by_rule.setdefault(key, []).append((finding, violation))
        for (impact, rule, help_text), hits in sorted(by_rule.items()):
            pages = sorted({f.url.split("?", 1)[0].split("/", 3)[-1] for f, _ in hits})
            example = hits[0][1]["nodes"][0]["target"]
            terminalreporter.write_line(
                f"  [{impact}] {rule}: {help_text}; {len(hits)} scans "
                f"({', '.join('/' + p for p in pages[:4])}{', …' if len(pages) > 4 else ''})"
                f"; e.g. at {example}"
            )


# --- the database: this directory commits for real, in its own file -------------------------


@pytest.fixture
def db_session():
    """Overrides the suite's rolled-back session: the live site owns its own database."""
    yield None


@pytest.fixture(scope="session")
def site():
    from tests.browser.site import running_site

    with clock.frozen_at(TEST_TODAY), running_site("browser-test-secret-key-0123456789abcdef") as s:
        yield s


@pytest.fixture
def live(site):
    """The live site, restored to the freshly seeded demo; fails the test on any 5xx."""
    site.restore()
    yield site
    assert not site.server_errors, "the server answered 5xx:\n" + "\n".join(site.server_errors)


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def scanner(browser):
    context = browser.new_context()
    scanner = AxeScanner(source=axe_source(), scan_tab=context.new_page())
    yield scanner
    _all_findings.extend(scanner.findings)
    context.close()


@dataclass
class Visit:
    """One browser tab on the live site, with JavaScript on or off.

    `check(label)` runs axe on the page now shown and records that this navigation was
    checked; at the end of the test every page the tab navigated to must have been checked,
    so no page in a journey escapes the accessibility scan. With JavaScript on, any console
    error or uncaught exception (a Content-Security-Policy refusal among them) fails the test.
    """

    page: object
    site: object
    javascript: bool
    scanner: AxeScanner
    navigations: list[str] = field(default_factory=list)
    checked: set[int] = field(default_factory=set)
    console_errors: list[str] = field(default_factory=list)
    not_html: set[str] = field(default_factory=set)

    def url(self, path: str) -> str:
        return self.site.path(path)

    def goto(self, path: str, label: str | None = None):
        response = self.page.goto(self.url(path))
        assert response is not None and response.status < 400, (
            f"GET {path} answered {response.status if response else 'nothing'}"
        )
        self.check(label or path)
        return response

    def check(self, label: str) -> None:
        self.page.wait_for_load_state("load")
        finding = self.scanner.scan(self.page, self.javascript, label)
        self.checked.add(len(self.navigations))
        blocking = finding.blocking()
        assert not blocking, "axe-core found serious or critical violations:\n" + describe(
            [finding]
        )

    def unchecked(self) -> list[str]:
        return [
            url
            for index, url in enumerate(self.navigations, 1)
            if index not in self.checked and url not in self.not_html
        ]


def _open_visit(browser, site, scanner, javascript: bool) -> Visit:
    context = browser.new_context(
        java_script_enabled=javascript,
        accept_downloads=True,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    visit = Visit(page=page, site=site, javascript=javascript, scanner=scanner)

    def navigated(frame) -> None:
        if frame != page.main_frame:
            return
        url = frame.url.split("#", 1)[0]
        # A jump to an anchor on the same page is not a new page.
        if visit.navigations and visit.navigations[-1] == url and frame.url != url:
            return
        visit.navigations.append(url)

    page.on("framenavigated", navigated)

    def on_response(response) -> None:
        # A page may answer 4xx on purpose (a refused form); what it loads may not.
        document = response.request.resource_type == "document"
        if response.status >= 400 and not document:
            visit.console_errors.append(f"{response.url} answered {response.status}")
        # A download shown in the browser (a PDF, a CSV) is no page for axe to scan.
        content_type = response.headers.get("content-type", "")
        if document and not content_type.startswith("text/html"):
            visit.not_html.add(response.url.split("#", 1)[0])

    page.on("response", on_response)
    if javascript:

        def console(message) -> None:
            # The browser also logs a page's own 4xx status here; resources are checked above.
            if message.type == "error" and not message.text.startswith("Failed to load resource"):
                visit.console_errors.append(f"{page.url}: {message.text}")

        page.on("console", console)
        page.on("pageerror", lambda error: visit.console_errors.append(f"{page.url}: {error}"))
    return visit


def _close_visit(visit: Visit) -> None:
    unchecked = visit.unchecked()
    errors = list(visit.console_errors)
    visit.page.context.close()
    assert not unchecked, "pages visited without an accessibility scan: " + ", ".join(unchecked)
    assert not errors, "the browser reported errors:\n" + "\n".join(errors)


@pytest.fixture(params=[True, False], ids=["js", "no-js"])
def visit(request, browser, live, scanner):
    """A tab on a freshly restored site, once with JavaScript and once without."""
    tab = _open_visit(browser, live, scanner, javascript=request.param)
    yield tab
    _close_visit(tab)


@pytest.fixture
def js_visit(browser, live, scanner):
    """A tab with JavaScript on, for checks that need it (keyboard focus, for one)."""
    tab = _open_visit(browser, live, scanner, javascript=True)
    yield tab
    _close_visit(tab)
