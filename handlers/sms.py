"""POST /sms: Twilio's inbound messaging webhook, answered with TwiML."""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from flask import Blueprint, Response, request
from redis.exceptions import RedisError

from handlers.context import services
from handlers.twilio_auth import validate_twilio_request
from sms.messaging import inbound, spool

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)


PROLOG = '<?xml version="1.0" encoding="UTF-8"?>'


def messages_twiml(texts: list[str]) -> str:
    """The TwiML that twilio's ``MessagingResponse`` renders for ``texts``, character for character.

    Written directly: building the element tree cost more per text than the rest of the TwiML step.
    ``xmlcharrefreplace`` does what ElementTree's UTF-8 writer does with a character UTF-8 cannot hold.
    """
    if not texts:
        return PROLOG + "<Response />"
    body = "".join(f"<Message>{escape(text)}</Message>" if text else "<Message />" for text in texts)
    return (PROLOG + "<Response>" + body + "</Response>").encode("utf-8", "xmlcharrefreplace").decode("utf-8")


def twiml(texts: list[str]) -> Response:
    return Response(messages_twiml(texts), mimetype="text/xml")


@bp.post("")
@validate_twilio_request
def receive() -> Response:
    """Answer one inbound text; a malformed request gets an empty TwiML reply, never a 500 to Twilio.

    With the database down the text is spooled and answered later by a text (see ``sms.messaging.spool``);
    only if Redis is down too is the answer 503, so Twilio's fallback URL applies.
    """
    try:
        sms = inbound.InboundSms.from_form(request.form)
    except ValueError:
        return twiml([])
    svc = services()
    try:
        replies = inbound.receive(svc, sms)
    except spool.DATABASE_DOWN:
        try:
            spool.keep(svc.redis, sms)
        except RedisError:
            log.critical("database and Redis down: inbound %s not kept", sms.sid)
            return Response("database and Redis unavailable", status=503, mimetype="text/plain")
        return twiml([])
    return twiml(replies)
