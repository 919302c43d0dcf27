"""Patch-through call sessions: plan who to call, guard against abuse, place the call-back.

A ``CallSession`` is one phone call with a supporter (a call-back we place or a call-in);
its ``CallLeg`` rows are the offices dialed during it, one per target position (and per
attempt, so a later retry against a district office is another leg). All state is in SQL,
keyed by the Twilio ``CallSid``; the voice steps in ``sms.calls.voice`` read and advance it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import Session

from sms import defaults
from sms.calls import stances
from sms.calls.models import Blocked, CallLeg, CallSession
from sms.errors import LimitReached, SmsError, TransportError
from sms.messaging import catalogue, compliance, languages, subscribers
from sms.messaging.catalogue import DemandView
from sms.services import Services
from sms.settings import Settings
from sms.store import Subscriber, utcnow
from sms.targets import kinds, lookup, targeting, terms
from sms.transport import CallRecord

log = logging.getLogger(__name__)
ACTIVE = ("queued", "placing", "placed", "answered", "confirmed")
OUTCOMES = {"completed": "connected", "answered": "connected", "busy": "busy", "no-answer": "no-answer",
            "failed": "failed", "canceled": "canceled"}
"""Twilio DialCallStatus → leg outcome (skipped and hangup are set by the flow)."""
NO_ANSWER = "no answer from Twilio"
"""Error of a call-back whose REST request got no answer: Twilio may still ring the texter."""
COULD_NOT_PLACE = "Sorry, we couldn't place your call just now. Reply CALL to try again."
ENDED = ("completed", "busy", "no-answer", "failed", "canceled")
"""Twilio call statuses after which nothing more happens on the call."""
CLOCK_SKEW = timedelta(minutes=1)
"""Twilio's clock may differ from ours: a settled session asks for calls from a bit before it began."""


def erase_calls(session: Session, subscriber_id: int) -> None:
    """DELETE / retention: drop the ZIP from the subscriber's call sessions (the legs name only offices)."""
    session.execute(update(CallSession).where(CallSession.subscriber_id == subscriber_id).values(zip=None, seats=[]))



@dataclass(frozen=True)
class Plan:
    """Who a caller will be connected to, and what could not be included."""

    targets: list[lookup.Target]
    notes: list[str]
    thanked: frozenset[str] = frozenset()
    outside: str = ""
    """Why a local set takes no call from this caller (``The Louisville Metro Council takes calls from ...``)."""
    instead: str = ""
    """The demand (calling Congress) offered to a caller the local set takes no call from, if any."""
    no_senators: str = ""
    """DC or the territory whose delegate stands in for the senators of a Senate-only demand."""
    gaps: tuple[tuple[str, dict[str, str]], ...] = ()
    """A mayor or a county's/city's official not found for this caller: (English line, values) to tell them."""


def districts_of(subscriber: Subscriber) -> tuple[str | None, str | None, str | None, str | None]:
    """The texter's state senate and house districts, county FIPS and place GEOID, when known."""
    return subscriber.state_upper, subscriber.state_lower, subscriber.county_fips, subscriber.place_geoid


def seats_of(session: Session, subscriber: Subscriber) -> list[tuple[str, int]]:
    """The House seat(s) for a subscriber: the chosen district, else every candidate of the ZIP."""
    if subscriber.state and subscriber.district is not None:
        return [(subscriber.state, subscriber.district)]
    place = lookup.place_of(session, subscriber.zip or "")
    return list(place.districts) if place else []


def plan(session: Session, settings: Settings, demand: DemandView, state: str | None,
         seats: list[tuple[str, int]], now: datetime | None = None, zip_code: str | None = None,
         districts: tuple[str | None, ...] = (None, None)) -> Plan:
    """The targets for ``demand``, every level in its order (``sms.targets.targeting``); vacant seats
    and offices at their daily cap are left out, and so are members whose term has ended when
    CALL_ENDED_TERMS is skip (each with a note). A local set that takes calls only from its
    constituents plans no one for others (``outside`` says why). ``districts``: the texter's state
    senate and house districts, county FIPS and place GEOID when known (chosen, or found from their
    address); ``gaps`` says which mayor or county/city official was not found (skipped, never guessed)."""
    only = kinds.only_custom(demand.targets)
    if only is not None:
        refused = _outside(session, only, zip_code, state)
        if refused is not None:
            return refused
    where = targeting.Where(zip_code, state, seats, *districts)
    chosen = targeting.for_demand(session, demand.targets, demand.target_order, where)
    chosen, ended = _without_ended_terms(session, settings, chosen, now or terms.clock())
    screened = stances.screen(session, demand.keyword, chosen)
    chosen, notes = screened.targets, ended + list(screened.notes)
    found = kinds.of(demand.targets, demand.target_order)
    congress = "house" in found or "senate" in found
    if "house" in found:
        notes += [f"{lookup.district_label(s, d)} is vacant" for s, d in seats if lookup.is_vacant(session, s, d)]
    cap = settings.call_target_cap_per_day
    if cap:
        since = (now or utcnow()) - timedelta(days=1)
        full = [t for t in chosen if _legs_today(session, t.ref, since) >= cap]
        notes += [f"{t.label} has had all the calls we can send today" for t in full]
        chosen = [t for t in chosen if t not in full]
    stand_in = congress and lookup.delegate_instead(tuple(k for k in found if k in kinds.CONGRESS), state)
    return Plan(chosen, notes, screened.thanked, no_senators=lookup.PLACE_NAMES[state] if stand_in else "",
                gaps=tuple(targeting.gaps(session, demand.targets, demand.target_order, where)))


def _outside(session: Session, set_name: str, zip_code: str | None, state: str | None) -> Plan | None:
    """The empty plan of a caller a local set takes no call from (with the Congress demand offered
    instead, if the set names one); None if the set takes their call."""
    rules = lookup.set_rules(session, set_name)
    if rules is None or rules.admits(zip_code, state):
        return None
    other = catalogue.current(session).demand(rules.others) if rules.others else None
    instead = other.keyword if other is not None and kinds.only_custom(other.targets) is None else ""
    return Plan([], [], outside=rules.refusal, instead=instead)


def _without_ended_terms(session: Session, settings: Settings, chosen: list[lookup.Target],
                         now: datetime) -> tuple[list[lookup.Target], list[str]]:
    """With CALL_ENDED_TERMS=skip, leave out members whose term ended (nobody after them in the data).

    The default (dial) keeps calling them: the seat's DC number usually stays with the staff who
    answer for the seat until the successor's office opens, and the console warns organizers.
    """
    if settings.call_ended_terms != "skip":
        return chosen, []
    ended = lookup.ended_terms(session, chosen, now)
    notes = [f"{t.label}'s term ended {terms.spoken_date(ended[t.ref])}" for t in chosen if t.ref in ended]
    return [t for t in chosen if t.ref not in ended], notes


def _legs_today(session: Session, ref: str, since: datetime) -> int:
    return session.scalar(select(func.count(CallLeg.id)).where(
        CallLeg.ref == ref, CallLeg.started_at >= since, CallLeg.outcome != "skipped")) or 0


def placed_after_all(call: CallSession) -> bool:
    """A call-back marked failed because Twilio did not answer the request, which Twilio did place."""
    return call.status == "failed" and call.call_sid is None and (call.error or "").startswith(NO_ANSWER)


def check_caller(session: Session, settings: Settings, phone: str, now: datetime | None = None,
                 callin: bool = False) -> None:
    """Raise SmsError (with the reply to send) if ``phone`` may not start a call session now.

    A call-in was placed by the caller, so opt-out, country and "already calling" do not
    apply; the blocklist and the daily limit do (each session dials offices on our bill).
    """
    if session.get(Blocked, phone) is not None:
        raise SmsError("blocked", reply="Sorry, calls are not available for this number.")
    now = now or utcnow()
    if not callin:
        _check_callback(session, settings, phone, now)
    limit = settings.call_limit_per_day
    today = session.scalar(select(func.count(CallSession.id)).where(
        CallSession.phone == phone, CallSession.created_at >= now - timedelta(days=1))) or 0
    if limit and today >= limit:
        raise LimitReached(f"{today} sessions today")


def _check_callback(session: Session, settings: Settings, phone: str, now: datetime) -> None:
    if not compliance.may_message(session, phone):
        raise SmsError("opted out", reply="")
    if not country_allowed(settings, phone):
        raise SmsError("country not allowed", reply="Sorry, we can only call phone numbers in the US.")
    active = session.scalar(select(CallSession.id).where(
        CallSession.phone == phone, CallSession.status.in_(ACTIVE),
        CallSession.created_at >= now - timedelta(minutes=defaults.CALL_ACTIVE_MINUTES)).limit(1))
    if active is not None:
        raise SmsError("active", reply="We're already calling you - please pick up! Reply CALL again later.")


US_REGIONS = frozenset({"US", "PR", "GU", "VI", "AS", "MP"})
"""The United States in phonenumbers' regions: its territories' +1 numbers (787/939, 671, 340, 684, 670)."""


def country_allowed(settings: Settings, phone: str) -> bool:
    """True if ``phone`` is in an allowed country (``US`` covers DC and the territories, which have their
    own regions). +1 covers Caribbean countries too (a toll-fraud favourite), so the region must resolve;
    fictional +1 555 numbers pass only offline (outbox mode)."""
    region = subscribers.region_of(phone)
    if region is None and settings.outbox_mode and phone.startswith("+1"):
        region = "US"
    allowed = settings.call_allowed_countries
    return region in allowed or ("US" in allowed and region in US_REGIONS)


def open_session(session: Session, phone: str, subscriber: Subscriber | None, demand: str | None,
                 zip_code: str | None, chosen: list[lookup.Target], direction: str = "callback",
                 call_sid: str | None = None, thanked: frozenset[str] = frozenset()) -> CallSession:
    call = CallSession(phone=phone, subscriber_id=subscriber.id if subscriber else None, demand=demand,
                       zip=zip_code, targets=stored(chosen, thanked), direction=direction,
                       call_sid=call_sid, status="queued" if direction == "callback" else "answered")
    session.add(call)
    session.flush()
    return call


def stored(chosen: list[lookup.Target], thanked: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Targets as kept in a session's JSON; supporters to thank carry ``script: thank``."""
    return [{**t.to_dict(), **({"script": "thank"} if member_ref(t) in thanked else {})} for t in chosen]


def member_ref(target: lookup.Target) -> str:
    """The person behind a target: a bioguide (a district office's member's) or an Open States person id."""
    return target.member


def enqueue_place(services: Services, session_id: int, at: datetime | None = None) -> None:

    services.enqueue("high", "sms.tasks.place_call", session_id, job_id=f"call-{session_id}", at=at)


def place(services: Services, session_id: int) -> str:
    """Place the call-back for a queued session once (a repeated job finds it claimed and stops).

    Twilio refusing the request (429/5xx) is retried with back-off inside the place window;
    a request with no answer stays ``placing`` until ``sweep`` asks Twilio whether it placed
    the call (it may be ringing the texter already).
    """
    with services.db.session() as session:
        claimed = session.execute(update(CallSession).where(
            CallSession.id == session_id, CallSession.status == "queued").values(
            status="placing", place_at=utcnow())).rowcount
        session.commit()
        call = session.get(CallSession, session_id)
        if not claimed or call is None:
            return "already placed"
        if not compliance.may_message(session, call.phone) or session.get(Blocked, call.phone) is not None:
            call.status, call.error = "canceled", "opted out or blocked before the call"
            session.commit()
            return "canceled"
        answer_url = services.url(f"/voice/answer?s={call.token}")
        session.commit()  # no transaction held open across the network call
        try:
            sid = services.transport.place_call(call.phone, answer_url, services.url("/voice/status"))
        except TransportError as exc:
            return _place_failed(services, session, call, exc)
        # Twilio may fetch the answer URL (which binds the CallSid and moves the session on)
        # before this commit: only a session still "placing" becomes "placed".
        placed = session.execute(update(CallSession).where(
            CallSession.id == session_id, CallSession.status == "placing").values(
            status="placed", call_sid=sid, place_at=None)).rowcount
        session.commit()
        return "placed" if placed else "answered first"


def _place_failed(services: Services, session: Session, call: CallSession, exc: TransportError) -> str:
    log.warning("call-back to %s failed: %s", compliance.mask(call.phone), exc.code or exc.status or exc)
    if exc.outcome_unknown:
        # Twilio may be ringing the texter: stay ``placing`` for ``sweep`` to ask before anything else.
        call.error = f"{NO_ANSWER}: {exc}"[:200]
        session.commit()
        return "unknown"
    retry_at = utcnow() + timedelta(seconds=exc.retry_delay(call.place_attempts))
    window_ends = call.created_at + timedelta(seconds=defaults.CALL_PLACE_WINDOW_SECONDS)
    if exc.retryable and retry_at < window_ends:
        call.status, call.place_attempts, call.place_at = "queued", call.place_attempts + 1, retry_at
        call.error = f"{exc.code or exc.status} {exc}"[:200]
        session.commit()
        enqueue_place(services, call.id, retry_at)
        return "retrying"
    subscriber = session.get(Subscriber, call.subscriber_id) if call.subscriber_id else None
    if exc.opted_out and subscriber is not None:
        compliance.opt_out(session, subscriber, f"twilio-{exc.code}")
    call.status, call.error = "failed", f"{exc.code or exc.status} {exc}"[:200]
    session.commit()
    send_text(services, session, call, COULD_NOT_PLACE)
    return "failed"


def placing_stale() -> timedelta:
    """How long a session stays ``placing`` before ``sweep`` asks Twilio about it: longer than a live
    request can take (twice the REST timeout), yet short enough to place the call again in the window."""
    return timedelta(seconds=min(2 * defaults.TWILIO_TIMEOUT_SECONDS, defaults.CALL_PLACE_WINDOW_SECONDS / 4))


def sweep(services: Services, now: datetime | None = None) -> dict[str, int]:
    """Redis may lose the place job: re-enqueue young queued sessions, expire old ones.

    A session stuck in ``placing`` (a worker died mid-request, or Twilio never answered it)
    is settled by asking Twilio which calls it placed, never placed again blind: Twilio may
    already be ringing the texter, and two calls are worse than none.
    """
    now = now or utcnow()
    window = timedelta(seconds=defaults.CALL_PLACE_WINDOW_SECONDS)
    grace = now - timedelta(seconds=defaults.SWEEP_GRACE_SECONDS // 4)
    stale = now - placing_stale()
    with services.db.session() as session:
        expired = session.execute(update(CallSession).where(
            CallSession.status == "queued", CallSession.created_at < now - window).values(
            status="expired", error="not placed in time")).rowcount
        stuck = list(session.scalars(select(CallSession.id).where(
            CallSession.status == "placing",
            (CallSession.place_at.is_(None) & (CallSession.created_at < stale)) | (CallSession.place_at < stale))))
        retry = list(session.scalars(select(CallSession.id).where(
            CallSession.status == "queued", CallSession.created_at < grace,
            (CallSession.place_at.is_(None)) | (CallSession.place_at < grace))))
        session.commit()
    for session_id in retry:
        enqueue_place(services, session_id)
    counts = {"requeued": len(retry), "expired": expired, "settled": 0, "replaced": 0, "unknown": 0, "lost": 0}
    for session_id in stuck:
        outcome = settle(services, session_id, now)
        if outcome:
            counts[outcome] += 1
    return counts


def settle(services: Services, session_id: int, now: datetime | None = None) -> str | None:
    """Settle a call-back stuck in ``placing``: bind the call Twilio placed, else place it again inside
    the window, else fail it and tell the texter. Returns what happened (None: it had moved on)."""
    now = now or utcnow()
    with services.db.session() as session:
        call = session.get(CallSession, session_id)
        if call is None or call.status != "placing":
            return None
        in_window = now < call.created_at + timedelta(seconds=defaults.CALL_PLACE_WINDOW_SECONDS)
        try:
            found = services.transport.find_calls(call.phone, call.created_at - CLOCK_SKEW)
        except TransportError:
            if in_window:
                return "unknown"  # ask again at the next sweep; never place blind
            return _give_up(services, session, call, f"{NO_ANSWER}: could not ask whether it was placed")
        record = _unbound(session, found)
        if record is not None:
            return _bind(session, call, record)
        if not in_window:
            return _give_up(services, session, call, f"{NO_ANSWER}: no call to the texter found")
        requeued = session.execute(update(CallSession).where(
            CallSession.id == session_id, CallSession.status == "placing").values(
            status="queued", place_at=None)).rowcount
        session.commit()
        if not requeued:
            return None
        enqueue_place(services, session_id)
        return "replaced"


def _unbound(session: Session, found: list[CallRecord]) -> CallRecord | None:
    """The earliest call not already bound to another session (an earlier call-back to the same number)."""
    bound = set(session.scalars(select(CallSession.call_sid).where(CallSession.call_sid.in_([c.sid for c in found]))))
    fresh = [c for c in found if c.sid not in bound]
    return min(fresh, key=lambda c: c.created_at or utcnow()) if fresh else None


def _bind(session: Session, call: CallSession, record: CallRecord) -> str | None:
    """The call was placed: keep its CallSid. An ended call nobody answered is settled as unanswered."""
    ended = record.status in ENDED
    values: dict[str, Any] = {"status": "unanswered" if ended else "placed", "call_sid": record.sid,
                              "call_status": record.status, "place_at": None}
    if ended:
        values["ended_at"] = utcnow()
    bound = session.execute(update(CallSession).where(
        CallSession.id == call.id, CallSession.status == "placing").values(**values)).rowcount
    session.commit()
    return "settled" if bound else None


def _give_up(services: Services, session: Session, call: CallSession, reason: str) -> str | None:
    """Past the place window: fail the session once and tell the texter (a late answer still proceeds)."""
    failed = session.execute(update(CallSession).where(
        CallSession.id == call.id, CallSession.status == "placing").values(
        status="failed", error=reason[:200], place_at=None)).rowcount
    session.commit()
    if not failed:
        return None
    session.refresh(call)
    send_text(services, session, call, COULD_NOT_PLACE)
    return "lost"


def send_text(services: Services, session: Session, call: CallSession, body: str, kind: str = "call") -> None:
    """A durable text to the caller (opt-out checked again when it is delivered)."""
    from sms.messaging import outbound

    message = outbound.plan(session, call.subscriber_id, call.phone, kind, body, utcnow())
    session.commit()
    outbound.enqueue_delivery(services, message.id)


def summary_text(legs: list[CallLeg], shown: int | None = None, language: str | None = None) -> str:
    """The after-call text: offices reached and offices missed (``shown`` names of each, then "and N more")."""
    def t(source: str, **values: object) -> str:
        return languages.translate(language, source, **values)

    reached = [leg.label for leg in legs if leg.outcome == "connected"]
    members = {label.split(",")[0] for label in reached}  # a member reached at a district office was reached
    missed = list(dict.fromkeys(leg.label for leg in legs if leg.outcome != "connected"
                                and leg.label.split(",")[0] not in members))
    if not reached:
        return t("Thanks for trying! We couldn't reach any office this time. Reply CALL to try again.")
    text = t("Thank you for calling! You reached {who}.", who=_names(reached, shown, t))
    if missed:
        text += " " + t("Not reached: {who}. Reply CALL to try again.", who=_names(missed, shown, t))
    return text


def _names(labels: list[str], shown: int | None, t: Callable[..., str]) -> str:
    if shown is None or len(labels) <= shown:
        return ", ".join(labels)
    more = len(labels) - shown
    if shown:
        return ", ".join(labels[:shown]) + t(" and {count} more", count=more)
    return t("{count} offices", count=more) if more > 1 else t("1 office")


def legs_of(session: Session, call: CallSession) -> list[CallLeg]:
    return list(session.scalars(_legs_statement(), {"session_id": call.id}))


@functools.cache
def _legs_statement() -> Select[tuple[CallLeg]]:
    """Built once: a call's end reads its legs several times, and building it cost more than running it."""
    return select(CallLeg).where(CallLeg.session_id == bindparam("session_id")).order_by(CallLeg.position,
                                                                                         CallLeg.attempt)
