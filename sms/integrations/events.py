"""The event log: one row per change other systems hear about, written in the change's own transaction.

The domain functions call their hooks (``compliance.CONSENT_HOOKS``, ``subscribers.INTEREST_HOOKS``,
``outcomes.CALL_HOOKS``, ``later.BOOKING_HOOKS``, ``dispatch.RECIPIENT_HOOKS``, ``subscribers.ERASERS``);
``sms.features`` lists the functions below as those hooks. Each only adds an ``Event`` row to the
caller's session, so the event commits (or rolls back) with the change it reports: the outbox
pattern. ``sms.integrations.delivery`` fans events out to their destinations from there.

An event's ``data`` holds no phone number: a destination allowed one gets the subscriber's
number added when the event is sent (``subscriber.deleted`` never carries one).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms.calls import sessions
from sms.calls.models import CallSession, ScheduledCall
from sms.integrations.models import Event
from sms.store import Subscriber

SCHEMA = 1
"""Version of every payload below; a change that could break a receiver gets a new number."""
TYPES: dict[str, str] = {
    "subscriber.joined": "a new number texted for the first time (its opt-in); data: source, keyword",
    "subscriber.opted_out": "STOP, a carrier opt-out or a CRM's; data: source",
    "subscriber.opted_in": "START after an opt-out; data: source",
    "subscriber.deleted": "their personal data was erased (DELETE or retention): erase yours; no other data",
    "subscriber.language_changed": "their language changed (ESPAÑOL, a first text in Spanish, the console); "
                                   "data: language, source",
    "interest.added": "texted a demand or campaign keyword for the first time; data: keyword",
    "call.completed": "a patch-through call ended; data: call_id, demand, offices_dialed, connected, offices",
    "call.reported": "the caller said how the call went; data: call_id, demand, reported",
    "callback.booked": "a call-back was booked for later; data: callback_id, demand, run_at",
    "broadcast.delivered": "Twilio delivered a broadcast to this recipient; data: broadcast_id, delivery_id",
    "broadcast.failed": "a broadcast could not reach this recipient; data: broadcast_id, delivery_id, error_code",
}
"""Every event type and what its ``data`` holds (besides ``subscriber_id``)."""
URGENT = frozenset({"subscriber.opted_out"})
"""Types delivered from the high queue, ahead of any backlog of other subscribers' events."""
CONSENT_TYPES = {"joined": "subscriber.joined", "opted_out": "subscriber.opted_out", "opted_in": "subscriber.opted_in"}


def emit(session: Session, type: str, subscriber_id: int | None, **data: Any) -> Event:
    """Add one event to ``session`` (committed with the caller's change)."""
    if type not in TYPES:
        raise ValueError(f"unknown event type {type!r}")
    event = Event(type=type, schema=SCHEMA, subscriber_id=subscriber_id, data=data)
    session.add(event)
    return event


def on_consent(session: Session, subscriber: Subscriber, change: str, source: str) -> None:
    """A consent hook: joined, opted_out or opted_in (``source``: sms, crm, twilio-21610...)."""
    emit(session, CONSENT_TYPES[change], subscriber.id, source=source)


def on_language(session: Session, subscriber: Subscriber, language: str, source: str) -> None:
    """A language hook: the subscriber's language is now ``language`` (``source``: sms, detected, console, cli)."""
    emit(session, "subscriber.language_changed", subscriber.id, language=language, source=source)


def on_interest(session: Session, subscriber: Subscriber, keyword: str) -> None:
    """An interest hook: the first time a subscriber texts ``keyword``."""
    emit(session, "interest.added", subscriber.id, keyword=keyword)


def on_call(session: Session, call: CallSession, change: str) -> None:
    """A call hook: the call ended (``completed``) or the caller reported how it went (``reported``)."""
    legs = sessions.legs_of(session, call)
    if change == "reported":
        reported = next((leg.reported for leg in legs if leg.reported), None)
        emit(session, "call.reported", call.subscriber_id, call_id=call.id, demand=call.demand, reported=reported)
        return
    dialed = [leg for leg in legs if leg.outcome != "skipped"]
    emit(session, "call.completed", call.subscriber_id, call_id=call.id, demand=call.demand,
         direction=call.direction, offices_dialed=len(dialed),
         connected=sum(leg.outcome == "connected" for leg in dialed),
         offices=[{"label": leg.label, "kind": leg.kind, "outcome": leg.outcome} for leg in legs])


def on_booking(session: Session, booking: ScheduledCall) -> None:
    """A booking hook: a call-back was booked for later."""
    emit(session, "callback.booked", booking.subscriber_id, callback_id=booking.id, demand=booking.demand,
         run_at=booking.run_at.isoformat())


def on_recipient(session: Session, broadcast_id: int, delivery_id: int, subscriber_id: int, outcome: str,
                 error_code: int | None) -> None:
    """A broadcast recipient hook: Twilio delivered it, or it failed for good."""
    if outcome == "delivered":
        emit(session, "broadcast.delivered", subscriber_id, broadcast_id=broadcast_id, delivery_id=delivery_id)
    else:
        emit(session, "broadcast.failed", subscriber_id, broadcast_id=broadcast_id, delivery_id=delivery_id,
             error_code=error_code)


def erase(session: Session, subscriber_id: int) -> None:
    """An eraser: empty what the log kept about the subscriber (unsent events go out empty) and say so."""
    session.execute(update(Event).where(Event.subscriber_id == subscriber_id).values(data={}))
    emit(session, "subscriber.deleted", subscriber_id)


def since(session: Session, after_id: int = 0, types: tuple[str, ...] = (), limit: int = 100,
          start: datetime | None = None) -> list[Event]:
    """Events after ``after_id`` (and from ``start``), oldest first; for ``flask events tail``."""
    query = select(Event).where(Event.id > after_id).order_by(Event.id).limit(limit)
    if types:
        query = query.where(Event.type.in_(types))
    if start is not None:
        query = query.where(Event.created_at >= start)
    return list(session.scalars(query))


def latest(session: Session, count: int, types: tuple[str, ...] = ()) -> list[Event]:
    """The last ``count`` events, oldest first."""
    query = select(Event).order_by(Event.id.desc()).limit(count)
    if types:
        query = query.where(Event.type.in_(types))
    return list(reversed(session.scalars(query).all()))
