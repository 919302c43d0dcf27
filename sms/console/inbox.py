"""The organizer inbox: conversations per subscriber, replies typed by hand, texts that need a person.

A manual reply is a real outbound text: it is recorded as a ``Message`` with
``kind="manual"`` before it is sent, refused for opted-out numbers (checked at
send time, like every other path), and handed to the durable outbound path
(``sms.messaging.outbound``) when the transport fails with a retryable error.

A text the opt-out matcher could not place (``OptOutReview``) marks its thread "needs a
person" until an organizer opts the number out (consent source ``console``) or says it
was not an opt-out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms.errors import TransportError
from sms.messaging import catalogue, compliance, encoding, outbound
from sms.services import Services
from sms.store import Message, OptOutReview, Subscriber, utcnow

log = logging.getLogger(__name__)
MAX_MANUAL_SEGMENTS = 4
PAGE_SIZE = 50


class ReplyRefused(ValueError):
    """A manual reply cannot be sent; the message says why, for the organizer."""


@dataclass(frozen=True)
class ThreadSummary:
    subscriber_id: int
    masked_phone: str
    status: str
    last_body: str
    last_direction: str
    last_at: str
    messages: int
    needs_person: bool = False


def threads(session: Session, page: int = 1, query: str = "", needs_person: bool = False) -> list[ThreadSummary]:
    """Subscribers by latest activity (the indexed ``last_active_at``), with their last message; masked.

    ``needs_person`` keeps only threads with a text waiting for a person (``OptOutReview``).
    """
    stmt = select(Subscriber).order_by(Subscriber.last_active_at.desc(), Subscriber.id.desc())
    digits = "".join(ch for ch in query if ch.isdigit())
    if digits:
        stmt = stmt.where(Subscriber.phone.contains(digits))
    if needs_person:
        waiting = select(OptOutReview.subscriber_id).where(OptOutReview.resolved_at.is_(None))
        stmt = stmt.where(Subscriber.id.in_(waiting))
    people = session.scalars(stmt.limit(PAGE_SIZE).offset((max(page, 1) - 1) * PAGE_SIZE)).all()
    ids = [p.id for p in people]
    stats = {sid: (last, n) for sid, last, n in session.execute(
        select(Message.subscriber_id, func.max(Message.id), func.count(Message.id))
        .where(Message.subscriber_id.in_(ids)).group_by(Message.subscriber_id))}
    last = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_([v[0] for v in stats.values()])))}
    flagged = set(session.scalars(select(OptOutReview.subscriber_id).where(
        OptOutReview.subscriber_id.in_(ids), OptOutReview.resolved_at.is_(None))))
    return [_summary(sub, last[stats[sub.id][0]], stats[sub.id][1], sub.id in flagged)
            for sub in people if sub.id in stats]


def _summary(sub: Subscriber, message: Message, count: int, needs_person: bool) -> ThreadSummary:
    return ThreadSummary(
        subscriber_id=sub.id, masked_phone=compliance.mask(sub.phone), status=sub.status,
        last_body=(message.body or "")[:120], last_direction=message.direction,
        last_at=message.created_at.strftime("%Y-%m-%d %H:%M UTC"), messages=count, needs_person=needs_person,
    )


def open_reviews(session: Session, subscriber_id: int) -> dict[int | None, OptOutReview]:
    """The subscriber's texts waiting for a person, by inbound message id."""
    rows = session.scalars(select(OptOutReview).where(
        OptOutReview.subscriber_id == subscriber_id, OptOutReview.resolved_at.is_(None)).order_by(OptOutReview.id))
    return {review.message_id: review for review in rows}


def opt_out_by_organizer(services: Services, subscriber_id: int, organizer: str) -> bool:
    """Opt a number out from the console (source ``console``); False if it already was. No text is sent."""
    with services.db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise ReplyRefused("No such subscriber.")
        compliance.resolve_reviews(session, subscriber_id, "opted_out", organizer)
        changed = compliance.opt_out(session, subscriber, "console", f"by {organizer}"[:160])
        session.commit()
    log.info("organizer %s opted out %s (changed: %s)", organizer, compliance.mask(subscriber.phone), changed)
    return changed


def clear_reviews(services: Services, subscriber_id: int, organizer: str) -> int:
    """An organizer read the flagged texts and they were not opt-outs; return how many were open."""
    with services.db.session() as session:
        cleared = compliance.resolve_reviews(session, subscriber_id, "not_opt_out", organizer)
        session.commit()
    return cleared


def thread(session: Session, subscriber_id: int, limit: int = 200) -> tuple[Subscriber | None, list[Message]]:
    """One subscriber and their last ``limit`` messages, oldest first."""
    subscriber = session.get(Subscriber, subscriber_id)
    if subscriber is None:
        return None, []
    rows = session.scalars(
        select(Message).where(Message.subscriber_id == subscriber_id).order_by(Message.id.desc()).limit(limit)
    ).all()
    return subscriber, list(reversed(rows))


def check_reply(body: str) -> str:
    """The text to send for ``body``, or ReplyRefused when it is empty or too long."""
    text = encoding.gsm_safe((body or "").strip())
    if not text:
        raise ReplyRefused("Write a reply first.")
    info = encoding.count(text)
    if info.segments > MAX_MANUAL_SEGMENTS:
        raise ReplyRefused(
            f"That reply needs {info.segments} SMS segments ({info.encoding}); the limit is {MAX_MANUAL_SEGMENTS}."
        )
    return text


def send_manual(services: Services, subscriber_id: int, body: str, organizer: str) -> Message:
    """Send ``body`` to one subscriber now; return the recorded message (sent, retrying or failed)."""
    text = check_reply(body)
    with services.db.session() as session:
        subscriber = session.get(Subscriber, subscriber_id)
        if subscriber is None:
            raise ReplyRefused("No such subscriber.")
        if not compliance.may_message(session, subscriber.phone):
            raise ReplyRefused("This number has opted out (STOP). It cannot be messaged.")
        message = Message(
            subscriber_id=subscriber.id, direction="out", kind="manual", phone=subscriber.phone, body=text,
            segments=encoding.count(text).segments, status="sending", sent_at=utcnow(),
        )
        session.add(message)
        session.commit()
        log.info("manual reply %s to %s by organizer %s", message.id, compliance.mask(subscriber.phone), organizer)
        try:
            message.twilio_sid = services.transport.send_sms(subscriber.phone, text, services.url("/sms/status"))
            message.status = "sent"
        except TransportError as exc:
            _failed(services, session, subscriber, message, exc)
        session.commit()
        return message


def _failed(services: Services, session: Session, subscriber: Subscriber, message: Message,
            exc: TransportError) -> None:
    message.error_code = exc.code
    if exc.outcome_unknown:
        return  # stays ``sending``: the sweeper asks Twilio whether it went out before any resend
    if exc.opted_out:
        compliance.opt_out(session, subscriber, f"twilio-{exc.code}")
    if exc.retryable:
        message.attempts = 1
        message.status = "scheduled"
        message.send_at = utcnow() + timedelta(seconds=exc.retry_delay(0))
        session.flush()
        outbound.enqueue_delivery(services, message.id, message.send_at)
    else:
        message.status = "failed"


def keyword_title(session: Session, keyword: str | None) -> str:
    """The demand title for a keyword (for the conversation header), or the keyword itself."""
    if not keyword:
        return ""
    demand = catalogue.current(session).demand(keyword)
    return demand.title if demand else keyword
