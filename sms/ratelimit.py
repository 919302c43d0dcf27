"""Fixed-window counters in Redis (inbound texts per sender, calls per caller...), and ``once``.

Redis may be flushed: a limit then starts again from zero, which errs toward
answering people. If Redis is unreachable the limit is not enforced (fail open)
and the error is logged, so supporters are never ignored because of a cache.
"""

from __future__ import annotations

import hashlib
import logging
import time

from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


def hit(redis: Redis, name: str, subject: str, limit: int, window_seconds: int, now: float | None = None) -> bool:
    """Count one event for ``subject``; True while the count is within ``limit`` for the window."""
    if limit <= 0:
        return True
    now = time.time() if now is None else now
    bucket = int(now // window_seconds)
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]  # no raw phone numbers in Redis keys
    key = f"al:rl:{name}:{digest}:{bucket}"
    try:
        pipe = redis.pipeline()
        pipe.incr(key)
        pipe.expire(key, window_seconds + 60)
        count = pipe.execute()[0]
    except RedisError as exc:
        log.error("rate limit %s unavailable (%s); allowing", name, type(exc).__name__)
        return True
    return int(count) <= limit


def once(redis: Redis, name: str, subject: str, window_seconds: int) -> bool:
    """True the first time ``subject`` asks in ``window_seconds`` (a rolling window), False until it ends."""
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
    try:
        return bool(redis.set(f"al:once:{name}:{digest}", 1, nx=True, ex=window_seconds))
    except RedisError as exc:
        log.error("once %s unavailable (%s); allowing", name, type(exc).__name__)
        return True
