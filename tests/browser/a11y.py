"""Accessibility checks run inside the browser: axe-core on every page, focus visibility.

axe-core comes from npm (node_modules/axe-core, a devDependency, installed by `npm ci`). It is
evaluated in the page through the DevTools protocol, which the site's Content-Security-Policy
does not govern, so the policy under test stays exactly as production sends it.

A page opened with JavaScript disabled cannot run axe in itself. For those pages the DOM the
browser built (`page.content()`) is re-opened, with every <script> removed, in a scanning tab
that may run JavaScript, at the same URL so its stylesheets load: axe then judges exactly what
a visitor without JavaScript gets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from marketplace.config import PROJECT_ROOT

AXE_PATH = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("critical", "serious")
# WCAG 2.0, 2.1 and 2.2 at A and AA, and axe's best practices (which it rates by impact too).
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]

_RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {
    runOnly: {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({
      target: n.target.join(' '), html: n.html, summary: n.failureSummary || '',
    })),
  }));
}"""

_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script\s*>", re.IGNORECASE | re.DOTALL)


def axe_source() -> str:
    if not AXE_PATH.exists():
        raise FileNotFoundError(
            f"{AXE_PATH} is missing: run `npm ci` (axe-core is a devDependency in package.json)"
        )
    return AXE_PATH.read_text(encoding="utf-8")


@dataclass
class Finding:
    url: str
    label: str
    violations: list[dict]

    def blocking(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] in BLOCKING]

    def advisory(self) -> list[dict]:
        return [v for v in self.violations if v["impact"] not in BLOCKING]


def describe(findings: list[Finding], only_blocking: bool = True) -> str:
    """Violations as a person reads them: page, rule, impact, where, and how to fix."""
    lines: list[str] = []
    for finding in findings:
        chosen = finding.blocking() if only_blocking else finding.violations
        if not chosen:
            continue
        lines.append(f"{finding.label}: {finding.url}")
        for violation in chosen:
            lines.append(
                f"  [{violation['impact']}] {violation['id']}: {violation['help']}"
                f" ({violation['helpUrl']})"
            )
            for node in violation["nodes"][:5]:
                lines.append(f"      at {node['target']}")
                lines.append(f"         {node['html'][:200]}")
                for reason in node["summary"].splitlines()[1:3]:
                    lines.append(f"         {reason.strip()}")
            if len(violation["nodes"]) > 5:
                lines.append(f"      … and {len(violation['nodes']) - 5} more elements")
    return "\n".join(lines)


@dataclass
class AxeScanner:
    """Runs axe on pages; `scan_tab` is a JavaScript-enabled tab for pages that have none."""

    source: str
    scan_tab: object
    findings: list[Finding] = field(default_factory=list)

    def _run(self, page) -> list[dict]:
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self.source)
        return page.evaluate(_RUN_AXE, AXE_TAGS)

    def scan(self, page, javascript: bool, label: str) -> Finding:
        if javascript:
            violations = self._run(page)
        else:
            violations = self._scan_without_scripts(page.url, page.content())
        finding = Finding(url=page.url, label=label, violations=violations)
        self.findings.append(finding)
        return finding

    def _scan_without_scripts(self, url: str, html: str) -> list[dict]:
        body = _SCRIPT.sub("", html)
        target = url.split("#", 1)[0]

        def serve(route):
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=body)

        self.scan_tab.route(target, serve)
        try:
            self.scan_tab.goto(target, wait_until="load")
            return self._run(self.scan_tab)
        finally:
            self.scan_tab.unroute(target, serve)
