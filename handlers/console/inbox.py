"""The inbox: conversations per subscriber (masked in the list), replies by hand, texts that need a person."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from handlers.console import bp, services
from sms.console import inbox
from sms.messaging import compliance, languages, subscribers
from sms.store import Subscriber


@bp.get("/inbox")
def inbox_page() -> str:
    page = request.args.get("page", "1")
    page_number = int(page) if page.isdigit() else 1
    review = request.args.get("review") == "1"
    with services().db.session() as session:
        rows = inbox.threads(session, page_number, request.args.get("q", ""), needs_person=review)
    return render_template("console/inbox.html", threads=rows, page=page_number, q=request.args.get("q", ""),
                           page_size=inbox.PAGE_SIZE, review=review)


@bp.get("/inbox/<int:subscriber_id>")
def conversation(subscriber_id: int) -> Any:
    return _conversation(subscriber_id)


def _conversation(subscriber_id: int, error: str = "", draft: str = "", status: int = 200) -> Any:
    with services().db.session() as session:
        subscriber, messages = inbox.thread(session, subscriber_id)
        if subscriber is None:
            return render_template("console/error.html", message="No such subscriber."), 404
        title = inbox.keyword_title(session, subscriber.last_demand)
        reviews = inbox.open_reviews(session, subscriber_id)
    return render_template("console/conversation.html", subscriber=subscriber, messages=messages, error=error,
                           draft=draft, last_demand_title=title, masked=compliance.mask(subscriber.phone),
                           max_segments=inbox.MAX_MANUAL_SEGMENTS, reviews=reviews,
                           language=subscriber.language or languages.DEFAULT,
                           language_name=languages.get(subscriber.language).name), status


@bp.post("/inbox/<int:subscriber_id>/reply")
def reply(subscriber_id: int) -> Any:
    body = request.form.get("body", "")
    try:
        message = inbox.send_manual(services(), subscriber_id, body, current_user.email)
    except inbox.ReplyRefused as exc:
        return _conversation(subscriber_id, error=str(exc), draft=body, status=400)
    flash({"sent": "Reply sent.", "scheduled": "The carrier was busy; the reply will be retried shortly.",
           }.get(message.status, f"The reply could not be sent (error {message.error_code})."),
          "ok" if message.status != "failed" else "error")
    return redirect(url_for("console.conversation", subscriber_id=subscriber_id) + "#reply")


@bp.post("/inbox/<int:subscriber_id>/language")
def set_language(subscriber_id: int) -> Any:
    """An organizer sets the texter's language (a subscriber.language_changed event, source console)."""
    code = request.form.get("language", "")
    if not languages.known(code):
        return _conversation(subscriber_id, error=f"No language {code[:8]!r}.", status=400)
    with services().db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            return render_template("console/error.html", message="No such subscriber."), 404
        changed = subscribers.set_language(session, subscriber, code, "console")
        session.commit()
    flash(f"Language: {languages.get(code).name}." if changed else "That was already their language.", "ok")
    return redirect(url_for("console.conversation", subscriber_id=subscriber_id))


@bp.post("/inbox/<int:subscriber_id>/opt-out")
def opt_out(subscriber_id: int) -> Any:
    """An organizer opts the number out (e.g. a flagged text that meant stop); nothing is texted."""
    try:
        changed = inbox.opt_out_by_organizer(services(), subscriber_id, current_user.email)
    except inbox.ReplyRefused as exc:
        return render_template("console/error.html", message=str(exc)), 404
    flash("Opted out: this number gets no more texts." if changed else "This number was already opted out.", "ok")
    return redirect(url_for("console.conversation", subscriber_id=subscriber_id))


@bp.post("/inbox/<int:subscriber_id>/reviewed")
def reviewed(subscriber_id: int) -> Any:
    """An organizer read the flagged texts: they were not opt-outs."""
    cleared = inbox.clear_reviews(services(), subscriber_id, current_user.email)
    flash(f"Marked {cleared} text(s) as not an opt-out." if cleared else "Nothing was waiting.", "ok")
    return redirect(url_for("console.conversation", subscriber_id=subscriber_id))
