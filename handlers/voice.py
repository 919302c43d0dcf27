"""POST /voice...: the patch-through call's TwiML steps and status callbacks (the table in ``sms.calls.steps``)."""

from __future__ import annotations

from flask import Blueprint, Response, request

from handlers.context import services
from handlers.twilio_auth import validate_twilio_request
from sms.calls import steps

bp = Blueprint("voice", __name__, url_prefix="/voice")


def _step(step: str, arg: str = "") -> Response:
    xml = steps.run(services(), step, request.form, arg)
    return Response(xml, mimetype="text/xml") if xml else Response(status=204)


@bp.post("")
@validate_twilio_request
def incoming() -> Response:
    """A call to the service number (call-in)."""
    return _step("incoming")


@bp.post("/answer")
@validate_twilio_request
def answer() -> Response:
    """Our call-back was answered; ``s`` is the session's unguessable token."""
    return _step("answer", request.args.get("s", ""))


@bp.post("/<any(connect, zip, district, status):step>")
@validate_twilio_request
def simple_step(step: str) -> Response:
    return _step(step)


@bp.post("/<any(next, dialed):step>")
@validate_twilio_request
def leg_step(step: str) -> Response:
    """Steps about one target: ``?leg=N`` names it, so a repeat is recognised."""
    return _step(step, request.args.get("leg", ""))
