"""The texts that start a call: ``CALL [KEYWORD]``, ``ZIP 02139``, ``DISTRICT MA-7`` and their questions.

``CALL`` walks what it needs in order (which demand, the ZIP, which House member for a
split ZIP), asking one question at a time, then opens a call session and queues the
call-back on the ``high`` queue once the conversation is committed.
"""

from __future__ import annotations

import re

from sms.calls import later, office_hours, routing, sessions, stances
from sms.errors import InvalidZip, SmsError
from sms.messaging import compliance, encoding, subscribers
from sms.messaging.catalogue import DemandView, keyword_key
from sms.messaging.conversation import Turn, Words
from sms.store import Subscriber
from sms.targets import lookup

ASK_ZIP = "What's your ZIP code? Reply with 5 digits so we can connect you to your own lawmakers."
ASK_DEMAND = "Which issue do you want to call about? Reply a keyword like CHOKEHOLD, or MENU for the list."
DISTRICT_HELP = "Reply DISTRICT with your state and district, e.g. DISTRICT MA-7 (DISTRICT AK for at-large)."


words = Words()
"""CALL, ZIP, DISTRICT and the questions they ask (ZIP, demand, district)."""


@words.command("CALL")
def call(turn: Turn, rest: str) -> None:
    """``CALL`` (last demand) or ``CALL CHOKEHOLD``."""
    now = office_hours.clock()
    wanted = office_hours.parse_when(rest, compliance.subscriber_zone(turn.subscriber), now) if rest else None
    if wanted is not None:
        if not turn.subscriber.last_demand:
            return turn.say("Which issue should we call you about? Text its keyword first (e.g. CHOKEHOLD), "
                            f"then CALL {rest.strip().upper()[:12]}.")
        booked = turn.catalogue.demand(turn.subscriber.last_demand)
        if booked is not None and refused_locally(turn, booked, rest):
            return None
        return later.schedule(turn, turn.subscriber.last_demand, wanted, now)
    keyword = keyword_key(rest) if rest else (turn.subscriber.last_demand or "")
    demand = turn.catalogue.demand(keyword) if keyword else None
    if demand is not None and rest:
        subscribers.record_interest(turn.session, turn.subscriber, demand.keyword)
    if demand is None:
        turn.ask("call_demand")
        prefix = f"We don't have an issue called {rest.strip()[:20]}. " if rest else ""
        return turn.say(prefix + ASK_DEMAND)
    proceed(turn, demand)


def proceed(turn: Turn, demand: DemandView) -> None:
    """Ask for what is missing (ZIP, district choice) or open the call session."""
    sub = turn.subscriber
    sub.last_demand = demand.keyword
    if demand.targets.startswith("custom:"):
        rules = lookup.set_rules(turn.session, demand.targets.split(":", 1)[1])
        if rules is not None and rules.limited and not sub.zip:  # only constituents: where are they?
            turn.ask("call_zip", demand=demand.keyword)
            return turn.say(f"What's your ZIP code? {rules.refusal}. Reply with 5 digits.")
        return start(turn, demand, [])
    seats = sessions.seats_of(turn.session, sub)
    if not seats:
        turn.ask("call_zip", demand=demand.keyword)
        return turn.say(ASK_ZIP)
    split = len(seats) > 1 and "house" in (demand.target_order or ("house",))
    if split and turn.settings.call_split_districts == "ask":
        return ask_district(turn, demand, seats)
    start(turn, demand, seats)


def ask_district(turn: Turn, demand: DemandView, seats: list[tuple[str, int]]) -> None:
    members = {(t.state, t.district): t.label for t in lookup.house_members(turn.session, seats)}
    turn.ask("call_district", demand=demand.keyword, seats=[list(s) for s in seats])
    for named in (True, False):  # names if they fit in two segments, else district labels only
        choices = [f"{i} {members.get(seat, 'vacant seat') + ' (' if named else ''}{lookup.district_label(*seat)}"
                   f"{')' if named else ''}" for i, seat in enumerate(seats, 1)]
        text = (f"ZIP {turn.subscriber.zip} spans {len(seats)} districts. Who is your Rep? Reply "
                + ", ".join(choices) + ", or ALL to call every one.")
        if encoding.count(encoding.gsm_safe(text)).segments <= 2:
            break
    turn.say(text)


def start(turn: Turn, demand: DemandView, seats: list[tuple[str, int]], delegate_ok: bool = False) -> None:
    """Check the caller, plan the targets, open the session and say who will be called."""
    turn.ask(None)
    sub = turn.subscriber
    try:
        sessions.check_caller(turn.session, turn.settings, sub.phone)
    except SmsError as exc:
        return turn.say(exc.reply) if exc.reply else None
    state = seats[0][0] if seats else sub.state
    plan = sessions.plan(turn.session, turn.settings, demand, state, seats, zip_code=sub.zip)
    if plan.outside:
        return offer_instead(turn, demand, plan)
    if plan.no_senators and plan.targets and not delegate_ok:
        return offer_delegate(turn, demand, seats, plan)
    if not plan.targets:
        why = f" ({'; '.join(plan.notes)})" if plan.notes else ""
        return turn.say(f"Sorry, there's no office for you to call about {demand.keyword} right now{why}. "
                        "Reply MENU for other ways to act.")
    services = turn.services
    if services is not None:
        routed, notes = routing.route(services, turn.session, plan.targets, sub.zip, state)
        plan = sessions.Plan(routed, plan.notes + notes, plan.thanked)
    now, schedule = office_hours.clock(), office_hours.schedule_of(turn.session, turn.settings, demand.targets)
    if office_hours.closed_now(schedule, plan.targets, now):
        zone = compliance.subscriber_zone(sub)
        run_at, night = office_hours.callback_time(turn.settings, schedule, plan.targets, zone, now)
        return later.offer(turn, demand.keyword, run_at, office_hours.spoken_time(run_at, zone, now), night)
    open_call(turn, demand, plan)


def open_call(turn: Turn, demand: DemandView, plan: sessions.Plan) -> None:
    """Open the session, say who will be called and the script, and queue the call-back after the commit."""
    sub = turn.subscriber
    session = sessions.open_session(turn.session, sub.phone, sub, demand.keyword, sub.zip, plan.targets,
                                    thanked=plan.thanked)
    turn.say(calling_text(plan))
    first = plan.targets[0]
    script = stances.thank_script(turn.session, demand.keyword) if sessions.member_ref(first) in plan.thanked \
        else demand.script
    turn.say("Your script: " + fill_script(script, first.spoken, sub.zip, sub.state))
    services = turn.services
    if services is not None:
        turn.after_commit.append(lambda: sessions.enqueue_place(services, session.id))


def refused_locally(turn: Turn, demand: DemandView, rest: str) -> bool:
    """``CALL 9AM`` about a local set that takes no call from this texter: say why and return True."""
    if not demand.targets.startswith("custom:"):
        return False
    sub = turn.subscriber
    plan = sessions.plan(turn.session, turn.settings, demand, sub.state, [], zip_code=sub.zip)
    if not plan.outside:
        return False
    if sub.zip:
        offer_instead(turn, demand, plan)
    else:
        turn.say(f"{plan.outside}. Text ZIP and your 5-digit ZIP code first, then CALL {rest.strip().upper()[:12]} "
                 "again.")
    return True


def offer_instead(turn: Turn, demand: DemandView, plan: sessions.Plan) -> None:
    """A local set takes no call from this texter: say why, and offer the demand's Congress call if it has one."""
    if not plan.instead:
        return turn.say(f"{plan.outside}, so there's no office for you to call about {demand.keyword}. "
                        "Reply MENU for other ways to act.")
    turn.ask("call_instead", demand=plan.instead, delegate=False)
    turn.say(f"{plan.outside}. Reply YES to call your members of Congress about {plan.instead} instead.")


def offer_delegate(turn: Turn, demand: DemandView, seats: list[tuple[str, int]], plan: sessions.Plan) -> None:
    """A Senate-only demand from DC or a territory: they have no senators, so offer their delegate."""
    delegate = plan.targets[0]
    title = lookup.SPOKEN_TITLES.get(delegate.title, delegate.title)
    turn.ask("call_instead", demand=demand.keyword, delegate=True, seats=[list(s) for s in seats])
    place = plan.no_senators[0].upper() + plan.no_senators[1:]
    turn.say(f"{place} has no senators. Reply YES to call your {title}, {delegate.name}, about {demand.keyword} "
             "instead.")


@words.answer("call_instead")
def answer_instead(turn: Turn) -> bool:
    """YES to the delegate standing in for senators, or to a Congress call instead of a local set's."""
    data = turn.conversation.data or {}
    demand = turn.catalogue.demand(data.get("demand", ""))
    if turn.key not in ("YES", "Y", "OK", "SURE") or demand is None:
        return False
    if data.get("delegate"):
        start(turn, demand, [(s, int(d)) for s, d in data.get("seats", [])], delegate_ok=True)
    else:
        turn.ask(None)
        proceed(turn, demand)
    return True


def calling_text(plan: sessions.Plan) -> str:
    """``Calling you now to connect you with Rep. X, Sen. Y, Sen. Z.`` within two SMS segments."""
    labels = [t.label for t in plan.targets]
    notes = f" ({'; '.join(plan.notes)}.)" if plan.notes else ""
    for shown in range(len(labels), 0, -1):
        more = f" and {len(labels) - shown} more" if shown < len(labels) else ""
        text = f"Calling you now to connect you with {', '.join(labels[:shown])}{more}.{notes}"
        if encoding.count(encoding.gsm_safe(text)).segments <= 2:
            return text
    return f"Calling you now to connect you with {len(labels)} offices."


def fill_script(script: str, target: str, zip_code: str | None, state: str | None) -> str:
    values = {"target": target, "zip": zip_code or "my community", "caller_city": state or "my community"}
    return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), script)


def set_zip(turn: Turn, zip_code: str) -> lookup.Place | None:
    """Remember a known ZIP with its state, timezone and (if not split) district."""
    place = lookup.place_of(turn.session, zip_code)
    if place is not None:
        remember_place(turn.subscriber, place)
    return place


def remember_place(sub: Subscriber, place: lookup.Place) -> None:
    sub.zip, sub.state = place.zip, place.states[0]
    sub.district = None if place.split else place.districts[0][1]
    sub.timezone = lookup.timezone_of(sub.state) or sub.timezone


def _zip_reply(turn: Turn, text: str) -> lookup.Place | None:
    """Validate and save a ZIP; on a problem say why and return None."""
    if not lookup.valid_zip(text):
        turn.say(InvalidZip.reply)
        return None
    place = set_zip(turn, text)
    if place is None:
        turn.say(f"We couldn't find ZIP {text}. Check it and reply again, or text your district, e.g. "
                 "DISTRICT MA-7.")
    return place


@words.command("ZIP", "ZIPCODE")
def zip_command(turn: Turn, rest: str) -> None:
    place = _zip_reply(turn, keyword_key(rest))
    if place is None:
        return
    pending = (turn.conversation.data or {}).get("demand") if turn.conversation.pending == "call_zip" else None
    demand = turn.catalogue.demand(pending) if pending else None
    if demand is not None:
        return proceed(turn, demand)
    where = " or ".join(lookup.district_label(*seat) for seat in place.districts)
    hint = " Text DISTRICT with yours to choose." if place.split else ""
    turn.say(f"Thanks, we saved ZIP {place.zip} ({where}).{hint} Reply CALL to be connected.")


@words.answer("call_zip")
def answer_zip(turn: Turn) -> bool:
    found = re.search(r"\b\d{5}\b", turn.text)
    if found is None and not any(ch.isdigit() for ch in turn.key):
        return False
    if _zip_reply(turn, found.group() if found else turn.key) is not None:
        demand = turn.catalogue.demand(turn.conversation.data.get("demand", ""))
        if demand is not None:
            proceed(turn, demand)
    return True


@words.answer("call_demand")
def answer_demand(turn: Turn) -> bool:
    demand = turn.catalogue.demand(turn.key)
    if demand is None:
        return False
    proceed(turn, demand)
    return True


@words.answer("call_district")
def answer_district(turn: Turn) -> bool:
    data = turn.conversation.data or {}
    seats = [(s, int(d)) for s, d in data.get("seats", [])]
    demand = turn.catalogue.demand(data.get("demand", ""))
    if demand is None or not seats:
        return False
    if turn.key in ("ALL", "BOTH", "EVERYONE"):
        start(turn, demand, seats)
        return True
    if not turn.key.isdigit() or not 1 <= int(turn.key) <= len(seats):
        return False
    state, district = seats[int(turn.key) - 1]
    turn.subscriber.state, turn.subscriber.district = state, district
    start(turn, demand, [(state, district)])
    return True


@words.command("DISTRICT")
def district_command(turn: Turn, rest: str) -> None:
    """``DISTRICT MA-7`` overrides the district found from the ZIP."""
    seat = lookup.parse_district(rest)
    if seat is None or not lookup.seat_exists(turn.session, *seat):
        return turn.say(("We don't know that district. " if rest else "") + DISTRICT_HELP)
    sub = turn.subscriber
    sub.state, sub.district = seat
    sub.timezone = lookup.timezone_of(sub.state) or sub.timezone
    members = lookup.house_members(turn.session, [seat])
    who = members[0].label if members else "a vacant seat"
    turn.say(f"Got it: you're in {lookup.district_label(*seat)} ({who}). Reply CALL to be connected.")
