"""Local fake servers for the integrations, on real HTTP at 127.0.0.1 (an ``http.server`` thread each).

``Receiver`` is a webhook receiver that checks every signature and records what it got;
``FakeActionNetwork`` checks the shape of every person signup helper request and answers from a
script (201, 429 with Retry-After, 500, or a timeout). A pytest plugin (``pytest_plugins`` in
tests/conftest.py): ``receiver`` and ``action_network``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sms.integrations import webhooks

SECRET = "whsec_test_secret_0123456789abcdef"
AN_KEY = "an-test-key"


class _Server:
    """An ``http.server`` on a free port of 127.0.0.1, serving ``self.handle`` in a thread."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, headers, reply = owner.handle(self.path, dict(self.headers.items()), body)
                try:
                    self.send_response(status)
                    for key, value in headers.items():
                        self.send_header(key, value)
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):  # the client timed out and left
                    pass

            def log_message(self, *args: Any) -> None:  # quiet
                pass

        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError


class Receiver(_Server):
    """Accepts a POST only with a valid ``X-ActionLine-Signature``; ``status`` (or ``script``) sets the answer."""

    def __init__(self, secret: str = SECRET) -> None:
        super().__init__()
        self.secret = secret
        self.events: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.bad_signatures = 0
        self.status = 200
        self.script: list[int] = []
        self.delay = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        if self.delay:
            time.sleep(self.delay)
        if not webhooks.verify(self.secret, headers.get(webhooks.SIGNATURE_HEADER, ""), body):
            with self.lock:
                self.bad_signatures += 1
            return 401, {}, b"bad signature"
        with self.lock:
            status = self.script.pop(0) if self.script else self.status
            if 200 <= status < 300:
                self.events.append(json.loads(body))
                self.headers.append(headers)
        return status, {}, b"ok" if status < 300 else b"not now"

    def ids(self) -> list[str]:
        with self.lock:
            return [e["id"] for e in self.events]

    def types(self) -> list[str]:
        with self.lock:
            return [e["type"] for e in self.events]


class FakeActionNetwork(_Server):
    """``POST /api/v2/people/`` with the OSDI token; each request is checked and answered from ``script``.

    Script entries: a status (``201``, ``500``...), ``(429, seconds)`` for a Retry-After, or
    ``"timeout"`` (the answer comes after ``hang`` seconds, later than the client waits).
    """

    def __init__(self, key: str = AN_KEY) -> None:
        super().__init__()
        self.key = key
        self.script: list[Any] = []
        self.people: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self.hang = 1.5

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v2"

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        problem = self.check(path, headers, body)
        if problem:
            with self.lock:
                self.problems.append(problem)
            return 400, {}, json.dumps({"error": problem}).encode()
        with self.lock:
            answer = self.script.pop(0) if self.script else 201
        if answer == "timeout":
            time.sleep(self.hang)
            return 201, {}, b"{}"
        if isinstance(answer, tuple):
            return answer[0], {"Retry-After": str(answer[1])}, b'{"error": "slow down"}'
        if 200 <= answer < 300:
            with self.lock:
                self.people.append(json.loads(body))
        return answer, {"Content-Type": "application/hal+json"}, b"{}"

    def check(self, path: str, headers: dict[str, str], body: bytes) -> str | None:
        """What is wrong with a person signup helper request (None if nothing)."""
        if path != "/api/v2/people/":
            return f"wrong path {path}"
        if headers.get("OSDI-API-Token") != self.key:
            return "wrong or missing OSDI-API-Token"
        try:
            payload = json.loads(body)
            person = payload["person"]
            numbers = person["phone_numbers"]
        except (ValueError, KeyError, TypeError):
            return "no person.phone_numbers"
        if not numbers or not str(numbers[0].get("number", "")).isdigit():
            return "phone number must be digits"
        if numbers[0].get("status") not in (None, "subscribed", "unsubscribed"):
            return f"bad status {numbers[0].get('status')}"
        tags = payload.get("add_tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            return "add_tags must be a list of strings"
        return None

    def statuses(self) -> list[tuple[str, str | None]]:
        with self.lock:
            return [(p["person"]["phone_numbers"][0]["number"], p["person"]["phone_numbers"][0].get("status"))
                    for p in self.people]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def action_network() -> Iterator[FakeActionNetwork]:
    server = FakeActionNetwork()
    server.start()
    yield server
    server.stop()
