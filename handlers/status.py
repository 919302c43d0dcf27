"""POST /sms/status: Twilio's message status callback."""

from __future__ import annotations

from flask import Blueprint, request

from handlers.context import services
from handlers.twilio_auth import validate_twilio_request
from sms.messaging import delivery_status

bp = Blueprint("status", __name__, url_prefix="/sms")


@bp.post("/status")
@validate_twilio_request
def message_status() -> tuple[str, int]:
    """Record MessageStatus and ErrorCode; Twilio only needs a 2xx back."""
    delivery_status.record(services(), request.form)
    return "", 204
