"""The Calls page: the call log (filter by demand or office, masked callers) and the call blocklist."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from handlers.console import bp, services
from sms.calls import blocklist, call_log
from sms.errors import InvalidNumber


def _page_number() -> int:
    page = request.args.get("page", "1")
    return min(int(page), 10_000) if page.isdigit() and int(page) > 0 else 1


@bp.get("/calls", endpoint="calls")
def calls_page() -> Any:
    return _render()


def _render(error: str = "", phone: str = "", reason: str = "", status: int = 200) -> Any:
    demand, office, number = request.args.get("demand", ""), request.args.get("office", ""), _page_number()
    with services().db.session() as session:
        rows = call_log.page(session, demand, office, number, call_log.PAGE_SIZE)
        blocked, blocked_total = blocklist.entries(session, current_app.secret_key or "")
        html = render_template(
            "console/calls.html", calls=rows, page=number, page_size=call_log.PAGE_SIZE, demand=demand,
            office=office, demands=call_log.demands(session), offices=call_log.offices(session), blocked=blocked,
            blocked_total=blocked_total, error=error, phone=phone, reason=reason,
        )
    return html, status


@bp.post("/calls/block")
def call_block() -> Any:
    phone, reason = request.form.get("phone", "").strip(), request.form.get("reason", "")
    try:
        with services().db.session() as session:
            blocklist.block(session, phone, reason, by=current_user.email)
    except InvalidNumber:
        return _render("That is not a phone number.", phone, reason, 400)
    flash("Blocked: that number is never called back or connected.", "ok")
    return redirect(url_for("console.calls") + "#blocklist")


@bp.post("/calls/unblock")
def call_unblock() -> Any:
    with services().db.session() as session:
        phone = blocklist.phone_of(session, request.form.get("ref", ""), current_app.secret_key or "")
        removed = phone is not None and blocklist.unblock(session, phone, by=current_user.email)
    flash("Unblocked." if removed else "That number was not blocked.", "ok" if removed else "error")
    return redirect(url_for("console.calls") + "#blocklist")
