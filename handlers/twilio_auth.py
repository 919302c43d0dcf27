"""Every Twilio webhook must be signed with the auth token; ``signed_post`` signs the simulators' requests.

The check is Twilio's (``twilio.request_validator.RequestValidator.validate``: HMAC-SHA1 of the URL
and the sorted form fields, the URL taken with and without its port), computed with one HMAC when
the first URL form matches, which is every genuine request: the SDK always computes both.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from flask import abort, current_app, request
from twilio.request_validator import add_port, remove_port
from werkzeug.datastructures import MultiDict
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


def valid_signature(token: str, url: str, form: MultiDict[str, str], signature: str) -> bool:
    """True if ``signature`` is Twilio's for a POST of ``form`` to ``url``, the URL with or without its port.

    Exactly as strict as ``RequestValidator(token).validate(url, form, signature)``: the same two
    URL forms are accepted, and nothing else. The URL as given (its port if it has one, else none)
    is tried first; the other form only when that fails.
    """
    if not signature:
        return False
    try:
        parsed = urlparse(url)
        forms = (add_port(parsed), remove_port(parsed)) if parsed.port else (remove_port(parsed), add_port(parsed))
    except ValueError:  # a port that is not a number (a forged Host header): no URL form can match
        return False
    fields = "".join(name + value for name in sorted(set(form)) for value in sorted(set(form.getlist(name))))
    expected = signature.encode("utf-8")
    return any(hmac.compare_digest(_compute(token, candidate + fields), expected) for candidate in forms)


@functools.lru_cache(maxsize=4)
def _keyed(token: str) -> Any:
    """HMAC-SHA1 keyed with ``token``, never updated: each request works on a copy (the key is set up once)."""
    return hmac.new(token.encode("utf-8"), digestmod=hashlib.sha1)


def _compute(token: str, signed: str) -> bytes:
    """The base64 HMAC-SHA1 of ``signed`` (the URL, then each field's name and value), as Twilio computes it."""
    mac = _keyed(token).copy()
    mac.update(signed.encode("utf-8"))
    return base64.b64encode(mac.digest())


def validate_twilio_request(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse (403) any request without a valid ``X-Twilio-Signature``, before it touches anything."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        token = services().settings.auth_token
        signature = request.headers.get("X-Twilio-Signature", "")
        if not valid_signature(token, signed_url(), request.form, signature):
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
