"""The dashboard: totals, per-day series and per-group tables from ``sms.console.dashboard``.

A feature adds to it with a ``sms.console.dashboard.Charts`` table (``@charts.series(...)`` for a
chart line, ``@charts.breakdown(...)`` for a table) listed in ``sms.features.CHARTS``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

from handlers.console import bp, organizer_zone, services
from sms.console import dashboard


def _days() -> int:
    try:
        return min(max(int(request.args.get("days", dashboard.DEFAULT_DAYS)), 1), 365)
    except ValueError:
        return dashboard.DEFAULT_DAYS


@bp.get("/", endpoint="dashboard")
def dashboard_page() -> str:
    """Days in the organizer's zone (``?tz=`` or the one their browser sent before, else CONSOLE_TIMEZONE)."""
    with services().db.session() as session:
        stats = dashboard.compute(session, _days(), zone=organizer_zone(request.args.get("tz")))
    return render_template("console/dashboard.html", stats=stats)


@bp.get("/api/stats")
def stats_api() -> Any:
    with services().db.session() as session:
        return jsonify(dashboard.compute(session, _days(), zone=organizer_zone(request.args.get("tz"))).as_dict())
