"""The patch-through call as TwiML steps, each safe to request twice.

Every step names what it answers (``/voice/next?leg=2``) and reads the session by
``CallSid``; if the session has already moved past that step (a Twilio retry or a
duplicate delivery), the step answers with where the call is now instead of acting
again, so an office is never dialed twice and no target is skipped by accident.

    answer (call-back) / incoming (call-in) → [zip → district] → intro: Gather "press 1"
    → connect → Dial target 0 → dialed?leg=0 → between: Gather "* skip, # end"
    → next?leg=1 → Dial target 1 → ... → thank you, summary text
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from sms import calls, catalogue, compliance, defaults, subscribers, targets
from sms.callcommands import fill_script, remember_place
from sms.calls import CallLeg, CallSession
from sms.errors import SmsError
from sms.services import Services
from sms.store import Subscriber, utcnow

TERMINAL = ("completed", "busy", "no-answer", "failed", "canceled")


class Flow:
    """One voice request: the services, a database session and the TwiML being built."""

    def __init__(self, services: Services, session: Session) -> None:
        self.services = services
        self.session = session
        self.settings = services.settings
        self.vr = VoiceResponse()

    def say(self, text: str, into: Any = None) -> None:
        (into or self.vr).say(text, voice=self.settings.voice_name, language=self.settings.voice_language)

    def url(self, path: str) -> str:
        return self.services.url(path)

    def goodbye(self, text: str) -> str:
        self.say(text)
        self.vr.hangup()
        return str(self.vr)


def _by_sid(session: Session, form: Mapping[str, str]) -> CallSession | None:
    sid = (form.get("CallSid") or "").strip()
    return session.scalar(select(CallSession).where(CallSession.call_sid == sid)) if sid else None


def run(services: Services, step: str, form: Mapping[str, str], arg: str = "") -> str:
    """Answer one voice webhook ``step``; commit what it changed."""
    with services.db.session() as session:
        flow = Flow(services, session)
        xml = STEPS[step](flow, form, arg)
        session.commit()
        return xml


def answer(flow: Flow, form: Mapping[str, str], token: str) -> str:
    """The call-back was answered: bind the CallSid, then the script and the voicemail guard."""
    call = flow.session.scalar(select(CallSession).where(CallSession.token == token)) if token else None
    sid = (form.get("CallSid") or "").strip()
    if call is None or not sid or (call.call_sid and call.call_sid != sid):
        return flow.goodbye("Sorry, this call has expired. Goodbye.")
    call.call_sid = sid
    if not compliance.may_message(flow.session, call.phone):
        call.status = "canceled"
        return flow.goodbye("Goodbye.")
    if call.status == "confirmed":
        return current(flow, call)
    if call.status in ("queued", "placing", "placed"):
        call.status, call.answered_at = "answered", utcnow()
    return intro(flow, call)


def intro(flow: Flow, call: CallSession) -> str:
    """Say the demand, then wait for a key: nothing is bridged to an answering machine."""
    demand = catalogue.current(flow.session).demand(call.demand or "")
    labels = ", ".join(targets.Target.of(t).label for t in call.targets)
    flow.say(f"Hello from {flow.settings.org_name}. Thank you for taking action"
             + (f" on: {demand.title}." if demand else "."))
    gather = Gather(num_digits=1, action=flow.url("/voice/connect"), timeout=defaults.CALL_GATHER_TIMEOUT)
    more = " Press 2 to hear another issue." if call.direction == "callin" else ""
    flow.say(f"Press 1 now to be connected to {labels}.{more}", into=gather)
    flow.vr.append(gather)
    return flow.goodbye("We didn't hear a key press, so we'll hang up now. Text CALL anytime to try again.")


def connect(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    call = _by_sid(flow.session, form)
    if call is None:
        return flow.goodbye("Sorry, we lost track of this call. Goodbye.")
    digits = (form.get("Digits") or "").strip()
    if call.status == "confirmed":
        return current(flow, call)
    if call.status != "answered":
        return flow.goodbye("This call has ended. Goodbye.")
    if digits == "2" and call.direction == "callin":
        demands = catalogue.current(flow.session).demands
        keywords = [d.keyword for d in demands]
        index = keywords.index(call.demand) + 1 if call.demand in keywords else 0
        return choose_demand(flow, call, demands[index % len(demands)].keyword)
    if digits != "1":
        return intro(flow, call)
    call.status = "confirmed"
    return current(flow, call)


def current(flow: Flow, call: CallSession) -> str:
    """TwiML for where the session is now (the answer to any repeated step)."""
    position = call.position
    if position >= len(call.targets):
        return finish(flow, call)
    leg = _leg(flow.session, call, position)
    if leg is not None and leg.outcome == "dialing":
        return dial(flow, call, position)
    if position == 0:
        return dial(flow, call, 0)
    return between(flow, call, position)


def _leg(session: Session, call: CallSession, position: int) -> CallLeg | None:
    return session.scalar(select(CallLeg).where(CallLeg.session_id == call.id, CallLeg.position == position,
                                                CallLeg.attempt == 1))


def dial(flow: Flow, call: CallSession, position: int) -> str:
    """Connect the caller to target ``position`` (recording the leg once)."""
    target = call.targets[position]
    spoken = targets.Target.of(target).spoken
    leg = _leg(flow.session, call, position)
    if leg is None:
        flow.session.add(CallLeg(session_id=call.id, position=position, kind=target["kind"], ref=target["ref"],
                                 label=targets.Target.of(target).label, number=target["phone"]))
        flow.session.flush()
    if position == 0:
        demand = catalogue.current(flow.session).demand(call.demand or "")
        if demand is not None and demand.script:
            flow.say("Here is what to say. " + fill_script(demand.script, spoken, call.zip, None))
    flow.say(f"Connecting you to {spoken}.")
    dial_verb = Dial(caller_id=flow.services.transport.phone_number, timeout=defaults.CALL_DIAL_TIMEOUT,
                     action=flow.url(f"/voice/dialed?leg={position}"))
    dial_verb.number(target["phone"])
    flow.vr.append(dial_verb)
    return str(flow.vr)


def between(flow: Flow, call: CallSession, position: int) -> str:
    """Before the next office: * skips it, # ends the call, silence goes on."""
    spoken = targets.Target.of(call.targets[position]).spoken
    gather = Gather(num_digits=1, action=flow.url(f"/voice/next?leg={position}"), timeout=3)
    flow.say(f"Next: {spoken}. Press star to skip this office, or pound to end the call.", into=gather)
    flow.vr.append(gather)
    flow.vr.redirect(flow.url(f"/voice/next?leg={position}"))
    return str(flow.vr)


def next_target(flow: Flow, form: Mapping[str, str], arg: str) -> str:
    call = _by_sid(flow.session, form)
    if call is None or call.status != "confirmed":
        return flow.goodbye("This call has ended. Goodbye.")
    position = _position(arg)
    if position != call.position or _leg(flow.session, call, position) is not None:
        return current(flow, call)  # a repeated request: answer with where the call is now
    digits = (form.get("Digits") or "").strip()
    if digits == "#":
        return finish(flow, call)
    if digits == "*":
        target = call.targets[position]
        flow.session.add(CallLeg(session_id=call.id, position=position, kind=target["kind"], ref=target["ref"],
                                 label=targets.Target.of(target).label, number=None,
                                 outcome="skipped", ended_at=utcnow()))
        call.position = position + 1
        return current(flow, call)
    return dial(flow, call, position)


def dialed(flow: Flow, form: Mapping[str, str], arg: str) -> str:
    """The Dial to target ``leg`` ended: record it once, move on once."""
    call = _by_sid(flow.session, form)
    if call is None:
        return flow.goodbye("Goodbye.")
    position = _position(arg)
    leg = _leg(flow.session, call, position)
    if leg is not None and leg.dial_status is None and leg.outcome == "dialing":
        status = (form.get("DialCallStatus") or "failed").strip().lower()
        leg.dial_status, leg.outcome = status[:16], calls.OUTCOMES.get(status, "failed")
        leg.dial_sid = (form.get("DialCallSid") or "")[:64] or None
        leg.duration = _int(form.get("DialCallDuration"))
        leg.ended_at = utcnow()
    if leg is not None and call.position == position:
        call.position = position + 1
    if call.status != "confirmed":
        return flow.goodbye("Goodbye.")
    return current(flow, call)


def finish(flow: Flow, call: CallSession) -> str:
    calls.finish(flow.services, flow.session, call)
    return flow.goodbye("Thank you for making your voice heard! We'll text you a summary. Goodbye.")


def status(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    """Twilio's call status callback: settle sessions the caller never confirmed."""
    call = _by_sid(flow.session, form)
    state = (form.get("CallStatus") or "").strip().lower()
    if call is None or not state:
        return ""
    call.call_status = state[:16]
    if state in TERMINAL:
        call.duration = _int(form.get("CallDuration")) or call.duration
        call.ended_at = call.ended_at or utcnow()
        if call.status in ("queued", "placing", "placed"):
            call.status = "unanswered"
        elif call.status == "answered":
            call.status = "unconfirmed"
        elif call.status == "confirmed":
            calls.finish(flow.services, flow.session, call)
    return ""


def incoming(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    """Someone dialed the service: known ZIP → the featured demand; else ask for a ZIP."""
    sid = (form.get("CallSid") or "").strip()
    call = _by_sid(flow.session, form)
    if call is not None:
        return current(flow, call) if call.status == "confirmed" else _resume_callin(flow, call)
    try:
        phone = subscribers.normalise_phone(form.get("From") or "")
        calls.check_caller(flow.session, flow.settings, phone, callin=True)
    except SmsError as exc:
        return flow.goodbye(exc.reply or "Sorry, calls are not available right now. Goodbye.")
    sub = subscribers.find(flow.session, phone)
    seats = calls.seats_of(flow.session, sub) if sub else []
    call = calls.open_session(flow.session, phone, sub, None, sub.zip if sub else None, [], "callin", sid[:64])
    call.answered_at, call.seats = utcnow(), [list(s) for s in seats]
    return _resume_callin(flow, call)


def _resume_callin(flow: Flow, call: CallSession, chosen: bool = False) -> str:
    """Ask what a call-in still needs (ZIP, district), then offer the featured or last demand."""
    if not call.seats:
        return ask_zip(flow, "Welcome to " + flow.settings.org_name + ".")
    if len(call.seats) > 1 and flow.settings.call_split_districts == "ask" and not chosen:
        return ask_district(flow, call)
    sub = flow.session.get(Subscriber, call.subscriber_id) if call.subscriber_id else None
    featured = flow.settings.call_featured_demand or (sub.last_demand if sub else "") or ""
    cat = catalogue.current(flow.session)
    demand = cat.demand(featured) if featured else None
    return choose_demand(flow, call, (demand or cat.demands[0]).keyword)


def choose_demand(flow: Flow, call: CallSession, keyword: str) -> str:
    demand = catalogue.current(flow.session).demand(keyword)
    seats = [(s, int(d)) for s, d in call.seats]
    plan = calls.plan(flow.session, flow.settings, demand, seats[0][0] if seats else None, seats)
    call.demand, call.targets = keyword, [t.to_dict() for t in plan.targets]
    if not plan.targets:
        return flow.goodbye("Sorry, there is no office to call about this issue from your area. Goodbye.")
    return intro(flow, call)


def ask_zip(flow: Flow, lead: str) -> str:
    gather = Gather(num_digits=5, action=flow.url("/voice/zip"), timeout=10)
    flow.say(f"{lead} Please enter your 5 digit ZIP code.", into=gather)
    flow.vr.append(gather)
    return flow.goodbye("We didn't get a ZIP code. Goodbye.")


def zip_entered(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    call = _by_sid(flow.session, form)
    if call is None or call.status != "answered":
        return flow.goodbye("Goodbye.") if call is None else current(flow, call)
    if call.seats:
        return _resume_callin(flow, call)
    place = targets.place_of(flow.session, (form.get("Digits") or "").strip())
    if place is None:
        return ask_zip(flow, "Sorry, we couldn't find that ZIP code.")
    call.zip, call.seats = place.zip, [list(s) for s in place.districts]
    sub = flow.session.get(Subscriber, call.subscriber_id) if call.subscriber_id else None
    if sub is not None:  # a texter: remember it like ZIP 02139 would
        remember_place(sub, place)
    return _resume_callin(flow, call)


def ask_district(flow: Flow, call: CallSession) -> str:
    seats = [(s, int(d)) for s, d in call.seats]
    members = {(t.state, t.district): t.spoken for t in targets.house_members(flow.session, seats)}
    gather = Gather(num_digits=1, action=flow.url("/voice/district"), timeout=8)
    options = " ".join(f"For {members.get(seat, 'the vacant seat ' + targets.district_label(*seat))}, "
                       f"press {i}." for i, seat in enumerate(seats, 1))
    flow.say(f"Your ZIP code spans {len(seats)} congressional districts. {options} To call them all, press 0.",
             into=gather)
    flow.vr.append(gather)
    return flow.goodbye("We didn't hear a choice. Goodbye.")


def district_chosen(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    call = _by_sid(flow.session, form)
    if call is None or call.status != "answered":
        return flow.goodbye("Goodbye.") if call is None else current(flow, call)
    digits = (form.get("Digits") or "").strip()
    if digits.isdigit() and 1 <= int(digits) <= len(call.seats) and len(call.seats) > 1:
        call.seats = [call.seats[int(digits) - 1]]
    elif digits != "0":
        return ask_district(flow, call) if len(call.seats) > 1 else _resume_callin(flow, call)
    return _resume_callin(flow, call, chosen=True)


def _position(arg: str) -> int:
    try:
        return int(arg)
    except (TypeError, ValueError):
        return -1


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


STEPS = {"answer": answer, "connect": connect, "next": next_target, "dialed": dialed, "status": status,
         "incoming": incoming, "zip": zip_entered, "district": district_chosen}
