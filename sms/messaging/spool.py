"""Inbound texts that arrive while the database is down: kept in Redis, answered once it is back.

Twilio does not retry an inbound-message webhook that fails: a 5xx is only logged in its
debugger (error 11200) and the text is lost to us unless a fallback URL is configured. So
when the database cannot be reached, the webhook keeps the validated fields in a Redis list
and answers 200 with empty TwiML. ``replay`` (a cron job of the worker) feeds the kept texts,
oldest first, through the normal inbound path once the database answers, and sends each
reply as an outbound text instead of TwiML. Replies go out at once (they answer the
texter's own text, as TwiML would have) but never to a number that has opted out by then:
Twilio already confirmed a STOP itself, and a later STOP in the spool is replayed in order.
Only if Redis is down as well does the webhook answer 503, so Twilio's fallback URL applies.
A texter just asked their street address has a mark in Redis (``sms.messaging.unkept``): their text
is kept without its words, and the replayed turn asks again.
"""

from __future__ import annotations

import dataclasses
import json
import logging

from redis import Redis
from sqlalchemy import select, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from sms.errors import InvalidNumber
from sms.messaging import compliance, inbound, outbound, subscribers, unkept
from sms.services import Services
from sms.store import Conversation, Message, Subscriber, utcnow

log = logging.getLogger(__name__)
KEY = "al:spool:inbound"
DEAD = "al:spool:inbound:dead"
"""Kept texts whose replay raised something other than "database down" (inspect, then LMOVE back)."""
DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
"""What SQLAlchemy raises when the database cannot be reached, is starting up, or is saturated
(no pooled connection in time, or SQLite locked past its busy timeout)."""


def keep(redis: Redis, sms: inbound.InboundSms) -> None:
    """Append ``sms`` to the spool (raises RedisError if Redis is down too); an address without its words."""
    redis.rpush(KEY, json.dumps(dataclasses.asdict(_unkept_removed(sms, _marked(redis, sms.phone)))))
    log.warning("database unreachable: inbound %s kept in the spool to answer later", sms.sid)


def pending(redis: Redis) -> int:
    return int(redis.llen(KEY))


def replay(services: Services, limit: int = 1000) -> dict[str, int]:
    """Answer kept texts oldest first; stop (keeping the rest) while the database is still down."""
    counts = {"replayed": 0, "dead": 0}
    for _ in range(limit):
        raw = services.redis.lindex(KEY, 0)
        if raw is None:
            break
        try:
            answer(services, inbound.InboundSms(**json.loads(raw)))
            counts["replayed"] += 1
        except DATABASE_DOWN as exc:
            log.warning("spool replay waits for the database: %s", type(exc).__name__)
            break
        except Exception:
            log.exception("spooled inbound could not be replayed; moved to %s", DEAD)
            services.redis.rpush(DEAD, _set_aside(services, raw))
            counts["dead"] += 1
        services.redis.lrem(KEY, 1, raw)
    return counts


def _marked(redis: Redis, raw_phone: str) -> str | None:
    try:
        return unkept.marked(redis, subscribers.normalise_phone(raw_phone))
    except InvalidNumber:
        return None


def _unkept_removed(sms: inbound.InboundSms, pending: str | None) -> inbound.InboundSms:
    body = unkept.spooled_body(pending, sms.body)
    return sms if body == sms.body else dataclasses.replace(sms, body=body)


def _set_aside(services: Services, raw: bytes) -> str | bytes:
    """A kept text that could not be replayed, without its words if it answers the address question.

    The mark may have expired by now: the texter's pending question is read from the database too.
    """
    try:
        sms = inbound.InboundSms(**json.loads(raw))
        phone = subscribers.normalise_phone(sms.phone)
    except (TypeError, ValueError, InvalidNumber):
        return raw
    pending = _marked(services.redis, phone)
    if pending is None:
        try:
            with services.db.session() as session:
                pending = session.scalar(select(Conversation.pending).join(
                    Subscriber, Subscriber.id == Conversation.subscriber_id).where(Subscriber.phone == phone))
        except DATABASE_DOWN:
            return raw
    return json.dumps(dataclasses.asdict(_unkept_removed(sms, pending)))


def answer(services: Services, sms: inbound.InboundSms) -> None:
    """Record and answer ``sms`` as the webhook would have, then text the replies it stored.

    Idempotent: a text kept twice (or replayed by two workers) is answered once, because
    ``inbound.receive`` is idempotent by MessageSid and each reply row is claimed before it is sent.
    """
    inbound.receive(services, sms)
    with services.db.session() as session:
        inbound_id = session.scalar(select(Message.id).where(Message.twilio_sid == sms.sid))
        replies = session.scalars(select(Message).where(
            Message.in_reply_to_id == inbound_id, Message.status == "replied").order_by(Message.id)).all()
        for reply in replies:
            _send_reply(services, session, reply)


def _send_reply(services: Services, session: Session, reply: Message) -> None:
    if not compliance.may_message(session, reply.phone):
        session.execute(update(Message).where(Message.id == reply.id, Message.status == "replied")
                        .values(status="cancelled"))
        session.commit()
        return
    claimed = session.execute(update(Message).where(Message.id == reply.id, Message.status == "replied")
                              .values(status="sending", sent_at=utcnow())).rowcount
    session.commit()
    if claimed:  # outbound's own send step: retries, 21610, and "sending" rows settled by outbound.sweep
        outbound._send(services, session, reply)
