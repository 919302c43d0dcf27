"""The /sms reply TwiML is written directly: it must be what twilio's MessagingResponse renders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from handlers.sms import messages_twiml


def rendered_by_twilio(texts: list[str]) -> str:
    response = MessagingResponse()
    for text in texts:
        response.message(text)
    return str(response)


@pytest.mark.parametrize("texts", [
    [],
    [""],
    ["Reply CALL to be connected."],
    ["Tom & Jerry <3 > all", "Second\n\ntext"],
    ['Quotes " and \' stay', "Acentos: años, ¿qué?", "emoji 🙂 and 中文"],
    ["a lone surrogate \ud83d here", "tabs\tand\rreturns"],
])
def test_reply_twiml_is_what_twilio_renders(texts):
    assert messages_twiml(texts) == rendered_by_twilio(texts)


@given(st.lists(st.text(), max_size=4))
def test_any_replies_render_as_twilio_would(texts):
    assert messages_twiml(texts) == rendered_by_twilio(texts)
