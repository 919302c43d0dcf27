"""Receive one inbound text: record it, answer it once, keep what must survive.

Twilio may deliver the same ``MessageSid`` twice (retries, timeouts); the second
delivery gets the reply stored for the first and changes nothing. A new number's first
text is its opt-in (with the disclosure), unless that text opts it out; a texter over the
inbound limit is not answered, but an opt-out from them is still honoured.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import Insert, Select, bindparam, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from sms import core_writes, ratelimit
from sms.errors import InvalidNumber
from sms.messaging import budget, catalogue, compliance, conversation, encoding, languages, subscribers, unkept
from sms.services import Services
from sms.store import CatalogueText, Conversation, Interest, Message, Subscriber, utcnow

log = logging.getLogger(__name__)
MAX_BODY = 1600
OPT_OUT_TYPES = frozenset({"STOP", "START", "HELP"})
"""Values of ``OptOutType``, which Twilio adds when its Advanced Opt-Out has answered a keyword."""
_CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\t\n\r")


def clean(value: str | None, limit: int) -> str:
    """Drop control characters (PostgreSQL refuses NUL) and cap the length."""
    return (value or "").translate(_CONTROL)[:limit]


@dataclass(frozen=True)
class InboundSms:
    sid: str
    phone: str
    body: str
    media_count: int = 0
    opt_out_type: str = ""

    @classmethod
    def from_form(cls, form: Mapping[str, str]) -> InboundSms:
        """Read Twilio's webhook fields; raise ValueError for a request that is not an SMS."""
        sid = clean(form.get("MessageSid") or form.get("SmsSid"), 64).strip()
        sender = clean(form.get("From"), 40).strip()
        if not sid or not sender:
            raise ValueError("MessageSid and From are required")
        try:
            media = min(max(int(form.get("NumMedia") or 0), 0), 10)  # Twilio sends at most 10
        except ValueError:
            media = 0
        opt_out_type = clean(form.get("OptOutType"), 8).strip().upper()
        return cls(sid=sid, phone=sender, body=clean(form.get("Body"), MAX_BODY), media_count=media,
                   opt_out_type=opt_out_type if opt_out_type in OPT_OUT_TYPES else "")


def receive(services: Services, sms: InboundSms) -> list[str]:
    """Record ``sms`` and return the texts to reply with (possibly none)."""
    try:
        phone = subscribers.normalise_phone(sms.phone)
    except InvalidNumber:
        log.info("inbound %s from an unusable sender; recorded, not answered", sms.sid)
        _record_orphan(services, sms)
        return []
    for attempt in (1, 2):
        with services.db.session() as session:
            known = _load(session, phone, sms.sid)
            if known.duplicate:
                return _replies_to(session, sms.sid) or []
            try:
                turn = _answer(services, session, sms, phone, known)
                session.commit()
                break
            except IntegrityError:
                session.rollback()
                previous = _replies_to(session, sms.sid)  # the same SID won a race in another request
                if previous is not None:
                    return previous
                if attempt == 2:  # not a duplicate and still conflicting: let the handler fail loudly
                    raise
                log.info("inbound %s lost a race on another row; answering it again", sms.sid)
    for effect in turn.after_commit:
        try:
            effect()
        except RedisError as exc:  # the SQL row is the promise; the sweeper enqueues it later
            log.error("could not enqueue after inbound %s: %s", sms.sid, type(exc).__name__)
    return turn.replies


@dataclass
class _Known:
    """What one read finds before anything is written: the texter, their menu state, the catalogue version."""

    subscriber: Subscriber | None
    conversation: Conversation | None
    catalogue_version: str | None
    duplicate: bool
    interests: frozenset[str] | None = None
    """The keywords the texter has texted before (None: not read)."""


@functools.cache
def _load_statement() -> Select:
    """Built once: building the expression and its cache key cost more per text than running it."""
    keywords = (select(func.aggregate_strings(Interest.keyword, " ")).where(Interest.subscriber_id == Subscriber.id)
                .correlate(Subscriber).scalar_subquery())
    return (select(CatalogueText.text, Subscriber, Conversation,
                   exists().where(Message.twilio_sid == bindparam("sid")), keywords)
            .select_from(CatalogueText)
            .outerjoin(Subscriber, Subscriber.phone == bindparam("phone"))
            .outerjoin(Conversation, Conversation.subscriber_id == Subscriber.id)
            .where(CatalogueText.key == catalogue.VERSION_KEY))


def _load(session: Session, phone: str, sid: str) -> _Known:
    """One round trip: the catalogue version, joined with the texter and their menu state if known.

    SQLite's write lock is not needed for any of it.
    """
    row = session.execute(_load_statement(), {"phone": phone, "sid": sid}).first()
    if row is None:  # no catalogue imported yet (catalogue.current falls back to the YAML)
        subscriber = subscribers.find(session, phone)
        state = session.get(Conversation, subscriber.id) if subscriber else None
        return _Known(subscriber, state, None, _replies_to(session, sid) is not None)
    version, subscriber, state, duplicate, keywords = row
    # A new number has no messages yet: its duplicate check is the unique SID at the inbound insert.
    interests = frozenset((keywords or "").split()) if subscriber is not None else None
    return _Known(subscriber, state, version or "", bool(duplicate) and subscriber is not None, interests)


def _answer(services: Services, session: Session, sms: InboundSms, phone: str, known: _Known) -> conversation.Turn:
    if known.subscriber is not None:
        subscriber, is_new = known.subscriber, False
    else:
        subscriber, is_new = subscribers.get_or_create(session, phone, probably_new=True)
    with session.no_autoflush:  # read first: SQLite's single write lock is taken at the first write
        state = known.conversation or Conversation(subscriber_id=subscriber.id, data={})
        if not is_new and known.subscriber is None:  # lost the race for a new number: read the winner's state
            state = session.get(Conversation, subscriber.id) or state
        snapshot = catalogue.current(session, known.catalogue_version)
    snapshot = snapshot.localized(subscriber.language)
    inbound = Message(
        subscriber_id=subscriber.id, direction="in", kind="inbound", phone=phone,
        body=unkept.stored_body(state.pending, sms.body),  # an address is never written, even by a crashed turn
        media_count=sms.media_count, segments=0, twilio_sid=sms.sid, status="received",
    )
    session.add(inbound)  # pending like any row the turn touches (a bulk erase, a review); written at the end
    subscriber.last_active_at = utcnow()
    session.add(state)
    turn = conversation.Turn(
        session=session, settings=services.settings, catalogue=snapshot,
        subscriber=subscriber, conversation=state, body=sms.body, is_new=is_new,
        media_count=sms.media_count, opt_out_type=sms.opt_out_type, inbound=inbound, services=services,
        interests=known.interests if known.subscriber is not None else None,
    )
    if is_new and not conversation.opts_out(turn):  # the opt-in comes first: a CRM hears of the join, then the rest
        compliance.record_first_consent(session, subscriber, catalogue.keyword_key(sms.body)[:40] or None)
        if subscriber.language is None and (code := languages.detect(sms.body)) is not None:
            turn.set_language(code, "detected")  # "hola", "quiero llamar a mi senador": answered in Spanish
    limited = not ratelimit.hit(services.redis, "inbound", phone, services.settings.inbound_limit_per_hour, 3600)
    if limited:
        log.warning("inbound limit reached for %s; recorded, not answered", compliance.mask(phone))
        conversation.honour_opt_out(turn)  # its confirmation is the only reply
    else:
        conversation.respond(turn)
    if is_new and not subscriber.opted_out and not limited and not sms.opt_out_type:
        turn.replies = _with_disclosure(turn)  # with OptOutType, Twilio has answered the keyword itself
    turn.replies = [encoding.gsm_safe(text) for text in turn.replies]
    core_writes.write_session(session)  # the inbound row first (a duplicate SID in a race fails here), then the rest
    _write_replies(session, turn, inbound)
    return turn


def _write_replies(session: Session, turn: conversation.Turn, inbound: Message) -> None:
    """The replies as rows pointing at the inbound one, in one ``executemany``."""
    if not turn.replies:
        return
    subscriber_id, phone, now = turn.subscriber.id, inbound.phone, utcnow()
    rows = []
    for text in turn.replies:
        segments = encoding.count(text).segments
        if not budget.allows(turn.budget, text):  # every composer fits its text; one edited around the checks may not
            log.warning("reply of %d segments to inbound %s is over MAX_REPLY_SEGMENTS", segments, inbound.twilio_sid)
        rows.append({
            "subscriber_id": subscriber_id, "direction": "out", "kind": "reply", "phone": phone,
            "body": text, "media_count": 0, "segments": segments, "twilio_sid": None, "status": "replied",
            "error_code": None, "attempts": 0, "in_reply_to_id": inbound.id, "send_at": None, "sent_at": now,
            "created_at": now,
        })
    session.connection().execute(_insert_replies(), rows)


@functools.cache
def _insert_replies() -> Insert:
    return insert(Message.__table__)


def _with_disclosure(turn: conversation.Turn) -> list[str]:
    """Put the opt-in disclosure on the first reply, or in its own message if it will not fit."""
    disclosure = turn.text_of("disclosure")
    offer = "" if languages.chosen_by(turn.key) else languages.offers(turn.language)
    if offer:  # "Para español, responde ESPAÑOL." where it fits, else on its own line of the disclosure
        disclosure = f"{disclosure} {offer}"
    if not turn.replies:
        return [disclosure]
    combined = f"{turn.replies[0]}\n\n{disclosure}"
    if budget.allows(turn.budget, encoding.gsm_safe(combined)):
        return [combined, *turn.replies[1:]]
    return [*turn.replies, disclosure]


def _replies_to(session: Session, sid: str) -> list[str] | None:
    """The replies already given to inbound ``sid``, or None if it is new."""
    inbound_id = session.scalar(select(Message.id).where(Message.twilio_sid == sid))
    if inbound_id is None:
        return None
    rows = session.scalars(
        select(Message.body).where(Message.in_reply_to_id == inbound_id).order_by(Message.id)
    )
    return [body for body in rows if body]


def _record_orphan(services: Services, sms: InboundSms) -> None:
    with services.db.session() as session:
        if session.scalar(select(Message.id).where(Message.twilio_sid == sms.sid)) is None:
            session.add(Message(direction="in", kind="inbound", phone=sms.phone[:20], body=sms.body,
                                media_count=sms.media_count, twilio_sid=sms.sid, status="unanswered"))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
