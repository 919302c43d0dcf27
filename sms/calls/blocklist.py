"""The call blocklist: numbers never called back or connected (``flask call-block``, the console).

``sms.calls.sessions.check_caller`` and ``sms.calls.sessions.place`` read it, so a number blocked while its
call-back is queued is never rung.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from sms.calls.models import Blocked
from sms.messaging import compliance, subscribers

log = logging.getLogger(__name__)
MAX_REASON = 200


@dataclass(frozen=True)
class Entry:
    ref: str  # opaque: a page can name an entry without printing the number
    masked: str
    reason: str
    created_at: datetime


def block(session: Session, raw_phone: str, reason: str = "", by: str = "") -> str:
    """Block ``raw_phone`` (normalised; InvalidNumber if it is not one); return the E.164 number."""
    phone = subscribers.normalise_phone(raw_phone)
    row = session.get(Blocked, phone) or Blocked(phone=phone)
    row.reason = " ".join(reason.split())[:MAX_REASON]
    session.add(row)
    session.commit()
    log.info("call blocklist: %s blocked%s", compliance.mask(phone), f" by {by}" if by else "")
    return phone


def unblock(session: Session, raw_phone: str, by: str = "") -> bool:
    """Remove a number from the blocklist; False if it was not on it (InvalidNumber if not a number)."""
    phone = subscribers.normalise_phone(raw_phone)
    row = session.get(Blocked, phone)
    if row is None:
        return False
    session.delete(row)
    session.commit()
    log.info("call blocklist: %s unblocked%s", compliance.mask(phone), f" by {by}" if by else "")
    return True


def ref_of(phone: str, key: str) -> str:
    """An opaque, stable name for a blocked number (keyed, so it does not give the number away)."""
    return hmac.new(key.encode(), phone.encode(), hashlib.sha256).hexdigest()[:20]


def phone_of(session: Session, ref: str, key: str) -> str | None:
    """The blocked number named by ``ref`` (the list is short: organizers block by hand)."""
    for phone in session.scalars(select(Blocked.phone)):
        if hmac.compare_digest(ref_of(phone, key), ref):
            return phone
    return None


def entries(session: Session, key: str, limit: int = 200) -> tuple[list[Entry], int]:
    """The newest ``limit`` entries (masked, named by ref) and how many there are in all."""
    rows = session.scalars(select(Blocked).order_by(Blocked.created_at.desc(), Blocked.phone).limit(limit))
    total = session.scalar(select(func.count()).select_from(Blocked)) or 0
    return [Entry(ref_of(r.phone, key), compliance.mask(r.phone), r.reason, r.created_at) for r in rows], total
