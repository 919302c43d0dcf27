"""The outbound call-back's REST request, checked against Twilio's OpenAPI description.

A tiny HTTP server started by the test plays api.twilio.com: it validates each
``POST .../Calls.json`` against the spec (path parameter pattern, basic auth,
required fields, known field names, types, enums, URI formats) and answers with
the spec's example. The real Twilio SDK is pointed at it through TWILIO_API_BASE_URL.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest
from calls_fixtures import targets_db  # noqa: F401 - fixture
from conftest import ROOT, SERVICE_NUMBER, TOKEN

from sms.errors import TransportError
from sms.transport import TwilioTransport

SPEC = ROOT.parent / "shared" / "twilio-oai" / "twilio_api_v2010.json"
CALLS = "/2010-04-01/Accounts/{AccountSid}/Calls.json"
ACCOUNT = "AC" + "a" * 32


class SpecServer(ThreadingHTTPServer):
    """Validates Calls.json POSTs against the OpenAPI operation; keeps what it received."""

    def __init__(self, spec: dict[str, Any]) -> None:
        super().__init__(("127.0.0.1", 0), SpecHandler)
        self.operation = spec["paths"][CALLS]["post"]
        self.form = self.operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
        self.received: list[dict[str, list[str]]] = []
        self.errors: list[str] = []

    def validate(self, path: str, auth: str, form: dict[str, list[str]]) -> list[str]:
        errors = []
        match = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/Calls\.json", path)
        param = self.operation["parameters"][0]["schema"]
        if not match or not re.match(param["pattern"], match.group(1)):
            errors.append(f"path {path} does not match {CALLS} with AccountSid {param['pattern']}")
        user = base64.b64decode(auth.removeprefix("Basic ")).decode().split(":")[0] if auth else ""
        if not match or user != match.group(1):
            errors.append("basic auth must be AccountSid:AuthToken")
        errors += [f"{name} is required" for name in self.form["required"] if name not in form]
        for name, values in form.items():
            schema = self.form["properties"].get(name)
            if schema is None:
                errors.append(f"{name} is not a parameter of this operation")
                continue
            if schema.get("type") != "array" and len(values) > 1:
                errors.append(f"{name} is given {len(values)} times")
            errors += [f"{name}: {e}" for v in values for e in _check(schema, v)]
        return errors


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


class SpecHandler(BaseHTTPRequestHandler):
    server: SpecServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = parse_qs(body, keep_blank_values=True)
        self.server.received.append(form)
        errors = self.server.validate(self.path.split("?")[0], self.headers.get("Authorization", ""), form)
        self.server.errors += errors
        if errors:
            return self._reply(400, {"code": 21205, "message": "; ".join(errors), "status": 400})
        example = self.server.operation["responses"]["201"]["content"]["application/json"]["examples"]
        self._reply(201, next(iter(example.values()))["value"])

    def _reply(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def twilio_api() -> Any:
    if not Path(SPEC).exists():
        pytest.skip(f"{SPEC} is absent: cannot check the REST call against Twilio's OpenAPI description")
    server = SpecServer(json.loads(SPEC.read_text(encoding="utf-8")))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(twilio_api: SpecServer) -> SpecServer:
    twilio_api.received.clear()
    twilio_api.errors.clear()
    return twilio_api


def transport_for(api: SpecServer, account: str = ACCOUNT) -> TwilioTransport:
    return TwilioTransport(account, TOKEN, SERVICE_NUMBER, api_base_url=f"http://127.0.0.1:{api.server_port}")


def test_call_back_request_matches_the_spec(api, svc, phone, run_jobs, targets_db) -> None:  # noqa: ANN001, F811
    svc.transport = transport_for(api)
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    run_jobs()
    assert api.errors == []
    (form,) = api.received
    assert form["To"] == [phone.number] and form["From"] == [SERVICE_NUMBER]
    assert form["Url"][0].startswith("https://actionline.test/voice/answer?s=")
    assert form["StatusCallback"] == ["https://actionline.test/voice/status"]
    assert form["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    from sms.calls import CallSession

    with svc.db.session() as session:
        call = session.query(CallSession).one()
        assert (call.status, call.call_sid) == ("placed", "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")


def test_the_spec_server_rejects_what_twilio_would(api) -> None:  # noqa: ANN001
    with pytest.raises(TransportError) as raised:
        transport_for(api, account="ACnot-a-sid").place_call("+16175550123", "not a url")
    assert raised.value.status == 400
    assert any("AccountSid" in e for e in api.errors) and any("'not a url'" in e for e in api.errors)
