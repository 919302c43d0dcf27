"""Organizer reminders: a message to a demand's texters or a segment, once or on repeat.

The reminder row is durable in SQL (its next time and how many times it fired);
RQ's scheduler holds a job for the next occurrence (``enqueue_at``), and the
sweeper fires any due reminder whose job a Redis flush lost. Firing is claimed
with ``UPDATE … WHERE fired = n``, so a duplicate job is a no-op. Each occurrence
becomes a ``kind="reminder"`` broadcast: pacing, quiet hours, opt-out checks and
frequency caps all come from the broadcast machinery.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms.broadcasts import lifecycle
from sms.broadcasts.lifecycle import BroadcastError
from sms.broadcasts.models import Broadcast, Reminder
from sms.services import Services
from sms.settings import Settings
from sms.store import utcnow

log = logging.getLogger(__name__)
_EVERY = re.compile(r"^(\d+)\s*([hdw])$")
NAMED_EVERY = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}


def parse_every(value: str | None) -> int | None:
    """``daily``, ``weekly``, ``hourly`` or ``<n>h|d|w`` as seconds (None: one-off)."""
    if not value:
        return None
    text = value.strip().lower()
    if text in NAMED_EVERY:
        return NAMED_EVERY[text]
    match = _EVERY.match(text)
    if not match or int(match.group(1)) == 0:
        raise BroadcastError(f"--every must be hourly, daily, weekly or like 3d, not {value!r}")
    return int(match.group(1)) * {"h": 3600, "d": 86400, "w": 7 * 86400}[match.group(2)]


def create(session: Session, settings: Settings, body: str, at: datetime, filters: dict[str, Any] | None = None,
           segment: str | None = None, every: str | None = None, urgent: bool = False, mps: float | None = None,
           now: datetime | None = None, translations: dict[str, str] | None = None) -> Reminder:
    """Validate like a broadcast (a draft is built and thrown away) and store the reminder.

    ``translations``: its text in other languages (``{"es": "..."}``), sent to texters of that language.
    """
    now = now or utcnow()
    if at < now - timedelta(seconds=5):
        raise BroadcastError("send time is in the past")
    with session.begin_nested() as probe:
        draft = lifecycle.create(session, settings, body, filters, segment, urgent=urgent, mps=mps, now=now,
                                 translations=translations)
        body, combined, translated = draft.body, draft.filters, dict(draft.translations or {})
        probe.rollback()
    reminder = Reminder(body=body, translations=translated, filters=combined, segment=segment, urgent=urgent, mps=mps,
                        next_at=at,
                        every_seconds=parse_every(every))
    session.add(reminder)
    session.flush()
    return reminder


def schedule(services: Services, reminder_id: int) -> None:
    """Put the next occurrence on RQ's scheduler (the job id makes a repeat harmless)."""

    with services.db.session() as session:
        reminder = session.get(Reminder, reminder_id)
        if reminder is None or reminder.status != "active":
            return
        at, fired = reminder.next_at, reminder.fired
    services.enqueue("default", "sms.tasks.fire_reminder", reminder_id, fired, job_id=f"remind-{reminder_id}-{fired}",
                     at=at)


def fire(services: Services, reminder_id: int, fired: int, now: datetime | None = None) -> int | None:
    """Turn occurrence ``fired`` into a broadcast and start it; None if it was already fired."""
    now = now or utcnow()
    with services.db.session() as session:
        reminder = session.get(Reminder, reminder_id)
        if reminder is None or reminder.status != "active" or reminder.fired != fired or reminder.next_at > now:
            return None
        next_at = _next(reminder, now)
        claimed = session.execute(update(Reminder).where(Reminder.id == reminder_id, Reminder.fired == fired)
                                  .values(fired=fired + 1, next_at=next_at or reminder.next_at,
                                          status="active" if next_at else "done")).rowcount
        if not claimed:
            session.rollback()
            return None
        broadcast = Broadcast(kind="reminder", body=reminder.body, translations=reminder.translations or {},
                              filters=reminder.filters,
                                         urgent=reminder.urgent, mps=reminder.mps, status="draft")
        session.add(broadcast)
        session.flush()
        reminder.last_broadcast_id = broadcast.id
        session.commit()
        broadcast_id = broadcast.id
    lifecycle.start(services, broadcast_id, now)
    if next_at:
        schedule(services, reminder_id)
    log.info("reminder %s fired as broadcast %s", reminder_id, broadcast_id)
    return broadcast_id


def send_now(services: Services, reminder_id: int, now: datetime | None = None) -> int:
    """Send the reminder's message now as an extra broadcast; its schedule is unchanged."""
    with services.db.session() as session:
        reminder = get(session, reminder_id)
        if reminder.status not in ("active", "paused", "done"):
            raise BroadcastError(f"reminder {reminder_id} is {reminder.status}")
        broadcast = Broadcast(kind="reminder", body=reminder.body, translations=reminder.translations or {},
                              filters=reminder.filters,
                                         urgent=reminder.urgent, mps=reminder.mps, status="draft")
        session.add(broadcast)
        session.commit()
        broadcast_id = broadcast.id
    lifecycle.start(services, broadcast_id, now)
    return broadcast_id


def _next(reminder: Reminder, now: datetime) -> datetime | None:
    if not reminder.every_seconds:
        return None
    step = timedelta(seconds=reminder.every_seconds)
    next_at = reminder.next_at + step
    while next_at <= now:  # after a long outage, skip the missed occurrences rather than burst them
        next_at += step
    return next_at


def fire_due(services: Services, now: datetime | None = None) -> int:
    """Fire active reminders that are due but whose scheduled job never ran (sweeper)."""
    now = now or utcnow()
    with services.db.session() as session:
        due = session.execute(select(Reminder.id, Reminder.fired).where(
            Reminder.status == "active", Reminder.next_at <= now - timedelta(seconds=30))).all()
    return sum(fire(services, rid, fired, now) is not None for rid, fired in due)


def get(session: Session, reminder_id: int) -> Reminder:
    reminder = session.get(Reminder, reminder_id)
    if reminder is None:
        raise BroadcastError(f"no reminder {reminder_id}")
    return reminder


def set_status(services: Services, reminder_id: int, target: str) -> str:
    """Pause, resume (reschedules) or cancel a reminder."""
    allowed = {"paused": ("active",), "active": ("paused",), "cancelled": ("active", "paused")}[target]
    with services.db.session() as session:
        reminder = get(session, reminder_id)
        if reminder.status not in allowed:
            raise BroadcastError(f"reminder {reminder_id} is {reminder.status}; cannot make it {target}")
        reminder.status = target
        session.commit()
    if target == "active":
        schedule(services, reminder_id)
    return target
