"""Getting through: district offices near the caller, and live saturation of every office.

When a DC line is busy the member's district offices usually are not. Offices carry
coordinates (congress-legislators), callers only a ZIP, and no ZIP centroid table is
shipped, so a caller's position is *estimated* from the district offices themselves:
the mean position of offices (any member's) in the caller's ZIP, else in the same
three-digit ZIP prefix (a USPS sectional centre, a few counties wide). With no estimate,
offices in the caller's state come first, then the rest, by city name.

Saturation: every dial outcome is added to a Redis sorted set per office (member = leg
id, score = end time), so counts over the last 15 minutes are one range query. Redis may
be flushed at any time: a marker key says the sets were built from SQL recently; when it
is missing they are rebuilt from ``call_legs`` (idempotent, members are leg ids).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.orm import Session

from sms import defaults
from sms.services import Services
from sms.store import utcnow
from sms.targets.lookup import Target
from sms.targets.models import DistrictOffice, Legislator

log = logging.getLogger(__name__)
FAILED = ("busy", "no-answer", "failed")
KEY = "al:sat:{ref}"
BUILT = "al:saturation-built"


@dataclass(frozen=True)
class Load:
    """Recent outcomes of one office and how saturated it looks."""

    ref: str
    label: str
    busy: int = 0
    no_answer: int = 0
    failed: int = 0
    completed: int = 0

    @property
    def total(self) -> int:
        return self.busy + self.no_answer + self.failed + self.completed

    @property
    def saturation(self) -> float:
        """Share of recent dials that did not connect; 0 until there are enough to judge."""
        if self.total < defaults.SATURATION_MIN_SAMPLES:
            return 0.0
        return (self.total - self.completed) / self.total


def office_target(member: Target, office: DistrictOffice) -> Target:
    """A district office as something to dial (kind ``office``, ref = office id)."""
    where = office.city or office.state
    return Target("office", office.id, member.title, f"{member.name}, {where} office", office.phone or "",
                  office.state, member.district)


def estimate_location(session: Session, zip_code: str | None) -> tuple[float, float] | None:
    """The caller's approximate (lat, lon): offices in the same ZIP, else the same 3-digit prefix."""
    if not zip_code or len(zip_code) != 5:
        return None
    for prefix in (zip_code, zip_code[:3]):
        rows = session.execute(select(DistrictOffice.latitude, DistrictOffice.longitude).where(
            DistrictOffice.zip.startswith(prefix), DistrictOffice.latitude.is_not(None))).all()
        if rows:
            return sum(r[0] for r in rows) / len(rows), sum(r[1] for r in rows) / len(rows)
    return None


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(h))


def district_offices(session: Session, member: Target, zip_code: str | None = None,
                     state: str | None = None, exclude: Iterable[str] = ()) -> list[Target]:
    """The member's dialable district offices, nearest to the caller first (see module doc)."""
    skip = set(exclude)
    offices = [o for o in session.scalars(select(DistrictOffice).where(DistrictOffice.bioguide == member.ref))
               if o.phone and o.id not in skip]
    here = estimate_location(session, zip_code)

    def order(office: DistrictOffice) -> tuple[float, str]:
        if here is not None and office.latitude is not None:
            return km(here, (office.latitude, office.longitude)), office.city
        return (0.0 if office.state == state else 1.0), office.city

    return [office_target(member, o) for o in sorted(offices, key=order)]


def record(redis: Redis, ref: str, leg_id: int, outcome: str, at: datetime | None = None) -> None:
    """Count one dial outcome against an office (``connected`` counts as completed).

    A Redis error is logged, not raised: the leg is in SQL and the next rebuild counts it.
    """
    at = at or utcnow()
    key = KEY.format(ref=ref)
    try:  # one round trip for both (a dialed step is on the call's hot path)
        pipe = redis.pipeline(transaction=False)
        pipe.zadd(key, {f"{leg_id}:{outcome}": at.timestamp()})
        pipe.expire(key, defaults.SATURATION_WINDOW_SECONDS * 2)
        pipe.execute()
    except RedisError as exc:
        log.warning("saturation not recorded for %s: %s", ref, exc)


def rebuild(redis: Redis, session: Session, now: datetime | None = None) -> int:
    """Refill the sorted sets from the SQL call legs of the window; return legs counted."""
    from sms.calls.models import CallLeg

    now = now or utcnow()
    since = now - timedelta(seconds=defaults.SATURATION_WINDOW_SECONDS)
    rows = session.execute(select(CallLeg.id, CallLeg.ref, CallLeg.outcome, CallLeg.ended_at).where(
        CallLeg.ended_at >= since, CallLeg.dial_status.is_not(None))).all()
    for leg_id, ref, outcome, ended_at in rows:
        record(redis, ref, leg_id, outcome, ended_at)
    redis.set(BUILT, "1", ex=defaults.SATURATION_WINDOW_SECONDS)
    return len(rows)


def ensure_built(redis: Redis, session: Session, now: datetime | None = None) -> None:
    if not redis.exists(BUILT):
        rebuild(redis, session, now)


def load(redis: Redis, ref: str, label: str = "", now: datetime | None = None) -> Load:
    """Outcomes for ``ref`` within the sliding window ending ``now``."""
    now = now or utcnow()
    low = (now - timedelta(seconds=defaults.SATURATION_WINDOW_SECONDS)).timestamp()
    counts = {"busy": 0, "no-answer": 0, "failed": 0, "connected": 0}
    for member in redis.zrangebyscore(KEY.format(ref=ref), low, now.timestamp()):
        outcome = member.decode().split(":", 1)[1]
        if outcome in counts:
            counts[outcome] += 1
    return Load(ref, label, counts["busy"], counts["no-answer"], counts["failed"], counts["connected"])


def route(services: Services, session: Session, chosen: list[Target], zip_code: str | None,
          state: str | None, now: datetime | None = None) -> tuple[list[Target], list[str]]:
    """Send each member's call to their least-saturated office right now (DC unless it is jammed).

    Routing is an optimisation: if Redis is unreachable the plan is used as it is.
    """
    if not services.settings.call_saturation_routing:
        return chosen, []
    out, notes = [], []
    try:
        for target in chosen:
            best = target
            if target.kind in ("house", "senate"):
                best = least_saturated(services.redis, session, target, zip_code, state, now)
            if best is not target:
                notes.append(f"{target.label}'s DC line is jammed, so we'll try their {best.name.split(', ')[-1]}")
            out.append(best)
    except RedisError as exc:
        log.warning("saturation routing skipped: %s", exc)
        return chosen, []
    return out, notes


def least_saturated(redis: Redis, session: Session, member: Target, zip_code: str | None,
                    state: str | None, now: datetime | None = None) -> Target:
    """The member's office to dial now: the DC line unless another office is clearly less jammed."""
    ensure_built(redis, session, now)
    if load(redis, member.ref, now=now).saturation == 0:
        return member  # the usual case: no need to look at district offices
    options = [member] + district_offices(session, member, zip_code, state)
    loads = [load(redis, t.ref, now=now).saturation for t in options]
    best = min(range(len(options)), key=lambda i: (loads[i], i))  # ties: DC first, then nearest
    return options[best]


def ranked(redis: Redis, session: Session, now: datetime | None = None, limit: int = 20) -> list[Load]:
    """Offices with outcomes in the window, most saturated first (for organizers)."""
    ensure_built(redis, session, now)
    labels = _labels(session)
    loads = []
    for key in redis.scan_iter(match=KEY.format(ref="*"), count=500):
        ref = key.decode().split(":", 2)[2]
        found = load(redis, ref, labels.get(ref, ref), now)
        if found.total:
            loads.append(found)
    loads.sort(key=lambda x: (-x.saturation, -(x.total - x.completed), x.ref))
    return loads[:limit]


def _labels(session: Session) -> dict[str, str]:
    members = {m.bioguide: f"{m.title} {m.name}" for m in session.scalars(select(Legislator))}
    offices = {o.id: f"{members.get(o.bioguide, o.bioguide)}, {o.city or o.state} office"
               for o in session.scalars(select(DistrictOffice))}
    return {**members, **{b: f"{label} (DC)" for b, label in members.items()}, **offices}


def fallback(redis: Redis, session: Session, stored: list[dict], position: int, zip_code: str | None,
             now: datetime | None = None) -> dict | None:
    """After a failed Dial to ``stored[position]``: the member's best untried district office, as stored JSON.

    Least saturated first, then nearest; offices already in the session are not tried twice.
    """
    target = Target.of(stored[position])
    if target.kind not in ("house", "senate"):
        return None
    tried = {t["ref"] for t in stored}
    options = district_offices(session, target, zip_code, target.state, exclude=tried)
    if not options:
        return None
    try:
        ensure_built(redis, session, now)
        best = min(options, key=lambda t: load(redis, t.ref, now=now).saturation)  # stable: nearest on ties
    except RedisError as exc:
        log.warning("saturation unknown, nearest office used: %s", exc)
        best = options[0]
    script = {"script": stored[position]["script"]} if stored[position].get("script") else {}
    return {**best.to_dict(), "fallback_for": target.ref, **script}
