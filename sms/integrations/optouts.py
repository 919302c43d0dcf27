"""Opt-outs coming back from a CRM: a signed POST whose numbers are opted out with source ``crm``.

``POST /integrations/optout`` is signed like our webhooks (``X-ActionLine-Signature`` over the raw
body, with CRM_OPTOUT_SECRET). Two bodies are understood:

- ours: ``{"phone": "+16175550123"}`` or ``{"phones": ["+1617...", ...]}``, optionally ``"reason"``;
- Action Network's webhook shape: a JSON array of ``{"<type>": {"person": {"phone_numbers":
  [{"number": "16175550123", "status": "unsubscribed"}]}}}``; numbers whose status is
  ``unsubscribed`` are opted out (Action Network does not sign its webhooks: send them through a
  relay that signs, see docs/integrations.md).

A number we do not know is left alone (we never text it unless it texts us first).
"""

from __future__ import annotations

from typing import Any

from sms.errors import IntegrationError, InvalidNumber
from sms.messaging import compliance, subscribers
from sms.services import Services

MAX_NUMBERS = 1000
"""Numbers one request may carry."""


def numbers_in(payload: Any) -> tuple[list[str], str | None]:
    """The numbers to opt out and the reason given; IntegrationError for a body of another shape."""
    if isinstance(payload, dict) and ("phone" in payload or "phones" in payload):
        raw = [payload["phone"]] if "phone" in payload else payload["phones"]
        reason = payload.get("reason")
        if not isinstance(raw, list) or not all(isinstance(n, str) for n in raw):
            raise IntegrationError("phone must be a string, phones a list of strings")
        return _capped(raw), str(reason)[:120] if reason else None
    if isinstance(payload, list):
        return _capped([number for item in payload for number in _unsubscribed(item)]), "action-network"
    raise IntegrationError('expected {"phone": ...}, {"phones": [...]} or an Action Network webhook array')


def _unsubscribed(item: Any) -> list[str]:
    """Numbers marked unsubscribed in one Action Network webhook entry (``{"osdi:...": {"person": ...}}``)."""
    if not isinstance(item, dict):
        return []
    found = []
    for resource in item.values():
        person = resource.get("person") if isinstance(resource, dict) else None
        phones = person.get("phone_numbers") if isinstance(person, dict) else None
        for phone in phones if isinstance(phones, list) else []:
            if isinstance(phone, dict) and phone.get("status") == "unsubscribed" and phone.get("number"):
                found.append(str(phone["number"]))
    return found


def _capped(numbers: list[str]) -> list[str]:
    if len(numbers) > MAX_NUMBERS:
        raise IntegrationError(f"at most {MAX_NUMBERS} numbers per request")
    return numbers


def _e164(raw: str) -> str:
    """E.164 of ``raw``; Action Network writes numbers as digits with their country code (16175550123)."""
    digits = raw.strip()
    if digits.isdigit() and len(digits) > 10:
        digits = f"+{digits}"
    return subscribers.normalise_phone(digits)


def receive(services: Services, numbers: list[str], reason: str | None) -> dict[str, int]:
    """Opt out every known number (source ``crm``, in the consent history); return what happened."""
    counts = {"opted_out": 0, "already": 0, "unknown": 0, "invalid": 0}
    with services.db.session() as session:
        for raw in numbers:
            try:
                phone = _e164(raw)
            except InvalidNumber:
                counts["invalid"] += 1
                continue
            subscriber = subscribers.find(session, phone)
            if subscriber is None:
                counts["unknown"] += 1
            elif compliance.opt_out(session, subscriber, "crm", reason):
                counts["opted_out"] += 1
            else:
                counts["already"] += 1
        session.commit()
    return counts
