"""A local stand-in for api.twilio.com, for the real Twilio SDK (TWILIO_API_BASE_URL).

``TwilioMock`` answers ``POST .../Messages.json`` and ``POST .../Calls.json`` with a
created resource and ``GET .../Messages.json?To=`` and ``GET .../Calls.json?To=&From=``
with what it created (newest first), the way Twilio does. Faults are queued per
resource with ``fail()``: an HTTP error in Twilio's JSON error format (optionally
with ``Retry-After``), or a request that is accepted and never answered (``hang``),
with or without Twilio having acted on it.
Given Twilio's OpenAPI description, ``Calls.json`` requests are also validated
against it (path pattern, basic auth, required and known fields, types, enums,
URI formats; a list's query parameters) and answered with the spec's example.
A pytest plugin (``pytest_plugins`` in tests/conftest.py): ``twilio_api`` is one mock per test
module, with the spec when the shared checkout has it, and ``api`` that mock reset for each test.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sms.store import utcnow
from sms.transport import TwilioTransport
from tests.conftest import ROOT, SERVICE_NUMBER, TOKEN

SPEC = ROOT.parent / "shared" / "twilio-oai" / "twilio_api_v2010.json"
"""Twilio's OpenAPI description of the 2010-04-01 API, when the shared checkout has it."""
ACCOUNT = "AC" + "a" * 32
CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
ERROR_MESSAGES = {
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "The 'To' number {to} is not a valid phone number.",  # Twilio names the number, as here
    21610: "Attempt to send to unsubscribed recipient",
}


@dataclass(frozen=True)
class Fault:
    """What the mock does instead of succeeding, once."""

    status: int = 0
    code: int | None = None
    retry_after: str | None = None
    hang: bool = False  # accept the connection and never answer
    acted: bool = False  # with hang: Twilio created the resource before the answer was lost

    @property
    def label(self) -> str:
        if self.hang:
            return "hang-after-create" if self.acted else "hang"
        return f"{self.status}-{self.code}" + (f"-retry-after-{self.retry_after}" if self.retry_after else "")


def error(status: int, code: int, retry_after: str | None = None) -> Fault:
    return Fault(status=status, code=code, retry_after=retry_after)


@dataclass
class Received:
    method: str
    resource: str  # Messages | Calls
    form: dict[str, list[str]]
    query: dict[str, list[str]]


@dataclass
class TwilioMock:
    """The server state: queued faults, every request received, every resource created."""

    spec: dict[str, Any] | None = None
    faults: dict[str, list[Fault]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    created: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # spec violations
    release: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def fail(self, resource: str, *faults: Fault) -> None:
        """The next requests to ``resource`` (Messages or Calls) meet these faults, in order."""
        self.faults.setdefault(resource, []).extend(faults)

    def reset(self) -> None:
        self.faults.clear()
        self.received.clear()
        self.created.clear()
        self.errors.clear()

    def posts(self, resource: str) -> list[Received]:
        return [r for r in self.received if r.method == "POST" and r.resource == resource]

    def transport(self, account: str = ACCOUNT, timeout: float = 0.5) -> TwilioTransport:
        """The production transport, pointed here (a short timeout keeps hang tests quick)."""
        return TwilioTransport(account, TOKEN, SERVICE_NUMBER, api_base_url=self.url, timeout=timeout)

    def create(self, resource: str, account: str, form: dict[str, list[str]]) -> dict[str, Any]:
        one = {k: v[0] for k, v in form.items()}
        prefix = "SM" if resource == "Messages" else "CA"
        item = {"sid": prefix + uuid.uuid4().hex, "account_sid": account, "to": one.get("To"),
                "from": one.get("From"), "body": one.get("Body"), "status": "queued",
                "date_created": format_datetime(utcnow()), "date_sent": None, "direction": "outbound-api",
                "uri": f"/2010-04-01/Accounts/{account}/{resource}/x.json", "resource": resource}
        if resource == "Calls" and self.spec is not None:
            examples = self.spec["paths"][CALLS]["post"]["responses"]["201"]["content"]["application/json"]
            example = next(iter(examples["examples"].values()))["value"]
            item = {**example, "to": item["to"], "from": item["from"], "date_created": item["date_created"],
                    "resource": resource}
        self.created.append(item)
        return item

    def validate_call(self, path: str, auth: str, form: dict[str, list[str]]) -> list[str]:
        """Check a Calls.json POST against the OpenAPI operation (no spec: nothing to check)."""
        if self.spec is None:
            return []
        operation = self.spec["paths"][CALLS]["post"]
        schema = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        errors = []
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Calls\.json", path)
        param = operation["parameters"][0]["schema"]
        if not match or not re.match(param["pattern"], match.group(1)):
            errors.append(f"path {path} does not match {CALLS} with AccountSid {param['pattern']}")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
        if not match or user != match.group(1):
            errors.append("basic auth must be AccountSid:AuthToken")
        errors += [f"{name} is required" for name in schema["required"] if name not in form]
        for name, values in form.items():
            prop = schema["properties"].get(name)
            if prop is None:
                errors.append(f"{name} is not a parameter of this operation")
                continue
            if prop.get("type") != "array" and len(values) > 1:
                errors.append(f"{name} is given {len(values)} times")
            errors += [f"{name}: {e}" for v in values for e in _check(prop, v)]
        return errors

    def validate_list(self, query: dict[str, list[str]]) -> list[str]:
        """Check a Calls.json GET's query parameters against the OpenAPI operation."""
        if self.spec is None:
            return []
        known = {p["name"] for p in self.spec["paths"][CALLS]["get"]["parameters"]}
        return [f"{name} is not a query parameter of this operation" for name in query if name not in known]


def _check(schema: dict[str, Any], value: str) -> list[str]:
    kind = schema.get("type")
    if kind == "array":
        return _check(schema.get("items", {}), value)
    if kind == "integer" and not value.lstrip("-").isdigit():
        return [f"{value!r} is not an integer"]
    if kind == "boolean" and value.lower() not in ("true", "false"):
        return [f"{value!r} is not a boolean"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{value!r} is not one of {schema['enum']}"]
    if schema.get("format") == "uri" and not re.match(r"^https?://[^/_]+", value):
        return [f"{value!r} is not an absolute URL with a valid hostname"]
    if schema.get("format") == "endpoint" and not re.match(r"^(\+\d{6,15}|client:|sip:)", value):
        return [f"{value!r} is not a phone number, client or SIP address"]
    return []


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, mock: TwilioMock) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.mock = mock


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        mock = self.server.mock
        account, resource = self._route()
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = parse_qs(body, keep_blank_values=True)
        mock.received.append(Received("POST", resource, form, {}))
        queued = mock.faults.get(resource)
        fault = queued.pop(0) if queued else None
        if fault is not None and fault.hang:
            if fault.acted:
                mock.create(resource, account, form)
            mock.release.wait(30)  # until the test ends: the client must give up first
            self.close_connection = True
            return
        if fault is not None:
            return self._error(fault, (form.get("To") or [""])[0])
        if resource == "Calls":
            problems = mock.validate_call(urlsplit(self.path).path, self.headers.get("Authorization", ""), form)
            if problems:
                mock.errors += problems
                return self._reply(400, {"code": 21205, "message": "; ".join(problems), "status": 400})
        item = mock.create(resource, account, form)
        self._reply(201, {k: v for k, v in item.items() if k != "resource"})

    def do_GET(self) -> None:  # noqa: N802
        mock = self.server.mock
        account, resource = self._route()
        query = parse_qs(urlsplit(self.path).query)
        mock.received.append(Received("GET", resource, {}, query))
        queued = mock.faults.get(resource)
        fault = queued.pop(0) if queued else None
        if fault is not None and fault.hang:
            mock.release.wait(30)
            self.close_connection = True
            return
        if fault is not None:
            return self._error(fault, "")
        if resource == "Calls":
            mock.errors += mock.validate_list(query)
        to, sender = (query.get("To") or [None])[0], (query.get("From") or [None])[0]
        items = [{k: v for k, v in m.items() if k != "resource"} for m in reversed(mock.created)
                 if m["resource"] == resource and to in (None, m["to"]) and sender in (None, m["from"])]
        uri = f"/2010-04-01/Accounts/{account}/{resource}.json"
        self._reply(200, {resource.lower(): items, "uri": uri, "first_page_uri": uri, "next_page_uri": None,
                          "previous_page_uri": None, "page": 0, "page_size": 50, "start": 0, "end": len(items)})

    def _route(self) -> tuple[str, str]:
        match = re.search(r"/Accounts/([^/]+)/(\w+)\.json", urlsplit(self.path).path)
        return (match.group(1), match.group(2)) if match else ("", "")

    def _error(self, fault: Fault, to: str) -> None:
        payload = {"code": fault.code, "message": ERROR_MESSAGES.get(fault.code or 0, "Error").format(to=to),
                   "more_info": f"https://www.twilio.com/docs/errors/{fault.code}", "status": fault.status}
        headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
        self._reply(fault.status, payload, headers)

    def _reply(self, status: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


def start(spec: dict[str, Any] | None = None) -> tuple[TwilioMock, Any]:
    """Serve a fresh mock on a free local port; return it and a function that stops it."""
    mock = TwilioMock(spec=spec)
    server = _Server(mock)
    mock.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        mock.release.set()
        server.shutdown()
        server.server_close()

    return mock, stop


def load_spec() -> dict[str, Any] | None:
    return json.loads(SPEC.read_text(encoding="utf-8")) if SPEC.exists() else None


@pytest.fixture(scope="module")
def twilio_api() -> Iterator[TwilioMock]:
    mock, stop = start(load_spec())  # with the spec, requests (and a list's query parameters) are checked
    yield mock
    stop()


@pytest.fixture
def api(twilio_api: TwilioMock) -> TwilioMock:
    twilio_api.reset()
    return twilio_api
