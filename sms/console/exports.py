"""CSV exports for organizers: subscribers (opted-in, or all with consent history), messages, deliveries.

Rows are streamed in id order in batches, so exporting 100,000 subscribers never
holds them all in memory. Cells that a spreadsheet would run as a formula are
prefixed with an apostrophe (phone numbers such as ``+16175550123`` are left alone).
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.messaging import languages
from sms.store import ConsentEvent, Interest, Message, Subscriber

BATCH = 1000
SUBSCRIBER_COLUMNS = ["phone", "status", "zip", "state", "district", "timezone", "first_name", "last_demand",
                      "interests", "created_at", "last_active_at", "language"]
CONSENT_COLUMN = "consent_history"
MESSAGE_COLUMNS = ["id", "created_at", "direction", "kind", "phone", "status", "segments", "error_code",
                   "twilio_sid", "body"]
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d ()-]*$)")


def safe_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will show as text, never evaluate."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if _FORMULA.match(text) else text


def csv_lines(rows: Iterable[list[Any]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def batches(session: Session, model: Any, *where: Any) -> Iterator[list[Any]]:
    """Plain rows of ``model`` in id order (no ORM objects, so memory stays flat for any size)."""
    columns = [c for c in model.__table__.columns]
    last = 0
    while True:
        rows = session.execute(select(*columns).where(model.id > last, *where).order_by(model.id).limit(BATCH)).all()
        if not rows:
            return
        yield rows
        last = rows[-1].id


def subscribers_csv(session: Session, include_opted_out: bool = False) -> Iterator[str]:
    """Opted-in subscribers, or everyone with their consent history (``action@time/source`` entries)."""
    header = SUBSCRIBER_COLUMNS + ([CONSENT_COLUMN] if include_opted_out else [])
    return csv_lines(itertools.chain([header], _subscriber_rows(session, include_opted_out)))


def _subscriber_rows(session: Session, with_consent: bool) -> Iterator[list[Any]]:
    # Walk the primary key and filter here: a status filter in SQL lets the planner pick the
    # status index and re-scan it for every batch.
    for batch in batches(session, Subscriber):
        batch = batch if with_consent else [s for s in batch if s.status == "active"]
        if not batch:
            continue
        ids = [s.id for s in batch]
        interests = _grouped(session, select(Interest.subscriber_id, Interest.keyword)
                             .where(Interest.subscriber_id.in_(ids)).order_by(Interest.keyword))
        consent = _grouped(session, select(
            ConsentEvent.subscriber_id, ConsentEvent.action, ConsentEvent.created_at, ConsentEvent.source,
        ).where(ConsentEvent.subscriber_id.in_(ids)).order_by(ConsentEvent.id)) if with_consent else {}
        for s in batch:
            row = [s.phone, s.status, s.zip, s.state, s.district, s.timezone, s.first_name, s.last_demand,
                   " ".join(interests.get(s.id, [])), s.created_at, s.last_active_at, s.language or languages.DEFAULT]
            if with_consent:
                row.append("; ".join(consent.get(s.id, [])))
            yield row


def _grouped(session: Session, stmt: Any) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = {}
    for key, *rest in session.execute(stmt):
        if len(rest) == 1:
            grouped.setdefault(key, []).append(rest[0])
        else:
            action, at, source = rest
            grouped.setdefault(key, []).append(f"{action}@{at.isoformat()}/{source}")
    return grouped


def messages_csv(session: Session) -> Iterator[str]:
    """Every message, inbound and outbound, with delivery status."""
    rows = (
        [m.id, m.created_at, m.direction, m.kind, m.phone, m.status, m.segments, m.error_code, m.twilio_sid, m.body]
        for batch in batches(session, Message) for m in batch
    )
    return csv_lines(itertools.chain([MESSAGE_COLUMNS], rows))


DELIVERY_COLUMNS = ["broadcast_id", "delivery_id", "phone", "status", "send_at", "sent_at", "attempts", "twilio_sid",
                    "error_code", "reason"]


def deliveries_csv(session: Session, broadcast_id: int | None = None) -> Iterator[str]:
    """Broadcast deliveries (one broadcast's, or all) with status, times and Twilio errors."""
    from sms.broadcasts.models import Delivery

    where = [Delivery.broadcast_id == broadcast_id] if broadcast_id is not None else []
    rows = (
        [d.broadcast_id, d.id, d.phone, d.status, d.send_at, d.sent_at, d.attempts, d.twilio_sid, d.error_code,
         d.reason]
        for batch in batches(session, Delivery, *where) for d in batch
    )
    return csv_lines(itertools.chain([DELIVERY_COLUMNS], rows))
