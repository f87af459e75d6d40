"""Turning report primitives into HTML and PDF — the PDF always in a separate, capped process.

HTML: a Jinja environment of its own (autoescaping everything, strict about undefined names),
fed only primitives, so rendering needs no app, request or database.

PDF: WeasyPrint runs in a child process forked from a small server that has WeasyPrint loaded
already (multiprocessing 'forkserver'), so the child starts warm but shares nothing with the
web server or the publishing command. The parent watches the child's resident memory and
kills it when it passes the cap or when the timeout passes: a runaway document fails that one
report with a clear RenderFailed, never its caller. The child also caps its own address space
(RLIMIT_AS, looser than the cap) as a backstop where /proc cannot be read; the watchdog comes
first because a MemoryError raised inside WeasyPrint's C callbacks can leave the child
crawling through failed callbacks instead of stopping.

Reproducible output: the document's creation and modification dates are the publication time
(<meta name="dcterms.created|modified">), and SOURCE_DATE_EPOCH is set to it in the child so
the font subsetter stamps the same time into the embedded fonts. Same primitives and same
publication time give byte-identical PDFs, whichever process or host renders them.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import jinja2

from marketplace.config import PROJECT_ROOT

# PDF/UA-1 (ISO 14289-1): the accessibility standard for PDF, which is what the Public Sector
# Bodies Accessibility Regulations ask of a new document. WeasyPrint writes it as a tagged
# PDF 1.7 with a structure tree, /Lang, a title shown in the window bar and alternate text
# for figures; pdf_tags adds the /Scope of table header cells that WeasyPrint leaves out.
# PDF/A-3a would add archival rules but also permits embedded attachments of
# any type, which published reports must never carry.
PDF_VARIANT = "pdf/ua-1"
DEFAULT_TIMEOUT_SECONDS = 120
DEFAULT_MEMORY_MB = 1024
WATCH_INTERVAL_SECONDS = 0.05
_PAGE_BYTES = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

log = logging.getLogger(__name__)


class RenderFailed(RuntimeError):
    """One document could not be rendered; the message says why in plain words."""


@dataclass
class RenderResult:
    pdf: bytes
    pages: int
    seconds: float
    warnings: list[str] = field(default_factory=list)
    peak_mb: float = 0.0  # the render process's peak resident memory


# --- HTML ----------------------------------------------------------------------------------

_environment: jinja2.Environment | None = None


def environment() -> jinja2.Environment:
    global _environment
    if _environment is None:
        _environment = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(PROJECT_ROOT / "templates")),
            # Every template, whatever its name: user text can never become markup.
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
    return _environment


def render_html(template: str, **context) -> str:
    return environment().get_template(template).render(**context)


# --- PDF -----------------------------------------------------------------------------------

_context = None


def _process_context():
    """The forkserver, preloaded with WeasyPrint so each child starts in milliseconds."""
    global _context
    if _context is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(
            ["weasyprint", "pikepdf", "marketplace.publications.fetcher"]
        )
        _context = context
    return _context


def render_pdf(
    html: str,
    *,
    published_at: datetime,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> RenderResult:
    """Render one document in a child process; RenderFailed if it fails, overruns or bloats."""
    context = _process_context()
    receiver, sender = context.Pipe(duplex=False)
    epoch = int(published_at.astimezone(UTC).timestamp())
    child = context.Process(
        target=_render_in_child,
        args=(sender, html, epoch, _address_space_backstop(memory_mb)),
        name="report-render",
        daemon=True,
    )
    started = time.perf_counter()
    child.start()
    sender.close()
    try:
        _wait_for_result(receiver, child, timeout=timeout, memory_mb=memory_mb, started=started)
        try:
            header = receiver.recv()
            payload = receiver.recv_bytes() if header[0] == "ok" else b""
        except EOFError:
            child.join(5)
            raise RenderFailed(
                f"the render process stopped without a result (exit code {child.exitcode}); "
                f"it may have run out of memory under the {memory_mb} MB cap"
            ) from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join(5)
    if header[0] != "ok":
        raise RenderFailed(header[1])
    _, pages, warnings, peak_mb = header
    return RenderResult(
        pdf=payload,
        pages=pages,
        seconds=time.perf_counter() - started,
        warnings=warnings,
        peak_mb=peak_mb,
    )


def _wait_for_result(receiver, child, *, timeout: float, memory_mb: int, started: float):
    """Return once the child has something to say; RenderFailed if it overruns or bloats."""
    deadline = started + timeout
    while not receiver.poll(WATCH_INTERVAL_SECONDS):
        resident = _resident_mb(child.pid)
        if resident is not None and resident > memory_mb:  # the caller's finally kills it
            raise RenderFailed(
                f"the document needed more than the {memory_mb} MB allowed and was stopped; "
                "it is too large or too complex"
            )
        if time.perf_counter() >= deadline:
            raise RenderFailed(
                f"rendering took longer than {timeout:g} seconds and was stopped; "
                "the document is too large or too complex"
            )


def _resident_mb(pid: int | None) -> float | None:
    """The process's resident memory from /proc, or None where that cannot be read."""
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_BYTES / 2**20
    except (OSError, ValueError, IndexError):
        return None


def _address_space_backstop(memory_mb: int) -> int:
    # Address space runs well ahead of resident memory (shared libraries, reserved arenas),
    # so the hard limit sits above the watched cap and only stops what the watchdog cannot see.
    return (memory_mb * 2 + 256) * 2**20


def _render_in_child(sender, html: str, epoch: int, memory_bytes: int) -> None:
    """Runs in the child: cap memory, render, send ('ok', pages, warnings) then the bytes."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
        warnings: list[str] = []

        class Collect(logging.Handler):
            def emit(self, record):
                warnings.append(record.getMessage())

        weasy_log = logging.getLogger("weasyprint")
        weasy_log.addHandler(Collect(level=logging.WARNING))
        weasy_log.propagate = False

        from weasyprint import HTML

        from marketplace.publications.fetcher import SCHEME, ReportURLFetcher
        from marketplace.publications.pdf_tags import scope_table_headers

        document = HTML(string=html, base_url=SCHEME, url_fetcher=ReportURLFetcher()).render(
            presentational_hints=False
        )
        pdf = document.write_pdf(pdf_variant=PDF_VARIANT, presentational_hints=False)
        # WeasyPrint leaves table header cells without /Scope (PDF/UA 7.5): see pdf_tags.
        pdf = scope_table_headers(pdf)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        sender.send(("ok", len(document.pages), warnings, peak_mb))
        sender.send_bytes(pdf)
    except MemoryError:
        _send_quietly(
            sender,
            (
                "error",
                f"the document needed more than the {memory_bytes // 2**20} MB of address "
                "space allowed",
            ),
        )
    except BaseException as error:  # report every failure, including WeasyPrint's fatal ones
        _send_quietly(sender, ("error", f"rendering failed: {type(error).__name__}: {error}"))
    finally:
        sender.close()


def _send_quietly(sender, message) -> None:
    with contextlib.suppress(OSError, MemoryError):
        sender.send(message)
