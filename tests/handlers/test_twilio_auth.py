"""The webhook signature check: exactly Twilio's SDK's verdict, one HMAC for a genuine request."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from handlers import twilio_auth
from sms.console import simulator
from tests.conftest import BASE_URL, TOKEN

hosts = st.sampled_from(["actionline.test", "127.0.0.1", "public.example"])
ports = st.sampled_from(["", ":443", ":80", ":5000", ":8443"])
paths = st.sampled_from(["/sms", "/sms/status", "/voice/answer", "/voice/next", "/voice"])
queries = st.sampled_from(["", "?leg=1", "?s=abc&leg=2", "?bodySHA256=00"])
text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
fields = st.lists(st.tuples(st.sampled_from(["CallSid", "Body", "From", "Digits", "b", "B"]), text), max_size=6)


def sdk_forms(url: str) -> list[str]:
    """The URL forms Twilio's SDK accepts for ``url``: with and without its port."""
    parsed = twilio_auth.urlparse(url)
    return [twilio_auth.remove_port(parsed), twilio_auth.add_port(parsed)]


@settings(max_examples=300, deadline=None)
@given(
    scheme=st.sampled_from(["http", "https"]),
    host=hosts,
    port=ports,
    path=paths,
    query=queries,
    pairs=fields,
    signed_as=st.sampled_from(["as is", "without port", "with port", "other url", "other token", "junk", "none"]),
    token=st.sampled_from([TOKEN, "", "tøken"]),
)
def test_the_verdict_is_the_sdks_for_any_url_form_and_fields(scheme, host, port, path, query, pairs, signed_as, token):
    url = f"{scheme}://{host}{port}{path}{query}"
    form = MultiDict(pairs)
    signer = RequestValidator("other-token" if signed_as == "other token" else token)
    signed_url = {
        "as is": url,
        "without port": sdk_forms(url)[0],
        "with port": sdk_forms(url)[1],
        "other url": url.replace(path, path + "x", 1),
    }.get(signed_as, url)
    fixed = {"junk": "bm90IGEgc2lnbmF0dXJl", "none": ""}
    signature = fixed[signed_as] if signed_as in fixed else signer.compute_signature(signed_url, form)
    assert twilio_auth.valid_signature(token, url, form, signature) == RequestValidator(token).validate(
        url, form, signature
    )


@pytest.fixture
def hmacs(monkeypatch):  # noqa: ANN001, ANN201
    """How many HMACs the check computes."""
    made: list[str] = []
    compute = twilio_auth._compute

    def counting(token: str, signed: str) -> bytes:
        made.append(signed)
        return compute(token, signed)

    monkeypatch.setattr(twilio_auth, "_compute", counting)
    return made


def test_a_genuine_request_costs_one_hmac(hmacs):
    form = MultiDict({"CallSid": "CA1", "Digits": "1"})
    url = BASE_URL + "/voice/connect"
    assert twilio_auth.valid_signature(TOKEN, url, form, simulator.sign(TOKEN, url, form))
    assert len(hmacs) == 1


def test_the_other_url_form_is_tried_only_when_the_first_fails(hmacs):
    form = MultiDict({"CallSid": "CA1"})
    url = BASE_URL + "/voice/connect"  # https, no port: Twilio may have signed it with :443
    assert twilio_auth.valid_signature(TOKEN, url, form, simulator.sign(TOKEN, BASE_URL + ":443/voice/connect", form))
    assert [s.split("/voice")[0] for s in hmacs] == [BASE_URL, BASE_URL + ":443"]
    hmacs.clear()
    assert not twilio_auth.valid_signature(
        TOKEN, url, form, simulator.sign(TOKEN, BASE_URL + ":444/voice/connect", form)
    )
    assert len(hmacs) == 2


def test_a_port_that_is_not_a_number_fails_instead_of_raising():
    form = MultiDict({"CallSid": "CA1"})
    url = "http://x:abc/voice"
    assert not twilio_auth.valid_signature(TOKEN, url, form, simulator.sign(TOKEN, url, form))


def test_a_webhook_signed_with_the_default_port_is_accepted(client):
    params = simulator.sms_params("+16175550123", "MENU", "+15005550006")
    signature = simulator.sign(TOKEN, BASE_URL + ":443/sms", params)
    assert client.post("/sms", data=params, headers={"X-Twilio-Signature": signature}).status_code == 200
    other = simulator.sign(TOKEN, BASE_URL + ":8443/sms", {**params, "MessageSid": "SMother"})
    assert (
        client.post("/sms", data={**params, "MessageSid": "SMother"}, headers={"X-Twilio-Signature": other}).status_code
        == 403
    )
