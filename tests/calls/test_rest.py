"""The outbound call-back's REST request, checked against Twilio's OpenAPI description.

``tests.support.twilio_mock`` plays api.twilio.com with the spec loaded: it validates each
``POST .../Calls.json`` against it (path parameter pattern, basic auth, required
fields, known field names, types, enums, URI formats) and answers with the spec's
example. The real Twilio SDK is pointed at it through TWILIO_API_BASE_URL.
"""

from __future__ import annotations

import pytest

from sms.errors import TransportError
from tests.conftest import SERVICE_NUMBER
from tests.support.twilio_mock import SPEC

# Every test here uses ``api`` (tests/support/twilio_mock.py), which loads the spec when it is there.
pytestmark = pytest.mark.skipif(
    not SPEC.exists(), reason=f"{SPEC} is absent: cannot check the REST call against Twilio's OpenAPI description")


def test_call_back_request_matches_the_spec(api, svc, phone, run_jobs, targets_db) -> None:  # noqa: ANN001
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
    from sms.calls.models import CallSession

    with svc.db.session() as session:
        call = session.query(CallSession).one()
        assert (call.status, call.call_sid) == ("placed", "CAaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")


def test_the_spec_server_rejects_what_twilio_would(api) -> None:  # noqa: ANN001
    with pytest.raises(TransportError) as raised:
        api.transport(account="ACnot-a-sid").place_call("+16175550123", "not a url")
    assert raised.value.status == 400
    assert any("AccountSid" in e for e in api.errors) and any("'not a url'" in e for e in api.errors)
