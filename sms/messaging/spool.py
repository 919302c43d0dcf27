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

from sms.messaging import compliance, inbound, outbound
from sms.services import Services
from sms.store import Message, utcnow

log = logging.getLogger(__name__)
KEY = "al:spool:inbound"
DEAD = "al:spool:inbound:dead"
"""Kept texts whose replay raised something other than "database down" (inspect, then LMOVE back)."""
DATABASE_DOWN = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)
"""What SQLAlchemy raises when the database cannot be reached, is starting up, or is saturated
(no pooled connection in time, or SQLite locked past its busy timeout)."""


def keep(redis: Redis, sms: inbound.InboundSms) -> None:
    """Append ``sms`` to the spool (raises RedisError if Redis is down too)."""
    redis.rpush(KEY, json.dumps(dataclasses.asdict(sms)))
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
            services.redis.rpush(DEAD, raw)
            counts["dead"] += 1
        services.redis.lrem(KEY, 1, raw)
    return counts


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
