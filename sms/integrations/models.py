"""Models of the integrations package: the event log, webhook destinations and their deliveries."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from sms.store import Base, UTCDateTime, utcnow


class Event(Base):
    """One change worth telling other systems about, written in the transaction that made it.

    ``data`` never holds a phone number (a destination allowed one gets it when the event is
    sent); erasing a subscriber empties the ``data`` of their events. ``fanned_out`` turns true
    once a delivery row exists for every destination subscribed to the type.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_fan_out", "id", sqlite_where=text("fanned_out = 0"),
              postgresql_where=text("fanned_out = false")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    type: Mapped[str] = mapped_column(String(40), index=True)
    schema: Mapped[int] = mapped_column(Integer, default=1)
    subscriber_id: Mapped[int | None] = mapped_column(Integer, index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Destination(Base):
    """Where events go: a signed webhook, or Action Network (``kind``), and which types it takes."""

    __tablename__ = "event_destinations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="webhook")  # webhook | action_network
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(JSON, default=list)
    secret: Mapped[str] = mapped_column(String(100), default="")
    allow_phone: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(12), default="active", index=True)  # active | paused | disabled
    status_reason: Mapped[str | None] = mapped_column(String(200))
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # first failure since the last success
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventDelivery(Base):
    """One event to one destination: the promise (outbox), its attempts and its outcome."""

    __tablename__ = "event_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "destination_id"),
        Index("ix_event_deliveries_due", "destination_id", "status", "next_at"),
        Index("ix_event_deliveries_order", "destination_id", "subscriber_id", "event_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("event_destinations.id"))
    subscriber_id: Mapped[int | None] = mapped_column(Integer)  # the event's, for the order per subscriber
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)  # opt-outs go on the high queue
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending sending delivered failed skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_try_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
