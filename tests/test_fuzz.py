"""Fuzzed webhook bodies: never a 500, always valid TwiML (signed) or a 403 (unsigned)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import signed_post

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
