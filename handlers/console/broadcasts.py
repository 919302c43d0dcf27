"""Console pages for broadcasts and reminders: compose with preview, send, steer, watch progress."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from handlers.console import bp, services
from sms import audiences, broadcasts, reminders
from sms.broadcasts import Broadcast, BroadcastError

ACTIONS = {"send": broadcasts.send, "pause": broadcasts.pause, "resume": broadcasts.resume,
           "cancel": broadcasts.cancel}
REMINDER_ACTIONS = {"pause": "paused", "resume": "active", "cancel": "cancelled"}


def _filters(form: Any) -> dict[str, list[str]]:
    """Comma- or space-separated demand/state/district/ZIP fields as filter lists."""
    return {key: form.get(key, "").replace(",", " ").split() for key in ("demands", "states", "districts", "zips")}


def _mps(form: Any) -> float | None:
    try:
        return float(form["mps"]) if form.get("mps") else None
    except ValueError:
        raise BroadcastError("messages per second must be a number") from None


def _when(form: Any) -> Any:
    try:
        return audiences.parse_when(form["send_at"], "send time") if form.get("send_at") else None
    except audiences.AudienceError as exc:
        raise BroadcastError(str(exc)) from exc


@bp.route("/broadcasts", methods=["GET", "POST"], endpoint="broadcasts")
def broadcast_list() -> Any:
    svc, problem = services(), None
    if request.method == "POST":
        form = request.form
        try:
            with svc.db.session() as session:
                created = broadcasts.create(session, svc.settings, form.get("message", ""), _filters(form),
                                            form.get("segment") or None, _when(form), _mps(form),
                                            form.get("urgent") == "on")
                session.commit()
            return redirect(url_for("console.broadcast", broadcast_id=created.id))
        except (BroadcastError, audiences.AudienceError) as exc:
            problem = str(exc)
    with svc.db.session() as session:
        rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(50)).all()
        segments = audiences.all_segments(session)
    return render_template("console/broadcasts.html", broadcasts=rows, segments=segments, problem=problem,
                           form=request.form), 400 if problem else 200


@bp.get("/broadcasts/<int:broadcast_id>", endpoint="broadcast")
def broadcast_detail(broadcast_id: int) -> Any:
    svc = services()
    with svc.db.session() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return render_template("console/error.html", message="No such broadcast."), 404
        preview = broadcasts.preview(session, svc.settings, broadcast)
        progress = broadcasts.progress(session, broadcast_id)
    return render_template("console/broadcast.html", broadcast=broadcast, preview=preview, progress=progress)


@bp.post("/broadcasts/<int:broadcast_id>/<action>", endpoint="broadcast_action")
def broadcast_action(broadcast_id: int, action: str) -> Any:
    if action not in ACTIONS:
        return render_template("console/error.html", message="Unknown action."), 404
    try:
        flash(f"Broadcast {broadcast_id}: {ACTIONS[action](services(), broadcast_id)}.", "ok")
    except BroadcastError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.broadcast", broadcast_id=broadcast_id))


@bp.route("/reminders", methods=["GET", "POST"], endpoint="reminders")
def reminder_list() -> Any:
    svc, problem = services(), None
    if request.method == "POST":
        form = request.form
        try:
            when = _when(form)
            if when is None:
                raise BroadcastError("a reminder needs a send time")
            with svc.db.session() as session:
                created = reminders.create(session, svc.settings, form.get("message", ""), when, _filters(form),
                                           form.get("segment") or None, form.get("every") or None,
                                           form.get("urgent") == "on", _mps(form))
                session.commit()
            reminders.schedule(svc, created.id)
            flash(f"Reminder {created.id} scheduled.", "ok")
            return redirect(url_for("console.reminders"))
        except (BroadcastError, audiences.AudienceError) as exc:
            problem = str(exc)
    with svc.db.session() as session:
        rows = session.scalars(select(reminders.Reminder).order_by(reminders.Reminder.id.desc()).limit(100)).all()
        segments = audiences.all_segments(session)
    return render_template("console/reminders.html", reminders=rows, segments=segments, problem=problem,
                           form=request.form), 400 if problem else 200


@bp.post("/reminders/<int:reminder_id>/<action>", endpoint="reminder_action")
def reminder_action(reminder_id: int, action: str) -> Any:
    try:
        if action == "send":
            flash(f"Reminder {reminder_id} sent as broadcast {reminders.send_now(services(), reminder_id)}.", "ok")
        elif action in REMINDER_ACTIONS:
            flash(f"Reminder {reminder_id}: {reminders.set_status(services(), reminder_id, REMINDER_ACTIONS[action])}.",
                  "ok")
        else:
            return render_template("console/error.html", message="Unknown action."), 404
    except BroadcastError as exc:
        flash(str(exc), "error")
    return redirect(url_for("console.reminders"))
