"""Answers that are never kept: what the texter replies to a question like "What's your street address?".

A feature declares such a question with ``Words.answer(pending, kept_as=marker)``. The text that
answers it is decided at receipt, from the conversation state read before the turn runs
(``stored_body``): its row holds ``marker`` from the first write, so no path (answered, crashed,
replayed) writes the words; the turn alone sees them, in memory. A bare keyword (SKIP, STOP, HELP)
is no address and is kept as sent.

While the database is down that state cannot be read, so asking such a question also leaves a
short-lived mark in Redis (``mark``, keyed by a hash of the number, ``UNKEPT_MARK_SECONDS``); the
spool keeps a marked texter's text as ``marker`` (an opt-out as ``STOP``, so it is still honoured).
"""

from __future__ import annotations

import hashlib

from redis import Redis

from sms import defaults
from sms.messaging import intent
from sms.messaging.catalogue import keyword_key, normalise

UNKEPT: dict[str, str] = {}
"""Pending question → what its answer's row holds instead of the text (from every installed table)."""
OPT_OUT_AS = "STOP"
"""What a marked texter's opt-out is spooled as: its meaning, not its words."""


def is_keyword(body: str) -> bool:
    """One word of letters only (SKIP, STOP, AYUDA): no street address, kept as sent."""
    words = normalise(body).split()
    return len(words) == 1 and keyword_key(words[0]).isalpha()


def stored_body(pending: str | None, body: str) -> str:
    """What the inbound row of ``body`` holds, ``pending`` being the question it may answer."""
    marker = UNKEPT.get(pending or "")
    if marker is None or is_keyword(body):
        return body
    return marker


def spooled_body(pending: str | None, body: str) -> str:
    """What the spool keeps of ``body`` (``stored_body``, except that an opt-out is kept as ``STOP``)."""
    stored = stored_body(pending, body)
    if stored != body and intent.classify(body).opt_out:  # the turn will not see the words: keep their meaning
        return OPT_OUT_AS
    return stored


def _key(phone: str) -> str:
    return "al:unkept:" + hashlib.sha256(phone.encode()).hexdigest()[:24]  # no raw numbers in Redis keys


def mark(redis: Redis, phone: str, pending: str) -> None:
    """``phone`` was just asked ``pending``: for a while, the spool keeps its texts without their words."""
    redis.set(_key(phone), pending, ex=defaults.UNKEPT_MARK_SECONDS)


def unmark(redis: Redis, phone: str) -> None:
    redis.delete(_key(phone))


def marked(redis: Redis, phone: str) -> str | None:
    """The unkept question ``phone`` was asked lately, or None (raises RedisError if Redis is down)."""
    value = redis.get(_key(phone))
    return value.decode() if isinstance(value, bytes) else value
