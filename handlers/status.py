"""POST /sms/status: Twilio's message status callback."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from handlers.twilio_auth import validate_twilio_request
from sms import status

bp = Blueprint("status", __name__, url_prefix="/sms")


@bp.post("/status")
@validate_twilio_request
def message_status() -> tuple[str, int]:
    """Record MessageStatus and ErrorCode; Twilio only needs a 2xx back."""
    status.record(current_app.extensions["actionline"], request.form)
    return "", 204
