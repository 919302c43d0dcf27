"""Play a call offline: follow the TwiML the way Twilio would and report what happens.

``walk`` only needs a ``post(path, params) -> xml`` function, so it drives the app
in-process (the CLI, tests) or over HTTP alike. Key presses come from ``digits``
(an empty string is silence: the Gather times out; None presses 1 where the call
asks to connect and nothing anywhere else, so no ZIP is ever made up); dialed
offices answer with the next ``DialCallStatus`` from ``dial_statuses`` (default
``completed``). ``texts_after`` lists what the caller is texted once it ends.
``start`` finds where a simulated call begins (``flask simulate-call``, the console simulator).
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.services import Services

Post = Callable[[str, dict[str, str]], str]
MAX_STEPS = 100


@dataclass
class Walk:
    """What the caller heard and which numbers were dialed."""

    events: list[tuple[str, str]] = field(default_factory=list)
    call_sid: str = field(default_factory=lambda: "CA" + uuid.uuid4().hex)
    why: list[str] = field(default_factory=list)
    """Why each press was what it was, in order ("your key 1 of 2", "not given: 1 connects you")."""
    keys_given: int = 0

    @property
    def dialed(self) -> list[str]:
        return [value for kind, value in self.events if kind == "dial"]

    @property
    def heard(self) -> list[str]:
        return [value for kind, value in self.events if kind == "say"]


def path_of(url: str) -> str:
    """``https://host/voice/next?leg=1`` → ``/voice/next?leg=1`` (the app is reached in-process)."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def walk(post: Post, path: str, caller: str, service: str, digits: list[str] | None = None,
         dial_statuses: list[str] | None = None, call_sid: str | None = None) -> Walk:
    """Request ``path`` as Twilio would for a call from ``caller`` and follow the TwiML to the end."""
    result = Walk(call_sid=call_sid) if call_sid else Walk()
    keys, answers, auto = list(digits or []), list(dial_statuses or []), digits is None
    result.keys_given = len(keys)
    base = {"CallSid": result.call_sid, "AccountSid": "AC" + "0" * 32, "From": caller, "To": service,
            "CallStatus": "in-progress", "Direction": "inbound"}
    params: dict[str, str] = {}
    for _ in range(MAX_STEPS):
        root = ET.fromstring(post(path, {**base, **params}))
        next_request = _play(root, result, keys, answers, auto)
        if next_request is None:
            break
        path, params = next_request
    post("/voice/status", {**base, "CallStatus": "completed", "CallDuration": "60"})
    if keys:
        result.events.append(("note", f"Keys not used (the call asked for fewer): {', '.join(keys) or 'silence'}"))
    return result


def _play(root: ET.Element, result: Walk, keys: list[str], answers: list[str],
          auto: bool = False) -> tuple[str, dict] | None:
    """Perform one TwiML document; return the next request (path, params) or None when the call ends."""
    for verb in root:
        if verb.tag == "Say":
            result.events.append(("say", verb.text or ""))
        elif verb.tag == "Gather":
            for child in verb.findall("Say"):
                result.events.append(("say", child.text or ""))
            key = _next_key(keys, path_of(verb.get("action", "")), result, auto)
            result.events.append(("press", key or "(silence)"))
            if key:
                return path_of(verb.get("action", "")), {"Digits": key}
        elif verb.tag == "Dial":
            number = (verb.findtext("Number") or verb.text or "").strip()
            status = answers.pop(0) if answers else "completed"
            result.events.append(("dial", number))
            result.events.append(("office", status))
            duration = "45" if status == "completed" else "0"
            params = {"DialCallStatus": status, "DialCallDuration": duration, "DialCallSid": "CA" + uuid.uuid4().hex}
            return path_of(verb.get("action", "")), params
        elif verb.tag == "Redirect":
            return path_of(verb.text or ""), {}
        elif verb.tag == "Hangup":
            result.events.append(("hangup", ""))
            return None
    result.events.append(("hangup", ""))
    return None


def _next_key(keys: list[str], action: str, result: Walk, auto: bool) -> str:
    """The key pressed at a prompt (the next one given, else the default), and why, in ``result.why``."""
    if keys:
        result.why.append(f"your key {result.keys_given - len(keys) + 1} of {result.keys_given}")
        return keys.pop(0)
    if not auto:
        result.why.append("no keys left: silence" if result.keys_given else "no keys given: silence")
        return ""
    key = _default_key(action, result)
    result.why.append("not given: 1 connects you" if key else "not given: silence (nothing is made up)")
    return key


def _default_key(action: str, result: Walk) -> str:
    """With no keys given: 1 where the call asks to connect; silence elsewhere, saying so at the ZIP prompt."""
    if action.startswith("/voice/connect"):
        return "1"
    if action.startswith("/voice/zip"):
        result.events.append(("note", "The call asks for a ZIP by keypad and none is made up: "
                                      "give one, e.g. --digits 02139,1"))
    return ""


def texts_after(session: Session, phone: str, since: datetime) -> list[str]:
    """The texts a call queued for the caller since ``since`` (who was called, the summary)."""
    from sms.store import Message

    return list(session.scalars(select(Message.body).where(
        Message.phone == phone, Message.direction == "out", Message.created_at >= since,
        Message.kind.in_(("call", "call_summary"))).order_by(Message.id)))


@dataclass(frozen=True)
class Start:
    """Where a simulated call begins: the path Twilio would request and the CallSid to use."""

    path: str
    call_sid: str | None = None
    session_id: int | None = None
    placed: str = ""  # calls.place's answer for a call-back ("placed", "failed"...)


def start(services: Services, phone: str, callin: bool = False) -> Start:
    """The phone's queued call-back (placed now, through the transport, exactly once), else a call-in."""
    from sms.calls import sessions
    from sms.calls.models import CallSession

    if callin:
        return Start("/voice")
    with services.db.session() as session:
        call = session.scalar(select(CallSession).where(
            CallSession.phone == phone, CallSession.status.in_(("queued", "placed")))
            .order_by(CallSession.id.desc()))
        if call is None:
            return Start("/voice")
        call_id, token = call.id, call.token
    placed = sessions.place(services, call_id)
    with services.db.session() as session:
        call_sid = session.get(CallSession, call_id).call_sid
    return Start(f"/voice/answer?s={token}", call_sid, call_id, placed)
