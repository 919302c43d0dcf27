"""Periodic jobs, run by the worker's scheduler thread (see ``start``).

The schedule lives in this process, not in Redis, so it survives a Redis flush:
the next tick enqueues the sweeper again and the sweeper rebuilds the queues
from SQL. ``schedule`` adds the jobs a setting turns on (the daily Congress data
refresh, ``DATA_REFRESH=daily``; the state officials', ``STATE_DATA_REFRESH=daily``) to the sweepers
that always run.
"""

from __future__ import annotations

import logging
import threading
import time

from redis import Redis
from redis.exceptions import LockError, RedisError
from rq import Queue
from rq.exceptions import DuplicateJobError
from rq.utils import import_attribute

from sms import defaults
from sms.services import current
from sms.settings import Settings

log = logging.getLogger(__name__)
SPOOL_REPLAY_SECONDS = 10
"""How often texts kept while the database was down are looked for (an empty spool costs one LINDEX)."""
PERIODIC: list[tuple[str, int]] = [
    ("sms.tasks.sweep", defaults.SWEEP_INTERVAL_SECONDS),
    ("sms.tasks.broadcast_sweep", defaults.BROADCAST_SWEEP_SECONDS),
    ("sms.tasks.purge_expired", 24 * 3600),
    ("sms.tasks.sweep_calls", defaults.SWEEP_INTERVAL_SECONDS),
    ("sms.tasks.replay_spool", SPOOL_REPLAY_SECONDS),
    ("sms.tasks.route_events", defaults.EVENT_ROUTE_SECONDS),
    ("sms.tasks.sweep_events", defaults.EVENT_SWEEP_SECONDS),
    ("sms.tasks.prune_events", 24 * 3600),
]
"""(job function's dotted path, interval in seconds) pairs enqueued on the ``default`` queue."""
DATA_REFRESH_JOB = ("sms.tasks.refresh_congress", 24 * 3600)
"""The daily Congress data refresh: scheduled only with DATA_REFRESH=daily (off by default)."""
STATE_REFRESH_JOB = ("sms.tasks.refresh_states", 24 * 3600)
"""The daily state officials refresh: scheduled only with STATE_DATA_REFRESH=daily (off by default)."""
LOCK_SECONDS = 180
"""A sweeper's lock outlives a worker killed mid-sweep by at most this (RQ's default job timeout)."""


def schedule(settings: Settings) -> list[tuple[str, int]]:
    """The periodic jobs this worker runs: the sweepers, and the refreshes set to daily."""
    return (PERIODIC + ([DATA_REFRESH_JOB] if settings.data_refresh == "daily" else [])
            + ([STATE_REFRESH_JOB] if settings.state_data_refresh == "daily" else []))


def tick(redis: Redis, now: float, last: dict[str, int], jobs: list[tuple[str, int]] | None = None) -> int:
    """Enqueue each periodic job (``jobs``, default PERIODIC) whose wall-clock slot changed since ``last``;
    return how many."""
    queue = Queue("default", connection=redis)
    count = 0
    for path, interval in PERIODIC if jobs is None else jobs:
        name = path.rpartition(".")[2]
        slot = int(now // interval)
        if last.get(name) != slot:
            last[name] = slot
            if not redis.set(_waiting_key(name), slot, nx=True, ex=LOCK_SECONDS):
                continue  # the last one has not started yet: a busy worker must not pile them up
            try:  # several workers run this thread: the first to enqueue a slot wins, the rest skip it
                queue.enqueue(run_exclusive, path, job_id=f"cron-{name}-{slot}", result_ttl=60, unique=True)
            except DuplicateJobError:
                continue
            count += 1
    return count


def _waiting_key(name: str) -> str:
    """Set while a periodic job is queued and not yet started, so each job has at most one waiting.

    Without it a worker slower than the schedule (a loaded machine, a slow database) queues sweeps on
    ``default`` faster than it runs them, and ``bulk`` (broadcasts) behind them never runs. The key
    expires after LOCK_SECONDS in case its job is lost, and a Redis flush clears it with the queue.
    """
    return f"actionline:cron:waiting:{name}"


def run_exclusive(path: str) -> object:
    """Run the periodic job at dotted ``path`` unless another worker is still running it (a Redis lock)."""
    if path not in {p for p, _ in [*PERIODIC, DATA_REFRESH_JOB]}:
        raise ValueError(f"{path} is not a periodic job")
    func = import_attribute(path)
    name = path.rpartition(".")[2]
    current().redis.delete(_waiting_key(name))
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


def start(redis: Redis, stop: threading.Event | None = None, settings: Settings | None = None) -> threading.Thread:
    """Run ``tick`` over ``schedule(settings)`` (default: the sweepers) every second in a daemon thread
    until ``stop`` is set."""
    stop = stop or threading.Event()
    jobs = schedule(settings) if settings is not None else PERIODIC

    def loop() -> None:
        last: dict[str, int] = {}
        while not stop.wait(1):
            try:
                tick(redis, time.time(), last, jobs)
            except RedisError as exc:
                log.warning("cron tick skipped: %s", exc)
            except Exception:  # a dead cron thread would stop every sweeper silently: log and go on
                log.exception("cron tick failed")

    thread = threading.Thread(target=loop, name="actionline-cron", daemon=True)
    thread.start()
    return thread

