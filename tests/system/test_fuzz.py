"""Fuzzed webhook bodies: never a 5xx, always valid TwiML (signed) or a 4xx (unsigned, too big)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote, quote_from_bytes

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from sms.calls.models import CallSession
from sms.console import simulator
from tests.conftest import BASE_URL, TOKEN, signed_post

FIELDS = ["MessageSid", "From", "To", "Body", "NumMedia", "SmsSid", "AccountSid", "MediaUrl0", "Extra"]
forms = st.dictionaries(st.sampled_from(FIELDS), st.text(max_size=1700), max_size=len(FIELDS))
phones = st.sampled_from(["+16175550123", "+447700900123", "12345", "", "Twilio", "+1617555012a"])


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=forms, sender=phones)
def test_signed_fuzz_always_gets_valid_twiml(client, form, sender):
    form = {**form, "From": form.get("From", sender)}
    response = signed_post(client, "/sms", form)
    assert response.status_code == 200
    root = ET.fromstring(response.get_data(as_text=True))
    assert root.tag == "Response"
    assert all(child.tag == "Message" for child in root)


@pytest.mark.slow
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=forms)
def test_unsigned_fuzz_is_refused(client, form):
    assert client.post("/sms", data=form).status_code == 403


STATUS_FIELDS = ["MessageSid", "MessageStatus", "ErrorCode", "To", "From", "SmsSid", "SmsStatus"]
status_forms = st.dictionaries(
    st.sampled_from(STATUS_FIELDS),
    st.one_of(st.text(max_size=80), st.sampled_from(["delivered", "failed", "21610", "99999999999999999999"])),
    max_size=len(STATUS_FIELDS),
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(form=status_forms)
def test_signed_status_fuzz_is_always_accepted(client, form):
    assert signed_post(client, "/sms/status", form).status_code == 204


# -- raw bodies, every webhook, the voice steps ---------------------------------------------------------------

WEBHOOKS = ["/sms", "/sms/status", "/voice", "/voice/answer?s=x", "/voice/connect", "/voice/zip",
            "/voice/district", "/voice/next?leg=0", "/voice/dialed?leg=1", "/voice/status"]
FORM = "application/x-www-form-urlencoded"
SIDS = ["SM" + "1" * 32, "SM" + "2" * 32, "CA" + "1" * 32, "CA" + "2" * 32, "", "x"]  # repeats are the point
VOICE_FIELDS = ["CallSid", "From", "To", "Digits", "CallStatus", "DialCallStatus", "DialCallDuration",
                "CallDuration", "DialCallSid", "AccountSid", "MessageSid", "Body"]
voice_values = st.one_of(st.text(max_size=40), st.sampled_from(SIDS), phones,
                         st.sampled_from(["1", "2", "*", "#", "10001", "99501", "completed", "busy", "no-answer",
                                          "in-progress", "-5", "99999999999999999999", "NaN"]))
voice_forms = st.dictionaries(st.sampled_from(VOICE_FIELDS), voice_values, max_size=len(VOICE_FIELDS))
queries = st.one_of(st.just(""), st.text(max_size=20).map(lambda t: "leg=" + quote(t)),
                    st.text(max_size=20).map(lambda t: "s=" + quote(t)))


def encoded_bytes(form: dict[str, bytes]) -> bytes:
    """A urlencoded body whose values are arbitrary bytes (invalid UTF-8 included)."""
    return "&".join(f"{quote(k)}={quote_from_bytes(v)}" for k, v in form.items()).encode()


raw_bodies = st.one_of(
    st.binary(max_size=3000),
    st.dictionaries(st.sampled_from(FIELDS + VOICE_FIELDS), st.binary(max_size=200)).map(encoded_bytes),
    st.sampled_from([b"", b"&&&", b"=", b"Body", b"%", b"%zz=%ff", b"From=%2B16175550123&MessageSid=SM1&Body=%FF%FE",
                     b"\xff\xfe\x00B\x00o\x00d\x00y", "Body=caf\u00e9".encode("latin-1")]),
)
content_types = st.sampled_from([FORM, FORM + "; charset=utf-8", FORM + "; charset=latin-1", "text/plain",
                                 "application/json", "multipart/form-data", "multipart/form-data; boundary=x", ""])


def signed_raw(client, path: str, body: bytes, content_type: str):  # noqa: ANN201
    """POST ``body`` as is, signed over the form exactly as Flask will parse it (so the handler runs)."""
    parsed = Request(EnvironBuilder(method="POST", data=body, content_type=content_type).get_environ()).form
    signature = simulator.sign(TOKEN, BASE_URL + path, parsed)
    return client.post(path, data=body, content_type=content_type, headers={"X-Twilio-Signature": signature})


def assert_twiml_or_4xx(response) -> None:  # noqa: ANN001
    """Twilio gets valid TwiML, an empty 2xx (status callbacks) or a 4xx: never a 5xx."""
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code >= 400 or response.status_code == 204:
        return
    assert response.status_code == 200
    root = ET.fromstring(response.get_data())
    assert root.tag == "Response"


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(WEBHOOKS), body=raw_bodies, content_type=content_types)
def test_signed_raw_bodies_never_crash_a_webhook(client, path, body, content_type):
    assert_twiml_or_4xx(signed_raw(client, path, body, content_type))


@pytest.mark.slow
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(step=st.sampled_from([w.split("?")[0] for w in WEBHOOKS[2:]]), query=queries, form=voice_forms)
def test_signed_voice_fuzz_always_gets_twiml(client, targets_db, step, query, form):
    """Random fields on every voice step; the CallSids repeat, so later steps find the sessions earlier ones opened."""
    path = step + (f"?{query}" if query else "")
    assert_twiml_or_4xx(signed_post(client, path, form))


@pytest.mark.parametrize("path", WEBHOOKS)
def test_huge_and_empty_bodies(client, path):
    huge = encoded_bytes({"MessageSid": b"SM1", "From": b"+16175550123", "CallSid": b"CA1", "Body": b"x" * 1_000_000})
    response = signed_raw(client, path, huge, FORM)
    assert response.status_code == 413
    assert_twiml_or_4xx(signed_raw(client, path, b"", FORM))
    assert client.post(path, data=b"", content_type=FORM).status_code == 403


@pytest.mark.parametrize("path", WEBHOOKS)
def test_nul_bytes_in_every_field_never_reach_the_database(client, targets_db, path):
    """PostgreSQL refuses a NUL in a query parameter: a webhook cleans its fields before any query."""
    form = {"CallSid": "CA\x00" + "1" * 32, "MessageSid": "SM\x00" + "1" * 32, "From": "+1617\x005550123",
            "To": "+1500\x005550006", "Body": "CALL\x00", "Digits": "1\x00", "CallStatus": "completed\x00",
            "MessageStatus": "delivered\x00", "DialCallStatus": "completed\x00"}
    assert_twiml_or_4xx(signed_post(client, path, form))
    assert_twiml_or_4xx(signed_post(client, path, form))  # again: now the session it opened exists


def test_call_ins_without_a_call_sid_open_no_session(client, targets_db):
    """Two such requests used to open two sessions with the same empty CallSid (a UNIQUE violation)."""
    for caller in ("+16175550111", "+16175550112"):
        assert_twiml_or_4xx(signed_post(client, "/voice", {"From": caller}))
    with targets_db.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CallSession)) == 0


# -- repeated and crossed CallSids across call sessions, at every voice step ------------------------------------

CALL_SIDS = ["CA" + "a" * 32, "CA" + "b" * 32, "CA" + "c" * 32, " CA" + "a" * 32 + " ", "CA" + "d" * 70, ""]
"""Three SIDs shared by every session, one padded, one longer than the column, none: crossing is the point."""
VOICE_STEPS = ["/voice", "/voice/answer", "/voice/connect", "/voice/zip", "/voice/district", "/voice/next",
               "/voice/dialed", "/voice/status"]


def callback_sessions(svc, count: int = 3) -> list[str]:  # noqa: ANN001
    """``count`` placed call-backs (NY-12's three offices), as the worker leaves them: their answer tokens."""
    from sms.calls import sessions
    from sms.messaging import catalogue

    with svc.db.session() as session:
        demand = catalogue.current(session).demand("CHOKEHOLD")
        plan = sessions.plan(session, svc.settings, demand, "NY", [("NY", 12)])
        tokens = []
        for i in range(count):
            call = sessions.open_session(session, f"+1617555{i:04d}", None, "CHOKEHOLD", "10001", plan.targets,
                                         thanked=plan.thanked)
            call.status, call.seats = "placed", [["NY", 12]]
            tokens.append(call.token)
        session.commit()
    return tokens


voice_requests = st.lists(st.tuples(
    st.sampled_from(VOICE_STEPS), st.integers(min_value=0, max_value=3), st.sampled_from(CALL_SIDS),
    st.sampled_from(["", "1", "2", "*", "#", "0", "10001", "99501"]),
    st.sampled_from(["", "completed", "busy", "no-answer", "in-progress", "failed", "bogus"]),
), min_size=1, max_size=25)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=voice_requests)
def test_crossed_and_repeated_call_sids_always_get_twiml(client, targets_db, requests):
    """Any CallSid at any step of any session (a replayed or forged webhook, a Twilio retry): TwiML or a 4xx."""
    tokens = callback_sessions(targets_db)
    for step, n, sid, digits, status in requests:
        query = f"?s={tokens[n]}" if step == "/voice/answer" and n < len(tokens) else (
            f"?leg={n}" if step in ("/voice/next", "/voice/dialed") else "")
        form = {"CallSid": sid, "From": f"+1617555{n:04d}", "To": "+15005550006", "Digits": digits,
                "CallStatus": status, "DialCallStatus": status, "DialCallDuration": "30", "CallDuration": "60"}
        assert_twiml_or_4xx(signed_post(client, step + query, form))


def test_a_call_sid_bound_to_one_session_cannot_answer_another(client, targets_db):
    """A replayed answer webhook for a second session used to fail on call_sessions' unique CallSid (a 500)."""
    first, second = callback_sessions(targets_db, 2)
    sid = "CA" + "e" * 32
    assert signed_post(client, f"/voice/answer?s={first}", {"CallSid": sid}).status_code == 200
    response = signed_post(client, f"/voice/answer?s={second}", {"CallSid": sid})
    assert_twiml_or_4xx(response)
    assert "this call has expired" in response.get_data(as_text=True)
    with targets_db.db.session() as session:
        bound = dict(session.execute(select(CallSession.token, CallSession.call_sid)).all())
    assert bound == {first: sid, second: None}


@pytest.mark.parametrize("step", VOICE_STEPS)
def test_a_call_sid_longer_than_the_column_is_one_call(client, targets_db, step):
    """Twilio's SIDs are 34 characters; a longer one is cut to the column, and its repeat finds the same session."""
    (token,) = callback_sessions(targets_db, 1)
    long_sid = "CA" + "f" * 70
    for path in ("/voice", f"/voice/answer?s={token}", step, step):
        assert_twiml_or_4xx(signed_post(client, path, {"CallSid": long_sid, "From": "+16175550000",
                                                       "Digits": "1", "CallStatus": "completed"}))


def test_a_call_in_racing_its_own_retry_is_one_session(client, targets_db, monkeypatch):
    """The retry's request commits the session between our read and our insert: asked again, we resume it."""
    from sms.calls import incoming, sessions

    sid, opened = "CA" + "9" * 32, sessions.open_session

    def raced(session, phone, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        monkeypatch.setattr(incoming.sessions, "open_session", opened)
        with targets_db.db.session() as other:  # the racing request, a connection of its own
            opened(other, phone, None, None, None, [], "callin", sid)
            other.commit()
        return opened(session, phone, *args, **kwargs)

    monkeypatch.setattr(incoming.sessions, "open_session", raced)
    response = signed_post(client, "/voice", {"CallSid": sid, "From": "+16175550199"})
    assert_twiml_or_4xx(response)
    assert "ZIP code" in response.get_data(as_text=True)
    with targets_db.db.session() as session:
        assert session.scalar(select(func.count()).select_from(CallSession)) == 1
