"""A human page for the API: how to authenticate, and the OpenAPI document rendered."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("api_docs", __name__)


@bp.get("/api/docs")
def docs():
    return render_template("api/docs.html")
