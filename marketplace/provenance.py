"""Where a change came from: the client's address and the API token, if one was used.

audit.record reads these for every event, so no caller has to remember to pass them. The
address is request.remote_addr, which ProxyFix (TRUSTED_PROXIES) has already set to the
client's own address when the app runs behind trusted proxies. Outside a request (the CLI,
an RQ job) there is neither.

A shared module: it imports no area.
"""

from __future__ import annotations

from flask import g, has_request_context, request


def ip_address() -> str | None:
    return request.remote_addr if has_request_context() else None


def api_token_id() -> str | None:
    """The public id of the API token the request was authenticated with, if any."""
    if not has_request_context():
        return None
    token = g.get("api_token")
    return getattr(token, "public_id", None)
