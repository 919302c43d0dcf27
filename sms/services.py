"""The long-lived clients one process needs: database, Redis, queues and transport.

The web app builds one ``Services`` in its factory; the worker builds one at start
and binds it with ``bind()`` so RQ jobs (plain module functions) can reach it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from redis import Redis
from rq import Queue

from sms import compliance
from sms.settings import Settings
from sms.store import Database
from sms.transport import OutboxTransport, Transport, TwilioTransport

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    redis: Redis
    transport: Transport
    queues: dict[str, Queue] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: Settings, transport: Transport | None = None) -> Services:
        compliance.mask_library_logs()  # once per process: library log lines never show a number
        db = Database(settings.database_url)
        redis = Redis.from_url(settings.redis_url, socket_timeout=5, socket_connect_timeout=3)
        return cls(settings, db, redis, transport or build_transport(settings, db))

    def queue(self, name: str) -> Queue:
        """The RQ queue ``name`` on this Redis (``high``, ``default`` or ``bulk``)."""
        if name not in self.queues:
            self.queues[name] = Queue(name, connection=self.redis)
        return self.queues[name]

    def enqueue(self, queue: str, func: Any, *args: Any, job_id: str | None = None, at: datetime | None = None,
                **options: Any) -> Any:
        """Enqueue ``func(*args)`` now or at ``at``; a fixed ``job_id`` makes repeats harmless."""
        q = self.queue(queue)
        if at is not None:
            return q.enqueue_at(at, func, *args, job_id=job_id, **options)
        return q.enqueue(func, *args, job_id=job_id, **options)

    def url(self, path: str) -> str:
        """An absolute URL on the public base (for Twilio callbacks)."""
        return f"{self.settings.public_base_url or f'http://127.0.0.1:{self.settings.port}'}{path}"

    def close(self) -> None:
        self.db.dispose()
        self.redis.close()


def build_transport(settings: Settings, db: Database) -> Transport:
    """Twilio when an account is configured (or a mock API base is), else the local outbox."""
    if settings.account_sid:
        return TwilioTransport(
            settings.account_sid,
            settings.auth_token,
            settings.phone_number,
            settings.messaging_service_sid,
            settings.api_base_url,
        )
    return OutboxTransport(db, settings.phone_number)


_bound: Services | None = None


def bind(services: Services | None) -> None:
    """Make ``services`` what RQ jobs in this process use."""
    global _bound
    _bound = services


def current() -> Services:
    """The services bound in this process (raises if the worker forgot to bind)."""
    if _bound is None:
        raise RuntimeError("no services bound: call sms.services.bind() before running jobs")
    return _bound


