"""Broadcasts: compose, preview, plan and steer a message to an audience.

Lifecycle: ``draft → scheduled → sending ⇄ paused → sent``, or ``cancelled`` from
any state before ``sent``. Starting a broadcast *plans* it: one ``deliveries`` row
per recipient, written by a single ``INSERT … SELECT`` per time zone (nothing is
loaded into Python, so a million recipients plan in seconds). The rows are the
truth; the paced dispatcher (``sms.broadcasts.dispatch``) only works through them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    func,
    insert,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session

from sms import defaults
from sms.broadcasts import audiences, merge_fields
from sms.broadcasts.models import Broadcast, Delivery
from sms.errors import BroadcastError
from sms.messaging import compliance, encoding, languages
from sms.services import Services
from sms.settings import Settings
from sms.store import Subscriber, UTCDateTime, utcnow

log = logging.getLogger(__name__)
STATUSES = ("draft", "scheduled", "sending", "paused", "sent", "cancelled")
"""Every state a broadcast can be in (the lifecycle above)."""
OPEN = ("pending", "sending")
"""Delivery states that still need work."""
COUNTED = ("pending", "sending", "sent", "delivered", "queued")
"""Delivery states that count against a subscriber's frequency cap."""


@dataclass(frozen=True)
class Summary:
    """One line of ``recent``: what an organizer needs to pick a broadcast to look at."""

    id: int
    status: str
    created_at: datetime
    body: str
    recipients: int
    """Counted now for a draft or scheduled broadcast; else how many deliveries were planned."""
    finished: int | None
    """Planned deliveries no longer waiting to be sent (None if it was never planned)."""


@dataclass(frozen=True)
class LanguagePart:
    """The recipients of one language: the text they get (their own, or the default's), its segments and cost."""

    language: str
    recipients: int
    translated: bool
    encoding: str
    segments_per_message: int
    total_segments: int
    estimated_cost: float


@dataclass(frozen=True)
class Preview:
    recipients: int
    encoding: str
    segments_per_message: int
    total_segments: int
    estimated_cost: float
    characters: int
    languages: tuple[LanguagePart, ...] = ()
    """Per language, when the broadcast has translations or its audience reads several languages."""
    audience: int = 0
    """Everyone the filters select; ``recipients`` is this less ``capped``."""
    capped: int = 0
    """Of the audience, those a frequency cap leaves out (when it would be sent): not in the counts or cost."""


def create(session: Session, settings: Settings, body: str, filters: dict[str, Any] | None = None,
           segment: str | None = None, send_at: datetime | None = None, mps: float | None = None,
           urgent: bool = False, kind: str = "broadcast", now: datetime | None = None,
           translations: dict[str, str] | None = None) -> Broadcast:
    """A new draft (or scheduled, with ``send_at``) broadcast; BroadcastError on bad input.

    ``translations``: the text in other languages (``{"es": "..."}``); an empty one is left out.
    """
    now = now or utcnow()
    body = _check_body(body)
    translated = check_translations(translations)
    try:
        saved = audiences.get(session, segment) if segment else None
        combined = audiences.combine(saved.filters if saved else None, filters)
    except audiences.AudienceError as exc:
        raise BroadcastError(str(exc)) from exc
    _check_demands(session, combined.get("demands", []))
    if send_at is not None and send_at < now - timedelta(seconds=5):
        raise BroadcastError("send time is in the past")
    if mps is not None and mps <= 0:
        raise BroadcastError("--mps must be more than zero")
    broadcast = Broadcast(kind=kind, body=body, translations=translated, filters=combined,
                          segment_id=saved.id if saved else None,
                          urgent=urgent, mps=mps, send_at=send_at, status="scheduled" if send_at else "draft")
    session.add(broadcast)
    session.flush()
    return broadcast


def _check_body(body: str) -> str:
    body = encoding.gsm_safe((body or "").strip())
    if not body:
        raise BroadcastError("the message is empty")
    unknown = merge_fields.unknown_fields(body)
    if unknown:
        raise BroadcastError(f"unknown merge field {{{unknown[0]}}}; use {', '.join(merge_fields.FIELDS)}")
    if encoding.count(merge_fields.sample(body)).segments > defaults.MAX_BROADCAST_SEGMENTS:
        raise BroadcastError(f"the message is longer than {defaults.MAX_BROADCAST_SEGMENTS} SMS segments")
    return body


def check_translations(translations: dict[str, str] | None) -> dict[str, str]:
    """Each text of another language checked like the body (merge fields, length); empty ones dropped."""
    out = {}
    for code, written in (translations or {}).items():
        if not (written or "").strip():
            continue
        if not languages.known(code) or code == languages.DEFAULT:
            raise BroadcastError(f"no language {code!r} to translate into ({', '.join(languages.codes()[1:])})")
        try:
            out[code] = _check_body(written)
        except BroadcastError as exc:
            raise BroadcastError(f"{languages.get(code).name}: {exc}") from exc
    return out


def _check_demands(session: Session, keywords: list[str]) -> None:
    from sms.store import Demand

    known = set(session.scalars(select(Demand.keyword).where(Demand.keyword.in_(keywords))))
    missing = [k for k in keywords if k not in known]
    if missing:
        raise BroadcastError(f"unknown demand {missing[0]!r}")


def get(session: Session, broadcast_id: int) -> Broadcast:
    broadcast = session.get(Broadcast, broadcast_id)
    if broadcast is None:
        raise BroadcastError(f"no broadcast {broadcast_id}")
    return broadcast


def preview(session: Session, settings: Settings, broadcast: Broadcast) -> Preview:
    """Recipients (COUNT in SQL), encoding, segments and cost, before anything is sent."""
    capped = 0
    if broadcast.status in ("draft", "scheduled"):
        audience = audiences.count(session, broadcast.filters, broadcast.urgent)
        capped = capped_count(session, settings, broadcast) if audience else 0
        recipients = audience - capped
    else:
        recipients = audience = broadcast.planned
    info = encoding.count(merge_fields.sample(broadcast.body))
    parts = _by_language(session, settings, broadcast, recipients)
    total = sum(p.total_segments for p in parts) if parts else recipients * info.segments
    return Preview(recipients, info.encoding, info.segments, total, round(total * settings.price_per_segment, 2),
                   len(broadcast.body), parts, audience, capped)


def _by_language(session: Session, settings: Settings, broadcast: Broadcast, recipients: int
                 ) -> tuple[LanguagePart, ...]:
    """The audience split by language (one COUNT per other language), when the broadcast is translated."""
    translations = broadcast.translations or {}
    if not translations:
        return ()
    counts = {}
    for code in languages.codes()[1:]:
        if broadcast.status in ("draft", "scheduled"):
            counts[code] = audiences.count(session, {**broadcast.filters, "languages": [code]}, broadcast.urgent)
        else:
            counts[code] = 0  # planned broadcasts: their deliveries say who read what
    counts = {languages.DEFAULT: max(recipients - sum(counts.values()), 0), **counts}
    parts = []
    for code, count in counts.items():
        text = translations.get(code) or broadcast.body
        info = encoding.count(merge_fields.sample(text))
        parts.append(LanguagePart(code, count, code == languages.DEFAULT or code in translations, info.encoding,
                                  info.segments, count * info.segments,
                                  round(count * info.segments * settings.price_per_segment, 2)))
    return tuple(parts)


def capped_count(session: Session, settings: Settings, broadcast: Broadcast, now: datetime | None = None) -> int:
    """How many of an unplanned broadcast's audience a frequency cap would leave out when it is sent."""
    at = max(now or utcnow(), broadcast.send_at or now or utcnow())
    busy = cap_busy(settings, at)
    if not busy:
        return 0
    query = audiences.recipients(broadcast.filters, broadcast.urgent).where(or_(*[Subscriber.id.in_(b) for b in busy]))
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def plan(session: Session, settings: Settings, broadcast: Broadcast, now: datetime,
         on_progress: Callable[[int], None] | None = None) -> int:
    """Write one pending delivery per recipient, time zone by time zone (east first).

    Each zone's rows get the first moment inside that zone's sending window, so a
    broadcast started at 8:00 Eastern goes out in waves as each zone wakes up.
    Frequency caps are applied here, in the same statement.
    """
    base = audience(settings, broadcast, now).subquery()
    zones = session.scalars(select(base.c.timezone).distinct()).all()
    quiet = None if broadcast.urgent else settings.quiet_hours
    start = max(now, broadcast.send_at or now)
    for wave, zone_name in enumerate(sorted(zones, key=_east_first)):
        zone = compliance.subscriber_zone(Subscriber(timezone=zone_name))
        # A millisecond per wave keeps east-before-west order when every zone is awake,
        # while the dispatcher orders by the send_at index alone.
        send_at = compliance.next_allowed_time(start, zone, quiet) + timedelta(milliseconds=wave)
        where = base.c.timezone.is_(None) if zone_name is None else base.c.timezone == zone_name
        rows = select(literal(broadcast.id), base.c.id, base.c.phone, literal("pending"),
                      literal(send_at, type_=UTCDateTime), literal(0)).where(where)
        result = session.execute(insert(Delivery).from_select(
            ["broadcast_id", "subscriber_id", "phone", "status", "send_at", "attempts"], rows))
        if on_progress is not None:
            on_progress(max(result.rowcount, 0))
    planned = session.scalar(select(func.count()).where(Delivery.broadcast_id == broadcast.id)) or 0
    broadcast.planned = planned
    if planned >= defaults.ANALYZE_AFTER_ROWS and session.get_bind().dialect.name == "postgresql":
        # Fresh statistics, or the planner may still think deliveries is small and scan it per batch.
        session.execute(text("ANALYZE deliveries"))
    return planned


def _east_first(zone_name: str | None) -> float:
    zone = ZoneInfo(zone_name) if zone_name else compliance.EASTERN
    offset = datetime(2026, 1, 15, 12, tzinfo=zone).utcoffset() or timedelta(0)
    return -offset.total_seconds()


def audience(settings: Settings, broadcast: Broadcast, now: datetime) -> Any:
    """SELECT id, phone, timezone of who ``plan`` would write a delivery for at ``now`` (caps applied)."""
    return _capped(audiences.recipients(broadcast.filters, broadcast.urgent), settings, now)


def _capped(query: Any, settings: Settings, now: datetime) -> Any:
    """Leave out subscribers who already had their share of broadcasts this day or week."""
    for busy in cap_busy(settings, now):
        query = query.where(Subscriber.id.not_in(busy))
    return query


def cap_busy(settings: Settings, now: datetime, planned_before: datetime | None = None) -> list[Any]:
    """Subqueries of subscriber ids at a frequency cap at ``now``, one per cap in force.

    ``planned_before`` counts only deliveries of broadcasts started before it: the
    rows a broadcast started then could see when it was planned.
    """
    subqueries = []
    for cap, window in ((settings.broadcast_cap_day, timedelta(days=1)),
                        (settings.broadcast_cap_week, timedelta(days=7))):
        if cap:
            busy = (select(Delivery.subscriber_id)
                    .where(Delivery.status.in_(COUNTED), Delivery.send_at > now - window,
                           Delivery.send_at <= now + window)
                    .group_by(Delivery.subscriber_id).having(func.count() >= cap))
            if planned_before is not None:
                busy = busy.where(Delivery.broadcast_id.in_(
                    select(Broadcast.id).where(Broadcast.started_at < planned_before)))
            subqueries.append(busy)
    return subqueries


def start(services: Services, broadcast_id: int, now: datetime | None = None,
          on_progress: Callable[[int], None] | None = None) -> str:
    """Plan a draft or due scheduled broadcast and hand it to the dispatcher (idempotent).

    The state change and every delivery row commit together: a crash mid-plan
    leaves the broadcast as it was (the sweeper retries scheduled ones), and two
    racing starters cannot both plan (the loser's UPDATE matches no row).
    """
    from sms.broadcasts import dispatch

    now = now or utcnow()
    with services.db.session() as session:
        claimed = session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status.in_(("draft", "scheduled")),
                                    (Broadcast.send_at.is_(None)) | (Broadcast.send_at <= now + timedelta(seconds=1)))
            .values(status="sending", started_at=now)).rowcount
        if not claimed:
            session.rollback()
            return "skipped"
        broadcast = session.get(Broadcast, broadcast_id)
        planned = plan(session, services.settings, broadcast, now, on_progress)
        session.commit()
    log.info("broadcast %s planned for %s recipients", broadcast_id, planned)
    dispatch.kick(services, broadcast_id)
    return "started"


def send(services: Services, broadcast_id: int, now: datetime | None = None,
         on_progress: Callable[[int], None] | None = None) -> str:
    """Send now (a draft) or at its time (scheduled: enqueued with RQ's scheduler; the sweeper backs it up)."""

    now = now or utcnow()
    with services.db.session() as session:
        broadcast = get(session, broadcast_id)
        if broadcast.status not in ("draft", "scheduled"):
            raise BroadcastError(f"broadcast {broadcast_id} is {broadcast.status}, not a draft")
        if broadcast.send_at and broadcast.send_at > now:
            broadcast.status = "scheduled"
            session.commit()
            services.enqueue("default", "sms.tasks.start_broadcast", broadcast_id, job_id=f"bcast-start-{broadcast_id}",
                             at=broadcast.send_at)
            return "scheduled"
    return start(services, broadcast_id, now, on_progress)


def use_gsm7(services: Services, broadcast_id: int) -> str:
    """Replace the text of a draft or scheduled broadcast with its GSM-7 alternative (``encoding.gsm_alternative``)."""
    with services.db.session() as session:
        broadcast = get(session, broadcast_id)
        if broadcast.status not in ("draft", "scheduled"):
            raise BroadcastError(f"broadcast {broadcast_id} is {broadcast.status}; its text can no longer change")
        broadcast.body = _check_body(encoding.gsm_alternative(broadcast.body))
        session.commit()
    return "its text is now GSM-7"


def pause(services: Services, broadcast_id: int) -> str:
    """Stop dispatching; rows already handed to a worker finish, nothing new is claimed."""
    return _move(services, broadcast_id, ("sending",), "paused")


def resume(services: Services, broadcast_id: int) -> str:
    from sms.broadcasts import dispatch

    result = _move(services, broadcast_id, ("paused",), "sending")
    dispatch.kick(services, broadcast_id)
    return result


def cancel(services: Services, broadcast_id: int, now: datetime | None = None) -> str:
    """Cancel: pending rows become ``cancelled``; what was already sent stays sent."""
    result = _move(services, broadcast_id, ("draft", "scheduled", "sending", "paused"), "cancelled")
    with services.db.session() as session:
        session.execute(update(Delivery).where(Delivery.broadcast_id == broadcast_id, Delivery.status == "pending")
                        .values(status="cancelled"))
        session.get(Broadcast, broadcast_id).finished_at = now or utcnow()
        session.commit()
    return result


def _move(services: Services, broadcast_id: int, sources: tuple[str, ...], target: str) -> str:
    with services.db.session() as session:
        broadcast = get(session, broadcast_id)
        moved = session.execute(update(Broadcast).where(Broadcast.id == broadcast_id, Broadcast.status.in_(sources))
                                .values(status=target)).rowcount
        session.commit()
        if not moved:
            raise BroadcastError(f"broadcast {broadcast_id} is {broadcast.status}; cannot make it {target}")
    return target


def progress(session: Session, broadcast_id: int) -> dict[str, int]:
    """Delivery counts by status (one GROUP BY)."""
    rows = session.execute(select(Delivery.status, func.count()).where(Delivery.broadcast_id == broadcast_id)
                           .group_by(Delivery.status))
    return {status: n for status, n in rows}


def recent(session: Session, status: str | None = None, limit: int = 20) -> list[Summary]:
    """The newest ``limit`` broadcasts (only those in ``status``, if given), newest first."""
    if status is not None and status not in STATUSES:
        raise BroadcastError(f"status must be one of {', '.join(STATUSES)}, not {status!r}")
    query = select(Broadcast).order_by(Broadcast.created_at.desc(), Broadcast.id.desc()).limit(limit)
    if status is not None:
        query = query.where(Broadcast.status == status)
    rows = []
    for broadcast in session.scalars(query):
        if broadcast.status in ("draft", "scheduled"):
            recipients, finished = audiences.count(session, broadcast.filters, broadcast.urgent), None
        elif broadcast.started_at is None:  # cancelled before it was planned
            recipients, finished = 0, None
        else:
            counts = progress(session, broadcast.id)
            recipients = broadcast.planned
            finished = recipients - sum(counts.get(state, 0) for state in OPEN)
        rows.append(Summary(broadcast.id, broadcast.status, broadcast.created_at, broadcast.body, recipients,
                            finished))
    return rows
