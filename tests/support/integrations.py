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
        """Answer as set when the request arrived, after ``delay``: what a slow answer does never depends on
        what the test changes while it sleeps (on a busy machine that may be before or after it wakes)."""
        with self.lock:
            delay = self.delay
            signed = webhooks.verify(self.secret, headers.get(webhooks.SIGNATURE_HEADER, ""), body)
            if not signed:
                self.bad_signatures += 1
            status = (self.script.pop(0) if self.script else self.status) if signed else 401
        if delay:
            time.sleep(delay)
        if not signed:
            return 401, {}, b"bad signature"
        with self.lock:
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


HELPER_KEYS = frozenset({"person", "add_tags", "add_tags_uri", "add_lists", "add_lists_uri",
                         "add_questions_responses_uri", "triggers"})
PERSON_KEYS = frozenset({"identifiers", "origin_system", "given_name", "family_name", "languages_spoken",
                         "postal_addresses", "email_addresses", "phone_numbers", "custom_fields"})
PHONE_KEYS = frozenset({"primary", "number", "extension", "description", "number_type", "operator", "country",
                        "sms_capable", "do_not_call", "status"})
ADDRESS_KEYS = frozenset({"primary", "address_type", "venue", "address_lines", "locality", "region", "postal_code",
                          "country", "language", "location", "status"})
NUMBER_TYPES = frozenset({"Home", "Work", "Mobile", "Other", "Daytime", "Evening", "Fax"})


def _unknown(where: str, value: Any, allowed: frozenset[str]) -> str | None:
    if not isinstance(value, dict):
        return f"{where} must be an object"
    extra = sorted(set(value) - allowed)
    return f"{where} has unknown fields {extra}" if extra else None


def _phones(numbers: Any) -> str | None:
    if not isinstance(numbers, list) or not numbers:
        return "person.phone_numbers must be a non-empty list"
    for entry in numbers:
        problem = _unknown("phone_numbers[]", entry, PHONE_KEYS)
        if problem:
            return problem
        number = str(entry.get("number", ""))
        if not number.isdigit() or not (number.startswith("1") and len(number) == 11):
            return f"phone_numbers[].number {number!r} must be numeric with its country code (1 + 10 digits)"
        if entry.get("number_type") not in NUMBER_TYPES:
            return f"phone_numbers[].number_type {entry.get('number_type')!r} is not an OSDI number type"
        if entry.get("status") not in (None, "subscribed", "unsubscribed"):
            return f"phone_numbers[].status {entry.get('status')!r}: only subscribed or unsubscribed"
    return None


def _addresses(addresses: Any) -> str | None:
    if not isinstance(addresses, list):
        return "person.postal_addresses must be a list"
    for entry in addresses:
        problem = _unknown("postal_addresses[]", entry, ADDRESS_KEYS)
        if problem:
            return problem
        if not str(entry.get("postal_code", "")).isdigit() or len(str(entry.get("postal_code"))) != 5:
            return f"postal_addresses[].postal_code {entry.get('postal_code')!r} is not a ZIP"
        if entry.get("country", "US") != "US":
            return "postal_addresses[].country must be an ISO 3166-1 alpha-2 code (US)"
    return None


def _strings(where: str, value: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return f"{where} must be a list of strings"
    return None


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
        """What is wrong with a person signup helper request (None if nothing), field by field as documented.

        OSDI's person signup helper (opensupporter/osdi-docs people.md, helper_action_functions.md) as
        Action Network implements it (actionnetwork.org/docs/v2/person_signup_helper): ``person`` with
        OSDI person fields, helper functions such as ``add_tags`` beside it; a phone number is numeric
        with its country code; its ``status`` (subscribed or unsubscribed) is the mobile subscription.
        """
        if path != "/api/v2/people/":
            return f"wrong path {path}"
        if headers.get("OSDI-API-Token") != self.key:
            return "wrong or missing OSDI-API-Token"
        if not headers.get("Content-Type", "").startswith("application/json"):
            return "Content-Type must be application/json"
        try:
            payload = json.loads(body)
            person = payload["person"]
        except (ValueError, KeyError, TypeError):
            return "no person"
        return (_unknown("helper", payload, HELPER_KEYS) or _unknown("person", person, PERSON_KEYS)
                or _phones(person.get("phone_numbers")) or _addresses(person.get("postal_addresses", []))
                or _strings("add_tags", payload.get("add_tags", [])))

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
