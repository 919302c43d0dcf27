"""A call-back asked for on the web: who you'll be connected to, the guards, the call, its progress.

The same machinery as a texter's CALL (``sms.calls.commands.start``): ``sessions.check_caller``
(blocklist, opt-out, allowed countries, a call already on, the daily limit), ``sessions.plan``
(vacant seats, capped offices, stances, local sets' constituents), saturation ``routing``,
``office_hours`` (closed: a booked ``ScheduledCall`` at the first good time) and the call-back
job. Only the number typed in is ever called: the targets come from the tables, never from
the request. A split ZIP is resolved as by text: the caller picks their district (or all)
when CALL_SPLIT_DISTRICTS is ask, every candidate is called when it is all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from sms.calls import commands, later, office_hours, routing, sessions
from sms.calls.models import ScheduledCall
from sms.errors import InvalidNumber, LimitReached, SmsError, WebError
from sms.messaging import catalogue, compliance, outbound, subscribers
from sms.messaging.catalogue import DemandView
from sms.services import Services
from sms.settings import Settings
from sms.store import Subscriber, utcnow
from sms.targets import lookup
from sms.web import confirm, consent, guards, texts
from sms.web.models import WebCall

SOURCES = ("page", "widget", "api")
_ZIP = re.compile(r"^(\d{5})(?:-?\d{4})?$")
_REFUSALS = {"blocked": "err_refused", "opted out": "err_refused", "country not allowed": "err_country",
             "active": "err_active"}
"""``check_caller``'s refusals → the page's words (blocked and opted out read the same: a form must not
tell a stranger which numbers opted out)."""


@dataclass(frozen=True)
class CallRequest:
    """What a supporter sent: the form's fields and where it came from (an IP hash, never the IP)."""

    demand: str
    phone: str
    zip: str
    district: str = ""  # "", "ALL" or a seat like "MA-7"
    consent: bool = False
    lang: str = texts.DEFAULT
    page: str = ""
    ip_hash: str = ""
    source: str = "page"


@dataclass(frozen=True)
class Choice:
    """One House seat of a split ZIP, as the caller picks it."""

    value: str  # MA-7
    label: str  # Rep. Ayanna Pressley (MA-7)


@dataclass(frozen=True)
class Preview:
    """Who a caller from ``zip`` will be connected to, or the districts to choose from first."""

    zip: str
    state: str | None
    seats: tuple[tuple[str, int], ...]
    targets: tuple[lookup.Target, ...] = ()
    notes: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    plan: sessions.Plan | None = None

    @property
    def needs_district(self) -> bool:
        return bool(self.choices)


@dataclass(frozen=True)
class Started:
    """What happened to a request: ``confirm`` (a code was texted), ``calling`` or ``booked``."""

    status: str
    handle: str
    script: str = ""
    when: str = ""
    night: bool = False


def demand_of(session: Session, keyword: str) -> DemandView:
    """The active demand ``keyword`` names (keyword or alias); WebError(err_not_found, 404) otherwise."""
    demand = catalogue.current(session).demand(keyword or "")
    if demand is None:
        raise WebError("err_not_found", f"no demand {keyword[:40]!r}", status=404, keyword=keyword[:40])
    return demand


def clean_zip(text: str) -> str:
    """``02139`` from ``02139``, ``02139-1234`` or `` 02139 ``; WebError(err_zip) otherwise."""
    match = _ZIP.match((text or "").strip())
    if not match:
        raise WebError("err_zip", "bad zip", field="zip")
    return match.group(1)


def preview(session: Session, settings: Settings, demand: DemandView, zip_text: str, district: str = "") -> Preview:
    """The plan for a caller from ``zip_text`` (the SMS lookup), or the choices of a split ZIP."""
    zip_code = clean_zip(zip_text)
    place = lookup.place_of(session, zip_code)
    custom = demand.targets.startswith("custom:")
    if place is None and not custom:
        raise WebError("err_zip_unknown", "unknown zip", field="zip", zip=zip_code)
    state = place.states[0] if place else None
    seats = [] if custom or place is None else list(place.districts)
    split = len(seats) > 1 and "house" in (demand.target_order or ("house",))
    if split and settings.call_split_districts == "ask" and district.upper() != "ALL":
        chosen = lookup.parse_district(district) if district else None
        if chosen is None or chosen not in seats:
            return Preview(zip_code, state, tuple(seats), choices=_choices(session, seats))
        seats, state = [chosen], chosen[0]
    plan = sessions.plan(session, settings, demand, state, seats, zip_code=zip_code)
    notes = list(plan.notes)
    if plan.no_senators and plan.targets:
        notes.append(f"{plan.no_senators} has no senators, so you'll call your {plan.targets[0].label} instead")
    return Preview(zip_code, state, tuple(seats), tuple(plan.targets), tuple(notes), plan=plan)


def _choices(session: Session, seats: list[tuple[str, int]]) -> tuple[Choice, ...]:
    members = {(t.state, t.district): t.label for t in lookup.house_members(session, seats)}
    return tuple(Choice(lookup.district_label(*seat), f"{members.get(seat, 'Vacant seat')} "
                                                      f"({lookup.district_label(*seat)})") for seat in seats)


def start(services: Services, session: Session, request: CallRequest, token: str = "",
          confirmed: bool = False) -> Started:
    """Check a request (its form ``token`` first) and place or book its call-back, or text a code
    first; WebError says why not.

    ``confirmed``: the request comes back with its code (its token and limits were checked the first time).
    """
    settings, redis = services.settings, services.redis
    demand = demand_of(session, request.demand)
    if not confirmed:
        guards.limit_ip(redis, settings, request.ip_hash)
        request = replace(request, lang=guards.check(redis, settings, token, demand.keyword))
    try:
        phone = subscribers.normalise_phone(request.phone)
    except InvalidNumber:
        raise WebError("err_phone", "bad number", field="phone") from None
    request = replace(request, phone=phone, demand=demand.keyword)
    seen = preview(session, settings, demand, request.zip, request.district)
    if seen.needs_district:
        raise WebError("err_district", "split zip", field="district")
    check(session, settings, phone)
    plan = seen.plan
    if plan is not None and plan.outside:
        raise WebError("err_outside", "outside the set", field="zip", why=plan.outside)
    if not seen.targets:
        raise WebError("err_no_targets", "no targets", field="zip")
    if not confirmed:
        guards.limit_number(redis, settings, phone)
        if confirm.needed(services, phone):
            return Started("confirm", confirm.send_code(services, session, request), script_of(demand, seen))
    return _call(services, session, request, demand, seen, confirmed)


def check(session: Session, settings: Settings, phone: str) -> None:
    """``sessions.check_caller`` in the page's words."""
    try:
        sessions.check_caller(session, settings, phone)
    except LimitReached:
        raise WebError("err_limit", "daily limit", field="phone", status=429) from None
    except SmsError as exc:
        raise WebError(_REFUSALS.get(str(exc), "err_refused"), str(exc), field="phone", status=403) from None


def _call(services: Services, session: Session, request: CallRequest, demand: DemandView, seen: Preview,
          confirmed: bool) -> Started:
    """Open the session (or book the call for when an office opens), opt in if asked, text the script."""
    settings, now = services.settings, office_hours.clock()
    plan = seen.plan or sessions.Plan(list(seen.targets), [])
    routed, _ = routing.route(services, session, list(seen.targets), seen.zip, seen.state)
    owner = _owner(session, settings, request, demand, seen, confirmed)
    web = WebCall(demand=demand.keyword, source=request.source if request.source in SOURCES else "page",
                  page=request.page[:300], ip_hash=request.ip_hash)
    schedule = office_hours.schedule_of(session, settings, demand.targets)
    booked: ScheduledCall | None = None
    when, night = "", False
    if office_hours.closed_now(schedule, routed, now):
        booked, zone, night = _book(session, settings, request, seen, schedule, routed, now)
        web.scheduled_id, when = booked.id, office_hours.spoken_time(booked.run_at, zone, now)
    else:
        call = sessions.open_session(session, request.phone, owner, demand.keyword, seen.zip, routed,
                                     thanked=plan.thanked)
        web.session_id = call.id
    session.add(web)
    texted = _script_texts(session, settings, request, demand, seen, owner) if owner and request.consent else []
    session.commit()
    if booked is not None:
        later.enqueue(services, booked.id, booked.run_at)
    else:
        sessions.enqueue_place(services, web.session_id)
    for message_id in texted:
        outbound.enqueue_delivery(services, message_id)
    return Started("booked" if booked else "calling", web.handle, script_of(demand, seen), when, night)


def script_of(demand: DemandView, seen: Preview | None = None) -> str:
    """The script filled in for the first office the caller will reach (before a ZIP: "your lawmaker")."""
    target = seen.targets[0].spoken if seen and seen.targets else "your lawmaker"
    return commands.fill_script(demand.script, target, seen.zip if seen else None, seen.state if seen else None)


def _owner(session: Session, settings: Settings, request: CallRequest, demand: DemandView, seen: Preview,
           confirmed: bool) -> Subscriber | None:
    """The subscriber the call belongs to: opted in now (the box ticked), or a texter already; else None."""
    if not request.consent:
        known = subscribers.find(session, request.phone)
        return known if known is not None and known.status == "active" else None
    owner, _new = consent.record(session, settings, request.phone, request.lang, request.page, request.ip_hash,
                                 confirmed, lookup.place_of(session, seen.zip))
    subscribers.record_interest(session, owner, demand.keyword)
    owner.last_demand = demand.keyword
    return owner


def _book(session: Session, settings: Settings, request: CallRequest, seen: Preview, schedule: office_hours.Schedule,
          routed: list[lookup.Target], now: datetime) -> tuple[ScheduledCall, ZoneInfo, bool]:
    """Every office is closed: book the call-back for the first good time (the web form asked for a call).

    The booking keeps where the caller is (the form's ZIP and district), not a subscriber's.
    """
    zone = ZoneInfo(lookup.timezone_of(seen.state) or office_hours.EASTERN)
    run_at, night = office_hours.callback_time(settings, schedule, routed, zone, now)
    office_hours.cancel(session, request.phone)  # one booking at a time, as by text
    district = seen.seats[0][1] if len(seen.seats) == 1 else None
    row = ScheduledCall(subscriber_id=None, phone=request.phone, demand=request.demand, run_at=run_at,
                        status="scheduled", zip=seen.zip, state=seen.state, district=district, timezone=zone.key)
    session.add(row)
    session.flush()
    for hook in later.BOOKING_HOOKS:
        hook(session, row)
    return row, zone, night


def _script_texts(session: Session, settings: Settings, request: CallRequest, demand: DemandView, seen: Preview,
                  owner: Subscriber) -> list[int]:
    """The script by text for someone who ticked the box, with the opt-in disclosure; the messages' ids."""
    script = commands.script_text(demand.script, seen.targets[0].spoken, seen.zip, seen.state,
                                  settings.max_reply_segments)
    body = texts.text("sms_script", request.lang, org=settings.org_name, script=script)
    disclosure = catalogue.current(session).text("disclosure", org=settings.org_name)
    bodies = compliance.with_hint([body], disclosure, settings.max_reply_segments)
    messages = [outbound.plan(session, owner.id, request.phone, "script", text, utcnow()) for text in bodies]
    session.flush()
    return [m.id for m in messages]
