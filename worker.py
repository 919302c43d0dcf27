"""RQ worker: the queues to serve, with RQ's scheduler and Action Line's cron thread.

    python worker.py [QUEUE ...] [--no-cron] [--burst]

QUEUE (in priority order) defaults to WORKER_QUEUES, else high default bulk. ``--no-cron``
(or WORKER_CRON=false) leaves the periodic sweepers to other workers; running them in
several workers is safe (one job per slot, and a Redis lock per sweeper).
"""

from __future__ import annotations

import argparse
import logging
import sys

from rq import Worker

from sms import cron, defaults, services
from sms.settings import ConfigError, Settings, load_env, parse_queues

log = logging.getLogger("actionline.worker")


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
    svc = services.Services.from_settings(settings)
    services.bind(svc)
    if args.cron and not args.burst:
        cron.start(svc.redis)
    log.info("serving queues %s; cron %s", ", ".join(args.queues), "on" if args.cron and not args.burst else "off")
    worker = Worker([svc.queue(name) for name in args.queues], connection=svc.redis)
    worker.work(burst=args.burst, with_scheduler=True)


if __name__ == "__main__":
    main()
