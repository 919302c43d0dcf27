"""``/``: a short page pointing at the organizer console and the simulator (no login, nothing secret)."""

from __future__ import annotations

from flask import Blueprint, Response, make_response, render_template

from handlers import health
from handlers.console import CSP
from handlers.context import services

bp = Blueprint("home", __name__, template_folder="templates")


@bp.get("/")
def index() -> Response:
    checks, status = health.readyz()
    ready = " · ".join(f"{name} {state}" for name, state in checks.items() if name != "status")
    response = make_response(render_template("home.html", org_name=services().settings.org_name,
                                             ready=ready, ok=status == 200))
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "no-store"
    return response
