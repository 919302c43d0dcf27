"""The simulator: a phone-like page that texts the service through the signed /sms webhook,
and plays the call that follows (``flask simulate-call``'s walk through the signed /voice steps)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from flask import jsonify, render_template, request
from sqlalchemy import select

from handlers.console import bp, services
from handlers.twilio_auth import signed_post
from sms.calls import player
from sms.calls.models import CallSession
from sms.calls.sessions import OUTCOMES, legs_of
from sms.console import simulator
from sms.errors import InvalidNumber
from sms.messaging import subscribers
from sms.store import utcnow

DEFAULT_NUMBER = "+12025550143"
FICTIONAL = re.compile(r"^\+1\d{3}55501\d{2}$")
"""555-0100..0199 numbers are reserved for fiction: the simulated texter (who gets real
follow-ups through the real transport) can never be a real person's phone."""


@bp.get("/simulator")
def simulator_page() -> str:
    return render_template("console/simulator.html", number=DEFAULT_NUMBER,
                           service_number=services().settings.phone_number)


class Refused(Exception):
    """A simulator request that cannot run; the message is for the organizer."""


def _sender(data: Any) -> str:
    try:
        sender = subscribers.normalise_phone(str(data.get("from") or DEFAULT_NUMBER))
    except InvalidNumber:
        raise Refused("That is not a phone number.") from None
    if not FICTIONAL.match(sender):
        raise Refused("Use a fictional number, +1 NPA 555-01XX, so no real phone gets texts.")
    return sender


@bp.errorhandler(Refused)
def refused(exc: Refused) -> Any:
    return jsonify(error=str(exc)), 400


@bp.post("/api/simulator")
def simulator_send() -> Any:
    """Sign the webhook Twilio would send for this text, post it to /sms, return the TwiML replies."""
    data = request.get_json(silent=True) or request.form
    body = str(data.get("body") or "")[:1600]
    sender = _sender(data)
    if not body.strip():
        return jsonify(error="Type a text first."), 400
    status, replies = post_signed_text(sender, body)
    if status != 200:
        return jsonify(error=f"The webhook answered HTTP {status}."), 502
    return jsonify(sent=body, replies=replies)


def post_signed_text(sender: str, body: str) -> tuple[int, list[str]]:
    """POST a signed inbound-SMS webhook to this app's /sms and parse the replies from the TwiML."""
    params = simulator.sms_params(sender, body, services().settings.phone_number)
    response = signed_post("/sms", params)
    if response.status_code != 200:
        return response.status_code, []
    root = ET.fromstring(response.get_data(as_text=True))
    return 200, [m.text or "" for m in root.findall("./Message")]


@bp.post("/api/simulator/call")
def simulator_call() -> Any:
    """Answer the texter's queued call-back (or dial in) and play the call: what is heard, who is dialed."""
    data = request.get_json(silent=True) or request.form
    sender, callin = _sender(data), data.get("mode") == "callin"
    typed = data.get("digits")  # absent or null (the page's empty field): 1 to connect, silence elsewhere
    keys = None if typed is None else [k.strip()[:8] for k in str(typed)[:100].split(",")]
    statuses = [s.strip() for s in str(data.get("dial_status") or "").split(",") if s.strip()]
    if any(s not in OUTCOMES for s in statuses):
        raise Refused(f"Offices answer with one of: {', '.join(OUTCOMES)}.")
    svc, since = services(), utcnow()
    begin = player.start(svc, sender, callin)
    if begin.placed == "failed":
        return jsonify(error="The call-back could not be placed (the transport refused it)."), 502
    try:
        walk = player.walk(_post, begin.path, sender, svc.settings.phone_number, keys, statuses, begin.call_sid)
    except Refused as exc:
        return jsonify(error=str(exc)), 502
    note = "" if callin or begin.session_id else "No call-back was waiting for this number, so this dials in."
    return jsonify(note=note, callin=begin.path == "/voice", events=events_of(walk),
                   **_result(walk.call_sid, sender, since))


def events_of(walk: player.Walk) -> list[dict[str, str]]:
    """The walk's events for the page; each press says why it was that key ("your key 1 of 2", "not given")."""
    why = iter(walk.why)
    return [{"kind": kind, "text": f"{text} ({next(why, '')})" if kind == "press" else text}
            for kind, text in walk.events]


def _post(path: str, params: dict[str, str]) -> str:
    response = signed_post(path, params)
    if response.status_code >= 300:
        raise Refused(f"{path.split('?')[0]} answered HTTP {response.status_code}.")
    return response.get_data(as_text=True) or "<Response/>"


def _result(call_sid: str, phone: str, since: Any) -> dict[str, Any]:
    """The legs recorded for the call and the texts it queued for the caller."""
    with services().db.session() as session:
        call = session.scalar(select(CallSession).where(CallSession.call_sid == call_sid))
        legs = [{"label": leg.label, "number": leg.number, "outcome": leg.outcome, "duration": leg.duration}
                for leg in (legs_of(session, call) if call else [])]
        return {"status": call.status if call else "", "legs": legs,
                "texts": player.texts_after(session, phone, since)}
