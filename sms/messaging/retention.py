"""Retention: personal data older than ``RETENTION_DAYS`` goes, record by record, in batches.

Run daily by the worker's cron (``sms.tasks.purge_expired``). Each step changes at most
``BATCH`` rows per transaction and repeats until nothing is left, so a first run over
years of data never holds a long lock. What goes:

- texters silent for the period: ZIP, place, name, interests, conversation, message bodies
  (``subscribers.erase``; the number, its status and the consent history stay, as the law requires);
- every message body older than the period, whoever it belongs to (not texts still waiting to be sent);
- call sessions older than the period: the caller's number, ZIP and link to the texter (the legs,
  which name only public office numbers, stay for the call statistics);
- web call-backs' records (page, hashed IP; ``sms.web``) older than the period, before the bookings
  they point at (web opt-ins' records stay with the consent history);
- scheduled call-backs and offline-outbox records older than the period.

``RETENTION_DAYS=0`` keeps everything (no purge).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sms.calls.models import CallSession, ScheduledCall
from sms.messaging import subscribers
from sms.services import Services
from sms.store import Message, OutboxItem, utcnow
from sms.web.models import WebCall

log = logging.getLogger(__name__)
BATCH = 500
"""Rows changed per transaction."""
UNSENT = ("scheduled", "sending")


def purge(services: Services, now: datetime | None = None) -> dict[str, int]:
    """Apply the retention period once; return how many records each step changed."""
    days = services.settings.retention_days
    if not days:
        return {}
    cutoff = (now or utcnow()) - timedelta(days=days)
    counts = {name: _repeat(services, step, cutoff) for name, step in STEPS.items()}
    log.info("retention (%s days): %s", days, counts)
    return counts


def _repeat(services: Services, step: Callable[[Session, datetime, int], int], cutoff: datetime) -> int:
    total = 0
    while True:
        with services.db.session() as session:
            changed = step(session, cutoff, BATCH)
            session.commit()
        total += changed
        if changed == 0:
            return total


def message_bodies(session: Session, cutoff: datetime, batch: int) -> int:
    ids = select(Message.id).where(Message.created_at < cutoff, Message.body.is_not(None),
                                   Message.status.not_in(UNSENT)).limit(batch)
    return _by_ids(session, update(Message).values(body=None), Message.id, ids)


def call_sessions(session: Session, cutoff: datetime, batch: int) -> int:
    ids = select(CallSession.id).where(CallSession.created_at < cutoff, CallSession.phone != "").limit(batch)
    stripped = update(CallSession).values(phone="", zip=None, seats=[], subscriber_id=None, error=None)
    return _by_ids(session, stripped, CallSession.id, ids)


def web_calls(session: Session, cutoff: datetime, batch: int) -> int:
    ids = select(WebCall.id).where(WebCall.created_at < cutoff).limit(batch)
    return _by_ids(session, delete(WebCall), WebCall.id, ids)


def scheduled_calls(session: Session, cutoff: datetime, batch: int) -> int:
    ids = select(ScheduledCall.id).where(ScheduledCall.created_at < cutoff, ScheduledCall.run_at < cutoff).limit(batch)
    return _by_ids(session, delete(ScheduledCall), ScheduledCall.id, ids)


def outbox(session: Session, cutoff: datetime, batch: int) -> int:
    ids = select(OutboxItem.id).where(OutboxItem.created_at < cutoff).limit(batch)
    return _by_ids(session, delete(OutboxItem), OutboxItem.id, ids)


def _by_ids(session: Session, statement: object, column: object, ids: object) -> int:
    """Run ``statement`` on the rows ``ids`` selects (ids fetched first, so a batch is exactly those rows)."""
    chosen = list(session.scalars(ids))  # type: ignore[call-overload]
    if chosen:
        where = statement.where(column.in_(chosen))  # type: ignore[attr-defined]
        session.execute(where, execution_options={"synchronize_session": False})
    return len(chosen)


STEPS: dict[str, Callable[[Session, datetime, int], int]] = {
    "subscribers": subscribers.purge_inactive,
    "message_bodies": message_bodies,
    "call_sessions": call_sessions,
    "web_calls": web_calls,
    "scheduled_calls": scheduled_calls,
    "outbox": outbox,
}
"""What the retention period removes, in order (name → one batch)."""
