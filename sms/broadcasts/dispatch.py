"""Paced, resumable dispatch of broadcast deliveries on the ``bulk`` queue.

One dispatch job claims about a second's worth of due rows (``claim`` token,
``UPDATE … WHERE status = 'pending'``, so a re-run or duplicate job never takes a
row twice), reserves that many send slots from a per-sender clock in Redis (a
token bucket shared by every worker and broadcast on the same number), sends them
at the slot times and enqueues its successor. Between jobs the worker serves
``high`` first, so inbound replies wait at most one batch.

Each message is checked against the opt-out list right before it is sent (one
read covers at most 0.1 s of sends, see ``_active_among``).
Results are committed every ``BROADCAST_COMMIT_EVERY`` sends; rows a killed worker
leaves in ``sending`` are settled by ``sweep`` asking the transport what it sent.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from sms import defaults
from sms.broadcasts import merge_fields
from sms.broadcasts.models import Broadcast, Delivery
from sms.errors import TransportError
from sms.messaging import compliance, encoding
from sms.services import Services
from sms.store import Subscriber, utcnow

log = logging.getLogger(__name__)
RECIPIENT_HOOKS: list[Callable[[Session, int, int, int, str, int | None], None]] = []
"""Called with (session, broadcast_id, delivery_id, subscriber_id, outcome, error_code) in the same transaction
when a recipient's delivery ends: ``delivered`` (Twilio's status callback) or ``failed`` (e.g. the event log);
filled by ``sms.features.install``."""
_RESERVE = """
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local now = tonumber(ARGV[1])
if nxt < now - tonumber(ARGV[4]) then nxt = now end
redis.call('SET', KEYS[1], tostring(nxt + tonumber(ARGV[2]) / tonumber(ARGV[3])), 'EX', 3600)
return tostring(nxt)
"""


def kick(services: Services, broadcast_id: int, at: datetime | None = None) -> None:
    """Enqueue a dispatch job for ``broadcast_id`` (now, or at ``at``)."""

    services.enqueue("bulk", "sms.tasks.dispatch_broadcast", broadcast_id, at=at, result_ttl=0)


def reserve(services: Services, count: int, rate: float, now: float) -> float:
    """Reserve ``count`` send slots at ``rate``/s on this sender's clock; return the first slot's time.

    Slots missed by less than ``BROADCAST_CATCH_UP_SECONDS`` (the gap between two
    jobs) are still used, so job overhead does not drag the rate below the target;
    after a longer idle spell the clock restarts at now (a bucket of one second).
    """
    sender = getattr(services.transport, "messaging_service_sid", "") or services.transport.phone_number
    key = f"actionline:pace:{sender}"
    catch_up = repr(defaults.BROADCAST_CATCH_UP_SECONDS)
    return float(services.redis.eval(_RESERVE, 1, key, repr(now), count, repr(rate), catch_up))


def run_batch(services: Services, broadcast_id: int, clock: Callable[[], float] = time.time,
              sleep: Callable[[float], None] = time.sleep) -> dict[str, int]:
    """Send one paced batch, then enqueue what comes next; return counts by outcome."""
    settings = services.settings
    with services.db.session() as session:
        broadcast = session.get(Broadcast, broadcast_id)
        if broadcast is None or broadcast.status != "sending":
            return {}
        rate = broadcast.mps or settings.broadcast_mps
        _alive(services, broadcast_id)
        rows = _claim(session, broadcast_id, max(1, min(defaults.BROADCAST_MAX_BATCH,
                                                        int(rate * defaults.BROADCAST_BATCH_SECONDS))))
        counts = _send_rows(services, session, broadcast, rows, rate, clock, sleep) if rows else {}
    follow_up(services, broadcast_id)
    return counts


def _alive(services: Services, broadcast_id: int) -> None:
    ttl = max(2, min(30, services.settings.broadcast_stale_seconds))
    services.redis.set(f"actionline:bcast:{broadcast_id}:alive", 1, ex=ttl)


def _claim(session: Session, broadcast_id: int, size: int) -> list[Any]:
    now, token = utcnow(), uuid.uuid4().hex
    due = (select(Delivery.id).where(Delivery.broadcast_id == broadcast_id, Delivery.status == "pending",
                                     Delivery.send_at <= now).order_by(Delivery.send_at).limit(size))
    ids = session.execute(update(Delivery).where(Delivery.id.in_(due.scalar_subquery()), Delivery.status == "pending")
                          .values(status="sending", claim=token, claimed_at=now).returning(Delivery.id),
                          execution_options={"synchronize_session": False}).scalars().all()
    session.commit()
    if not ids:
        return []
    d, s = Delivery, Subscriber
    return session.execute(
        select(d.id, d.phone, d.subscriber_id, d.attempts, s.first_name, s.zip, s.state, s.district, s.timezone,
               s.language)
        .join(s, s.id == d.subscriber_id).where(d.id.in_(ids)).order_by(d.send_at, d.id)).all()


def _send_rows(services: Services, session: Session, broadcast: Broadcast, rows: list[Any], rate: float,
               clock: Callable[[], float], sleep: Callable[[float], None]) -> dict[str, int]:
    first = reserve(services, len(rows), rate, clock())
    counts: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    reps: dict[Any, Any] = {}
    callback = services.url("/sms/status")
    window = max(1, min(defaults.OPTOUT_CHECK_MAX, int(rate * defaults.OPTOUT_FRESH_SECONDS)))
    active: set[int] = set()
    for i, row in enumerate(rows):
        wait = first + i / rate - clock()
        if wait > 0:
            sleep(wait)
        if i % window == 0:
            active = _active_among(session, [r.subscriber_id for r in rows[i:i + window]])
        result = _send_one(services, session, broadcast, row, callback, reps, row.subscriber_id in active)
        if result["status"] == "failed":
            recipient_done(session, broadcast.id, row.id, row.subscriber_id, "failed", result.get("error_code"))
        counts[result["status"]] = counts.get(result["status"], 0) + 1
        results.append(result)
        if result["status"] == "sending":  # Twilio did not answer: one timeout per batch, not one per row
            results += _hand_back(rows[i + 1:])
            break
        if len(results) >= defaults.BROADCAST_COMMIT_EVERY:
            _save(session, results)
            if _stopped(session, broadcast.id, [r.id for r in rows[i + 1:]]):
                break
    _save(session, results)
    return counts


def _hand_back(rows: list[Any]) -> list[dict[str, Any]]:
    """Unsent rows of a batch cut short, due again after the first back-off interval."""
    later = utcnow() + timedelta(seconds=defaults.RETRY_INTERVALS[0])
    return [{"id": row.id, "status": "pending", "send_at": later, "claim": None} for row in rows]


def _send_one(services: Services, session: Session, broadcast: Broadcast, row: Any, callback: str,
              reps: dict[Any, Any], opted_in: bool) -> dict[str, Any]:
    now = utcnow()
    if not opted_in:
        return {"id": row.id, "status": "skipped", "reason": "opted-out", "claim": None}
    if not broadcast.urgent:
        allowed = compliance.next_allowed_time(now, compliance.subscriber_zone(row), services.settings.quiet_hours)
        if allowed > now:
            return {"id": row.id, "status": "pending", "send_at": allowed, "claim": None}
    body = render(session, text_for(broadcast, getattr(row, "language", None)), row, reps)
    try:
        sid = services.transport.send_sms(row.phone, body, callback)
    except TransportError as exc:
        return _failure(services, session, row, exc, now)
    return {"id": row.id, "status": "sent", "twilio_sid": sid, "sent_at": now}


def recipient_done(session: Session, broadcast_id: int, delivery_id: int, subscriber_id: int, outcome: str,
                   error_code: int | None) -> None:
    """Tell the hooks that one recipient's delivery ended (committed with the delivery's new status)."""
    for hook in RECIPIENT_HOOKS:
        hook(session, broadcast_id, delivery_id, subscriber_id, outcome, error_code)


def _active_among(session: Session, subscriber_ids: list[int]) -> set[int]:
    """Which of these subscribers may be messaged, read fresh right before their sends.

    At most ``OPTOUT_FRESH_SECONDS`` of sends share one read (a single message at
    low rates), so a STOP is seen by the next send, without a database round trip
    per message at thousands of messages a second.
    """
    rows = session.execute(select(Subscriber.id, Subscriber.status).where(Subscriber.id.in_(subscriber_ids)))
    return {subscriber_id for subscriber_id, status in rows if status == "active"}  # by primary key only


def text_for(broadcast: Broadcast, language: str | None) -> str:
    """The broadcast's text in ``language``, or its default-language text when none was written."""
    return (broadcast.translations or {}).get(language or "") or broadcast.body


def render(session: Session, body: str, row: Any, reps: dict[Any, Any] | None = None) -> str:
    """The text this recipient gets (merge fields filled from their row)."""
    if "{" not in body:
        return body
    rep = merge_fields.representative(session, row.state, row.district, reps) if "{rep}" in body else None
    previewed = encoding.count(merge_fields.sample(body)).segments  # never more than the preview counted
    return merge_fields.render(body, {"first_name": row.first_name, "zip": row.zip, "rep": rep}, previewed)


def _failure(services: Services, session: Session, row: Any, exc: TransportError, now: datetime) -> dict[str, Any]:
    if exc.opted_out:
        subscriber = session.get(Subscriber, row.subscriber_id)
        if subscriber is not None:
            compliance.opt_out(session, subscriber, f"twilio-{exc.code}")
        return {"id": row.id, "status": "failed", "error_code": exc.code, "reason": "opted-out"}
    if exc.outcome_unknown:
        # The request may have reached Twilio: leave the row claimed for the sweeper to settle.
        return {"id": row.id, "status": "sending"}
    if exc.retryable and row.attempts < len(defaults.RETRY_INTERVALS):
        delay = exc.retry_delay(row.attempts)
        return {"id": row.id, "status": "pending", "attempts": row.attempts + 1, "error_code": exc.code,
                "send_at": now + timedelta(seconds=delay), "claim": None}
    return {"id": row.id, "status": "failed", "error_code": exc.code, "attempts": row.attempts + 1}


def _save(session: Session, results: list[dict[str, Any]]) -> None:
    """Write a chunk of outcomes with one executemany per shape of result, and commit."""
    if not results:
        return
    table = Delivery.__table__
    for group in _by_keys(results):
        keys = [key for key in group[0] if key != "id"]
        stmt = table.update().where(table.c.id == bindparam("row_id")).values(
            {key: bindparam(f"new_{key}", type_=table.c[key].type) for key in keys})
        session.connection().execute(stmt, [{"row_id": r["id"], **{f"new_{k}": r[k] for k in keys}} for r in group])
    session.commit()
    results.clear()


def _by_keys(results: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for result in results:
        groups.setdefault(tuple(sorted(result)), []).append(result)
    return list(groups.values())


def _stopped(session: Session, broadcast_id: int, rest: list[int]) -> bool:
    """If the broadcast was paused or cancelled mid-batch, hand the unsent rows back."""
    status = session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
    if status == "sending" or not rest:
        return False
    back = "cancelled" if status == "cancelled" else "pending"
    session.execute(update(Delivery).where(Delivery.id.in_(rest), Delivery.status == "sending")
                    .values(status=back, claim=None))
    session.commit()
    return True


def follow_up(services: Services, broadcast_id: int, now: datetime | None = None) -> str:
    """Enqueue the next batch now or when rows fall due, or mark the broadcast sent."""
    now = now or utcnow()
    with services.db.session() as session:
        if session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id)) != "sending":
            return "stopped"
        next_at = session.scalar(select(func.min(Delivery.send_at)).where(
            Delivery.broadcast_id == broadcast_id, Delivery.status == "pending"))
        if next_at is None:
            busy = session.scalar(select(Delivery.id).where(Delivery.broadcast_id == broadcast_id,
                                                            Delivery.status == "sending").limit(1))
            if busy is not None:
                return "waiting"
            session.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status == "sending")
                            .values(status="sent", finished_at=now))
            session.commit()
            return "sent"
    kick(services, broadcast_id, next_at if next_at > now else None)
    return "next"
