"""POST /sms: Twilio's inbound messaging webhook, answered with TwiML."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request
from redis.exceptions import RedisError
from twilio.twiml.messaging_response import MessagingResponse

from handlers.context import services
from handlers.twilio_auth import validate_twilio_request
from sms.messaging import inbound, spool

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)


def twiml(response: object) -> Response:
    return Response(str(response), mimetype="text/xml")


@bp.post("")
@validate_twilio_request
def receive() -> Response:
    """Answer one inbound text; a malformed request gets an empty TwiML reply, never a 500 to Twilio.

    With the database down the text is spooled and answered later by a text (see ``sms.messaging.spool``);
    only if Redis is down too is the answer 503, so Twilio's fallback URL applies.
    """
    response = MessagingResponse()
    try:
        sms = inbound.InboundSms.from_form(request.form)
    except ValueError:
        return twiml(response)
    svc = services()
    try:
        replies = inbound.receive(svc, sms)
    except spool.DATABASE_DOWN:
        try:
            spool.keep(svc.redis, sms)
        except RedisError:
            log.critical("database and Redis down: inbound %s not kept", sms.sid)
            return Response("database and Redis unavailable", status=503, mimetype="text/plain")
        return twiml(response)
    for text in replies:
        response.message(text)
    return twiml(response)
