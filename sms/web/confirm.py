"""An SMS-confirmed number before a new number's first web call of the day (WEB_CONFIRM_NUMBERS).

Anyone can type anyone's number into a web form; only the phone's owner can read a text
sent to it. So a number not confirmed in the last day gets a 6-digit code by SMS, and the
call is placed once the code comes back. The request waits in Redis with the code's hash
(never the code), for WEB_CODE_TTL_SECONDS and at most WEB_CODE_ATTEMPTS wrong tries; a
confirmed number is remembered (as a hash) for WEB_CONFIRMED_SECONDS. Redis down means no
code can be checked: the page says to try again shortly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import asdict
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import Session

from sms import defaults
from sms.errors import WebError
from sms.messaging import outbound, subscribers
from sms.services import Services
from sms.store import utcnow
from sms.web import texts
from sms.web.guards import secret_of

PENDING = "al:web:pending:{handle}"
CONFIRMED = "al:web:confirmed:{digest}"


def _digest(services: Services, value: str) -> str:
    return hmac.new(secret_of(services.settings).encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def needed(services: Services, phone: str) -> bool:
    """True if ``phone`` must confirm a code before its call (the setting is on, not confirmed today)."""
    if not services.settings.web_confirm_numbers:
        return False
    try:
        return not services.redis.exists(CONFIRMED.format(digest=_digest(services, phone)))
    except RedisError:
        raise WebError("err_unavailable", "redis down", status=503) from None


def send_code(services: Services, session: Session, request: Any) -> str:
    """Keep ``request`` (a dataclass) waiting for its code, text the code; return the handle the page keeps."""
    code = f"{secrets.randbelow(10**6):06d}"
    handle = secrets.token_hex(16)
    pending = {"request": asdict(request), "code": _digest(services, f"{handle}:{code}"), "tries": 0}
    try:
        services.redis.set(PENDING.format(handle=handle), json.dumps(pending), ex=defaults.WEB_CODE_TTL_SECONDS)
    except RedisError:
        raise WebError("err_unavailable", "redis down", status=503) from None
    known = subscribers.find(session, request.phone)
    body = texts.text("sms_code", request.lang, org=services.settings.org_name, code=code)
    message = outbound.plan(session, known.id if known else None, request.phone, "confirm", body, utcnow())
    session.commit()
    outbound.enqueue_delivery(services, message.id)
    return handle


def check_code(services: Services, handle: str, code: str) -> dict[str, Any]:
    """The waiting request of ``handle`` if ``code`` is its code (the number is then confirmed for a day);
    raise WebError(err_code) for a wrong one, WebError(err_code_expired) when expired or tried too often."""
    key = PENDING.format(handle=handle if handle.isalnum() else "-")
    redis: Redis = services.redis
    try:
        raw = redis.get(key)
        if raw is None:
            raise WebError("err_code_expired", "no such request", field="code", status=410)
        pending = json.loads(raw)
        given = _digest(services, f"{handle}:{''.join(ch for ch in code if ch.isdigit())}")
        if not hmac.compare_digest(given, pending["code"]):
            pending["tries"] += 1
            if pending["tries"] >= defaults.WEB_CODE_ATTEMPTS:
                redis.delete(key)
                raise WebError("err_code_expired", "too many wrong codes", field="code", status=410)
            redis.set(key, json.dumps(pending), keepttl=True)
            raise WebError("err_code", "wrong code", field="code")
        if not redis.delete(key):  # two tabs confirming at once: one call
            raise WebError("err_code_expired", "already confirmed", field="code", status=410)
        phone = pending["request"]["phone"]
        redis.set(CONFIRMED.format(digest=_digest(services, phone)), 1, ex=defaults.WEB_CONFIRMED_SECONDS)
    except RedisError:
        raise WebError("err_unavailable", "redis down", status=503) from None
    return pending["request"]


def waiting_phone(services: Services, handle: str) -> str | None:
    """The number a waiting request's code went to (for the page: masked there), or None."""
    try:
        raw = services.redis.get(PENDING.format(handle=handle if handle.isalnum() else "-"))
    except RedisError:
        return None
    return json.loads(raw)["request"]["phone"] if raw else None
