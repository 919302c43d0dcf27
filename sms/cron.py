"""Periodic jobs, run by the worker's scheduler thread (see ``start``).

The schedule lives in this process, not in Redis, so it survives a Redis flush:
the next tick enqueues the sweeper again and the sweeper rebuilds the queues
from SQL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue

from sms import defaults, spool, tasks

log = logging.getLogger(__name__)
SPOOL_REPLAY_SECONDS = 10
"""How often texts kept while the database was down are looked for (an empty spool costs one LINDEX)."""
PERIODIC: list[tuple[Callable[..., object], int]] = [
    (tasks.sweep, defaults.SWEEP_INTERVAL_SECONDS),
    (tasks.broadcast_sweep, defaults.BROADCAST_SWEEP_SECONDS),
    (tasks.purge_expired, 24 * 3600),
    (tasks.sweep_calls, defaults.SWEEP_INTERVAL_SECONDS),
    (spool.replay_spooled, SPOOL_REPLAY_SECONDS),
]
"""(job function, interval in seconds) pairs enqueued on the ``default`` queue."""


def tick(redis: Redis, now: float, last: dict[str, int]) -> int:
    """Enqueue each periodic job whose wall-clock slot changed since ``last``; return how many."""
    queue = Queue("default", connection=redis)
    count = 0
    for func, interval in PERIODIC:
        slot = int(now // interval)
        if last.get(func.__name__) != slot:
            queue.enqueue(func, job_id=f"cron-{func.__name__}-{slot}", result_ttl=60)
            last[func.__name__] = slot
            count += 1
    return count


def start(redis: Redis, stop: threading.Event | None = None) -> threading.Thread:
    """Run ``tick`` every second in a daemon thread until ``stop`` is set."""
    stop = stop or threading.Event()

    def loop() -> None:
        last: dict[str, int] = {}
        while not stop.wait(1):
            try:
                tick(redis, time.time(), last)
            except RedisError as exc:
                log.warning("cron tick skipped: %s", exc)
            except Exception:  # a dead cron thread would stop every sweeper silently: log and go on
                log.exception("cron tick failed")

    thread = threading.Thread(target=loop, name="actionline-cron", daemon=True)
    thread.start()
    return thread
