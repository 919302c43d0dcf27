"""RQ worker: queues high, default, bulk, with RQ's scheduler and Action Line's cron thread."""

from __future__ import annotations

import logging

from rq import Worker

from sms import cron, defaults, services
from sms.settings import Settings, load_env


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    svc = services.Services.from_settings(Settings.from_mapping(load_env()))
    services.bind(svc)
    cron.start(svc.redis)
    queues = [svc.queue(name) for name in defaults.QUEUES]
    Worker(queues, connection=svc.redis).work(with_scheduler=True)


if __name__ == "__main__":
    main()
