"""Database models and sessions: the system of record.

SQLite by default, PostgreSQL through ``DATABASE_URL``; the schema is owned by the
Alembic migrations in ``sms/migrations`` (``upgrade()`` below applies them).
The core tables (subscribers, consent, messages, conversations, the catalogue) are
here; each feature package declares its own on ``Base`` in its ``models.py``, and
``sms.features.load_models()`` returns ``Base`` with all of them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker
from sqlalchemy.types import TypeDecorator

from sms import core_writes, sqlite_writers

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def utcnow() -> datetime:
    """Timezone-aware now in UTC (the only clock the database sees)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always read back timezone-aware (SQLite drops tzinfo)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use sms.store.utcnow()")
        return value.astimezone(UTC) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    pass


class Subscriber(Base):
    """One phone number that has texted or called the service."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    tier: Mapped[str] = mapped_column(String(16), default="normal")
    zip: Mapped[str | None] = mapped_column(String(5))
    state: Mapped[str | None] = mapped_column(String(2), index=True)
    district: Mapped[int | None] = mapped_column(Integer)
    state_upper: Mapped[str | None] = mapped_column(String(20))  # state senate district, once known
    state_lower: Mapped[str | None] = mapped_column(String(20))  # state house district, once known
    county_fips: Mapped[str | None] = mapped_column(String(5))  # county (5-digit FIPS), once found from an address
    place_geoid: Mapped[str | None] = mapped_column(String(7))  # incorporated place (Census GEOID), likewise
    timezone: Mapped[str | None] = mapped_column(String(40))
    first_name: Mapped[str | None] = mapped_column(String(60))
    language: Mapped[str | None] = mapped_column(String(8))  # None: the default language (sms.messaging.languages)
    last_demand: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_active_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    @property
    def opted_out(self) -> bool:
        return self.status == "opted_out"


class ConsentEvent(Base):
    """Append-only history of opt-ins and opt-outs (kept even after DELETE)."""

    __tablename__ = "consent_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # opt_in | opt_out
    source: Mapped[str] = mapped_column(String(40))  # e.g. sms, twilio-21610, console
    detail: Mapped[str | None] = mapped_column(String(160))  # e.g. the word texted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OptOutReview(Base):
    """An inbound text that may revoke consent but did not clearly say so: a person should read it.

    Written by the conversation (``sms.messaging.compliance.flag_for_review``), shown in the
    console inbox as "needs a person" until an organizer opts the number out or clears it.
    """

    __tablename__ = "opt_out_reviews"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    rule: Mapped[str] = mapped_column(String(160))  # what the matcher saw, e.g. "unclear:who is this"
    hinted: Mapped[bool] = mapped_column(Boolean, default=False)  # the reply said how to stop
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by: Mapped[str | None] = mapped_column(String(254))
    resolution: Mapped[str | None] = mapped_column(String(16))  # opted_out | not_opt_out

    message: Mapped[Message | None] = relationship()


class Interest(Base):
    """A demand or campaign keyword a subscriber has texted."""

    __tablename__ = "interests"
    __table_args__ = (UniqueConstraint("subscriber_id", "keyword"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    keyword: Mapped[str] = mapped_column(String(40), index=True)
    times: Mapped[int] = mapped_column(Integer, default=1)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    """An inbound or outbound text, with its Twilio SID and delivery status."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int | None] = mapped_column(ForeignKey("subscribers.id"), index=True)
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    kind: Mapped[str] = mapped_column(String(16), default="reply")  # inbound, reply, followup, manual...
    phone: Mapped[str] = mapped_column(String(20), index=True)  # the other party
    body: Mapped[str | None] = mapped_column(Text)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    segments: Mapped[int] = mapped_column(Integer, default=0)
    twilio_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="received", index=True)
    error_code: Mapped[int | None] = mapped_column(Integer)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"), index=True)
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Conversation(Base):
    """Where a texter is in the menu, so numbered replies mean the right thing."""

    __tablename__ = "conversations"

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), primary_key=True)
    menu: Mapped[str | None] = mapped_column(String(200))  # areas | area:N | campaigns | choice:KW,KW
    pending: Mapped[str | None] = mapped_column(String(40))  # a question awaiting an answer
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Area(Base):
    __tablename__ = "areas"

    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(80))


class Demand(Base):
    """A demand from the seed: what to text, what it asks and who to call."""

    __tablename__ = "demands"

    keyword: Mapped[str] = mapped_column(String(40), primary_key=True)
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    area: Mapped[int] = mapped_column(ForeignKey("areas.number"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(120))
    summary: Mapped[str] = mapped_column(Text, default="")
    ask: Mapped[str] = mapped_column(String(200), default="")
    reply: Mapped[str] = mapped_column(Text)
    targets: Mapped[str] = mapped_column(String(200), default="congress")  # kinds in order (sms.targets.kinds)
    target_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    script: Mapped[str] = mapped_column(Text, default="")
    followup: Mapped[bool] = mapped_column(Boolean, default=True)
    mentions: Mapped[list[str]] = mapped_column(JSON, default=list)
    """Named asks that point at the demand inside a longer text ("HR 1154"), besides keyword and aliases."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """When an organizer retired it: no longer offered, its keyword says the campaign ended (history kept)."""
    ask_as_of: Mapped[date | None] = mapped_column(Date)
    """The day the ask was last known true (a bill's status); shown to organizers, warned when old."""
    edited_fields: Mapped[list[str] | None] = mapped_column(JSON)
    """Fields an organizer changed in the console: import-catalogue keeps them unless --overwrite."""
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Campaign(Base):
    __tablename__ = "campaigns"

    keyword: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    reply: Mapped[str] = mapped_column(Text)


class CatalogueText(Base):
    """Service texts (welcome, help, disclosure...) editable like the demands."""

    __tablename__ = "catalogue_texts"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    """Set when an organizer saved it in the console: import-catalogue keeps it unless --overwrite."""


class CatalogueTranslation(Base):
    """One catalogue text in another language than the seed's: a demand's reply, an area's title, a service text.

    ``kind`` is area, demand, campaign or text; ``field`` the translated column (title, reply, script, aliases...).
    ``fold_accents``: the organizer chose to send it without the accents GSM-7 lacks, to fit its budget.
    """

    __tablename__ = "catalogue_translations"

    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    field: Mapped[str] = mapped_column(String(16), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    fold_accents: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxItem(Base):
    """What the outbox transport would have sent through Twilio (offline mode)."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # sms | call
    sid: Mapped[str] = mapped_column(String(64), unique=True)
    to: Mapped[str] = mapped_column(String(20), index=True)
    from_: Mapped[str] = mapped_column("from", String(40))
    body: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Database:
    """An engine and its session factory for one DATABASE_URL."""

    def __init__(self, url: str, **engine_options: Any) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, **engine_options)
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self.sessionmaker, "before_commit", core_writes.send_later)
        event.listen(self.sessionmaker, "after_soft_rollback", core_writes.forget_later)

    def session(self) -> Session:
        return self.sessionmaker()

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def normalise_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres:// URLs (Heroku style)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


PG_CONNECT_TIMEOUT_SECONDS = 5


def make_engine(url: str, **options: Any) -> Engine:
    """Create an engine; SQLite gets WAL, queued writers (sms.sqlite_writers), a busy timeout and foreign keys.

    Bound parameters (phone numbers) are kept out of SQL logs and error messages.
    """
    options.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False,
                                            "factory": sqlite_writers.QueuedWriterConnection})
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A connection the server dropped (restart, failover) is replaced before use, and an unreachable
    # server fails fast instead of hanging a webhook or a readiness probe.
    options.setdefault("pool_pre_ping", True)
    if url.startswith("postgresql") and "connect_timeout" not in url:
        options.setdefault("connect_args", {"connect_timeout": PG_CONNECT_TIMEOUT_SECONDS})
    return create_engine(url, **options)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA wal_autocheckpoint={sqlite_writers.WAL_BACKSTOP_PAGES}")  # checkpoints: sqlite_writers
    cursor.close()


def alembic_config(url: str) -> Any:
    """An Alembic config for ``url`` without an alembic.ini file."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)
