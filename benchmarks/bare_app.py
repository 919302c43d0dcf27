"""The baseline: a bare Flask app answering the same fixed TwiML (an SMS reply, a voice <Gather>)."""

from __future__ import annotations

from flask import Flask, Response

REPLY = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Ban chokeholds.</Message></Response>'
VOICE = ('<?xml version="1.0" encoding="UTF-8"?><Response>'
         '<Say voice="Polly.Joanna">Hello from Action Line. Thank you for taking action on: Federal chokehold ban.'
         '</Say><Gather action="http://127.0.0.1/voice/connect" numDigits="1" timeout="8">'
         '<Say voice="Polly.Joanna">Press 1 now to be connected to Rep. Jerrold Nadler.</Say></Gather>'
         '<Say voice="Polly.Joanna">We didn\'t hear a key press, so we\'ll hang up now.</Say><Hangup/></Response>')


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/sms")
    def sms() -> Response:
        return Response(REPLY, mimetype="text/xml")

    @app.post("/voice")
    def voice() -> Response:
        return Response(VOICE, mimetype="text/xml")

    return app
