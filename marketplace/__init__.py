"""The shared-services marketplace: create_app builds the Flask application."""

from __future__ import annotations

import logging
import os
import time

from flask import Flask, g, request
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader

from marketplace import config as config_module
from marketplace import security
from marketplace.config import PROJECT_ROOT

log = logging.getLogger("marketplace.request")


def create_app(config: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    app.config.update(config_module.from_environment(app.instance_path))
    if config:
        app.config.update(config)
        if "SQLALCHEMY_DATABASE_URI" in config:
            app.config["SQLALCHEMY_DATABASE_URI"] = config_module.normalise_database_url(
                config["SQLALCHEMY_DATABASE_URI"]
            )
    config_module.check_production(app.config)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("TRUSTED_PROXIES"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only as many hops as the operator vouches for: a client can forge any header
        # that no trusted proxy overwrites, and the audit trail records that address.
        hops = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from marketplace import logconfig

    logconfig.configure(os.environ.get("LOG_LEVEL", "INFO"))
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(PROJECT_ROOT / "templates")),
            # The package keeps its templates unprefixed; pages import them by this prefix.
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    from marketplace import links

    links.install(app)

    from marketplace import input_guard

    input_guard.register(app)  # before the extensions: it must run before the CSRF check
    _init_extensions(app)
    _register_areas(app)

    from marketplace.errors import register_error_handlers
    from marketplace.templating import register_template_helpers

    register_error_handlers(app)
    register_template_helpers(app)

    _register_request_logging(app)
    security.install(app)

    from marketplace import static_assets

    static_assets.install(app)
    return app


def _init_extensions(app: Flask) -> None:
    from marketplace import (
        models,  # noqa: F401 - every table registered before use
        sqlite,
    )
    from marketplace.extensions import api, csrf, db, limiter, login_manager, migrate

    sqlite.install()
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(PROJECT_ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    login_manager.init_app(app)
    api.init_app(app)
    limiter.init_app(app)

    from marketplace.accounts.auth import install as install_auth

    install_auth(app)


def _register_areas(app: Flask) -> None:
    """Each area registers its blueprints, commands, receivers and page sections, from the
    bottom of the house up (docs/ARCHITECTURE.md): a receiver is connected before any door
    that could send its event is open."""
    from marketplace import (
        accounts,
        admin,
        alerts,
        api,
        benchmarks,
        catalogue,
        contracts,
        fixtures,
        mail,
        main,
        publications,
        selection,
    )

    app.register_blueprint(main.bp)
    for area in (
        mail,
        accounts,
        catalogue,
        benchmarks,
        contracts,
        selection,
        alerts,
        publications,
        admin,
        fixtures,
    ):
        area.register(app)
    api.register(app)


def _register_request_logging(app: Flask) -> None:
    @app.before_request
    def _start_timer():
        g.request_started = time.perf_counter()

    @app.after_request
    def _log_request(response):
        started = g.get("request_started")
        if started is not None and not request.path.startswith("/static/"):
            log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                },
            )
        return response
