"""The outbound call-back's REST request, checked against Twilio's OpenAPI description.

``twilio_mock`` plays api.twilio.com with the spec loaded: it validates each
``POST .../Calls.json`` against it (path parameter pattern, basic auth, required
fields, known field names, types, enums, URI formats) and answers with the spec's
example. The real Twilio SDK is pointed at it through TWILIO_API_BASE_URL.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from calls_fixtures import targets_db  # noqa: F401 - fixture
from conftest import ROOT, SERVICE_NUMBER
from twilio_mock import TwilioMock, start

from sms.errors import TransportError

SPEC = ROOT.parent / "shared" / "twilio-oai" / "twilio_api_v2010.json"


@pytest.fixture(scope="module")
def twilio_api() -> Any:
    if not Path(SPEC).exists():
        pytest.skip(f"{SPEC} is absent: cannot check the REST call against Twilio's OpenAPI description")
    mock, stop = start(json.loads(SPEC.read_text(encoding="utf-8")))
    yield mock
    stop()


@pytest.fixture
def api(twilio_api: TwilioMock) -> TwilioMock:
    twilio_api.reset()
    return twilio_api


def test_call_back_request_matches_the_spec(api, svc, phone, run_jobs, targets_db) -> None:  # noqa: ANN001, F811
    svc.transport = api.transport()
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    run_jobs()
    assert api.errors == []
    (call,) = api.posts("Calls")
    form = call.form
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
        api.transport(account="ACnot-a-sid").place_call("+16175550123", "not a url")
    assert raised.value.status == 400
    assert any("AccountSid" in e for e in api.errors) and any("'not a url'" in e for e in api.errors)
