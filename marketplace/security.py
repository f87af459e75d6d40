"""Security headers on every response, and the per-request nonce for our two inline scripts.

The GOV.UK page template has an inline script that marks the body as JavaScript-enabled, and
base.html has an inline module that starts GOV.UK Frontend. Rather than allow every inline
script ('unsafe-inline'), each response gets a fresh random nonce: the templates stamp it on
those two scripts (the GOV.UK template reads it from `cspNonce`) and the policy names it, so
an injected <script> without the nonce does not run. Pages work without JavaScript anyway.
"""

from __future__ import annotations

import secrets

from flask import Flask, g


def csp_nonce() -> str:
    """One nonce per request, made the first time a template or the header asks for it."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def content_security_policy(nonce: str) -> str:
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        # Styles come only from our stylesheet; no page uses style attributes or <style>.
        "style-src": "'self'",
        "img-src": "'self' data:",
        "font-src": "'self'",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        # The same intent as X-Frame-Options: DENY, for browsers that read only CSP.
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def install(app: Flask) -> None:
    @app.context_processor
    def _nonce_for_templates():
        return {"cspNonce": csp_nonce()}

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        if app.config.get("SESSION_COOKIE_SECURE"):
            # Only where the site is served over HTTPS (production): browsers then refuse
            # plain HTTP for a year, so a cookie can never travel unencrypted.
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
