"""Public catalogue pages."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("catalogue", __name__)


@bp.get("/centres")
def centres():
    return render_template("catalogue/centres.html")


@bp.get("/metrics")
def metrics():
    return render_template("catalogue/metrics.html")
