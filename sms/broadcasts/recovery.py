"""Keep broadcasts moving from SQL alone: the sweeper and the status-callback listener.

Run every ``BROADCAST_SWEEP_SECONDS`` from ``sms.cron.PERIODIC``. After a Redis
flush or a killed worker it starts scheduled broadcasts that are due, settles
deliveries stuck in ``sending`` (asking the transport what it really sent before
anything is resent), re-enqueues dispatch for broadcasts whose job chain broke,
and fires due reminders whose scheduled jobs were lost.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.broadcasts import dispatch, lifecycle
from sms.broadcasts.models import Broadcast, Delivery
from sms.errors import TransportError
from sms.messaging import delivery_status
from sms.services import Services
from sms.store import Subscriber, utcnow

log = logging.getLogger(__name__)
GRACE = timedelta(seconds=5)
FINAL = ("delivered", "undelivered", "failed")
"""Twilio message statuses after which nothing more happens to a broadcast delivery."""


def sweep(services: Services, now: datetime | None = None) -> dict[str, int]:
    """One pass of recovery; returns what it did (for logs and tests)."""
    from sms.broadcasts import reminders

    now = now or utcnow()
    counts = {"started": 0, "settled": 0, "reset": 0, "unknown": 0, "kicked": 0, "finished": 0}
    with services.db.session() as session:
        due = session.scalars(select(Broadcast.id).where(Broadcast.status == "scheduled",
                                                         Broadcast.send_at <= now - GRACE)).all()
        sending = session.scalars(select(Broadcast.id).where(Broadcast.status == "sending")).all()
    for broadcast_id in due:
        counts["started"] += lifecycle.start(services, broadcast_id, now) == "started"
    for broadcast_id in sending:
        for outcome in settle(services, broadcast_id, now):
            counts[outcome] += 1
        counts.update(_revive(services, broadcast_id, now, counts))
    counts["reminders"] = reminders.fire_due(services, now)
    return counts


def _revive(services: Services, broadcast_id: int, now: datetime, counts: dict[str, int]) -> dict[str, int]:
    if services.redis.exists(f"actionline:bcast:{broadcast_id}:alive"):
        return {}
    with services.db.session() as session:
        stalled = session.scalar(select(Delivery.id).where(
            Delivery.broadcast_id == broadcast_id, Delivery.status == "pending",
            Delivery.send_at <= now - GRACE).limit(1))
    if stalled is not None:
        dispatch.kick(services, broadcast_id)
        return {"kicked": counts["kicked"] + 1}
    if dispatch.follow_up(services, broadcast_id, now) == "sent":
        return {"finished": counts["finished"] + 1}
    return {}


def settle(services: Services, broadcast_id: int, now: datetime) -> list[str]:
    """Resolve deliveries left in ``sending`` past the stale limit: sent if the transport has them."""
    stale = now - timedelta(seconds=services.settings.broadcast_stale_seconds)
    outcomes = []
    with services.db.session() as session:
        body = session.scalar(select(Broadcast.body).where(Broadcast.id == broadcast_id)) or ""
        d, s = Delivery, Subscriber
        rows = session.execute(
            select(d.id, d.phone, d.subscriber_id, d.claimed_at, s.first_name, s.zip, s.state, s.district)
            .join(s, s.id == d.subscriber_id)
            .where(d.broadcast_id == broadcast_id, d.status == "sending", d.claimed_at <= stale).limit(500)).all()
        for row in rows:
            outcomes.append(_settle_one(services, session, body, row))
            session.commit()
    return outcomes


def _settle_one(services: Services, session: Session, body: str, row: object) -> str:
    since = row.claimed_at - timedelta(minutes=1)
    try:
        sent = services.transport.find_messages(row.phone, since)
    except TransportError:
        return "unknown"  # ask again next sweep; never resend blind
    text = dispatch.render(session, body, row)
    match = next((r for r in sent if r.body == text), None)
    delivery = session.get(Delivery, row.id)
    if match is not None:
        delivery.status, delivery.twilio_sid, delivery.sent_at = "sent", match.sid, row.claimed_at
        return "settled"
    delivery.status, delivery.claim = "pending", None
    return "reset"


def on_status(session: Session, sid: str, new_status: str, error_code: int | None) -> bool:
    """Apply a Twilio status callback to the delivery with that SID (never moving backwards)."""
    delivery = session.scalar(select(Delivery).where(Delivery.twilio_sid == sid))
    if delivery is None:
        return False
    order = delivery_status.STATUS_ORDER
    before = delivery.status
    if order.get(delivery.status, -1) <= order.get(new_status, -1):
        delivery.status = new_status
    delivery.error_code = error_code or delivery.error_code
    if before not in FINAL and delivery.status in FINAL:  # once per recipient, however often Twilio calls
        outcome = "delivered" if delivery.status == "delivered" else "failed"
        dispatch.recipient_done(session, delivery.broadcast_id, delivery.id, delivery.subscriber_id, outcome,
                                delivery.error_code)
    return True

