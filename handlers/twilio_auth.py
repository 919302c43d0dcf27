"""Every Twilio webhook must be signed with the auth token; ``signed_post`` signs the simulators' requests."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, request
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from handlers.context import services
from sms.console import simulator

log = logging.getLogger(__name__)


def signed_url() -> str:
    """The URL Twilio signed: PUBLIC_BASE_URL + path + query, else the URL as received."""
    base = services().settings.public_base_url
    if not base:
        return request.url
    query = request.query_string.decode("latin-1")
    return f"{base}{request.path}" + (f"?{query}" if query else "")


def validate_twilio_request(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request without a valid ``X-Twilio-Signature``, before it touches anything."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = services().settings.auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not RequestValidator(token).validate(signed_url(), request.form, signature):
            log.warning("rejected unsigned or badly signed request to %s", request.path)
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def signed_post(path: str, params: dict[str, str]) -> TestResponse:
    """POST ``params`` to ``path`` (query included) in-process as Twilio would, signed for the public URL."""
    svc = services()
    signature = simulator.sign(svc.settings.auth_token, svc.url(path), params)
    return current_app.test_client().post(path, data=params, headers={"X-Twilio-Signature": signature},
                                          base_url=svc.url(""))
