"""Work that must not delay (or time) the request: run it once the response has been sent.

`after_response(func, *args)` runs func in an application context of its own after the
server has sent the response: on a thread (the default), or, when AFTER_RESPONSE_THREADS is
false (the tests), on the server's own thread as it closes the response. Outside a request
(the CLI, an RQ job) it runs at once. func commits its own work; an exception is logged and
rolled back, never raised into the request that is already answered.

A shared module: it imports no area.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from threading import Thread

from flask import Flask, after_this_request, current_app, has_app_context, has_request_context

from marketplace.extensions import db

log = logging.getLogger("marketplace.background")


def after_response(func: Callable, *args, **kwargs) -> None:
    app = current_app._get_current_object()
    if not has_request_context():
        run(app, func, *args, **kwargs)
        return

    @after_this_request
    def _when_sent(response):
        response.call_on_close(lambda: _start(app, func, args, kwargs))
        return response


def _start(app: Flask, func: Callable, args: tuple, kwargs: dict) -> None:
    if app.config.get("AFTER_RESPONSE_THREADS", True):
        thread = Thread(
            target=run, args=(app, func, *args), kwargs=kwargs, name="after-response", daemon=True
        )
        thread.start()
    else:
        run(app, func, *args, **kwargs)


def run(app: Flask, func: Callable, *args, **kwargs) -> None:
    """func(*args, **kwargs) in an app context (the current one if it is this app's)."""
    reuse = has_app_context() and current_app._get_current_object() is app
    with contextlib.nullcontext() if reuse else app.app_context():
        try:
            func(*args, **kwargs)
        except Exception:
            db.session.rollback()
            log.exception("work after the response failed", extra={"task": func.__name__})
