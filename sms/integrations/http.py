"""The HTTP seam of the integrations: one ``post`` method, a real client and a recording fake.

``RequestsClient`` is what runs: a ``requests.Session`` (keep-alive per process) with a
connect and read timeout on every request and no redirects followed (a 3xx is an answer,
recorded like any other). ``RecordingClient`` answers from a function, for tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

import requests

from sms import defaults
from sms.errors import retry_after_seconds


@dataclass(frozen=True)
class Response:
    """What the other system answered: status, headers (case-insensitive keys lower-cased) and body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    text: str = ""

    def retry_after(self, now: datetime | None = None) -> float | None:
        """Seconds the server asked us to wait (a number, or an HTTP date counted from now)."""
        return retry_after_seconds(self.headers.get("retry-after"), now)


class NoAnswer(Exception):
    """The request got no HTTP answer: refused, reset, timed out, TLS failed (the message says which)."""


@runtime_checkable
class HttpClient(Protocol):
    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        """POST ``body``; return the answer, or raise ``NoAnswer``."""
        ...


class RequestsClient:
    """``requests`` with timeouts; one session per thread (a ``Session`` is not thread-safe)."""

    def __init__(self, timeout: float | tuple[float, float] = defaults.WEBHOOK_TIMEOUT_SECONDS) -> None:
        self.timeout = timeout
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        try:
            answer = self._session().post(url, data=body, headers=dict(headers), timeout=self.timeout,
                                          allow_redirects=False)
        except requests.RequestException as exc:
            raise NoAnswer(type(exc).__name__) from exc
        return Response(answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.text[:2000])


@dataclass
class Sent:
    url: str
    body: bytes
    headers: dict[str, str]


class RecordingClient:
    """Records every request and answers with ``answer(sent)`` (default: 200); for tests."""

    def __init__(self, answer: Callable[[Sent], Response] | None = None) -> None:
        self.sent: list[Sent] = []
        self.answer = answer or (lambda _sent: Response(200))

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Response:
        sent = Sent(url, body, dict(headers))
        self.sent.append(sent)
        return self.answer(sent)
