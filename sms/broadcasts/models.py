"""Models of the broadcasts package (tables declared on ``sms.store.Base``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from sms.store import Base, UTCDateTime, utcnow


class Broadcast(Base):
    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="broadcast")  # broadcast | reminder
    body: Mapped[str] = mapped_column(Text)
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """The text in other languages than the default (``{"es": "..."}``): each recipient gets theirs, else ``body``."""
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("audience_segments.id"))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    mps: Mapped[float | None] = mapped_column(Float)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One recipient of one broadcast: the promise, its claim and its outcome."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "subscriber_id"),
        Index("ix_deliveries_due", "broadcast_id", "status", "send_at"),
        # Partial: a million freshly planned rows have no SID yet and cost this index nothing.
        Index("ix_deliveries_twilio_sid", "twilio_sid", unique=True, sqlite_where=text("twilio_sid IS NOT NULL"),
              postgresql_where=text("twilio_sid IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(ForeignKey("broadcasts.id"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"))
    phone: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    send_at: Mapped[datetime] = mapped_column(UTCDateTime)
    claim: Mapped[str | None] = mapped_column(String(32))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    twilio_sid: Mapped[str | None] = mapped_column(String(64))
    error_code: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Segment(Base):
    """A saved audience: a name and its filter."""

    __tablename__ = "audience_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reminder(Base):
    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    translations: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    segment: Mapped[str | None] = mapped_column(String(60))
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    mps: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)  # active|paused|cancelled|done
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    every_seconds: Mapped[int | None] = mapped_column(Integer)
    fired: Mapped[int] = mapped_column(Integer, default=0)
    last_broadcast_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
