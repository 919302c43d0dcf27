"""The long-lived clients one process needs: database, Redis, queues, transport and the integrations' HTTP.

The web app builds one ``Services`` in its factory; the worker builds one at start
and binds it with ``bind()`` so RQ jobs (plain module functions) can reach it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from redis import Redis
from redis.sentinel import SentinelManagedConnection, SentinelManagedSSLConnection
from rq import Queue

from sms.integrations.http import HttpClient, RequestsClient
from sms.messaging import compliance
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
    http: HttpClient = field(default_factory=RequestsClient)
    """Webhooks and Action Network (``sms.integrations.http``; tests swap in a recording client)."""

    @classmethod
    def from_settings(cls, settings: Settings, transport: Transport | None = None) -> Services:
        compliance.mask_library_logs()  # once per process: library log lines never show a number
        db = Database(settings.database_url, **engine_options(settings))
        redis = connect_redis(settings)
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


REDIS_OPTIONS: dict[str, Any] = {
    "socket_timeout": 5,
    "socket_connect_timeout": 3,
    "socket_keepalive": True,
    "health_check_interval": 30,  # managed Redis and load balancers drop idle connections silently
}


def connect_redis(settings: Settings) -> Redis:
    """The Redis client for REDIS_URL, or for the master Sentinel names (RQ uses this same client).

    With ``REDIS_SENTINELS`` the host and port of REDIS_URL are ignored; its database
    number, credentials and scheme (``rediss://`` = TLS) apply to the master.
    """
    tls = {"ssl_ca_certs": settings.redis_ssl_ca_certs} if settings.redis_ssl_ca_certs else {}
    if not settings.redis_sentinels:
        return Redis.from_url(settings.redis_url, **REDIS_OPTIONS, **tls)
    from redis.connection import parse_url
    from redis.sentinel import Sentinel

    client = {k: v for k, v in parse_url(settings.redis_url).items() if k not in ("host", "port", "path")}
    tls_master = client.pop("connection_class", None) is not None  # rediss://
    client.update(connection_class=SentinelSSLConnection if tls_master else SentinelConnection,
                  **(tls if tls_master else {}))
    sentinel_auth = {"password": settings.redis_sentinel_password} if settings.redis_sentinel_password else {}
    sentinel = Sentinel(list(settings.redis_sentinels), sentinel_kwargs={
        "socket_timeout": 3, "socket_connect_timeout": 3, **sentinel_auth,
        **({"ssl": True, **tls} if tls_master else {})})
    return sentinel.master_for(settings.redis_sentinel_master, redis_class=Redis, **REDIS_OPTIONS, **client)


class SentinelConnection(SentinelManagedConnection):
    """A Sentinel-managed connection that is dropped when a read is interrupted, like a plain one.

    redis-py's ``SentinelManagedConnection.read_response`` defaults ``disconnect_on_error``
    to False (``Connection`` defaults to True), so a read cut short by an exception (RQ's
    warm shutdown interrupts a worker's BLPOP this way) leaves the reply unread on a
    pooled connection, and the next command reads it: RQ's shutdown then hangs for the
    BLPOP timeout or fails with "Wrong number of response items from pipeline execution".
    """

    def read_response(self, *args: Any, disconnect_on_error: bool = True, **kwargs: Any) -> Any:
        return super().read_response(*args, disconnect_on_error=disconnect_on_error, **kwargs)


class SentinelSSLConnection(SentinelConnection, SentinelManagedSSLConnection):
    """The same over TLS (``rediss://`` with Sentinel)."""


def dashboard_redis(settings: Settings) -> dict[str, str | None]:
    """rq-dashboard's config for the same Redis (it takes URLs: ``redis+sentinel://`` for Sentinel)."""
    if not settings.redis_sentinels:
        url = settings.redis_url
        if settings.redis_ssl_ca_certs:
            url += ("&" if "?" in url else "?") + f"ssl_ca_certs={quote(settings.redis_ssl_ca_certs)}"
        return {"RQ_DASHBOARD_REDIS_URL": url}
    from redis.connection import parse_url

    client = parse_url(settings.redis_url)
    hosts = ",".join(f"{host}:{port}" for host, port in settings.redis_sentinels)
    return {
        "RQ_DASHBOARD_REDIS_URL": f"redis+sentinel://{hosts}/{settings.redis_sentinel_master}/{client.get('db', 0)}",
        "RQ_DASHBOARD_REDIS_PASSWORD": client.get("password"),
        "RQ_DASHBOARD_REDIS_SENTINEL_PASSWORD": settings.redis_sentinel_password or None,
        "RQ_DASHBOARD_REDIS_SENTINELS": hosts,  # unused by rq-dashboard 0.9, but stops its legacy-key warning
    }


def engine_options(settings: Settings) -> dict[str, Any]:
    """Connection-pool options for PostgreSQL (SQLite keeps SQLAlchemy's defaults)."""
    if settings.database_url.startswith("sqlite"):
        return {}
    return {
        "pool_size": settings.db_pool_size,
        "max_overflow": settings.db_max_overflow,
        "pool_recycle": settings.db_pool_recycle or -1,
        "pool_pre_ping": True,  # a connection the server or a proxy closed is replaced, not raised
    }


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


