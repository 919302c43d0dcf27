"""POST /sms: Twilio's inbound messaging webhook, answered with TwiML."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, request
from twilio.twiml.messaging_response import MessagingResponse

from handlers.twilio_auth import validate_twilio_request
from sms import inbound

bp = Blueprint("sms", __name__, url_prefix="/sms")


def twiml(response: object) -> Response:
    return Response(str(response), mimetype="text/xml")


@bp.post("")
@validate_twilio_request
def receive() -> Response:
    """Answer one inbound text; a malformed request gets an empty TwiML reply, never a 500 to Twilio."""
    response = MessagingResponse()
    try:
        sms = inbound.InboundSms.from_form(request.form)
    except ValueError:
        return twiml(response)
    for text in inbound.receive(current_app.extensions["actionline"], sms):
        response.message(text)
    return twiml(response)
