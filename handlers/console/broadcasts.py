"""Console pages for broadcasts and reminders: compose with preview, send, steer, watch progress."""

from __future__ import annotations

from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from sqlalchemy import select

from handlers.console import bp, organizer_zone, services
from sms.broadcasts import audiences, compose, lifecycle, reminders, waiting
from sms.broadcasts.lifecycle import BroadcastError
from sms.broadcasts.models import Broadcast, Reminder
from sms.messaging import languages

ACTIONS = {"send": lifecycle.send, "pause": lifecycle.pause, "resume": lifecycle.resume,
           "cancel": lifecycle.cancel, "gsm7": lifecycle.use_gsm7}
REMINDER_ACTIONS = {"pause": "paused", "resume": "active", "cancel": "cancelled"}


def _filters(form: Any) -> dict[str, Any]:
    """Comma- or space-separated demand/state/district/ZIP fields as filter lists, plus called/activity."""
    filters: dict[str, Any] = {key: form.get(key, "").replace(",", " ").split()
                               for key in ("demands", "states", "districts", "zips", "languages")}
    if form.get("called") in ("yes", "no"):
        filters["called"] = form["called"] == "yes"
    for key in ("active_since", "joined_after"):
        if form.get(key):
            filters[key] = form[key]
    return filters


def _translations(form: Any) -> dict[str, str]:
    """The composer's text per other language (``message_es``); empty ones are left out."""
    return {code: form.get(f"message_{code}", "")[:1600] for code in languages.codes()[1:]
            if form.get(f"message_{code}", "").strip()}


@bp.context_processor
def _language_choices() -> dict[str, Any]:
    """The languages the composer offers a text and an audience filter for."""
    every = [(code, languages.get(code).name) for code in languages.codes()]
    return {"all_languages": every, "other_languages": every[1:]}


@bp.get("/api/broadcasts/preview")
def broadcast_preview() -> Any:
    """The composer's live numbers for what is typed so far (nothing is saved)."""
    args, svc = request.args, services()
    with svc.db.session() as session:
        return jsonify(compose.draft_preview(session, svc.settings, args.get("message", "")[:1600], _filters(args),
                                              args.get("segment") or None, args.get("urgent") == "on",
                                              _translations(args)))


@bp.get("/api/broadcasts/<int:broadcast_id>/progress")
def broadcast_progress(broadcast_id: int) -> Any:
    """Counts, and why the rest waits (the frequency-cap count is left to the page: it reads the audience)."""
    svc = services()
    with svc.db.session() as session:
        found = compose.progress_of(session, broadcast_id)
    if not found:
        return jsonify(error="No such broadcast."), 404
    return jsonify({**found, "why": waiting.explain_broadcast(svc, broadcast_id, with_left_out=False).as_dict()})


def _mps(form: Any) -> float | None:
    try:
        return float(form["mps"]) if form.get("mps") else None
    except ValueError:
        raise BroadcastError("messages per second must be a number") from None


def _when(form: Any) -> Any:
    """The "Send at" picker in the organizer's zone (sent as ``tz`` by the browser), as UTC."""
    return compose.send_time(form.get("send_at"), organizer_zone(form.get("tz")))


@bp.route("/broadcasts", methods=["GET", "POST"], endpoint="broadcasts")
def broadcast_list() -> Any:
    svc, problem = services(), None
    if request.method == "POST":
        form = request.form
        try:
            if form.get("action") == "segment":
                return _save_segment(form)
            with svc.db.session() as session:
                created = lifecycle.create(session, svc.settings, form.get("message", ""), _filters(form),
                                            form.get("segment") or None, _when(form), _mps(form),
                                            form.get("urgent") == "on", translations=_translations(form))
                session.commit()
            return redirect(url_for("console.broadcast", broadcast_id=created.id))
        except (BroadcastError, audiences.AudienceError) as exc:
            problem = str(exc)
    with svc.db.session() as session:
        rows = session.scalars(select(Broadcast).order_by(Broadcast.id.desc()).limit(50)).all()
        segments = audiences.all_segments(session)
        sizes = {s.name: audiences.count(session, s.filters) for s in segments}
    return render_template("console/broadcasts.html", broadcasts=rows, segments=segments, problem=problem,
                           form=request.form, sizes=sizes, zone=organizer_zone()), 400 if problem else 200


def _save_segment(form: Any) -> Any:
    """Save the composer's filters under a name (``flask segment save``); AudienceError if unusable."""
    with services().db.session() as session:
        saved = audiences.save(session, form.get("segment_name", ""), _filters(form))
        session.commit()
        flash(f"Saved segment {saved.name}.", "ok")
    return redirect(url_for("console.broadcasts") + "#segments")


@bp.get("/broadcasts/<int:broadcast_id>", endpoint="broadcast")
def broadcast_detail(broadcast_id: int) -> Any:
    svc = services()
    with svc.db.session() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None:
            return render_template("console/error.html", message="No such broadcast."), 404
        preview = lifecycle.preview(session, svc.settings, broadcast)
        progress = lifecycle.progress(session, broadcast_id)
        why = waiting.explain(session, svc.settings, broadcast, workers=waiting.bulk_workers(svc))
        sample = compose.sample_message(session, broadcast.body, broadcast.filters, broadcast.urgent)
    return render_template("console/broadcast.html", broadcast=broadcast, preview=preview, progress=progress,
                           live=compose.LIVE, why=why, sample=sample, zone=organizer_zone(),
                           audience=audiences.in_words(broadcast.filters, broadcast.urgent),
                           encoding_help=compose.encoding_help(broadcast.body))


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
                                           form.get("urgent") == "on", _mps(form), translations=_translations(form))
                session.commit()
            reminders.schedule(svc, created.id)
            flash(f"Reminder {created.id} scheduled.", "ok")
            return redirect(url_for("console.reminders"))
        except (BroadcastError, audiences.AudienceError) as exc:
            problem = str(exc)
    with svc.db.session() as session:
        rows = session.scalars(select(Reminder).order_by(Reminder.id.desc()).limit(100)).all()
        segments = audiences.all_segments(session)
    return render_template("console/reminders.html", reminders=rows, segments=segments, problem=problem,
                           form=request.form, zone=organizer_zone()), 400 if problem else 200


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
