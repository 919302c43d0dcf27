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
from redis.exceptions import LockError, RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError

from sms import defaults, tasks

log = logging.getLogger(__name__)
PERIODIC: list[tuple[Callable[..., object], int]] = [
    (tasks.sweep, defaults.SWEEP_INTERVAL_SECONDS),
    (tasks.broadcast_sweep, defaults.BROADCAST_SWEEP_SECONDS),
    (tasks.purge_expired, 24 * 3600),
    (tasks.sweep_calls, defaults.SWEEP_INTERVAL_SECONDS),
]
"""(job function, interval in seconds) pairs enqueued on the ``default`` queue."""
LOCK_SECONDS = 180
"""A sweeper's lock outlives a worker killed mid-sweep by at most this (RQ's default job timeout)."""


def tick(redis: Redis, now: float, last: dict[str, int]) -> int:
    """Enqueue each periodic job whose wall-clock slot changed since ``last``; return how many."""
    queue = Queue("default", connection=redis)
    count = 0
    for func, interval in PERIODIC:
        slot = int(now // interval)
        if last.get(func.__name__) != slot:
            last[func.__name__] = slot
            try:  # several workers run this thread: the first to enqueue a slot wins, the rest skip it
                queue.enqueue(run_exclusive, func.__name__, job_id=f"cron-{func.__name__}-{slot}",
                              result_ttl=60, unique=True)
            except DuplicateJobError:
                continue
            count += 1
    return count


def run_exclusive(name: str) -> object:
    """Run the periodic job ``name`` unless another worker is still running it (a Redis lock)."""
    from sms.services import current

    func = next(f for f, _ in PERIODIC if f.__name__ == name)
    lock = current().redis.lock(f"actionline:cron:{name}", timeout=LOCK_SECONDS, blocking=False)
    if not lock.acquire():
        log.info("%s skipped: still running in another worker", name)
        return "skipped"
    try:
        return func()
    finally:
        try:
            lock.release()
        except LockError:  # it expired while we ran; the next slot simply runs again
            pass


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

    thread = threading.Thread(target=loop, name="actionline-cron", daemon=True)
    thread.start()
    return thread
