"""Call-backs for later: ``YES`` to an office-hours offer, ``CALL 9AM``, ``CALL TOMORROW``, ``CANCEL CALL``.

The row is written first, then the RQ job is enqueued at ``run_at`` after the commit;
``sweep`` re-enqueues rows whose job Redis lost. At run time everything is checked
again (opt-out, blocklist, daily limit, quiet hours) and the targets are planned fresh.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from rq.job import Job
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms.calls import office_hours, routing, sessions
from sms.calls.models import ScheduledCall
from sms.errors import SmsError
from sms.messaging import catalogue, compliance
from sms.messaging.catalogue import DemandView
from sms.messaging.conversation import Turn, Words
from sms.services import Services
from sms.settings import Settings
from sms.store import Subscriber, utcnow
from sms.targets import lookup, targeting

log = logging.getLogger(__name__)
LATE = timedelta(hours=2)
"""A call-back this far past its time (workers down) is expired, not placed out of the blue."""


words = Words()
"""CANCEL CALL and the answer to a call-back offer."""
BOOKING_HOOKS: list[Callable[[Session, ScheduledCall], None]] = []
"""Called with (session, booking) in the same transaction when a call-back is booked for later (e.g. the
event log); filled by ``sms.features.install``."""


def cancel_on_opt_out(session, subscriber: Subscriber) -> None:  # noqa: ANN001
    """An opt-out cancels the texter's offered or booked call-backs (an opt-out hook)."""
    office_hours.cancel(session, subscriber.phone)


def offer(turn: Turn, demand: str, run_at: datetime, zone_label: str, night: bool = False) -> None:
    """Every office is closed: offer a call-back when they open (the caller must say YES); ``night``: the
    offices are never open in the caller's daytime, so the call would come in their night."""
    row = ScheduledCall(subscriber_id=turn.subscriber.id, phone=turn.subscriber.phone, demand=demand,
                        run_at=run_at, status="offered")
    turn.session.add(row)
    turn.session.flush()
    turn.ask("call_later", scheduled=row.id)
    if night:
        return turn.say(turn.t("The offices are closed right now and open only during your night. Reply YES for a "
                               "call at {time}, when they open, or text CALL while they're open.", time=zone_label))
    turn.say(turn.t("The offices are closed right now. Reply YES for a call at {time}.", time=zone_label))


@words.answer("call_later")
def answer_offer(turn: Turn) -> bool:
    if turn.key not in ("YES", "Y", "OK", "SURE", "SI", "VALE", "CLARO"):
        return False
    row = turn.session.get(ScheduledCall, int((turn.conversation.data or {}).get("scheduled", 0)))
    turn.ask(None)
    if row is None or row.status != "offered":
        turn.say(turn.t("That call-back has expired. Reply CALL to try again."))
        return True
    row.status = "scheduled"
    _booked(turn, row)
    turn.say(turn.t("You're booked: we'll call you then. Reply CANCEL CALL to cancel."))
    return True


def schedule(turn: Turn, demand: str, wanted: datetime, now: datetime | None = None) -> None:
    """``CALL 9AM``: book a call at the first good moment from ``wanted`` (offices open, caller's daytime)."""
    now = now or utcnow()
    zone = compliance.subscriber_zone(turn.subscriber)
    view = turn.catalogue.demand(demand)
    schedule, sample = _hours_and_targets(turn.session, turn.settings, view, turn.subscriber)
    run_at, night = office_hours.callback_time(turn.settings, schedule, sample, zone, wanted)
    office_hours.cancel(turn.session, turn.subscriber.phone)  # one booking at a time
    row = ScheduledCall(subscriber_id=turn.subscriber.id, phone=turn.subscriber.phone, demand=demand,
                        run_at=run_at, status="scheduled")
    turn.session.add(row)
    turn.session.flush()
    _booked(turn, row)
    moved = "" if run_at == wanted else turn.t(" (the first time the offices are open and it's daytime for you)")
    if night:
        moved = turn.t(" (when the offices open: they're open only during your night)")
    turn.say(turn.t("OK: we'll call you about {keyword} at {time}{moved}. Reply CANCEL CALL to cancel.",
                    keyword=demand, time=office_hours.spoken_time(run_at, zone, now, turn.language), moved=moved))


def _hours_and_targets(session: Session, settings: Settings, demand: DemandView | None,
                       sub: Subscriber | None) -> tuple[office_hours.Schedule, list[lookup.Target]]:
    """The office hours of ``demand`` and the offices it would call for ``sub`` (for their hours)."""
    if demand is None or sub is None:
        return office_hours.Schedule(None), []
    seats = sessions.seats_of(session, sub)
    where = targeting.Where(sub.zip, seats[0][0] if seats else sub.state, seats, *sessions.districts_of(sub))
    targets = targeting.for_demand(session, demand.targets, demand.target_order, where)
    return office_hours.schedule_of(session, settings, demand.targets), targets


@words.command("CANCELCALL", "CANCELCALLS", "CANCELARLLAMADA", "CANCELARLLAMADAS")
def cancel_call(turn: Turn, _rest: str = "") -> None:
    """``CANCEL CALL`` (``CANCEL`` alone is a STOP word and stays one)."""
    count = office_hours.cancel(turn.session, turn.subscriber.phone)
    turn.say(turn.t("Your call-back is cancelled. Reply CALL anytime.") if count
             else turn.t("You have no call-back booked."))


def _booked(turn: Turn, row: ScheduledCall) -> None:
    """Tell the hooks, and enqueue the call-back once the turn commits."""
    for hook in BOOKING_HOOKS:
        hook(turn.session, row)
    services = turn.services
    if services is not None:
        row_id, at = row.id, row.run_at
        turn.after_commit.append(lambda: enqueue(services, row_id, at))


def enqueue(services: Services, row_id: int, at: datetime) -> None:

    services.enqueue("high", "sms.tasks.place_scheduled_call", row_id, job_id=f"callback-{row_id}", at=at)


def run(services: Services, row_id: int, now: datetime | None = None) -> str:
    """Turn a due call-back into a call session (once), or say why not."""
    now = now or utcnow()
    with services.db.session() as session:
        row = session.get(ScheduledCall, row_id)
        if row is None or row.status != "scheduled":
            return "skipped"
        if row.run_at > now + timedelta(seconds=5):
            return "not yet"
        sub = session.get(Subscriber, row.subscriber_id) if row.subscriber_id else caller_of(row)
        held = _daytime(session, services.settings, row, sub, now)
        if held is not None:
            row.run_at = held
            session.commit()
            enqueue(services, row.id, row.run_at)
            return "held for daytime"
        claimed = session.execute(update(ScheduledCall).where(
            ScheduledCall.id == row_id, ScheduledCall.status == "scheduled").values(status="placing")).rowcount
        session.commit()
        if not claimed:
            return "skipped"
        return _open(services, session, row, sub, now)


def caller_of(row: ScheduledCall) -> Subscriber:
    """Where a booking without a subscriber (made on the web) calls from, as a Subscriber that is never saved."""
    return Subscriber(phone=row.phone, zip=row.zip, state=row.state, district=row.district, timezone=row.timezone)


def _daytime(session: Session, settings: Settings, row: ScheduledCall, sub: Subscriber | None,
             now: datetime) -> datetime | None:
    """In the caller's quiet hours (they moved, or the clocks changed): the next time an office is open in
    their daytime. None to call now: it is daytime, or the offices never open in it (they said yes to that)."""
    zone = compliance.subscriber_zone(sub)
    if not compliance.in_quiet_hours(now, zone, settings.quiet_hours):
        return None
    schedule, targets = _hours_and_targets(session, settings, catalogue.current(session).demand(row.demand), sub)
    return office_hours.call_time(settings, schedule, targets, zone, now)


def _open(services: Services, session: Session, row: ScheduledCall, sub: Subscriber | None, now: datetime) -> str:
    demand = catalogue.current(session).demand(row.demand)
    try:
        if sub is None or demand is None:
            raise SmsError("gone", reply="")
        sessions.check_caller(session, services.settings, row.phone, now)
    except SmsError as exc:
        row.status = "canceled"
        session.commit()
        return f"canceled: {exc}"
    seats = sessions.seats_of(session, sub)
    state = seats[0][0] if seats else sub.state
    plan = sessions.plan(session, services.settings, demand, state, seats, now, zip_code=sub.zip,
                         districts=sessions.districts_of(sub))
    routed, _ = routing.route(services, session, plan.targets, sub.zip, state, now)
    if not routed:
        row.status = "canceled"
        session.commit()
        return "no targets"
    owner = sub if row.subscriber_id else None
    call = sessions.open_session(session, row.phone, owner, demand.keyword, sub.zip, routed, thanked=plan.thanked)
    row.status, row.session_id = "placed", call.id
    session.commit()
    sessions.enqueue_place(services, call.id)
    return "placed"


def sweep(services: Services, now: datetime | None = None) -> dict[str, int]:
    """Re-enqueue due call-backs Redis lost; expire old offers and call-backs far past their time."""
    now = now or utcnow()
    with services.db.session() as session:
        expired = session.execute(update(ScheduledCall).where(
            ScheduledCall.status.in_(("offered", "placing")), ScheduledCall.created_at < now - timedelta(days=2))
            .values(status="expired")).rowcount
        expired += session.execute(update(ScheduledCall).where(
            ScheduledCall.status == "scheduled", ScheduledCall.run_at < now - LATE).values(status="expired")).rowcount
        due = list(session.execute(select(ScheduledCall.id, ScheduledCall.run_at).where(
            ScheduledCall.status == "scheduled", ScheduledCall.run_at <= now + timedelta(days=8))))
        session.commit()
    lost = [(row_id, at) for row_id, at in due if not Job.exists(f"callback-{row_id}", connection=services.redis)]
    for row_id, at in lost:
        enqueue(services, row_id, at)
    return {"callbacks_requeued": len(lost), "callbacks_expired": expired}
