"""Public live counts: calls made and offices reached, overall, per demand and per state.

A call made is a call session in which at least one office was dialed; an office reached is
a leg that connected. A state (the reached office's) is shown only from WEB_COUNTS_STATE_MIN
calls, so no small number can point at a caller. The counts are two GROUP BY queries over the
call tables, run at most once per WEB_COUNTS_TTL_SECONDS and kept in Redis (read on every
counter view); Redis unreachable means they are computed for that request. What is public is
the organizers' choice (WEB_PUBLIC_COUNTS: total, demands, states).
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from sms import defaults
from sms.calls.models import CallLeg, CallSession
from sms.services import Services
from sms.targets.models import DistrictOffice, Legislator

log = logging.getLogger(__name__)
CACHE_KEY = "al:web:counts"


def compute(session: Session) -> dict[str, Any]:
    """Every count, unfiltered: {"total": {...}, "demands": {KW: {...}}, "states": {KW or "": {ST: {...}}}}."""
    state = func.coalesce(Legislator.state, DistrictOffice.state)
    rows = session.execute(
        select(CallSession.demand, state, func.count(func.distinct(CallSession.id)),
               func.sum(case((CallLeg.outcome == "connected", 1), else_=0)))
        .join(CallLeg, CallLeg.session_id == CallSession.id)
        .outerjoin(Legislator, Legislator.bioguide == CallLeg.ref)
        .outerjoin(DistrictOffice, DistrictOffice.id == CallLeg.ref)
        .where(CallLeg.outcome != "skipped").group_by(CallSession.demand, state)).all()
    per_demand = session.execute(
        select(CallSession.demand, func.count(func.distinct(CallSession.id)),
               func.sum(case((CallLeg.outcome == "connected", 1), else_=0)))
        .join(CallLeg, CallLeg.session_id == CallSession.id)
        .where(CallLeg.outcome != "skipped").group_by(CallSession.demand)).all()
    demands = {demand or "": {"calls": int(calls), "offices": int(offices or 0)}
               for demand, calls, offices in per_demand}
    states: dict[str, dict[str, dict[str, int]]] = defaultdict(dict)
    overall: dict[str, dict[str, int]] = defaultdict(lambda: {"calls": 0, "offices": 0})
    for demand, st, calls, offices in rows:
        if st:
            states[demand or ""][st] = {"calls": int(calls), "offices": int(offices or 0)}
            overall[st]["calls"] += int(calls)
            overall[st]["offices"] += int(offices or 0)
    total = {"calls": sum(d["calls"] for d in demands.values()), "offices": sum(d["offices"] for d in demands.values())}
    return {"total": total, "demands": demands, "states": {**states, "*": dict(overall)}}


def cached(services: Services) -> dict[str, Any]:
    """The counts, from Redis if computed in the last WEB_COUNTS_TTL_SECONDS."""
    try:
        raw = services.redis.get(CACHE_KEY)
        if raw:
            return json.loads(raw)
    except RedisError as exc:
        log.warning("counts cache unavailable: %s", type(exc).__name__)
    with services.db.session() as session:
        counts = compute(session)
    try:
        services.redis.set(CACHE_KEY, json.dumps(counts), ex=defaults.WEB_COUNTS_TTL_SECONDS)
    except RedisError:
        pass
    return counts


def public(services: Services, demand: str | None = None) -> dict[str, Any]:
    """What the public may see (WEB_PUBLIC_COUNTS), for every demand or one; states below the minimum left out."""
    settings, counts = services.settings, cached(services)
    shown, minimum = settings.web_public_counts, settings.web_counts_state_min
    key = (demand or "").upper()
    out: dict[str, Any] = {}
    if "total" in shown:
        out["total"] = counts["total"]
    if "demands" in shown:
        demands = counts["demands"]
        out["demands"] = {key: demands.get(key, {"calls": 0, "offices": 0})} if key else demands
    if "states" in shown:
        states = counts["states"].get(key if key else "*", {})
        out["states"] = {st: c for st, c in sorted(states.items()) if c["calls"] >= minimum}
        out["state_minimum"] = minimum
    return out
