"""Delivery status callbacks: what Twilio says happened to an outbound text."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms import defaults
from sms.messaging import compliance
from sms.messaging.inbound import clean
from sms.services import Services
from sms.store import Message, Subscriber

log = logging.getLogger(__name__)
STATUS_ORDER = {"accepted": 0, "scheduled": 0, "queued": 1, "sending": 2, "sent": 3, "receiving": 3,
                "received": 4, "delivered": 5, "read": 6, "undelivered": 5, "failed": 5, "canceled": 5}
LISTENERS: list[Callable[[Session, str, str, int | None], None]] = []
"""Other features (broadcast deliveries) hear every callback: (session, sid, status, error_code);
filled by ``sms.features.install``."""


def record(services: Services, form: Mapping[str, str]) -> bool:
    """Apply one status callback; return False when it names no message we know."""
    sid = clean(form.get("MessageSid") or form.get("SmsSid"), 64).strip()
    status = (form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()
    if not sid or status not in STATUS_ORDER:
        return False
    error_code = _int(form.get("ErrorCode"))
    with services.db.session() as session:
        message = session.scalar(select(Message).where(Message.twilio_sid == sid))
        known = message is not None
        if known and STATUS_ORDER.get(message.status, -1) <= STATUS_ORDER[status]:
            message.status, message.error_code = status, error_code or message.error_code
        if error_code == defaults.OPTED_OUT_ERROR_CODE:
            _opt_out(session, clean(form.get("To"), 20), message)
        for listener in LISTENERS:
            known = listener(session, sid, status, error_code) or known
        session.commit()
    return bool(known)


def _opt_out(session: Session, to: str, message: Message | None) -> None:
    phone = message.phone if message is not None else to.strip()
    subscriber = session.scalar(select(Subscriber).where(Subscriber.phone == phone))
    if subscriber is not None:
        compliance.opt_out(session, subscriber, f"twilio-{defaults.OPTED_OUT_ERROR_CODE}")


def _int(value: str | None) -> int | None:
    """Twilio error codes are 5-digit; anything else is noise, not a number to store."""
    try:
        number = int(value) if value not in (None, "") else None
    except ValueError:
        return None
    return number if number is not None and 0 < number < 1_000_000 else None
