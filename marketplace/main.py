"""Site-wide pages: the home page and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, render_template
from sqlalchemy import text

from marketplace.extensions import db

bp = Blueprint("main", __name__)


@bp.get("/")
def home():
    from marketplace.catalogue import services as catalogue

    return render_template("main/home.html", counts=catalogue.public_counts())


@bp.get("/healthz")
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as error:
        db.session.rollback()
        return jsonify({"status": "unhealthy", "database": str(error.__class__.__name__)}), 503
    return jsonify({"status": "ok", "database": "ok"})
