"""Dashboard, and the page shells the calls and broadcasts features fill in.

The shells (targets data, broadcasts, reminders, calls) are real routes in the
navigation that say what will appear there; they show no invented numbers.
To fill one: replace its view below (keep the endpoint name, the nav links to it)
with a template of its own extending ``console/base.html``; dashboard series come
from ``@sms.dashboard.series(name, label, group="calls")`` in the feature's module,
listed in ``sms.dashboard.SERIES_MODULES``.
"""

from __future__ import annotations

from typing import Any

from flask import jsonify, render_template, request
from sqlalchemy import select

from handlers.console import bp, services
from sms import dashboard
from sms.store import Demand


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


@bp.get("/targets")
def targets() -> str:
    with services().db.session() as session:
        demands = session.scalars(select(Demand).order_by(Demand.position)).all()
    return render_template("console/targets.html", demands=demands,
                           calls_available=_has("calls"))


@bp.get("/calls")
def calls() -> str:
    return render_template("console/shell.html", title="Calls", feature="calls", issue=4,
                           coming=["Call log with outcome and duration per leg",
                                   "Filter by demand and by lawmaker's office", "CSV export of calls"])


def _has(table: str) -> bool:
    with services().db.session() as session:
        return dashboard.has_table(session, table)
