"""Constant voice replies are rendered once, yet follow the voice settings and the words asked for."""

from __future__ import annotations

from tests.support.calls import Caller, spoken, tune


def test_a_constant_goodbye_follows_the_voice_settings(client, svc) -> None:  # noqa: ANN001
    caller = Caller(client, "+16175550199", "CA" + "9" * 32)  # no session holds this CallSid
    root = caller.post("/voice/connect", Digits="1")
    assert spoken(root) == "Sorry, we lost track of this call. Goodbye."
    assert root.find("./Say").get("voice") == svc.settings.voice_name and root.find("./Hangup") is not None
    tune(svc, voice_name="Polly.Matthew", voice_language="en-GB")
    root = caller.post("/voice/connect", Digits="1")
    assert (root.find("./Say").get("voice"), root.find("./Say").get("language")) == ("Polly.Matthew", "en-GB")
    root = caller.post("/voice/next?leg=0")
    assert spoken(root) == "This call has ended. Goodbye." and root.find("./Hangup") is not None
