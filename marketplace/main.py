"""Site-wide pages: the home page and the health check."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from marketplace.extensions import db

bp = Blueprint("main", __name__)
log = logging.getLogger("marketplace.health")


@bp.get("/")
def home():
    from marketplace.catalogue import services as catalogue

    return render_template("main/home.html", counts=catalogue.public_counts())


@bp.get("/healthz")
def healthz():
    """For load balancers and monitors: 200 when the database answers, else 503."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        db.session.rollback()
        # The reason goes to the log, not to the public: it may name hosts or users.
        log.error("health check failed: database unavailable", exc_info=error)
        response = jsonify({"status": "unhealthy", "database": "unavailable"})
        response.status_code = 503
    else:
        response = jsonify({"status": "ok", "database": "ok"})
    response.headers["Cache-Control"] = "no-store"
    return response
