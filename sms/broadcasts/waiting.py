"""Why a broadcast's deliveries are still waiting, and when it should be done.

``explain`` groups the open deliveries (``pending`` and ``sending``) by what holds
them, in one GROUP BY: a pause, quiet hours in the recipients' time zone (until
when, local and UTC), a retry after a Twilio error, the sending rate, a missing
worker, or Twilio's answer. ``finish_time`` estimates the end by playing the
dispatcher forward (one sender clock at the broadcast's rate, rows in ``send_at``
order, a zone's rows that would run into its quiet hours moved to the next opening).
Frequency caps make nobody wait: they leave people out when a broadcast is planned,
and ``left_out_by_cap`` says how many.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import case, exists, func, or_, select
from sqlalchemy.orm import Session

from sms.broadcasts import audiences, lifecycle
from sms.broadcasts.models import Broadcast, Delivery
from sms.messaging import compliance
from sms.services import Services
from sms.settings import Settings
from sms.store import Subscriber, utcnow

MAX_STEPS = 10_000
"""``finish_time`` gives up (None) after this many steps of its simulation."""


@dataclass(frozen=True)
class Reason:
    """One group of waiting deliveries: what holds them, how many, and until when if known."""

    kind: str  # paused | quiet_hours | later | retry | rate | no_worker | in_flight | unknown
    count: int
    text: str
    until: datetime | None = None


@dataclass(frozen=True)
class Explanation:
    """What a broadcast is doing, why the rest waits, and the estimated finish."""

    status: str
    summary: str
    waiting: int = 0
    reasons: tuple[Reason, ...] = ()
    finish_at: datetime | None = None
    finish_label: str = "Estimated finish"
    left_out: Reason | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def finished(self) -> bool:
        return self.status in ("sent", "cancelled")

    def lines(self) -> list[str]:
        """The explanation as text lines (the CLI's ``broadcast status``)."""
        out = [self.summary, *(f"  {reason.text}" for reason in self.reasons)]
        if self.left_out is not None:
            out.append(self.left_out.text)
        if self.finish_at is not None:
            out.append(f"{self.finish_label}: {self.finish_at:%Y-%m-%d %H:%M} UTC")
        return out + list(self.notes)

    def as_dict(self) -> dict[str, Any]:
        """JSON for the console's progress poll."""
        return {"summary": self.summary, "waiting": self.waiting, "finished": self.finished,
                "reasons": [{"kind": r.kind, "count": r.count, "text": r.text,
                             "until": r.until.isoformat() if r.until else None} for r in self.reasons],
                "left_out": self.left_out.text if self.left_out else None,
                "finish_at": self.finish_at.isoformat() if self.finish_at else None,
                "finish": f"{self.finish_label}: {self.finish_at:%Y-%m-%d %H:%M} UTC" if self.finish_at else None,
                "notes": list(self.notes)}


def explain(session: Session, settings: Settings, broadcast: Broadcast, now: datetime | None = None,
            workers: int | None = None, with_left_out: bool = True) -> Explanation:
    """Explain ``broadcast``; ``workers`` is how many RQ workers serve ``bulk`` (None: unknown).

    ``with_left_out`` also counts who the frequency caps left out (an audience-sized query).
    """
    now = now or utcnow()
    rate = broadcast.mps or settings.broadcast_mps
    quiet = None if broadcast.urgent else settings.quiet_hours
    left_out = left_out_by_cap(session, settings, broadcast, now) if with_left_out else None
    if broadcast.status in ("draft", "scheduled"):
        return _not_started(session, settings, broadcast, now, rate, quiet, left_out, workers)
    if broadcast.status in ("sent", "cancelled"):
        when = broadcast.finished_at or now
        word = "sent" if broadcast.status == "sent" else "cancelled"
        return Explanation(broadcast.status, f"Finished: {word} at {when:%Y-%m-%d %H:%M} UTC; nothing is waiting.",
                           left_out=left_out)
    groups = _open_groups(session, broadcast.id, now, settings.broadcast_stale_seconds)
    others = session.scalar(select(func.count()).where(Broadcast.status == "sending", Broadcast.id != broadcast.id))
    reasons = _reasons(groups, broadcast.status == "paused", rate, others or 0, quiet, now, workers)
    waiting = sum(g["count"] for g in groups)
    if broadcast.status == "paused":
        return Explanation("paused", f"Paused: {waiting:,} waiting; nothing new is sent until it is resumed.",
                           waiting, reasons, None, left_out=left_out)
    pending = [(g["first"], g["count"], _zone(g["zone"])) for g in groups if g["kind"] not in ("in_flight", "unknown")]
    finish = finish_time(pending, rate / (1 + (others or 0)), now, quiet) if waiting else None
    summary = f"Sending: {waiting:,} waiting." if waiting else "Sending: nothing left to send; finishing."
    return Explanation("sending", summary, waiting, reasons, finish, left_out=left_out)


def _not_started(session: Session, settings: Settings, broadcast: Broadcast, now: datetime, rate: float,
                 quiet: tuple[int, int] | None, left_out: Reason | None, workers: int | None) -> Explanation:
    start = max(now, broadcast.send_at or now)
    base = lifecycle.audience(settings, broadcast, start).subquery()
    zones = session.execute(select(base.c.timezone, func.count()).group_by(base.c.timezone)).all()
    groups = [(compliance.next_allowed_time(start, _zone(name), quiet), n, _zone(name)) for name, n in zones]
    finish = finish_time(groups, rate, start, quiet)
    if broadcast.status == "scheduled":
        idle = "No worker serves the bulk queue (worker.py): nothing is sent until one runs."
        notes = (idle,) if workers == 0 else ()
        return Explanation("scheduled", f"Scheduled for {start:%Y-%m-%d %H:%M} UTC; recipients are chosen then.",
                           finish_at=finish, left_out=left_out, notes=notes)
    return Explanation("draft", "Draft: nothing is sent until you send it.", finish_at=finish,
                       finish_label="Estimated finish if sent now", left_out=left_out)


def _zone(name: str | None) -> ZoneInfo:
    return compliance.subscriber_zone(Subscriber(timezone=name))


def _open_groups(session: Session, broadcast_id: int, now: datetime, stale_seconds: int) -> list[dict[str, Any]]:
    """Open deliveries grouped by (what holds them, recipient's zone, error code): count, first and last send_at."""
    d, s = Delivery, Subscriber
    stale = now - timedelta(seconds=stale_seconds)
    kind = case((d.status == "sending", case((d.claimed_at <= stale, "unknown"), else_="in_flight")),
                (d.send_at <= now, "due"), (d.error_code.is_not(None), "retry"), else_="later")
    rows = (select(kind.label("kind"), s.timezone.label("zone"), d.error_code.label("code"), d.send_at)
            .join(s, s.id == d.subscriber_id)
            .where(d.broadcast_id == broadcast_id, d.status.in_(lifecycle.OPEN))).subquery()
    query = (select(rows.c.kind, rows.c.zone, rows.c.code, func.count(), func.min(rows.c.send_at),
                    func.max(rows.c.send_at))
             .group_by(rows.c.kind, rows.c.zone, rows.c.code))
    return [{"kind": k, "zone": z, "code": c, "count": n, "first": max(first, now) if k != "later" else first,
             "last": last} for k, z, c, n, first, last in session.execute(query)]


def _reasons(groups: list[dict[str, Any]], paused: bool, rate: float, others: int,
             quiet: tuple[int, int] | None, now: datetime, workers: int | None) -> tuple[Reason, ...]:
    reasons: list[Reason] = []
    held = [g for g in groups if g["kind"] in ("due", "later", "retry")]
    if paused and held:
        reasons.append(Reason("paused", sum(g["count"] for g in held),
                              f"{_n(sum(g['count'] for g in held))} waiting for the broadcast to be resumed"))
        held = []
    reasons += _quiet_and_later(held, quiet, now)
    for code in sorted({g["code"] for g in held if g["kind"] == "retry"}, key=str):
        mine = [g for g in held if g["kind"] == "retry" and g["code"] == code]
        first = min(g["first"] for g in mine)
        reasons.append(Reason("retry", sum(g["count"] for g in mine),
                              f"{_n(sum(g['count'] for g in mine))} waiting to retry after Twilio error {code} "
                              f"(from {_clock(first, UTC, now)} UTC)", first))
    due = sum(g["count"] for g in held if g["kind"] == "due")
    if due:
        reasons.append(_rate(due, rate, others, workers))
    in_flight = sum(g["count"] for g in groups if g["kind"] == "in_flight")
    if in_flight:
        reasons.append(Reason("in_flight", in_flight, f"{_n(in_flight)} handed to Twilio, waiting for its answer"))
    unknown = sum(g["count"] for g in groups if g["kind"] == "unknown")
    if unknown:
        reasons.append(Reason("unknown", unknown, f"{_n(unknown)} sent with no answer from Twilio yet: the sweeper "
                                                  "asks Twilio what it sent before anything is sent again"))
    return tuple(reasons)


def _quiet_and_later(held: list[dict[str, Any]], quiet: tuple[int, int] | None, now: datetime) -> list[Reason]:
    """Rows not due yet, per zone: quiet hours if the zone is in them now, else simply "held until"."""
    by_zone: dict[str | None, list[dict[str, Any]]] = {}
    for group in held:
        if group["kind"] == "later":
            by_zone.setdefault(group["zone"], []).append(group)
    reasons = []
    for name in sorted(by_zone, key=lambda z: (z is None, z or "")):
        zone, mine = _zone(name), by_zone[name]
        count, until = sum(g["count"] for g in mine), min(g["first"] for g in mine)
        label = name or f"{compliance.EASTERN.key} (zone unknown)"
        if compliance.in_quiet_hours(now, zone, quiet):
            text = (f"{_n(count)} waiting for quiet hours to end in {label} "
                    f"(until {_clock(until, zone, now)} local, {_clock(until, UTC, now)} UTC)")
            reasons.append(Reason("quiet_hours", count, text, until))
        else:
            reasons.append(Reason("later", count, f"{_n(count)} in {label} held until "
                                                  f"{_clock(until, UTC, now)} UTC", until))
    return reasons


def _rate(due: int, rate: float, others: int, workers: int | None) -> Reason:
    if workers == 0:
        return Reason("no_worker", due, f"{_n(due)} due now, but no worker serves the bulk queue: start worker.py "
                                        "(make run starts one)")
    share = f", sharing the number with {others} other sending broadcast{'s' if others != 1 else ''}" if others else ""
    seconds = due * (1 + others) / rate
    return Reason("rate", due, f"{_n(due)} due now, going out at {rate:g} a second{share} "
                               f"(about {duration(seconds)})")


def _n(count: int) -> str:
    return f"{count:,}"


def _clock(at: datetime, zone: ZoneInfo | Any, now: datetime) -> str:
    """``09:00`` on the same local day as ``now``, else ``Thu 26 Nov 09:00``."""
    local, today = at.astimezone(zone), now.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == today.date() else f"{local:%a %d %b %H:%M}"


def duration(seconds: float) -> str:
    """``4 s``, ``3 min``, ``2 h 5 min``, ``3 d 4 h`` (rounded up)."""
    seconds = max(1, int(-(-seconds // 1)))
    if seconds < 60:
        return f"{seconds} s"
    minutes = -(-seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def finish_time(groups: Iterable[tuple[datetime, int, ZoneInfo]], rate: float, now: datetime,
                quiet: tuple[int, int] | None) -> datetime | None:
    """When the last of ``groups`` (first send time, count, recipients' zone) would be sent at ``rate``/s.

    One sender clock, groups in send-time order; the part of a group that would run into
    its zone's quiet hours waits for the window to open again, as the dispatcher does.
    None if there is nothing to send or the simulation does not end.
    """
    heap = [(max(at, now), i, n, zone) for i, (at, n, zone) in enumerate(groups) if n > 0]
    heapq.heapify(heap)
    clock, end, seq = now, None, len(heap)
    for _ in range(MAX_STEPS):
        if not heap:
            return end
        at, _, count, zone = heapq.heappop(heap)
        start = max(clock, at)
        opening = compliance.next_allowed_time(start, zone, quiet)
        if opening > start:
            heapq.heappush(heap, (opening, seq := seq + 1, count, zone))
            continue
        closes = _window_end(start, zone, quiet)
        fits = count if closes is None else max(1, min(count, int(-(-(closes - start).total_seconds() * rate // 1))))
        clock = end = start + timedelta(seconds=fits / rate)
        if fits < count:
            heapq.heappush(heap, (compliance.next_allowed_time(closes, zone, quiet), seq := seq + 1,
                                  count - fits, zone))
    return None


def _window_end(at: datetime, zone: ZoneInfo, quiet: tuple[int, int] | None) -> datetime | None:
    """When the sending window ``at`` is in closes (None: no quiet hours)."""
    if quiet is None:
        return None
    local = at.astimezone(zone)
    midnight = datetime(local.year, local.month, local.day, tzinfo=zone)
    return (midnight + timedelta(hours=quiet[1])).astimezone(at.tzinfo or UTC)


def left_out_by_cap(session: Session, settings: Settings, broadcast: Broadcast,
                    now: datetime | None = None) -> Reason | None:
    """How many of the audience a frequency cap leaves out (when it was planned, or if sent now)."""
    if not (settings.broadcast_cap_day or settings.broadcast_cap_week) or (
            broadcast.status == "cancelled" and broadcast.started_at is None):
        return None
    s = Subscriber
    query = audiences.recipients(broadcast.filters, broadcast.urgent)
    if broadcast.started_at is not None:
        at = broadcast.started_at
        busy = lifecycle.cap_busy(settings, at, planned_before=at)
        query = query.where(s.created_at <= at, ~exists().where(Delivery.broadcast_id == broadcast.id,
                                                                 Delivery.subscriber_id == s.id))
    else:
        at = max(now or utcnow(), broadcast.send_at or now or utcnow())
        busy = lifecycle.cap_busy(settings, at)
    if not busy:
        return None
    count = session.scalar(select(func.count()).select_from(
        query.where(or_(*[s.id.in_(b) for b in busy])).subquery())) or 0
    if not count:
        return None
    caps = ", ".join(f"{key}={value}" for key, value in (("BROADCAST_CAP_DAY", settings.broadcast_cap_day),
                                                          ("BROADCAST_CAP_WEEK", settings.broadcast_cap_week))
                     if value)
    verb = ("was" if count == 1 else "were") if broadcast.started_at is not None else "would be"
    return Reason("capped", count, f"{_n(count)} of the audience {verb} left out by the frequency cap ({caps})")


def explain_broadcast(services: Services, broadcast_id: int, now: datetime | None = None,
                      with_left_out: bool = True) -> Explanation:
    """``explain`` for one broadcast id, asking Redis how many workers serve the bulk queue."""
    with services.db.session() as session:
        broadcast = lifecycle.get(session, broadcast_id)
        return explain(session, services.settings, broadcast, now, bulk_workers(services), with_left_out)


def bulk_workers(services: Services) -> int | None:
    """RQ workers serving the ``bulk`` queue now; None when Redis does not answer."""
    from redis.exceptions import RedisError
    from rq import Worker

    try:
        return Worker.count(connection=services.redis, queue=services.queue("bulk"))
    except RedisError:
        return None
