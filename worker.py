"""RQ worker: the queues to serve, with RQ's scheduler and Action Line's cron thread.

    python worker.py [QUEUE ...] [--no-cron] [--burst]

QUEUE (in priority order) defaults to WORKER_QUEUES, else high default bulk. ``--no-cron``
(or WORKER_CRON=false) leaves the periodic sweepers to other workers; running them in
several workers is safe (one job per slot, and a Redis lock per sweeper).

RQ's own log lines (one per job started and finished, a dozen a minute from the idle cron) are
kept at WORKER_LOG_LEVEL (default WARNING); Action Line's stay at INFO, and a periodic job that
did something says so in one line.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Worker
from rq.job import Job

from sms import cron, defaults, features, services, settings_report
from sms.settings import ConfigError, Settings, load_env, parse_queues

log = logging.getLogger("actionline.worker")
CRON_JOB = f"{cron.__name__}.{cron.run_exclusive.__name__}"


class StoppableWorker(Worker):
    """Remembers a SIGTERM/SIGINT, to tell a requested stop from RQ giving up on a Redis error."""

    stop_signalled = False

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_signalled = True
        super().request_stop(signum, frame)

    def handle_job_success(self, job: Job, *args: Any, **kwargs: Any) -> None:
        """RQ's bookkeeping, then one line of ours when a periodic job did something."""
        super().handle_job_success(job, *args, **kwargs)
        if job.func_name != CRON_JOB or not job.args:
            return
        try:  # a log line must never turn a job that succeeded into a failed one
            line = cron_summary(str(job.args[0]), job.return_value())
        except RedisError:
            return
        if line:
            log.info("%s", line)


def cron_summary(path: str, result: object) -> str | None:
    """One line for a periodic job that did something (some count not zero); None for an idle pass."""
    if not isinstance(result, dict):
        return None
    done = {key: value for key, value in result.items() if value}
    return f"{path.rpartition('.')[2]}: {done}" if done else None


def parse_args(argv: list[str] | None, settings: Settings) -> argparse.Namespace:
    """The command line over the WORKER_* settings; an unknown queue is a usage error."""
    parser = argparse.ArgumentParser(prog="worker.py", description="Action Line RQ worker")
    parser.add_argument("queues", nargs="*", metavar="QUEUE",
                        help=f"queues to serve in priority order ({', '.join(defaults.QUEUES)}; default WORKER_QUEUES)")
    parser.add_argument("--no-cron", dest="cron", action="store_false", default=settings.worker_cron,
                        help="do not run the periodic sweepers in this worker (WORKER_CRON=false)")
    parser.add_argument("--burst", action="store_true", help="exit once the queues are empty (no cron)")
    args = parser.parse_args(argv)
    try:
        args.queues = parse_queues(" ".join(args.queues), "QUEUE") or settings.worker_queues
    except ConfigError as exc:
        parser.error(str(exc))
    return args


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_mapping(load_env())
    except ConfigError as exc:
        sys.exit(f"worker.py: configuration error: {exc}")
    args = parse_args(argv, settings)
    features.install()
    svc = services.Services.from_settings(settings)
    services.bind(svc)
    settings_report.publish(svc.redis, settings)  # the console and the CLI compare their settings with these
    cron_on = args.cron and not args.burst
    if cron_on:
        cron.start(svc.redis, settings=settings)
    log.info("serving queues %s; cron %s%s", ", ".join(args.queues), "on" if cron_on else "off",
             "; outbox mode (no TWILIO_ACCOUNT_SID): nothing leaves this machine" if settings.outbox_mode else "")
    queues = [svc.queue(name) for name in args.queues]
    while True:
        worker = StoppableWorker(queues, connection=svc.redis)
        try:
            worker.work(burst=args.burst, with_scheduler=True, logging_level=settings.worker_log_level)
        except RedisError as exc:  # RQ's teardown talks to Redis too
            log.warning("worker stopped on a Redis error: %s", exc)
        if worker.is_horse:  # a forked work horse whose job's bookkeeping failed falls through to here
            raise SystemExit(1)
        if args.burst or worker.stop_signalled or not wait_for_redis(svc.redis):
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
