"""Opt-out rules (CTIA/Twilio), the consent history, reviews, quiet hours and log masking.

An opted-out number is never messaged again: every send path calls ``may_message``
at send time, not when the send was planned. What a text means for consent is read by
``sms.messaging.intent``; a text it cannot place is flagged for a person (``OptOutReview``).
Consent sources: ``sms`` (the texter's words, the matched rule as detail), ``sms-first-text``,
``sms-delete``, ``console`` (an organizer), ``twilio-advanced-opt-out`` (Twilio answered a
keyword itself: the webhook's ``OptOutType``) and ``twilio-21610`` (Twilio refused a send).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session

from sms import defaults
from sms.messaging import budget, encoding
from sms.store import ConsentEvent, Message, OptOutReview, Subscriber, utcnow

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"})
START_WORDS = frozenset({"START", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO", "AYUDA", "INFORMACION"})
TWILIO_OPT_OUT = "twilio-advanced-opt-out"
"""Consent source when Twilio's Advanced Opt-Out handled a keyword (the inbound webhook's ``OptOutType``)."""
STOP_HINT = "Reply STOP to stop these texts."
"""Added, at most once a day, to the answer to an unclear text."""
REJOIN_HINT = "You're opted out of {org} texts. Reply START to get texts again."
"""The answer, at most once a day, to a keyword from an opted-out number (which never opts it back in)."""
EASTERN = ZoneInfo("America/New_York")
OPT_OUT_HOOKS: list[Callable[[Session, Subscriber], object]] = []
"""Called on every opt-out (e.g. scheduled call-backs are cancelled); filled by ``sms.features.install``."""
CONSENT_HOOKS: list[Callable[[Session, Subscriber, str, str], object]] = []
"""Called with (session, subscriber, change, source) on every consent change: ``joined`` (a new number's
first text), ``opted_out``, ``opted_in`` (e.g. the event log); filled by ``sms.features.install``."""


def opt_out(session: Session, subscriber: Subscriber, source: str, detail: str | None = None) -> bool:
    """Mark ``subscriber`` opted out and log it; return False if they already were."""
    if subscriber.status == "opted_out":
        return False
    subscriber.status = "opted_out"
    session.add(ConsentEvent(subscriber_id=subscriber.id, action="opt_out", source=source, detail=detail))
    for hook in OPT_OUT_HOOKS:
        hook(session, subscriber)
    _consent_changed(session, subscriber, "opted_out", source)
    return True


def opt_in(session: Session, subscriber: Subscriber, source: str, detail: str | None = None) -> bool:
    """Mark ``subscriber`` opted in and log it; return False if they already were."""
    if subscriber.status == "active":
        return False
    subscriber.status = "active"
    session.add(ConsentEvent(subscriber_id=subscriber.id, action="opt_in", source=source, detail=detail))
    _consent_changed(session, subscriber, "opted_in", source)
    return True


def record_first_consent(session: Session, subscriber: Subscriber, detail: str | None) -> None:
    """A new texter's first message is their opt-in; keep it in the history."""
    session.add(ConsentEvent(subscriber_id=subscriber.id, action="opt_in", source="sms-first-text", detail=detail))
    _consent_changed(session, subscriber, "joined", "sms")


def consent_given(session: Session, subscriber: Subscriber, source: str, detail: str | None = None,
                  change: str = "joined") -> ConsentEvent:
    """An opt-in given somewhere other than a text (``source``: e.g. ``web``), kept in the history and
    heard by the consent hooks as ``change`` (``joined`` for a new number, ``opted_in`` otherwise)."""
    subscriber.status = "active"
    event = ConsentEvent(subscriber_id=subscriber.id, action="opt_in", source=source,
                         detail=(detail or "")[:160] or None)
    session.add(event)
    _consent_changed(session, subscriber, change, source)
    return event


def _consent_changed(session: Session, subscriber: Subscriber, change: str, source: str) -> None:
    for hook in CONSENT_HOOKS:
        hook(session, subscriber, change, source)


def flag_for_review(session: Session, subscriber: Subscriber, message: Message | None, rule: str,
                    hinted: bool) -> OptOutReview:
    """Ask a person to read ``message``: it may revoke consent without saying so clearly."""
    review = OptOutReview(subscriber_id=subscriber.id, message=message, rule=rule[:160], hinted=hinted)
    session.add(review)
    return review


def hinted_since(session: Session, subscriber_id: int, since: datetime) -> bool:
    """True if an unclear text of this subscriber was answered with ``STOP_HINT`` since ``since``."""
    with session.no_autoflush:  # a read: SQLite's write lock waits for the turn's first write
        return session.scalar(select(OptOutReview.id).where(
            OptOutReview.subscriber_id == subscriber_id, OptOutReview.hinted.is_(True),
            OptOutReview.created_at >= since).limit(1)) is not None


def resolve_reviews(session: Session, subscriber_id: int, resolution: str, by: str) -> int:
    """Close the subscriber's open reviews (``opted_out`` or ``not_opt_out``); return how many."""
    return session.execute(update(OptOutReview).where(
        OptOutReview.subscriber_id == subscriber_id, OptOutReview.resolved_at.is_(None)).values(
        resolved_at=utcnow(), resolved_by=by[:254], resolution=resolution)).rowcount


def resolve_on_opt_out(session: Session, subscriber: Subscriber) -> None:
    """An opt-out answers the subscriber's open reviews (an opt-out hook)."""
    resolve_reviews(session, subscriber.id, "opted_out", "opt-out")


def with_hint(replies: list[str], hint: str, segments: int = defaults.MAX_REPLY_SEGMENTS) -> list[str]:
    """``replies`` with ``hint`` on the last one if it still fits in ``segments``, else in a text of its own."""
    if replies and budget.allows(segments, encoding.gsm_safe(f"{replies[-1]}\n{hint}")):
        return [*replies[:-1], f"{replies[-1]}\n{hint}"]
    return [*replies, hint]


def may_message(session: Session, phone: str) -> bool:
    """True unless the number is opted out. Read fresh from the database at send time."""
    return session.scalar(_status_statement(), {"phone": phone}) != "opted_out"


@functools.cache
def _status_statement() -> Select[tuple[str]]:
    """A number's subscriber status, built once: every send and every answered call asks it."""
    return select(Subscriber.status).where(Subscriber.phone == bindparam("phone"))


def consent_history(session: Session, subscriber_id: int) -> list[ConsentEvent]:
    return list(
        session.scalars(
            select(ConsentEvent).where(ConsentEvent.subscriber_id == subscriber_id).order_by(ConsentEvent.id)
        )
    )


def subscriber_zone(subscriber: Subscriber | None) -> ZoneInfo:
    """The subscriber's time zone; US Eastern when unknown (the most conservative guess is not
    knowable, so quiet hours for unknown numbers follow the East Coast, where most texters are)."""
    if subscriber is not None and subscriber.timezone:
        try:
            return ZoneInfo(subscriber.timezone)
        except (KeyError, ValueError):
            pass
    return EASTERN


def next_allowed_time(now: datetime, zone: ZoneInfo, quiet_hours: tuple[int, int] | None) -> datetime:
    """``now`` if it is inside the local sending window, else the window's next opening (UTC-aware)."""
    if quiet_hours is None:
        return now
    start, end = quiet_hours
    local = now.astimezone(zone)
    if start <= local.hour < end:
        return now
    opening = local.replace(hour=start, minute=0, second=0, microsecond=0)
    if local.hour >= end:
        opening = (local + timedelta(days=1)).replace(hour=start, minute=0, second=0, microsecond=0)
    # Rebuild through the zone so a DST change overnight gives the right offset.
    opening = datetime(opening.year, opening.month, opening.day, start, tzinfo=zone)
    return opening.astimezone(now.tzinfo or zone)


def in_quiet_hours(now: datetime, zone: ZoneInfo, quiet_hours: tuple[int, int] | None) -> bool:
    return next_allowed_time(now, zone, quiet_hours) != now


def mask(phone: str | None) -> str:
    """Mask a phone number for logs: ``+1555***0123``."""
    if not phone:
        return "-"
    if len(phone) <= 6:
        return "***"
    return f"{phone[:-7]}***{phone[-4:]}" if len(phone) > 8 else f"{phone[:2]}***{phone[-2:]}"


_NUMBER = re.compile(r"(\+|%2B)(\d{1,3}?)(\d{3,})(\d{4})(?!\d)")
LIBRARY_LOGGERS = ("sqlalchemy.engine.Engine", "urllib3.connectionpool", "twilio.http_client", "rq.worker", "rq.job")
"""Loggers of libraries that may print numbers: SQL echo (parameters, rows), request URLs (``To=``), job errors."""


def mask_numbers(text: str) -> str:
    """Mask every E.164 number in ``text``, URL-encoded ones too: ``+1***0123``."""
    return _NUMBER.sub(lambda m: f"{m.group(1)}{m.group(2)}***{m.group(4)}", text)


class MaskNumbers(logging.Filter):
    """Mask numbers in the records of a logger whose messages we do not write (see ``LIBRARY_LOGGERS``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_numbers(record.exc_text)
        return True


def mask_library_logs() -> None:
    """Install ``MaskNumbers`` on ``LIBRARY_LOGGERS`` (once per process; our own log lines call ``mask``)."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskNumbers) for f in logger.filters):
            logger.addFilter(MaskNumbers())


__all__ = [
    "STOP_WORDS", "START_WORDS", "HELP_WORDS", "STOP_HINT", "REJOIN_HINT", "opt_out", "opt_in", "consent_given",
    "may_message",
    "flag_for_review", "hinted_since", "resolve_reviews", "with_hint",
    "consent_history", "next_allowed_time", "in_quiet_hours", "mask", "mask_numbers", "mask_library_logs", "utcnow",
]
