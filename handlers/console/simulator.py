"""The simulator: a phone-like page that texts the service through the signed /sms webhook."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

from flask import current_app, jsonify, render_template, request

from handlers.console import bp, services
from sms import simulator, subscribers
from sms.errors import InvalidNumber

DEFAULT_NUMBER = "+12025550143"
FICTIONAL = re.compile(r"^\+1\d{3}55501\d{2}$")
"""555-0100..0199 numbers are reserved for fiction: the simulated texter (who gets real
follow-ups through the real transport) can never be a real person's phone."""


@bp.get("/simulator")
def simulator_page() -> str:
    return render_template("console/simulator.html", number=DEFAULT_NUMBER,
                           service_number=services().settings.phone_number)


@bp.post("/api/simulator")
def simulator_send() -> Any:
    """Sign the webhook Twilio would send for this text, post it to /sms, return the TwiML replies."""
    data = request.get_json(silent=True) or request.form
    body = str(data.get("body") or "")[:1600]
    try:
        sender = subscribers.normalise_phone(str(data.get("from") or DEFAULT_NUMBER))
    except InvalidNumber:
        return jsonify(error="That is not a phone number."), 400
    if not FICTIONAL.match(sender):
        return jsonify(error="Use a fictional number, +1 NPA 555-01XX, so no real phone gets texts."), 400
    if not body.strip():
        return jsonify(error="Type a text first."), 400
    status, replies = post_signed_text(sender, body)
    if status != 200:
        return jsonify(error=f"The webhook answered HTTP {status}."), 502
    return jsonify(sent=body, replies=replies)


def post_signed_text(sender: str, body: str) -> tuple[int, list[str]]:
    """POST a signed inbound-SMS webhook to this app's /sms and parse the replies from the TwiML."""
    settings = services().settings
    params = simulator.sms_params(sender, body, settings.phone_number)
    base = settings.public_base_url or "http://localhost"
    signature = simulator.sign(settings.auth_token, base + "/sms", params)
    response = current_app.test_client().post(
        "/sms", data=params, headers={"X-Twilio-Signature": signature}, base_url=base,
    )
    if response.status_code != 200:
        return response.status_code, []
    root = ET.fromstring(response.get_data(as_text=True))
    return 200, [m.text or "" for m in root.findall("./Message")]
