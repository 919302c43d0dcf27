"""Outbound texts sent by workers: write the row first, then enqueue (outbox pattern).

A message row in ``scheduled`` state is the promise; the RQ job is only a nudge.
If Redis loses the job, ``sweep`` finds the row and enqueues it again; if a worker
dies after Twilio accepted the text but before the commit, the row stays in
``sending`` and ``sweep`` settles it by asking the transport what it sent.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sms import defaults
from sms.broadcasts import audiences
from sms.errors import TransportError
from sms.messaging import compliance, encoding
from sms.services import Services
from sms.store import Message, Subscriber, utcnow

log = logging.getLogger(__name__)
STALE_SENDING = timedelta(minutes=5)
ASKED_FOR = frozenset({"confirm", "script"})
"""Kinds of text the person asked for a moment ago (a confirmation code, a call script on the web):
sent at once, quiet hours or not; opt-outs still apply."""


def plan(session: Session, subscriber_id: int | None, phone: str, kind: str, body: str,
         send_at: datetime) -> Message:
    """Add the durable row of a text a worker will send (GSM-safe body); the caller enqueues it.

    Not flushed here: its id exists once the caller commits (or flushes), and a webhook's
    rows then go to the database together.
    """
    body = encoding.gsm_safe(body)
    message = Message(subscriber_id=subscriber_id, direction="out", kind=kind, phone=phone, body=body,
                      segments=encoding.count(body).segments, status="scheduled", send_at=send_at)
    session.add(message)
    return message


SWEPT_AHEAD = ("followup", "later")
"""Kinds of text planned far ahead, left to ``sweep`` until they are SCHEDULE_AHEAD_SECONDS from due."""


def enqueue_when_near(services: Services, message_id: int, at: datetime) -> None:
    """Enqueue a text of a SWEPT_AHEAD kind if it is due soon; a later one is enqueued by ``sweep``."""
    if at - utcnow() <= timedelta(seconds=defaults.SCHEDULE_AHEAD_SECONDS):
        enqueue_delivery(services, message_id, at)


def enqueue_delivery(services: Services, message_id: int, at: datetime | None = None) -> None:
    """Nudge a worker to deliver ``message_id`` (at ``at``); the job id makes repeats harmless."""

    job_id = f"deliver-{message_id}"
    services.enqueue("default", "sms.tasks.deliver_message", message_id, job_id=job_id, at=at)


def deliver(services: Services, message_id: int, now: datetime | None = None) -> str:
    """Send one scheduled message exactly once; return what happened (for logs and tests)."""
    now = now or utcnow()
    with services.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.status != "scheduled":
            return "skipped"
        if message.send_at and message.send_at > now + timedelta(seconds=1):
            enqueue_delivery(services, message_id, message.send_at)
            return "early"
        if not compliance.may_message(session, message.phone):
            message.status = "cancelled"
            session.commit()
            return "opted-out"
        if message.kind == "followup" and _followup_obsolete(session, message):
            message.status = "cancelled"
            session.commit()
            return "obsolete"
        subscriber = session.get(Subscriber, message.subscriber_id) if message.subscriber_id else None
        quiet = None if message.kind in ASKED_FOR else services.settings.quiet_hours
        allowed = compliance.next_allowed_time(now, compliance.subscriber_zone(subscriber), quiet)
        if allowed > now:
            message.send_at = allowed
            session.commit()
            enqueue_delivery(services, message_id, allowed)
            return "deferred"
        claimed = session.execute(
            update(Message).where(Message.id == message_id, Message.status == "scheduled")
            .values(status="sending", sent_at=now)
        ).rowcount
        session.commit()
        if not claimed:
            return "skipped"
        return _send(services, session, message)


def _followup_obsolete(session: Session, message: Message) -> bool:
    """A follow-up is pointless once the texter asked for a call or opted for urgent alerts only."""
    if message.subscriber_id is None:
        return False
    tier = session.scalar(select(Subscriber.tier).where(Subscriber.id == message.subscriber_id))
    return tier == "low" or audiences.has_called(session, message.subscriber_id)


def _send(services: Services, session: Session, message: Message) -> str:
    try:
        sid = services.transport.send_sms(message.phone, message.body or "", services.url("/sms/status"))
    except TransportError as exc:
        return _failed(services, session, message, exc)
    message.twilio_sid, message.status = sid, "sent"
    message.segments = encoding.count(message.body or "").segments
    session.commit()
    return "sent"


def _failed(services: Services, session: Session, message: Message, exc: TransportError) -> str:
    message.error_code = exc.code
    if exc.outcome_unknown:
        # Twilio may have sent it: stay in ``sending`` for ``sweep`` to ask before any resend.
        session.commit()
        return "unknown"
    if exc.opted_out:
        subscriber = session.get(Subscriber, message.subscriber_id) if message.subscriber_id else None
        if subscriber is not None:
            compliance.opt_out(session, subscriber, f"twilio-{exc.code}")
    if exc.retryable:
        message.attempts += 1
        if message.attempts <= len(defaults.RETRY_INTERVALS):
            retry_at = utcnow() + timedelta(seconds=exc.retry_delay(message.attempts - 1))
            message.status, message.send_at = "scheduled", retry_at
            session.commit()
            enqueue_delivery(services, message.id, retry_at)
            return "retrying"
    message.status = "failed"
    session.commit()
    return "failed"


def sweep(services: Services, now: datetime | None = None) -> dict[str, int]:
    """Enqueue the texts planned far ahead that are now near, re-enqueue due messages Redis forgot
    and settle sends whose outcome was lost."""
    now = now or utcnow()
    counts = {"ahead": 0, "requeued": 0, "settled": 0, "reset": 0, "unknown": 0}
    grace = now - timedelta(seconds=defaults.SWEEP_GRACE_SECONDS)
    with services.db.session() as session:
        near = session.execute(
            select(Message.id, Message.send_at).where(
                Message.status == "scheduled", Message.kind.in_(SWEPT_AHEAD), Message.send_at > now,
                Message.send_at <= now + timedelta(seconds=defaults.SCHEDULE_AHEAD_SECONDS)).limit(5000)
        ).all()
        for message_id, send_at in near:  # due within the window, possibly enqueued already: the job id dedupes
            enqueue_delivery(services, message_id, send_at)
            counts["ahead"] += 1
        due = session.scalars(
            select(Message.id).where(Message.status == "scheduled", Message.send_at <= grace).limit(5000)
        ).all()
        for message_id in due:
            enqueue_delivery(services, message_id)
            counts["requeued"] += 1
        stuck = session.scalars(
            select(Message).where(Message.status == "sending", Message.sent_at <= now - STALE_SENDING).limit(500)
        ).all()
        for message in stuck:
            counts[_settle(services, message)] += 1
        session.commit()
    return counts


def _settle(services: Services, message: Message) -> str:
    """Ask the transport whether a ``sending`` message went out; if not, schedule it again."""
    since = (message.sent_at or utcnow()) - timedelta(minutes=1)
    try:
        sent = services.transport.find_messages(message.phone, since)
    except TransportError:
        return "unknown"  # ask again at the next sweep; never resend blind
    match = next((r for r in sent if r.body == message.body), None)
    if match is not None:
        message.status, message.twilio_sid = "sent", match.sid
        return "settled"
    message.status, message.send_at = "scheduled", utcnow()
    return "reset"
