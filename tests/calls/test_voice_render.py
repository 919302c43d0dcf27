"""``Flow.render``: a TwiML document rendered once per distinct content, always as the SDK renders it."""

from __future__ import annotations

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from sms.calls import voice


def _intro(prompt: str = "Press 1 now.", **gather: object) -> VoiceResponse:
    vr = VoiceResponse()
    vr.say("Hello.", voice="Polly.Joanna", language="en-US")
    g = Gather(num_digits=1, action="https://x.test/voice/connect", timeout=5, **gather)
    g.say(prompt, voice="Polly.Joanna", language="en-US")
    vr.append(g)
    vr.say("Goodbye & <thanks>.", voice="Polly.Joanna", language="en-US")
    vr.hangup()
    return vr


def _rendered(vr: VoiceResponse) -> str:
    """``Flow.render`` of ``vr`` (only the TwiML matters here: no services, no database)."""
    flow = voice.Flow.__new__(voice.Flow)
    flow.vr = vr
    return flow.render()


def test_the_same_document_renders_as_the_sdk_does_every_time() -> None:
    expected = str(_intro())
    assert _rendered(_intro()) == expected
    assert _rendered(_intro()) == expected  # from the cache


def test_any_difference_renders_its_own_document() -> None:
    assert _rendered(_intro("Press 2.")) == str(_intro("Press 2."))
    assert _rendered(_intro(language="es-US")) == str(_intro(language="es-US"))
    dial, verb = VoiceResponse(), Dial(caller_id="+15005550006", action="https://x.test/voice/dialed?leg=1")
    verb.number("+12025550101")
    dial.append(verb)
    assert _rendered(dial) == str(dial)


def test_an_attribute_type_is_part_of_the_content() -> None:
    yes, one = _intro(action_on_empty_result=True), _intro(action_on_empty_result=1)
    assert _rendered(yes) == str(yes) and 'actionOnEmptyResult="true"' in str(yes)
    assert _rendered(one) == str(one) and 'actionOnEmptyResult="1"' in str(one)


def test_unhashable_content_is_rendered_as_is() -> None:
    vr = VoiceResponse()
    vr.say("Hi.", voice={"not": "hashable"})
    assert _rendered(vr) == str(vr)
