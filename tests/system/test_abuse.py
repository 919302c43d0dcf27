"""Forged and replayed webhooks: every Twilio endpoint answers 403 and stores nothing.

For each endpoint a real state exists first (a texter with a call-back placed, an
outbound text with a SID), so an accepted forgery would change it: opt a number
out, confirm a call, dial an office, enqueue a job. The whole database (every
table but the catalogue) and every Redis key are compared before and after.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sms import features, store
from sms.console import simulator
from sms.messaging import outbound
from tests.conftest import BASE_URL, CATALOGUE_TABLES, SERVICE_NUMBER, TOKEN, Phone
from tests.support.calls import path_of

ACCOUNT = "AC" + "0" * 32


def snapshot(svc) -> tuple[dict[str, list[str]], dict[bytes, bytes]]:
    """Every stored row (but the catalogue) and every Redis key with its value."""
    tables = [t for t in features.load_models().metadata.sorted_tables if t.name not in CATALOGUE_TABLES]
    with svc.db.engine.connect() as conn:
        rows = {t.name: sorted(repr(tuple(r)) for r in conn.execute(select(t))) for t in tables}
    return rows, {key: svc.redis.dump(key) for key in svc.redis.keys("*")}


@pytest.fixture
def scene(client, svc, transport, run_jobs, targets_db) -> dict[str, str]:
    """A texter whose call-back has been placed (not yet answered), and a text Twilio accepted."""
    phone = Phone(client, "+16175550123")
    phone.text("ZIP 99501")
    phone.text("CALL CHOKEHOLD")
    with svc.db.session() as session:
        message = outbound.plan(session, None, phone.number, "manual", "Thanks for calling!", store.utcnow())
        session.commit()
    assert outbound.deliver(svc, message.id) == "sent"
    run_jobs()
    placed = transport.calls[-1]
    return {"number": phone.number, "call_sid": placed["sid"], "answer": path_of(placed["url"]),
            "message_sid": transport.messages[-1]["sid"], "message_id": str(message.id)}


def endpoints(scene: dict[str, str]) -> list[tuple[str, dict[str, str], str]]:
    """(path, the form Twilio would send, the field a replay changes) for every webhook."""
    number, sid = scene["number"], scene["call_sid"]
    call = {"CallSid": sid, "AccountSid": ACCOUNT, "From": number, "To": SERVICE_NUMBER, "CallStatus": "in-progress"}
    return [
        ("/sms", simulator.sms_params(number, "STOP", SERVICE_NUMBER), "Body"),
        ("/sms/status", {"MessageSid": scene["message_sid"], "MessageStatus": "undelivered", "ErrorCode": "21610",
                         "To": number, "AccountSid": ACCOUNT}, "MessageStatus"),
        ("/voice", {**call, "CallSid": "CA" + "9" * 32, "From": "+16175550999"}, "From"),
        (scene["answer"], call, "CallSid"),
        ("/voice/connect", {**call, "Digits": "1"}, "Digits"),
        ("/voice/zip", {**call, "Digits": "10001"}, "Digits"),
        ("/voice/district", {**call, "Digits": "1"}, "Digits"),
        ("/voice/next?leg=0", {**call, "Digits": "*"}, "Digits"),
        ("/voice/dialed?leg=0", {**call, "DialCallStatus": "completed", "DialCallDuration": "60"}, "DialCallStatus"),
        ("/voice/status", {**call, "CallStatus": "completed", "CallDuration": "60"}, "CallStatus"),
    ]


def with_query(path: str, extra: str) -> str:
    return path + ("&" if "?" in path else "?") + extra


def forgeries(path: str, form: dict[str, str], field: str) -> dict[str, tuple[str, dict[str, str], dict[str, str]]]:
    """name → (path posted, form posted, headers) for each way a request can be forged or replayed."""
    def signed(url: str, params: dict[str, str] | None = None, token: str = TOKEN) -> dict[str, str]:
        return {"X-Twilio-Signature": simulator.sign(token, url, form if params is None else params)}

    real = signed(BASE_URL + path)
    other_path = "/sms/status" if path == "/sms" else "/sms"
    cases = {
        "missing header": (path, form, {}),
        "empty header": (path, form, {"X-Twilio-Signature": ""}),
        "garbage header": (path, form, {"X-Twilio-Signature": "not base64 at all!"}),
        "wrong token": (path, form, signed(BASE_URL + path, token="someone-elses-token")),
        "replay, one field changed": (path, {**form, field: form[field] + "0"}, real),
        "replay, one field added": (path, {**form, "Extra": "1"}, real),
        "replay, one field removed": (path, {k: v for k, v in form.items() if k != field}, real),
        "signed for another host": (path, form, signed("https://evil.example" + path)),
        "signed for http, not https": (path, form, signed(BASE_URL.replace("https:", "http:") + path)),
        "signed for another path": (path, form, signed(BASE_URL + other_path)),
        "replayed to another path": (other_path, form, real),
        "signed for another query": (path, form, signed(BASE_URL + with_query(path, "x=1"))),
        "query added after signing": (with_query(path, "x=1"), form, real),
    }
    if "?" in path:
        cases["query dropped after signing"] = (path.split("?")[0], form, real)
        cases["query changed after signing"] = (path[:-1] + ("1" if path[-1] != "1" else "2"), form, real)
    return cases


@pytest.mark.parametrize("index", range(10), ids=["sms", "sms-status", "voice-incoming", "voice-answer",
                                                  "voice-connect", "voice-zip", "voice-district", "voice-next",
                                                  "voice-dialed", "voice-status"])
def test_forged_and_replayed_webhooks_get_403_and_store_nothing(client, svc, scene, index):
    path, form, field = endpoints(scene)[index]
    before = snapshot(svc)
    for name, (posted_path, posted_form, headers) in forgeries(path, form, field).items():
        response = client.post(posted_path, data=posted_form, headers=headers)
        assert response.status_code == 403, name
        assert snapshot(svc) == before, name
    genuine = client.post(path, data=form, headers={"X-Twilio-Signature": simulator.sign(TOKEN, BASE_URL + path, form)})
    assert genuine.status_code in (200, 204)  # the same request, signed right, is accepted


def test_the_snapshot_sees_what_a_genuine_request_changes(client, svc, scene):
    before = snapshot(svc)
    path, form, _ = endpoints(scene)[1]  # a 21610 status callback opts the number out
    client.post(path, data=form, headers={"X-Twilio-Signature": simulator.sign(TOKEN, BASE_URL + path, form)})
    assert snapshot(svc)[0]["subscribers"] != before[0]["subscribers"]
