"""The baseline: a bare Flask endpoint answering the same fixed TwiML."""

from __future__ import annotations

from flask import Flask, Response

REPLY = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Ban chokeholds.</Message></Response>'


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/sms")
    def sms() -> Response:
        return Response(REPLY, mimetype="text/xml")

    return app
