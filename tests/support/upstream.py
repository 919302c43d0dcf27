"""A local HTTP server playing congress-legislators' (or Open States') published files, for the refresh tests.

A real server on 127.0.0.1 (``http.server`` in a thread), so a refresh goes through the real
HTTP client (requests, its timeouts and errors) and never reaches the internet. Tests publish
files, make one answer an error or never answer (until the test ends).
A pytest plugin (``pytest_plugins`` in tests/conftest.py): the ``upstream`` fixture
(congress-legislators' site) and ``openstates`` (``data.openstates.org/people/current/``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

LAST_MODIFIED = "Mon, 04 Jan 2027 15:00:00 GMT"
STALL_SECONDS = 30.0
"""A stalled answer waits at most this long (the test's end releases it sooner)."""


@dataclass
class Upstream:
    """What the server answers, by file name."""

    url: str  # the base, like CONGRESS_DATA_URL
    prefix: str = "/congress-legislators/"  # the path every file is under
    files: dict[str, bytes] = field(default_factory=dict)
    errors: dict[str, tuple[int, dict[str, str]]] = field(default_factory=dict)
    stalled: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def publish(self, name: str, body: str | bytes) -> None:
        self.files[name] = body.encode("utf-8") if isinstance(body, str) else body
        self.errors.pop(name, None)
        self.stalled.discard(name)

    def fail(self, name: str, status: int, **headers: str) -> None:
        self.errors[name] = (status, headers)

    def stall(self, name: str) -> None:
        """Accept the request and never answer (the client's read timeout must end it)."""
        self.stalled.add(name)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        upstream = self.server.upstream
        name = self.path.rsplit("/", 1)[-1]
        upstream.requests.append(self.path)
        if name in upstream.stalled:
            upstream.release.wait(STALL_SECONDS)
            return
        if name in upstream.errors:
            status, headers = upstream.errors[name]
            self._answer(status, b"error\n", headers)
        elif name in upstream.files and self.path.startswith(upstream.prefix):
            self._answer(200, upstream.files[name], {"Last-Modified": LAST_MODIFIED})
        else:
            self._answer(404, b"not found\n", {})

    def _answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server's signature
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    upstream: Upstream


def _serve(prefix: str) -> Iterator[Upstream]:
    """A server on a free local port serving files under ``prefix``."""
    server = _Server(("127.0.0.1", 0), _Handler)
    server.upstream = Upstream(f"http://127.0.0.1:{server.server_port}{prefix}", prefix)
    thread = threading.Thread(target=server.serve_forever, name="upstream", daemon=True)
    thread.start()
    yield server.upstream
    server.upstream.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """congress-legislators' site; ``upstream.url`` is its CONGRESS_DATA_URL."""
    yield from _serve("/congress-legislators/")


@pytest.fixture
def openstates() -> Iterator[Upstream]:
    """Open States' per-state legislator CSVs; ``openstates.url`` is its STATE_DATA_URL."""
    yield from _serve("/people/current/")
