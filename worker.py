"""RQ worker: queues high, default, bulk, with RQ's scheduler and Action Line's cron thread."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker

from sms import cron, defaults, services
from sms.settings import Settings, load_env

log = logging.getLogger("actionline.worker")


class StoppableWorker(Worker):
    """Remembers a SIGTERM/SIGINT, to tell a requested stop from RQ giving up on a Redis error."""

    stop_signalled = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signalled = True
        super().request_stop(signum, frame)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    svc = services.Services.from_settings(Settings.from_mapping(load_env()))
    services.bind(svc)
    cron.start(svc.redis)
    queues = [svc.queue(name) for name in defaults.QUEUES]
    while True:
        worker = StoppableWorker(queues, connection=svc.redis)
        try:
            worker.work(with_scheduler=True)
        except RedisError as exc:  # RQ's teardown talks to Redis too
            log.warning("worker stopped on a Redis error: %s", exc)
        if worker.is_horse:  # a forked work horse whose job's bookkeeping failed falls through to here
            raise SystemExit(1)
        if worker.stop_signalled or not wait_for_redis(svc.redis):
            return
        log.error("RQ's work loop ended on an error (Redis outage?); working again")


def wait_for_redis(redis: Redis) -> bool:
    """Block until Redis answers (True), or until SIGTERM/SIGINT (False)."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):  # RQ's handlers would talk to the Redis that is down
        signal.signal(sig, lambda *_: stop.set())
    while not stop.is_set():
        try:
            return bool(redis.ping())
        except RedisError:
            stop.wait(1)
    return False


if __name__ == "__main__":
    main()
