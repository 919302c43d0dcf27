"""The dashboard: totals, per-day series and per-group tables from ``sms.dashboard``.

A feature adds to it with ``@sms.dashboard.series(name, label, group)`` (a chart line) or
``@sms.dashboard.breakdown(...)`` (a table) in its module, listed in ``sms.dashboard.SERIES_MODULES``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request

from handlers.console import bp, services
from sms import dashboard


def _days() -> int:
    try:
        return min(max(int(request.args.get("days", dashboard.DEFAULT_DAYS)), 1), 365)
    except ValueError:
        return dashboard.DEFAULT_DAYS


@bp.get("/", endpoint="dashboard")
def dashboard_page() -> str:
    with services().db.session() as session:
        stats = dashboard.compute(session, _days())
    return render_template("console/dashboard.html", stats=stats)


@bp.get("/api/stats")
def stats_api() -> Any:
    with services().db.session() as session:
        return jsonify(dashboard.compute(session, _days()).as_dict())
