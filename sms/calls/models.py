"""Models of the calls package (tables declared on ``sms.store.Base``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from sms.store import Base, UTCDateTime, utcnow


class CallSession(Base):
    """One phone call with a supporter; the position says which target comes next."""

    __tablename__ = "call_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: uuid.uuid4().hex)
    call_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    direction: Mapped[str] = mapped_column(String(8), default="callback")  # callback | callin
    demand: Mapped[str | None] = mapped_column(String(40), index=True)
    zip: Mapped[str | None] = mapped_column(String(5))
    seats: Mapped[list[list[Any]]] = mapped_column(JSON, default=list)  # candidate (state, district)s
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    call_status: Mapped[str | None] = mapped_column(String(16))
    duration: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    summary_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one "try again" reminder
    place_attempts: Mapped[int] = mapped_column(Integer, default=0)  # call-back requests refused by Twilio (429/5xx)
    # queued: the next attempt after such a refusal; placing: when the current attempt began
    place_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CallLeg(Base):
    """One office dialed (or skipped) during a session, with Twilio's DialCallStatus."""

    __tablename__ = "call_legs"
    __table_args__ = (UniqueConstraint("session_id", "position", "attempt"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("call_sessions.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    kind: Mapped[str] = mapped_column(String(10))  # house | senate | custom | office
    ref: Mapped[str] = mapped_column(String(60), index=True)  # bioguide, custom target id, office id
    label: Mapped[str] = mapped_column(String(140))
    number: Mapped[str | None] = mapped_column(String(20))
    dial_sid: Mapped[str | None] = mapped_column(String(64))
    dial_status: Mapped[str | None] = mapped_column(String(16))  # completed | busy | no-answer | failed
    outcome: Mapped[str] = mapped_column(String(16), default="dialing", index=True)
    reported: Mapped[str | None] = mapped_column(String(16))  # caller's own report (talked, voicemail...)
    duration: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Blocked(Base):
    """A number the organizer never calls back or connects (abuse, toll fraud, a request)."""

    __tablename__ = "call_blocklist"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Stance(Base):
    """One lawmaker's position on one demand."""

    __tablename__ = "stances"

    bioguide: Mapped[str] = mapped_column(String(40), primary_key=True)  # or an Open States person id
    demand: Mapped[str] = mapped_column(String(40), primary_key=True)
    stance: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CallPolicy(Base):
    """Per-demand call settings an organizer chooses (absent = call everyone)."""

    __tablename__ = "call_policies"

    demand: Mapped[str] = mapped_column(String(40), primary_key=True)
    supporters: Mapped[str] = mapped_column(String(8), default="call")  # call | skip | thank
    thank_script: Mapped[str] = mapped_column(Text, default="")


class ScheduledCall(Base):
    """A call-back promised for later (``offered`` until the caller says YES).

    A booking made on the web by someone who is not a subscriber has no ``subscriber_id``: it keeps
    where they call from (ZIP, state, district, zone) itself.
    """

    __tablename__ = "scheduled_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    demand: Mapped[str] = mapped_column(String(40))
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[str] = mapped_column(String(12), default="offered", index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("call_sessions.id"))
    zip: Mapped[str | None] = mapped_column(String(5))
    state: Mapped[str | None] = mapped_column(String(2))
    district: Mapped[int | None] = mapped_column(Integer)
    timezone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
