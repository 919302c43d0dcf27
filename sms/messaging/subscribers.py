"""Subscribers: phone normalisation, lookup, interests and erasure."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import Insert, Select, Update, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from sms import core_writes
from sms.errors import InvalidNumber
from sms.store import Conversation, Interest, Message, OptOutReview, Subscriber, utcnow


def normalise_phone(raw: str, region: str = "US") -> str:
    """Return ``raw`` in E.164, or raise InvalidNumber."""
    try:
        return _e164((raw or "").strip(), region)
    except InvalidNumber as exc:
        raise InvalidNumber(raw) from exc.__cause__


@functools.lru_cache(maxsize=8192)
def _e164(raw: str, region: str) -> str:
    """Remembered: a texter's number arrives on every text, and parsing it cost ~100 Python calls."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidNumber(raw) from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_of(phone: str) -> str | None:
    """ISO country code of an E.164 number (``US`` for +1 NANP numbers in the US)."""
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(phone))
    except phonenumbers.NumberParseException:
        return None


def get_or_create(session: Session, phone: str, probably_new: bool = False) -> tuple[Subscriber, bool]:
    """The subscriber for ``phone`` (E.164) and whether it was just created.

    Two webhooks racing for a new number both end with the same row: the loser's
    insert does nothing on the unique phone and it reads the winner's. ``probably_new`` skips
    the first read when the caller has just looked.
    """
    if not probably_new:
        subscriber = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
        if subscriber is not None:
            return subscriber, False
    connection = session.connection()
    row = connection.execute(_insert_subscriber(connection.dialect.name), {"phone": phone}).first()
    if row is not None:
        return _persistent(session, row._asdict()), True
    return session.scalars(select(Subscriber).where(Subscriber.phone == phone)).one(), False


@functools.cache
def _insert_subscriber(dialect: str) -> Insert:
    """Built once per dialect: a Core insert of a new number that does nothing if it is already there."""
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    table = Subscriber.__table__
    return insert(table).on_conflict_do_nothing(index_elements=["phone"]).returning(*table.c)


def _persistent(session: Session, values: dict[str, Any]) -> Subscriber:
    """The just-inserted row as the session's own object, as an ORM ``INSERT … RETURNING`` would give it."""
    subscriber = Subscriber(**values)
    make_transient_to_detached(subscriber)
    session.add(subscriber)
    return subscriber


def find(session: Session, phone: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.phone == phone))


LANGUAGE_HOOKS: list[Callable[[Session, Subscriber, str, str], None]] = []
"""Called with (session, subscriber, language, source) when a subscriber's language changes (the event
log's ``subscriber.language_changed``); filled by ``sms.features.install``."""


def set_language(session: Session, subscriber: Subscriber, language: str, source: str) -> bool:
    """Make ``language`` the subscriber's (``source``: sms, detected, console, cli); True if it changed."""
    if (subscriber.language or None) == language:
        return False
    subscriber.language = language
    for hook in LANGUAGE_HOOKS:
        hook(session, subscriber, language, source)
    return True


INTEREST_HOOKS: list[Callable[[Session, Subscriber, str], None]] = []
"""Called with (session, subscriber, keyword) the first time a subscriber texts a keyword (e.g. the event
log); filled by ``sms.features.install``."""


def record_interest(session: Session, subscriber: Subscriber, keyword: str,
                    new_subscriber: bool = False, known: frozenset[str] | None = None) -> tuple[bool, bool]:
    """Remember that ``subscriber`` texted ``keyword``.

    Returns (first time for this keyword, first interest of any kind). ``known``: the keywords
    already stored, read with the texter (``sms.messaging.inbound``); else one read of them, without
    autoflush, so SQLite's write lock is not taken yet; none for a ``new_subscriber``, who has none.
    A stored interest is counted by ``times = times + 1`` sent with the turn's other writes.
    """
    pending = {i.keyword: i for i in session.new if isinstance(i, Interest) and i.subscriber_id == subscriber.id}
    if known is None and not new_subscriber:
        with session.no_autoflush:
            known = frozenset(session.scalars(_stored_keywords(), {"subscriber_id": subscriber.id}))
    stored = known or frozenset()
    if keyword in stored:
        core_writes.later(session, _count_interest(), {"who": subscriber.id, "which": keyword, "now": utcnow()})
        return False, False
    if keyword in pending:  # added earlier in this turn, not stored yet
        pending[keyword].times = (pending[keyword].times or 1) + 1
        return False, False
    session.add(Interest(subscriber_id=subscriber.id, keyword=keyword))
    for hook in INTEREST_HOOKS:
        hook(session, subscriber, keyword)
    return True, not (stored or pending)


@functools.cache
def _stored_keywords() -> Select:
    return select(Interest.keyword).where(Interest.subscriber_id == bindparam("subscriber_id"))


@functools.cache
def _count_interest() -> Update:
    interests = Interest.__table__.c
    return (update(Interest.__table__)
            .where(interests.subscriber_id == bindparam("who"), interests.keyword == bindparam("which"))
            .values(times=interests.times + 1, last_at=bindparam("now")))


ERASERS: list[Callable[[Session, int], None]] = []
"""Feature modules' own erasure of a subscriber's personal data (called by ``erase`` with the id);
filled by ``sms.features.install``."""


def erase(session: Session, subscriber: Subscriber) -> None:
    """Erase personal data but keep the number's consent record, as the law requires.

    ZIP, place, name, interests, conversation and message bodies go; the row, its
    status and the consent history stay so the number is never messaged again
    against its wishes.
    """
    sid = subscriber.id
    session.execute(delete(Interest).where(Interest.subscriber_id == sid))
    session.execute(delete(Conversation).where(Conversation.subscriber_id == sid))
    session.execute(delete(OptOutReview).where(OptOutReview.subscriber_id == sid))  # about bodies erased below
    # A text still waiting to be sent would go out empty: it is cancelled, not blanked.
    session.execute(update(Message).where(Message.subscriber_id == sid, Message.status == "scheduled")
                    .values(status="cancelled"))
    session.execute(update(Message).where(Message.subscriber_id == sid).values(body=None))
    subscriber.zip = subscriber.state = subscriber.timezone = subscriber.first_name = None
    subscriber.district = subscriber.state_upper = subscriber.state_lower = None
    subscriber.county_fips = subscriber.place_geoid = None
    subscriber.last_demand = None
    for eraser in ERASERS:
        eraser(session, sid)


def purge_inactive(session: Session, cutoff: datetime, batch: int = 500) -> int:
    """Erase the personal data of subscribers silent since ``cutoff``; return how many."""
    stale = session.scalars(
        select(Subscriber).where(
            Subscriber.last_active_at < cutoff,
            (Subscriber.zip.is_not(None)) | (Subscriber.last_demand.is_not(None))
            | (Subscriber.state.is_not(None)) | (Subscriber.district.is_not(None))
            | (Subscriber.first_name.is_not(None)) | (Subscriber.timezone.is_not(None))
            | Subscriber.id.in_(select(Interest.subscriber_id)) | Subscriber.id.in_(
                select(Message.subscriber_id).where(Message.body.is_not(None))),
        ).limit(batch)
    ).all()
    for subscriber in stale:
        erase(session, subscriber)
    return len(stale)
