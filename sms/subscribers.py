"""Subscribers: phone normalisation, lookup, interests and erasure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import phonenumbers
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms.errors import InvalidNumber
from sms.store import Conversation, Interest, Message, Subscriber, load_models, utcnow


def normalise_phone(raw: str, region: str = "US") -> str:
    """Return ``raw`` in E.164, or raise InvalidNumber."""
    try:
        number = phonenumbers.parse((raw or "").strip(), region)
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


def get_or_create(session: Session, phone: str) -> tuple[Subscriber, bool]:
    """The subscriber for ``phone`` (E.164) and whether it was just created.

    Two webhooks racing for a new number both end with the same row: the loser's
    insert fails on the unique phone and it reads the winner's.
    """
    subscriber = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
    if subscriber is not None:
        return subscriber, False
    subscriber = Subscriber(phone=phone)
    try:
        with session.begin_nested():
            session.add(subscriber)
    except IntegrityError:
        return session.scalars(select(Subscriber).where(Subscriber.phone == phone)).one(), False
    return subscriber, True


def find(session: Session, phone: str) -> Subscriber | None:
    return session.scalar(select(Subscriber).where(Subscriber.phone == phone))


def record_interest(session: Session, subscriber: Subscriber, keyword: str) -> bool:
    """Remember that ``subscriber`` texted ``keyword``; True the first time they do."""
    interest = session.scalar(
        select(Interest).where(Interest.subscriber_id == subscriber.id, Interest.keyword == keyword)
    )
    if interest is None:
        session.add(Interest(subscriber_id=subscriber.id, keyword=keyword))
        return True
    interest.times += 1
    interest.last_at = utcnow()
    return False


def has_interests(session: Session, subscriber: Subscriber) -> bool:
    return session.scalar(select(Interest.id).where(Interest.subscriber_id == subscriber.id).limit(1)) is not None


ERASERS: list[Callable[[Session, int], None]] = []
"""Feature modules' own erasure of a subscriber's personal data (called by ``erase`` with the id)."""


def erase(session: Session, subscriber: Subscriber) -> None:
    """Erase personal data but keep the number's consent record, as the law requires.

    ZIP, place, name, interests, conversation and message bodies go; the row, its
    status and the consent history stay so the number is never messaged again
    against its wishes.
    """
    load_models()  # feature modules register their ERASERS when imported
    sid = subscriber.id
    session.execute(delete(Interest).where(Interest.subscriber_id == sid))
    session.execute(delete(Conversation).where(Conversation.subscriber_id == sid))
    # A text still waiting to be sent would go out empty: it is cancelled, not blanked.
    session.execute(update(Message).where(Message.subscriber_id == sid, Message.status == "scheduled")
                    .values(status="cancelled"))
    session.execute(update(Message).where(Message.subscriber_id == sid).values(body=None))
    subscriber.zip = subscriber.state = subscriber.timezone = subscriber.first_name = None
    subscriber.district = None
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
