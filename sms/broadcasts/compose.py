"""What the console's broadcast pages show live: a draft's preview while typing, and progress.

``draft_preview`` answers the composer on every keystroke without saving anything (the
recipient count is one ``COUNT`` in SQL, as ``broadcasts.preview`` does for a saved draft);
``progress_of`` is what the broadcast page polls while the dispatcher works.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sms import defaults
from sms.broadcasts import audiences, lifecycle, merge_fields
from sms.broadcasts.models import Broadcast
from sms.messaging import encoding
from sms.settings import Settings
from sms.store import Demand

LIVE = ("scheduled", "sending", "paused")
"""Broadcast states whose numbers can still change (the page keeps polling)."""


def draft_preview(session: Session, settings: Settings, body: str, filters: Mapping[str, Any],
                  segment: str | None = None, urgent: bool = False) -> dict[str, Any]:
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
    draft = Broadcast(body=body, filters=combined, urgent=urgent, status="draft")
    preview = lifecycle.preview(session, settings, draft)
    if preview.segments_per_message > defaults.MAX_BROADCAST_SEGMENTS:
        problems.append(f"the message is longer than {defaults.MAX_BROADCAST_SEGMENTS} SMS segments")
    return {"recipients": preview.recipients, "encoding": preview.encoding,
            "segments_per_message": preview.segments_per_message, "total_segments": preview.total_segments,
            "estimated_cost": preview.estimated_cost, "characters": preview.characters, "problems": problems}


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
