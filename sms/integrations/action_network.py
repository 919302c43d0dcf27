"""Action Network sync over its OSDI API v2: every change becomes a person signup helper POST.

Action Network is one more destination of the event log (``kind = action_network``, created
while ACTION_NETWORK_API_KEY is set, disabled while it is not), so its deliveries have the same
outbox rows, order per subscriber, retries and pause as a webhook's. Each event becomes
``POST {ACTION_NETWORK_API_URL}/people/`` with header ``OSDI-API-Token``: Action Network matches
people by phone number, so one endpoint creates and updates.

- ``subscriber.joined`` / ``subscriber.opted_in``: the number with its SMS status ``subscribed``,
  the ZIP as postal code and the subscriber's keywords as ``add_tags``;
- ``subscriber.opted_out``: the number's status ``unsubscribed`` (delivered from the high queue);
- ``subscriber.language_changed``: the texter's language as OSDI's ``languages_spoken`` (ISO 639-1,
  also sent on join when the texter has one);
- ``interest.added``: the keyword as a tag; ``call.completed``: ``CALL_TAG`` for the demand.

Action Network only applies tags that already exist there. Answers: 2xx delivered; 429 retried
no sooner than its Retry-After; any other 4xx recorded and not retried; 5xx and no answer retried.
"""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms.integrations.http import Response
from sms.integrations.models import Destination, Event
from sms.integrations.webhooks import Request
from sms.settings import Settings
from sms.store import Interest, Subscriber

NAME = "action-network"
TYPES = ("subscriber.joined", "subscriber.opted_in", "subscriber.opted_out", "subscriber.language_changed",
         "interest.added", "call.completed")
"""The events Action Network hears."""
CALL_TAG = "Action Line call: {demand}"
"""The tag recorded for a completed call about ``demand`` (create it in Action Network to keep it)."""
ORIGIN = "Action Line"


def ensure(session: Session, settings: Settings) -> Destination | None:
    """The Action Network destination: created or re-enabled with the key, disabled without it."""
    destination = session.scalar(select(Destination).where(Destination.kind == "action_network"))
    if not settings.action_network_api_key:
        if destination is not None and destination.status != "disabled":
            destination.status, destination.status_reason = "disabled", "ACTION_NETWORK_API_KEY is unset"
        return destination
    if destination is None:
        destination = Destination(name=NAME, kind="action_network", url=settings.action_network_api_url,
                                  events=list(TYPES), secret="", allow_phone=True, status="active")
        session.add(destination)
    elif destination.status == "disabled":
        destination.status, destination.status_reason = "active", None
    if destination.url != settings.action_network_api_url:
        destination.url = settings.action_network_api_url
    if list(destination.events or []) != list(TYPES):  # ours to manage: a new version may hear more
        destination.events = list(TYPES)
    return destination


def request(session: Session, settings: Settings, event: Event, subscriber: Subscriber | None) -> Request | None:
    """The person signup helper POST for ``event``; None when there is nothing to tell (erased data)."""
    if subscriber is None:
        return None
    number = {"number": subscriber.phone.lstrip("+"), "number_type": "Mobile"}
    person: dict[str, object] = {"phone_numbers": [number], "origin_system": ORIGIN}
    tags: list[str] = []
    if event.type in ("subscriber.joined", "subscriber.opted_in"):
        number["status"] = "subscribed"
        if subscriber.zip:
            person["postal_addresses"] = [{"postal_code": subscriber.zip, "country": "US"}]
        if subscriber.language:
            person["languages_spoken"] = [subscriber.language]
        tags = list(session.scalars(select(Interest.keyword).where(Interest.subscriber_id == subscriber.id)
                                    .order_by(Interest.first_at, Interest.id)))
    elif event.type == "subscriber.opted_out":
        number["status"] = "unsubscribed"
    elif event.type == "subscriber.language_changed":
        if not subscriber.language:
            return None
        person["languages_spoken"] = [subscriber.language]
    elif event.type == "interest.added":
        tags = [event.data["keyword"]] if (event.data or {}).get("keyword") else []
    elif event.type == "call.completed":
        tags = [CALL_TAG.format(demand=event.data["demand"])] if (event.data or {}).get("demand") else []
    else:
        return None
    if event.type in ("interest.added", "call.completed") and not tags:
        return None
    body: dict[str, object] = {"person": person, **({"add_tags": tags} if tags else {})}
    headers = {"Content-Type": "application/json", "OSDI-API-Token": settings.action_network_api_key}
    return Request(f"{settings.action_network_api_url}/people/", json.dumps(body).encode(), headers)


def outcome(response: Response) -> str:
    """``delivered`` (2xx), ``retry`` (429, 5xx, anything odd) or ``failed`` (another 4xx: our request is wrong)."""
    if 200 <= response.status < 300:
        return "delivered"
    if 400 <= response.status < 500 and response.status != 429:
        return "failed"
    return "retry"
