"""Signed webhooks: the JSON body of an event, its signature, and what an answer means.

Every request is a POST of one event::

    {"id": "<uuid>", "type": "subscriber.opted_out", "schema_version": 1,
     "created_at": "2026-05-01T12:00:00.123456+00:00",
     "data": {"subscriber_id": 42, "source": "sms", "phone": "+16175550123"}}

``phone`` is there only for a destination allowed it. Headers: ``X-ActionLine-Event-Id`` (the id:
a receiver that has seen it answers 2xx and ignores it, since delivery is at least once),
``X-ActionLine-Event-Type`` and ``X-ActionLine-Signature: t=<unix time>,v1=<hex>``, the
HMAC-SHA256 of ``"<t>.<body>"`` with the destination's secret (docs/integrations.md shows how to
check it). Opt-outs coming back from a CRM are signed the same way (``verify``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from sms import defaults
from sms.integrations.http import Response
from sms.integrations.models import Destination, Event
from sms.store import utcnow

SIGNATURE_HEADER = "X-ActionLine-Signature"
EVENT_ID_HEADER = "X-ActionLine-Event-Id"
EVENT_TYPE_HEADER = "X-ActionLine-Event-Type"
USER_AGENT = "ActionLine-Webhooks/1"


@dataclass(frozen=True)
class Request:
    """One POST to make: where, what and with which headers."""

    url: str
    body: bytes
    headers: dict[str, str]


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The ``X-ActionLine-Signature`` value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, header: str, body: bytes, now: float | None = None,
           tolerance: int = defaults.SIGNATURE_TOLERANCE_SECONDS) -> bool:
    """True if ``header`` signs ``body`` with ``secret`` and its time is within ``tolerance`` of now.

    Several ``v1=`` values are accepted (a sender rotating its secret signs with both).
    """
    if not secret or not header:
        return False
    fields = [part.strip().partition("=") for part in header.split(",")]
    stamps = [value for key, _, value in fields if key == "t"]
    macs = [value for key, _, value in fields if key == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit() or not macs:
        return False
    timestamp = int(stamps[0])
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    expected = sign(secret, body, timestamp).rpartition("v1=")[2]
    return any(hmac.compare_digest(expected, mac) for mac in macs)


def envelope(event_id: str, type: str, schema: int, created_at: str, data: dict[str, Any]) -> bytes:
    """The JSON body of one event (compact, keys sorted, so equal events are equal bytes)."""
    return json.dumps({"id": event_id, "type": type, "schema_version": schema, "created_at": created_at,
                       "data": data}, separators=(",", ":"), sort_keys=True).encode()


def body_of(event: Event, phone: str | None) -> bytes:
    """``event`` as JSON, with ``phone`` in its data if given (the caller checked ``allow_phone``)."""
    data: dict[str, Any] = {"subscriber_id": event.subscriber_id, **(event.data or {})}
    if phone and event.type != "subscriber.deleted":
        data["phone"] = phone
    return envelope(event.uuid, event.type, event.schema, event.created_at.isoformat(), data)


def request(destination: Destination, event: Event, phone: str | None, now: float | None = None) -> Request:
    """The signed POST of ``event`` to a webhook ``destination``."""
    body = body_of(event, phone if destination.allow_phone else None)
    return signed(destination, body, event.uuid, event.type, now)


def signed(destination: Destination, body: bytes, event_id: str, type: str, now: float | None = None) -> Request:
    stamp = int(time.time() if now is None else now)
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, EVENT_ID_HEADER: event_id,
               EVENT_TYPE_HEADER: type, SIGNATURE_HEADER: sign(destination.secret, body, stamp)}
    return Request(destination.url, body, headers)


def probe(destination: Destination) -> Request:
    """A ``webhook.test`` event (never stored) for ``flask webhooks test`` and the console's Test button."""
    event_id = str(uuid.uuid4())
    body = envelope(event_id, "webhook.test", 1, utcnow().isoformat(), {"destination": destination.name})
    return signed(destination, body, event_id, "webhook.test")


def outcome(response: Response) -> str:
    """``delivered`` for a 2xx; anything else is retried (a receiver's 4xx is usually a fix away)."""
    return "delivered" if 200 <= response.status < 300 else "retry"
