"""What the console's broadcast pages show live: a draft's preview while typing, and progress.

``draft_preview`` answers the composer on every keystroke without saving anything (the
recipient count is one ``COUNT`` in SQL, as ``broadcasts.preview`` does for a saved draft);
``progress_of`` is what the broadcast page polls while the dispatcher works. Both pages
tell the truth about a message with ``sample_message`` (the text one real recipient of
the audience would get, and which merge fields fall back) and ``encoding_help`` (which
characters force UCS-2, and the GSM-7 alternative).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms import defaults
from sms.broadcasts import audiences, lifecycle, merge_fields, waiting
from sms.broadcasts.models import Broadcast
from sms.errors import BroadcastError
from sms.messaging import encoding, languages
from sms.messaging.compliance import mask
from sms.settings import Settings
from sms.store import Demand, Subscriber

LIVE = ("scheduled", "sending", "paused")
"""Broadcast states whose numbers can still change (the page keeps polling)."""


def draft_preview(session: Session, settings: Settings, body: str, filters: Mapping[str, Any],
                  segment: str | None = None, urgent: bool = False,
                  translations: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Recipients, encoding, segments and cost of an unsaved draft, plus what would stop it saving."""
    problems: list[str] = []
    try:
        saved = audiences.get(session, segment) if segment else None
        combined = audiences.combine(saved.filters if saved else None, filters)
    except audiences.AudienceError as exc:
        return {"recipients": None, "problems": [str(exc)]}
    known = set(session.scalars(select(Demand.keyword).where(Demand.keyword.in_(combined.get("demands", [])))))
    problems += [f"unknown demand {k!r}" for k in combined.get("demands", []) if k not in known]
    body = encoding.gsm_safe((body or "").strip())
    fields = ", ".join(merge_fields.FIELDS)
    problems += [f"unknown merge field {{{name}}}; use {fields}" for name in merge_fields.unknown_fields(body)]
    translated = {code: encoding.gsm_safe(text.strip()) for code, text in (translations or {}).items() if text.strip()}
    for code, text in translated.items():
        name = languages.get(code).name
        problems += [f"{name}: unknown merge field {{{field}}}" for field in merge_fields.unknown_fields(text)]
        if encoding.count(merge_fields.sample(text)).segments > defaults.MAX_BROADCAST_SEGMENTS:
            problems.append(f"{name}: the message is longer than {defaults.MAX_BROADCAST_SEGMENTS} SMS segments")
    draft = Broadcast(body=body, translations=translated, filters=combined, urgent=urgent, status="draft")
    preview = lifecycle.preview(session, settings, draft)
    if preview.segments_per_message > defaults.MAX_BROADCAST_SEGMENTS:
        problems.append(f"the message is longer than {defaults.MAX_BROADCAST_SEGMENTS} SMS segments")
    left_out = waiting.left_out_by_cap(session, settings, draft) if preview.capped else None
    return {"recipients": preview.recipients, "encoding": preview.encoding,
            "segments_per_message": preview.segments_per_message, "total_segments": preview.total_segments,
            "estimated_cost": preview.estimated_cost, "characters": preview.characters, "problems": problems,
            "audience_size": preview.audience, "capped": preview.capped,
            "audience": audiences.in_words(combined, urgent), "left_out": left_out.text if left_out else None,
            "sample": sample_message(session, body, combined, urgent) if body else None,
            "languages": [{**vars(part), "name": languages.get(part.language).name} for part in preview.languages],
            **encoding_help(body)}


def sample_message(session: Session, body: str, filters: Mapping[str, Any], urgent: bool = False) -> dict[str, Any]:
    """``body`` as the audience's first recipient gets it (else with ``merge_fields.SAMPLE``), and its fallbacks.

    ``who`` is the recipient's masked number (None for the sample values); ``fallbacks``
    lists each merge field that is empty for them and the word used instead.
    """
    first = session.scalar(audiences.recipients(filters, urgent).with_only_columns(Subscriber.id)
                           .order_by(Subscriber.id).limit(1))
    person = session.get(Subscriber, first) if first is not None else None
    if person is None:
        values: dict[str, str | None] = dict(merge_fields.SAMPLE)
    else:
        rep = merge_fields.representative(session, person.state, person.district) if "{rep}" in body else None
        values = {"first_name": person.first_name, "zip": person.zip, "rep": rep}
    used = merge_fields.fallbacks_used(body, values)
    return {"text": merge_fields.render(body, values), "who": mask(person.phone) if person else None,
            "fallbacks": [{"field": name, "fallback": word} for name, word in used.items()]}


def encoding_help(body: str) -> dict[str, Any]:
    """Which characters make ``body`` UCS-2 (``U+270A ✊``), and its GSM-7 alternative with its segment count."""
    characters = encoding.ucs2_characters(body)
    if not characters:
        return {"ucs2_characters": [], "gsm_alternative": None, "gsm_alternative_segments": None}
    alternative = encoding.gsm_alternative(body)
    return {"ucs2_characters": [f"{ch} (U+{ord(ch):04X})" for ch in characters],
            "gsm_alternative": alternative or None,
            "gsm_alternative_segments": encoding.count(merge_fields.sample(alternative)).segments}


def send_time(value: str | None, zone: ZoneInfo) -> datetime | None:
    """A "Send at" field as UTC: ``2026-12-01T10:00`` (a datetime-local picker) is read in ``zone``;
    a time with an offset (``...Z``, ``...-05:00``) keeps it. None when empty; BroadcastError if unreadable."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BroadcastError(f"send time must be a date and time like 2026-12-01T10:00, not {text!r}") from None
    return (when if when.tzinfo else when.replace(tzinfo=zone)).astimezone(UTC)


def progress_of(session: Session, broadcast_id: int) -> dict[str, Any] | None:
    """Status and delivery counts: sent includes delivered; failed includes undelivered."""
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        return None
    counts = lifecycle.progress(session, broadcast_id)
    delivered = counts.get("delivered", 0)
    summary = {
        "waiting": counts.get("pending", 0) + counts.get("sending", 0) + counts.get("queued", 0),
        "sent": counts.get("sent", 0) + delivered + counts.get("undelivered", 0),
        "delivered": delivered,
        "failed": counts.get("failed", 0) + counts.get("undelivered", 0),
        "skipped": counts.get("skipped", 0),
        "cancelled": counts.get("cancelled", 0),
    }
    return {"id": broadcast.id, "status": broadcast.status, "planned": broadcast.planned, "counts": counts,
            "live": broadcast.status in LIVE, **summary}
