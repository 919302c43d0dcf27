"""Someone dials the service number: find their ZIP (or ask by keypad), pick the demand, join the flow.

A known texter is offered the featured demand (``CALL_FEATURED_DEMAND``) or their last one,
with ``2`` for the next issue; an unknown caller types a ZIP, and a split ZIP asks which
member by keypad (or calls them all, per ``CALL_SPLIT_DISTRICTS``). From the "press 1"
prompt on, the call is the same as a call-back (``sms.calls.voice``).
"""

from __future__ import annotations

from collections.abc import Mapping

from sms.calls import sessions, voice
from sms.calls.commands import remember_place
from sms.calls.models import CallSession
from sms.calls.voice import Flow, call_sid, current
from sms.errors import SmsError
from sms.messaging import languages, subscribers
from sms.store import Subscriber, utcnow
from sms.targets import lookup


def incoming(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    """Someone dialed the service: known ZIP → the featured demand; else ask for a ZIP."""
    sid = call_sid(form)
    call = flow.find(form)
    if call is not None:
        return current(flow, call) if call.status == "confirmed" else _resume_callin(flow, call)
    if not sid:  # every call Twilio sends has a CallSid: without one there is no call to keep a session for
        return flow.goodbye("Sorry, this call cannot be taken. Goodbye.")
    try:
        phone = subscribers.normalise_phone(form.get("From") or "")
        sessions.check_caller(flow.session, flow.settings, phone, callin=True)
    except SmsError as exc:
        return flow.goodbye(exc.reply or "Sorry, calls are not available right now. Goodbye.")
    sub = subscribers.find(flow.session, phone)
    seats = sessions.seats_of(flow.session, sub) if sub else []
    call = sessions.open_session(flow.session, phone, sub, None, sub.zip if sub else None, [], "callin", sid)
    call.answered_at, call.seats = utcnow(), [list(s) for s in seats]
    flow.language = sub.language if sub is not None else None  # a texter who chose Spanish hears Spanish
    return _resume_callin(flow, call)


def _resume_callin(flow: Flow, call: CallSession, chosen: bool = False) -> str:
    """Ask what a call-in still needs (ZIP, district), then offer the featured or last demand."""
    if not call.seats:
        return ask_zip(flow, languages.translate(flow.language, "Welcome to {org}.", org=flow.settings.org_name))
    if len(call.seats) > 1 and flow.settings.call_split_districts == "ask" and not chosen:
        return ask_district(flow, call)
    sub = flow.session.get(Subscriber, call.subscriber_id) if call.subscriber_id else None
    featured = flow.settings.call_featured_demand or (sub.last_demand if sub else "") or ""
    cat = flow.stored_catalogue()
    demand = cat.demand(featured) if featured else None
    return voice.choose_demand(flow, call, (demand or cat.demands[0]).keyword)


def ask_zip(flow: Flow, lead: str) -> str:
    gather = flow.gather(num_digits=5, action=flow.url("/voice/zip"), timeout=10)
    flow.say("{lead} Please enter your 5 digit ZIP code.", into=gather, lead=lead)
    flow.vr.append(gather)
    return flow.goodbye("We didn't get a ZIP code. Goodbye.")


def zip_entered(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    call = flow.find(form)
    if call is None or call.status != "answered":
        return flow.goodbye("Goodbye.") if call is None else current(flow, call)
    if call.seats:
        return _resume_callin(flow, call)
    place = lookup.place_of(flow.session, (form.get("Digits") or "").strip())
    if place is None:
        return ask_zip(flow, languages.translate(flow.language, "Sorry, we couldn't find that ZIP code."))
    call.zip, call.seats = place.zip, [list(s) for s in place.districts]
    sub = flow.session.get(Subscriber, call.subscriber_id) if call.subscriber_id else None
    if sub is not None:  # a texter: remember it like ZIP 02139 would
        remember_place(sub, place)
    return _resume_callin(flow, call)


def ask_district(flow: Flow, call: CallSession) -> str:
    seats = [(s, int(d)) for s, d in call.seats]
    members = {(t.state, t.district): t.spoken for t in lookup.house_members(flow.session, seats)}
    gather = flow.gather(num_digits=1, action=flow.url("/voice/district"), timeout=8)
    vacant = languages.translate(flow.language, "the vacant seat {district}")
    options = " ".join(languages.translate(flow.language, "For {who}, press {i}.", i=i, who=members.get(
        seat, vacant.format(district=lookup.district_label(*seat)))) for i, seat in enumerate(seats, 1))
    flow.say("Your ZIP code spans {count} congressional districts. {options} To call them all, press 0.",
             into=gather, count=len(seats), options=options)
    flow.vr.append(gather)
    return flow.goodbye("We didn't hear a choice. Goodbye.")


def district_chosen(flow: Flow, form: Mapping[str, str], _arg: str = "") -> str:
    call = flow.find(form)
    if call is None or call.status != "answered":
        return flow.goodbye("Goodbye.") if call is None else current(flow, call)
    digits = (form.get("Digits") or "").strip()
    if digits.isdigit() and 1 <= int(digits) <= len(call.seats) and len(call.seats) > 1:
        call.seats = [call.seats[int(digits) - 1]]
    elif digits != "0":
        return ask_district(flow, call) if len(call.seats) > 1 else _resume_callin(flow, call)
    return _resume_callin(flow, call, chosen=True)

