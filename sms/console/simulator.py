"""A phone simulator: build the signed webhook Twilio would send for a text."""

from __future__ import annotations

import uuid

from twilio.request_validator import RequestValidator


def sms_params(sender: str, body: str, to: str, sid: str | None = None, media: int = 0) -> dict[str, str]:
    """The form fields of Twilio's inbound messaging webhook."""
    return {
        "MessageSid": sid or "SM" + uuid.uuid4().hex,
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": to,
        "Body": body,
        "NumMedia": str(media),
    }


def sign(token: str, url: str, params: dict[str, str]) -> str:
    """The ``X-Twilio-Signature`` Twilio would put on a POST of ``params`` to ``url``."""
    return RequestValidator(token).compute_signature(url, params)
