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


def fictional(phone: str) -> bool:
    """True for numbers no real phone has: North American 555-0100 to 555-0199, and Twilio's +1500555 test numbers."""
    digits = phone.lstrip("+")
    if not (digits.startswith("1") and len(digits) == 11 and digits.isdigit()):
        return False
    return (digits[4:8] == "5550" and digits[8] == "1") or digits[1:7] == "500555"


def real_phone_warning(phone: str, outbox_mode: bool) -> str | None:
    """What to say before simulating with ``phone`` when Twilio would really text or call it back."""
    if outbox_mode or fictional(phone):
        return None
    return (f"Warning: Twilio credentials are set and {phone} looks like a real phone. The replies are only "
            "printed here, but what comes later (follow-ups, call-backs, reminders, broadcasts) would text or "
            "call it for real. Use a 555-01xx number such as +15555550123 to try things out.")
