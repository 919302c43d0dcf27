"""The Twilio seam: one small protocol, three transports.

``TwilioTransport`` talks to Twilio's REST API through the official SDK (or to a
Twilio-compatible mock at ``TWILIO_API_BASE_URL``). ``OutboxTransport`` records
what would have been sent in the database, so the product runs offline.
``MemoryTransport`` records in memory, for tests and benchmarks.
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlsplit

from sqlalchemy import select
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from sms import defaults
from sms.errors import TransportError, retry_after_seconds
from sms.messaging.compliance import mask
from sms.store import Database, OutboxItem, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentRecord:
    """A message the provider says it accepted (used to reconcile unknown outcomes)."""

    sid: str
    to: str
    body: str | None
    created_at: datetime | None = None


@dataclass(frozen=True)
class CallRecord:
    """A call the provider says it created (used to settle a call-back whose request was lost)."""

    sid: str
    to: str
    status: str | None = None  # queued | ringing | in-progress | completed | busy | no-answer | ...
    created_at: datetime | None = None


@runtime_checkable
class Transport(Protocol):
    phone_number: str

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> str:
        """Send a text; return the provider's message SID. Raise TransportError on failure."""

    def place_call(self, to: str, url: str, status_callback: str | None = None) -> str:
        """Start a call that fetches its TwiML from ``url``; return the call SID."""

    def find_messages(self, to: str, since: datetime) -> list[SentRecord]:
        """Messages sent to ``to`` since ``since`` (to settle a send whose outcome was lost)."""

    def find_calls(self, to: str, since: datetime) -> list[CallRecord]:
        """Calls placed to ``to`` since ``since`` (to settle a call-back whose outcome was lost)."""


class TwilioTransport:
    """Twilio through the official SDK."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        phone_number: str,
        messaging_service_sid: str = "",
        api_base_url: str = "",
        timeout: float = defaults.TWILIO_TIMEOUT_SECONDS,
    ) -> None:
        self.http = TwilioHttp(api_base_url, timeout)
        self.client = Client(account_sid, auth_token, http_client=self.http)
        self.phone_number = phone_number
        self.messaging_service_sid = messaging_service_sid

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> str:
        params: dict[str, Any] = {"to": to, "body": body}
        if self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        else:
            params["from_"] = self.phone_number
        if status_callback:
            params["status_callback"] = status_callback
        return self._call(lambda: self.client.messages.create(**params).sid, "sms", to)

    def place_call(self, to: str, url: str, status_callback: str | None = None) -> str:
        params: dict[str, Any] = {"to": to, "from_": self.phone_number, "url": url}
        if status_callback:
            params.update(
                status_callback=status_callback,
                status_callback_event=["initiated", "ringing", "answered", "completed"],
            )
        return self._call(lambda: self.client.calls.create(**params).sid, "call", to)

    def find_messages(self, to: str, since: datetime) -> list[SentRecord]:
        records = self._call(lambda: self.client.messages.list(to=to, date_sent_after=since, limit=50), "list", to)
        return [SentRecord(r.sid, r.to, r.body, r.date_created) for r in records]

    def find_calls(self, to: str, since: datetime) -> list[CallRecord]:
        # Not StartTime>: a call still queued has no start time yet, and the filter is by day. Twilio
        # lists the newest first, so the recent calls from our number are on the first page.
        records = self._call(lambda: self.client.calls.list(to=to, from_=self.phone_number, limit=20), "list", to)
        return [CallRecord(r.sid, r.to, r.status, r.date_created) for r in records
                if r.date_created is None or r.date_created >= since]

    def _call(self, fn: Any, what: str, to: str) -> Any:
        try:
            return fn()
        except TwilioRestException as exc:
            log.warning("twilio %s to %s failed: %s %s", what, mask(to), exc.status, exc.code)
            raise TransportError(exc.msg or f"HTTP {exc.status}", code=exc.code, status=exc.status,
                                 retry_after=self.http.retry_after()) from exc
        except (TwilioException, OSError) as exc:
            # Connection errors and timeouts: the request may or may not have reached Twilio.
            log.warning("twilio %s to %s failed: %s", what, mask(to), type(exc).__name__)
            raise TransportError(type(exc).__name__) from exc


class TwilioHttp(TwilioHttpClient):
    """The SDK's HTTP client with a finite timeout, Retry-After kept, numbers kept out of logs,
    and (for tests) its requests sent to a Twilio-compatible server instead of *.twilio.com."""

    def __init__(self, base_url: str = "", timeout: float = defaults.TWILIO_TIMEOUT_SECONDS) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")
        self._last = threading.local()

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Any:
        if self.base_url:
            url = self.base_url + (url.split(".twilio.com", 1)[1] if ".twilio.com" in url else url)
        self._last.retry_after = None
        response = super().request(method, url, *args, **kwargs)
        self._last.retry_after = retry_after_seconds((response.headers or {}).get("Retry-After"))
        return response

    def retry_after(self) -> float | None:
        """The Retry-After (seconds) of this thread's last response, if Twilio sent one."""
        return getattr(self._last, "retry_after", None)

    def log_request(self, kwargs: dict[str, Any]) -> None:
        # The SDK logs query parameters (To=+1...) at INFO; log the path only.
        log.debug("twilio %s %s", kwargs["method"], urlsplit(kwargs["url"]).path)

    def log_response(self, status_code: int, response: Any) -> None:
        log.debug("twilio response %s", status_code)


class OutboxTransport:
    """Records outbound texts and calls in the ``outbox`` table instead of sending them."""

    def __init__(self, db: Database, phone_number: str) -> None:
        self.db = db
        self.phone_number = phone_number

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> str:
        return self._record("sms", to, body=body, prefix="SM")

    def place_call(self, to: str, url: str, status_callback: str | None = None) -> str:
        return self._record("call", to, url=url, prefix="CA")

    def find_messages(self, to: str, since: datetime) -> list[SentRecord]:
        with self.db.session() as session:
            rows = session.scalars(
                select(OutboxItem).where(OutboxItem.kind == "sms", OutboxItem.to == to, OutboxItem.created_at >= since)
            )
            return [SentRecord(r.sid, r.to, r.body, r.created_at) for r in rows]

    def find_calls(self, to: str, since: datetime) -> list[CallRecord]:
        with self.db.session() as session:
            rows = session.scalars(
                select(OutboxItem).where(OutboxItem.kind == "call", OutboxItem.to == to, OutboxItem.created_at >= since)
            )
            return [CallRecord(r.sid, r.to, "queued", r.created_at) for r in rows]

    def _record(self, kind: str, to: str, prefix: str, body: str | None = None, url: str | None = None) -> str:
        sid = prefix + uuid.uuid4().hex
        with self.db.session() as session, session.begin():
            session.add(OutboxItem(kind=kind, sid=sid, to=to, from_=self.phone_number, body=body, url=url))
        log.info("outbox %s to %s (%s)", kind, mask(to), sid)
        return sid


@dataclass
class MemoryTransport:
    """Keeps what it was asked to send; ``fail_with`` makes the next sends raise."""

    phone_number: str = "+15005550006"
    messages: list[dict[str, Any]] = field(default_factory=list)
    calls: list[dict[str, Any]] = field(default_factory=list)
    fail_with: list[TransportError] = field(default_factory=list)
    _ids: Any = field(default_factory=itertools.count)
    _lock: Any = field(default_factory=threading.Lock)

    def send_sms(self, to: str, body: str, status_callback: str | None = None) -> str:
        with self._lock:
            if self.fail_with:
                raise self.fail_with.pop(0)
            sid = f"SMmem{next(self._ids):028d}"
            self.messages.append({"sid": sid, "to": to, "body": body, "status_callback": status_callback})
            return sid

    def place_call(self, to: str, url: str, status_callback: str | None = None) -> str:
        with self._lock:
            if self.fail_with:
                raise self.fail_with.pop(0)
            sid = f"CAmem{next(self._ids):028d}"
            self.calls.append({"sid": sid, "to": to, "url": url, "status_callback": status_callback,
                               "created_at": utcnow()})
            return sid

    def find_messages(self, to: str, since: datetime) -> list[SentRecord]:
        return [SentRecord(m["sid"], m["to"], m["body"]) for m in self.messages if m["to"] == to]

    def find_calls(self, to: str, since: datetime) -> list[CallRecord]:
        with self._lock:
            return [CallRecord(c["sid"], c["to"], "queued", c["created_at"]) for c in self.calls
                    if c["to"] == to and c["created_at"] >= since]

    def bodies_to(self, to: str) -> list[str]:
        return [m["body"] for m in self.messages if m["to"] == to]
