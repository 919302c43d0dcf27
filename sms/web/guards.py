"""The web's guards against bots and abuse, before the call-back guards every caller meets.

* a signed form token (``issue`` / ``check``): the page served it, at least WEB_MIN_FILL_SECONDS
  ago and not too long ago, and it is used once (a replay is a bot's);
* rate limits in Redis (``sms.ratelimit``): per IP address an hour, per phone number a day;
* the IP address only as a keyed hash (``hash_ip``): never stored or logged raw.

The SMS-confirmed number is ``sms.web.confirm``; country, blocklist, opt-out, the daily call
limit and office hours are the call-back's own (``sms.calls.sessions``, ``sms.calls.office_hours``).
"""

from __future__ import annotations

import hashlib
import hmac
import time

from itsdangerous import BadSignature, URLSafeSerializer
from redis import Redis

from sms import defaults, ratelimit
from sms.errors import WebError
from sms.settings import Settings

SALT = "actionline.web-form"
DEV_SECRET = "dev-only-secret-change-me"
"""The key without SECRET_KEY (development; start-up warns), the same one the console signs with."""


def secret_of(settings: Settings) -> str:
    return settings.secret_key or DEV_SECRET


def hash_ip(settings: Settings, ip: str | None) -> str:
    """A keyed hash of an IP address (the same IP gives the same hash for rate limits and records)."""
    return hmac.new(f"{secret_of(settings)}:ip".encode(), (ip or "").encode(), hashlib.sha256).hexdigest()[:32]


def issue(settings: Settings, demand: str, lang: str, now: float | None = None) -> str:
    """A token for one form of ``demand``, carrying when it was served."""
    served = int((time.time() if now is None else now) * 1000)
    return URLSafeSerializer(secret_of(settings), salt=SALT).dumps({"d": demand, "l": lang, "t": served})


def check(redis: Redis, settings: Settings, token: str, demand: str, now: float | None = None) -> str:
    """The language of a good token for ``demand``; raise WebError(err_form) for a forged, mismatched,
    too quick, too old or replayed one."""
    now = time.time() if now is None else now
    try:
        data = URLSafeSerializer(secret_of(settings), salt=SALT).loads(token or "")
    except BadSignature:
        raise WebError("err_form", "bad token") from None
    if not isinstance(data, dict) or data.get("d") != demand:
        raise WebError("err_form", "token for another demand")
    age = now - int(data.get("t", 0)) / 1000
    if age < settings.web_min_fill_seconds:
        raise WebError("err_form", f"posted {age:.1f}s after it was served")
    if age > defaults.WEB_TOKEN_MAX_AGE_SECONDS:
        raise WebError("err_form", "token expired")
    if not ratelimit.once(redis, "web-token", token, defaults.WEB_TOKEN_MAX_AGE_SECONDS):
        raise WebError("err_form", "token used twice")
    return str(data.get("l") or "en")


def limit_ip(redis: Redis, settings: Settings, ip_hash: str) -> None:
    """Count one request from this IP; raise WebError(err_too_many, 429) past WEB_LIMIT_PER_IP_HOUR."""
    if not ratelimit.hit(redis, "web-ip", ip_hash, settings.web_limit_per_ip_hour, 3600):
        raise WebError("err_too_many", "per-IP limit", status=429)


def limit_number(redis: Redis, settings: Settings, phone: str) -> None:
    """Count one request for this number; raise WebError(err_too_many, 429) past WEB_LIMIT_PER_NUMBER_DAY."""
    if not ratelimit.hit(redis, "web-number", phone, settings.web_limit_per_number_day, 86400):
        raise WebError("err_too_many", "per-number limit", status=429)
