"""Models of the web package (tables declared on ``sms.store.Base``)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from sms.store import Base, UTCDateTime, utcnow


class WebCall(Base):
    """A call-back asked for on the web: the handle the page polls, and where the request came from.

    No phone number and no raw IP here: the call session (or the booking) has the number,
    and the IP is kept only as a keyed hash (``sms.web.guards.hash_ip``).
    """

    __tablename__ = "web_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle: Mapped[str] = mapped_column(String(32), unique=True, default=lambda: secrets.token_hex(16))
    demand: Mapped[str] = mapped_column(String(40), index=True)
    source: Mapped[str] = mapped_column(String(8), default="page")  # page | widget | api
    page: Mapped[str] = mapped_column(String(300), default="")  # the page the form was on
    ip_hash: Mapped[str] = mapped_column(String(32), default="")
    session_id: Mapped[int | None] = mapped_column(ForeignKey("call_sessions.id"), index=True)
    scheduled_id: Mapped[int | None] = mapped_column(ForeignKey("scheduled_calls.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class WebConsent(Base):
    """What a supporter agreed to on the web, word for word, with the consent event it belongs to."""

    __tablename__ = "web_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    consent_event_id: Mapped[int] = mapped_column(ForeignKey("consent_events.id"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    wording: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(8), default="en")
    page: Mapped[str] = mapped_column(String(300), default="")
    ip_hash: Mapped[str] = mapped_column(String(32), default="")
    number_confirmed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
